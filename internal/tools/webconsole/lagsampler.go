package webconsole

// lagsampler.go samples every group's lag for the history charts: a
// goroutine, started by Serve (startBackground) and stopped when Serve
// returns, that every Config.LagInterval asks the cluster, with the
// console's own identity (Config.Access.Service), for every group's total
// lag in records (one batch of describes, ctl.DescribeGroups) and its lag
// in time (the largest of its partitions', lag.go), and records the round
// in the history (laghistory.go). Without an identity of its own the
// console samples nothing: the history would be what one user may see.
//
// A record's timestamp at an offset never changes, so the timestamps read
// are kept from one round to the next (those still needed); a round reads
// only those of offsets that moved, at most lagMaxLookups of them.

import (
	"context"
	"errors"
	"sort"
	"sync"
	"time"

	"github.com/courier-dev/courier/internal/tools/ctl"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	// lagMinInterval is the shortest sampling interval.
	lagMinInterval = time.Second
	// lagMaxLookups bounds the record timestamps a round reads.
	lagMaxLookups = 2000
	// lagStampDeadline bounds the reading of a round's timestamps.
	lagStampDeadline = 10 * time.Second
)

// lagMetrics are the lag history's metrics.
type lagMetrics struct {
	rounds, roundErrors    prometheus.Counter
	damaged, rewrites      prometheus.Counter
	writeErrors            prometheus.Counter
	tracked, refused, took prometheus.Gauge
}

// newLagMetrics returns the lag history's metrics, unregistered.
func newLagMetrics() *lagMetrics {
	c := func(name, help string) prometheus.Counter {
		return prometheus.NewCounter(prometheus.CounterOpts{Name: "courier_console_lag_" + name, Help: help})
	}
	g := func(name, help string) prometheus.Gauge {
		return prometheus.NewGauge(prometheus.GaugeOpts{Name: "courier_console_lag_" + name, Help: help})
	}
	return &lagMetrics{
		rounds:      c("rounds_total", "Lag sampling rounds recorded in the history."),
		roundErrors: c("round_errors_total", "Lag sampling rounds that failed (the cluster did not answer the listing)."),
		damaged:     c("history_damaged_lines_total", "Damaged lines skipped when the lag history file was read (kept aside in lag-history.damaged)."),
		rewrites:    c("history_rewrites_total", "Rewrites of the lag history file (samples older than 24 h dropped, damaged lines removed)."),
		writeErrors: c("history_write_errors_total", "Failed appends or rewrites of the lag history file."),
		tracked:     g("groups_tracked", "Groups whose lag history is kept."),
		refused:     g("history_file_refused", "1 when the lag history file is of another format and left untouched (the history is then in memory only)."),
		took:        g("round_seconds", "How long the last sampling round took."),
	}
}

// Collectors returns the console's own metrics (the lag history's), for
// the process that runs the console to register with its /metrics.
func (s *Server) Collectors() []prometheus.Collector {
	m := s.lagMetrics
	return []prometheus.Collector{m.rounds, m.roundErrors, m.damaged, m.rewrites, m.writeErrors, m.tracked, m.refused, m.took}
}

// openLag opens the lag history (a file in Config.DataDir).
func (s *Server) openLag() {
	s.lagMetrics = newLagMetrics()
	s.lag = openLagHistory(s.log, s.lagMetrics, s.cfg.LagMaxGroups, s.cfg.DataDir, time.Now())
}

// lagInterval is the sampling interval, at least lagMinInterval.
func (s *Server) lagInterval() time.Duration { return max(s.cfg.LagInterval, lagMinInterval) }

// startBackground starts the console's own goroutines (the lag sampler,
// when the console has an identity of its own) and returns what stops
// them and waits until they ended.
func (s *Server) startBackground(ctx context.Context) (stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	if s.cfg.Access.Service != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s.sampleLag(ctx)
		}()
	}
	return func() {
		cancel()
		wg.Wait()
	}
}

