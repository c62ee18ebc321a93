package bench

// consume.go reads the run's records back from the beginning of the topic,
// tracking sequence numbers and, when asked, end-to-end latency.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// pollTimeout bounds one poll so the idle timeout is checked even when
// nothing arrives.
const pollTimeout = 500 * time.Millisecond

// consumePass is one consumer reading the whole topic from the beginning.
type consumePass struct {
	cfg Config
	clk clock

	// latencies, if not nil, collects one end-to-end sample (nanoseconds)
	// per new record; give it capacity cfg.Records.
	latencies []int64
	// warmup, if positive, is how long to poll the (still empty) topic
	// before ready is closed, so the consumer's connection, metadata and
	// first fetch are in place before the first record is sent.
	warmup time.Duration
	ready  chan struct{}
	// produced is closed once no more records will be produced: from then
	// on, IdleTimeout without a new record ends the pass.
	produced <-chan struct{}

	// logEnd, once set, holds each partition's end offset after
	// production. On a compacted topic, where superseded records may
	// never arrive, a pass that has read up to it in every partition is
	// done; elsewhere a pass waits for every record.
	logEnd atomic.Pointer[[]int64]

	// received counts distinct records received, for progress.
	received atomic.Int64
}

// consumeStats is what one pass saw.
type consumeStats struct {
	Throughput
	Loss
}

// run consumes until every sequence number was seen, production is over and
// the consumer went IdleTimeout without a new record, or ctx is done.
// Elapsed runs from creating the client to the last new record.
func (p *consumePass) run(ctx context.Context) (consumeStats, error) {
	var st consumeStats
	start := time.Now()
	cl, err := kgo.NewClient(append(slices.Clip(p.cfg.ClientOpts),
		kgo.ConsumeTopics(p.cfg.Topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.FetchIsolationLevel(p.cfg.isolation()),
		kgo.FetchMaxBytes(fetchMaxBytes),
		kgo.FetchMaxPartitionBytes(fetchMaxPartitionBytes),
		kgo.WithPools(new(fetchedPool)),
	)...)
	if err != nil {
		return st, fmt.Errorf("bench: consume: %w", err)
	}
	defer cl.Close()

	seen := newSeen(p.cfg.Records)
	compacted := p.cfg.compacted()
	// next is, per partition, the offset after the last record read; only
	// a compacted topic's pass, which stops at the log end, needs it.
	next := make([]int64, p.cfg.Partitions)
	lastNew := start  // when the last new record arrived
	idleFrom := start // when the idle timeout started counting
	poll := func(timeout time.Duration) error {
		pctx, cancel := context.WithTimeout(ctx, timeout)
		fs := cl.PollFetches(pctx)
		cancel()
		if err := ctx.Err(); err != nil {
			return err
		}
		// Every record of a poll arrived by now: one clock read per
		// poll, not per record.
		now := p.clk.now()
		fs.EachError(func(_ string, _ int32, err error) {
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				return
			}
			st.FetchErrors++
			st.LastFetchError = err
		})
		if compacted {
			// A partition's records come in offset order: its last one
			// says how far the pass has read, once per partition and
			// poll, not per record (and before EachRecord recycles it).
			fs.EachPartition(func(ftp kgo.FetchTopicPartition) {
				if n := len(ftp.Records); n > 0 && int(ftp.Partition) < len(next) {
					next[ftp.Partition] = max(next[ftp.Partition], ftp.Records[n-1].Offset+1)
				}
			})
		}
		var fresh int64
		fs.EachRecord(func(r *kgo.Record) {
			st.Records++
			st.Bytes += int64(len(r.Value))
			seq, sent, ok := ReadHeader(r.Value)
			switch {
			case !ok:
				seen.invalid++
			case seen.mark(seq):
				fresh++
				if p.latencies != nil {
					p.latencies = append(p.latencies, max(now-sent, 0))
				}
			}
			r.Recycle()
		})
		if fresh > 0 {
			lastNew = time.Now()
			idleFrom = lastNew
			p.received.Add(fresh)
		}
		return nil
	}

	if p.warmup > 0 {
		if err := poll(p.warmup); err != nil {
			return st, err
		}
	}
	if p.ready != nil {
		close(p.ready)
	}
loop:
	for seen.unique < p.cfg.Records {
		select {
		case <-p.produced:
			if time.Since(idleFrom) > p.cfg.IdleTimeout {
				break loop
			}
		default:
			// Production still runs: nothing to time out on yet.
			idleFrom = time.Now()
		}
		if compacted && reached(next, p.logEnd.Load()) {
			break
		}
		if err := poll(pollTimeout); err != nil {
			return st, err
		}
	}
	st.Elapsed = lastNew.Sub(start)
	st.Missing, st.Duplicates, st.Invalid = seen.missing(), seen.dups, seen.invalid
	if st.Missing > 0 {
		st.FirstMissing = seen.firstMissing(5)
	}
	if compacted && p.cfg.Keys > 0 {
		st.KeysLost = keysLost(seen, p.cfg.Records, p.cfg.Keys, p.cfg.Producers)
	}
	return st, nil
}

// reached reports whether a consumer that has read up to next (per
// partition) has reached the log end ends; a nil ends is not known yet.
func reached(next []int64, ends *[]int64) bool {
	if ends == nil {
		return false
	}
	for i, end := range *ends {
		if i >= len(next) || next[i] < end {
			return false
		}
	}
	return true
}

// fetchedPool lets the consumer reuse the kgo.Record slices fetched batches
// decode into, which would otherwise be garbage per batch.
type fetchedPool struct{ p sync.Pool }

// GetRecords implements kgo.PoolRecords.
func (fp *fetchedPool) GetRecords(n int) []kgo.Record {
	if s, _ := fp.p.Get().(*[]kgo.Record); s != nil && cap(*s) >= n {
		return (*s)[:0]
	}
	return make([]kgo.Record, 0, n)
}

// PutRecords implements kgo.PoolRecords.
func (fp *fetchedPool) PutRecords(s []kgo.Record) { fp.p.Put(&s) }
