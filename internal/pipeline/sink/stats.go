package sink

// stats.go keeps the counters and the window of write delays that Stats
// reports.

import (
	"slices"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Stats is a snapshot of a sink's work since it started.
type Stats struct {
	// Consumed counts records taken from the topic and committed (valid
	// or not).
	Consumed int64
	// Inserted counts records written to history: at positions the
	// database did not have, or over a record the log lost (Truncated).
	Inserted int64
	// Duplicates counts valid records whose row was already there
	// (redelivery after a crash or rebalance).
	Duplicates int64
	// Truncated counts history rows moved to rider_locations_truncated
	// because a record of a newer leader epoch came at their offset.
	Truncated int64
	// Stale counts records older (by leader epoch) than the one the
	// database holds at their offset: records the log lost, written to
	// rider_locations_truncated only. Inserted + Duplicates + Stale +
	// Invalid = Consumed.
	Stale int64
	// DataLoss counts the kgo.ErrDataLoss franz-go reported.
	DataLoss int64
	// Invalid counts records skipped because rider.Decode rejected them.
	Invalid int64
	// Transactions counts database transactions committed.
	Transactions int64
	// DelayP50 and DelayP99 are percentiles, over the last delayWindowLen,
	// of the time from a record's producer timestamp to the commit of the
	// transaction that wrote it.
	DelayP50, DelayP99 time.Duration
	// Partitions are the partitions currently assigned, in order; in a
	// share group, those whose records the sink wrote in the last
	// delayWindowLen (a share group's members share partitions).
	Partitions []int32
	// AckErrors counts, in a share group, acknowledgements the broker
	// refused (the records come back and are counted as Duplicates).
	AckErrors int64
	// LastCommit is when the last batch was committed (zero if none).
	LastCommit time.Time
}

// Stats returns the current counters.
func (s *Sink) Stats() Stats {
	st := Stats{
		Consumed:     s.consumed.Load(),
		Inserted:     s.inserted.Load(),
		Duplicates:   s.duplicates.Load(),
		Truncated:    s.truncated.Load(),
		Stale:        s.stale.Load(),
		DataLoss:     s.dataLoss.Load(),
		Invalid:      s.invalid.Load(),
		Transactions: s.txs.Load(),
	}
	st.DelayP50, st.DelayP99 = s.delays.percentiles(time.Now())
	if ns := s.lastCommit.Load(); ns != 0 {
		st.LastCommit = time.Unix(0, ns)
	}
	st.AckErrors = s.ackErrors.Load()
	if s.cfg.ShareGroup != "" {
		st.Partitions = s.recentPartitions(time.Now())
		return st
	}
	for p := range s.ownedSet() {
		st.Partitions = append(st.Partitions, p)
	}
	slices.Sort(st.Partitions)
	return st
}

const (
	// delayWindowLen is how far back the delay percentiles look.
	delayWindowLen = 10 * time.Second
	// delaySamplesPerBatch bounds the samples one batch adds.
	delaySamplesPerBatch = 64
	// delayMaxSamples bounds the window's memory.
	delayMaxSamples = 16384
)

// delaySample is one record's delay, at the time it was measured.
type delaySample struct {
	at time.Time
	d  time.Duration
}

// delayWindow holds recent delay samples, oldest first.
type delayWindow struct {
	mu      sync.Mutex
	samples []delaySample
}

// add samples the delays of a batch committed at commit: at most
// delaySamplesPerBatch records, evenly spread.
func (w *delayWindow) add(commit time.Time, batch []*kgo.Record) {
	if len(batch) == 0 {
		return
	}
	step := max(1, len(batch)/delaySamplesPerBatch)
	w.mu.Lock()
	defer w.mu.Unlock()
	for i := 0; i < len(batch); i += step {
		w.samples = append(w.samples, delaySample{commit, commit.Sub(batch[i].Timestamp)})
	}
	w.trim(commit)
}

// trim drops samples older than the window or beyond the bound.
func (w *delayWindow) trim(now time.Time) {
	i := 0
	for i < len(w.samples) && (now.Sub(w.samples[i].at) > delayWindowLen || len(w.samples)-i > delayMaxSamples) {
		i++
	}
	if i > 0 {
		w.samples = append(w.samples[:0], w.samples[i:]...)
	}
}

// percentiles returns the 50th and 99th percentile delays in the window.
func (w *delayWindow) percentiles(now time.Time) (p50, p99 time.Duration) {
	w.mu.Lock()
	w.trim(now)
	ds := make([]time.Duration, len(w.samples))
	for i, s := range w.samples {
		ds[i] = s.d
	}
	w.mu.Unlock()
	if len(ds) == 0 {
		return 0, 0
	}
	slices.Sort(ds)
	return ds[len(ds)*50/100], ds[min(len(ds)-1, len(ds)*99/100)]
}