// sampleLag samples every group's lag every interval until ctx ends.
func (s *Server) sampleLag(ctx context.Context) {
	cl, err := kgo.NewClient(s.cfg.Access.Service...)
	if err != nil {
		s.log.Error("console lag sampler: cannot create its client; no lag history", "err", err)
		return
	}
	defer cl.Close()
	sp := &lagSampler{s: s, cl: cl, cache: map[recordAt]int64{}}
	t := time.NewTicker(s.lagInterval())
	defer t.Stop()
	for {
		if err := sp.round(ctx, time.Now()); err != nil && ctx.Err() == nil {
			s.log.Warn("console lag sampler: round failed", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// lagSampler is the state the sampler keeps between rounds.
type lagSampler struct {
	s     *Server
	cl    *kgo.Client
	cache map[recordAt]int64 // record timestamps (Unix ms) by partition and offset; End unused
}

// newClient makes a consumer with the console's own identity.
func (sp *lagSampler) newClient(extra ...kgo.Opt) (*kgo.Client, error) {
	return kgo.NewClient(append(append([]kgo.Opt(nil), sp.s.cfg.Access.Service...), extra...)...)
}

// round samples every group's lag at now and records it.
func (sp *lagSampler) round(ctx context.Context, now time.Time) error {
	m := sp.s.lagMetrics
	ctx, cancel := context.WithTimeout(ctx, max(sp.s.lagInterval(), 30*time.Second))
	defer cancel()
	a := ctl.Over(sp.cl)
	listed, err := a.ListGroups(ctx, ctl.GroupFilter{})
	if listed == nil {
		m.roundErrors.Inc()
		if err == nil {
			err = errors.New("no listing")
		}
		return err
	}
	complete := err == nil
	var lags []groupLag
	for _, d := range a.DescribeGroups(ctx, listed, true) {
		if d.Err != nil || (d.OffsetsErr != nil && len(d.Offsets)+len(d.Shares) == 0) {
			complete = complete && d.Err == nil // a group not described is not gone
			continue
		}
		lags = append(lags, groupLag{group: d.Group, records: d.TotalLag(), parts: groupPartitionViews(d)})
	}
	stamps := sp.stamps(ctx, lags)
	samples := make(map[string]lagSample, len(lags))
	for _, g := range lags {
		s := lagSample{At: uint32(now.Unix()), Records: g.records, TimeLag: lagNoTime}
		if ms, ok := maxTimeLag(g.parts, stamps, now); ok {
			s.TimeLag = uint32(min(ms/1000, lagNoTime-1))
		}
		samples[g.group] = s
	}
	sp.s.lag.record(now, samples, complete)
	m.rounds.Inc()
	m.took.Set(time.Since(now).Seconds())
	return nil
}

// groupLag is a group's lag in a sampling round.
type groupLag struct {
	group   string
	records int64
	parts   []partitionView
}

// maxTimeLag is the largest lag in time of the lagging partitions of ps at
// now (0 when nothing is left to consume), and whether it is known: every
// lagging partition's oldest record was read.
func maxTimeLag(ps []partitionView, stamps map[recordAt]stamp, now time.Time) (int64, bool) {
	var most int64
	for _, q := range stampQuestions(ps) {
		st, ok := stamps[q]
		if !ok || st.err != nil {
			return 0, false
		}
		if lag := st.timeLag(now); lag != nil {
			most = max(most, *lag)
		}
	}
	return most, true
}

// stamps answers the oldest-record questions of every group's lagging
// partitions: from the cache where it knows the offset, else read (at most
// lagMaxLookups). The cache keeps what this round used.
func (sp *lagSampler) stamps(ctx context.Context, lags []groupLag) map[recordAt]stamp {
	out := make(map[recordAt]stamp)
	var misses []recordAt
	for _, g := range lags {
		for _, q := range stampQuestions(g.parts) {
			key := q
			key.End = 0
			if ms, ok := sp.cache[key]; ok {
				out[q] = stamp{ms: ms}
			} else {
				misses = append(misses, q)
			}
		}
	}
	sort.Slice(misses, func(i, j int) bool {
		if misses[i].Topic != misses[j].Topic {
			return misses[i].Topic < misses[j].Topic
		}
		return misses[i].Partition < misses[j].Partition
	})
	if len(misses) > lagMaxLookups {
		sp.s.log.Warn("console lag sampler: too many partitions moved to read all their oldest records; some groups' lag in time is unknown this round",
			"read", lagMaxLookups, "moved", len(misses))
		misses = misses[:lagMaxLookups]
	}
	for q, st := range readStamps(ctx, sp.newClient, misses, lagStampDeadline) {
		out[q] = st
	}
	cache := make(map[recordAt]int64, len(out))
	for q, st := range out {
		if st.err == nil && !st.none {
			q.End = 0
			cache[q] = st.ms
		}
	}
	sp.cache = cache
	return out
}
