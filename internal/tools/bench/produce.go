package bench

// produce.go sends the run's records: acks=all, idempotent, default batching
// and linger, values from a per-producer pool so nothing is allocated per
// record; in a transactional run, in transactions each producer commits
// every Config.TxnRecords records or Config.TxnInterval.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// producer is one of a run's producer clients with its share of the
// sequence numbers, [lo, hi).
type producer struct {
	cl     *kgo.Client
	pool   *recordPool
	lo, hi int
	// commits are the commit latencies (nanoseconds) of its
	// transactions, in a transactional run.
	commits []int64
}

// produce sends cfg.Records records, split into contiguous sequence ranges
// across cfg.Producers clients, counting acknowledged records in acked. It
// returns once every record is acknowledged (and, in a transactional run,
// every transaction committed), or after the first failure, and the
// commit latencies of all the transactions. Elapsed runs from the first
// Produce call to the last acknowledgement or commit.
func produce(ctx context.Context, cfg Config, clk clock, acked *atomic.Int64) (Throughput, []int64, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	fail := func(err error) { cancel(fmt.Errorf("bench: produce: %w", err)) } // the first cause sticks

	compression, err := codec(cfg.Compression)
	if err != nil {
		return Throughput{}, nil, err
	}
	producers := make([]*producer, cfg.Producers)
	defer func() {
		for _, p := range producers {
			if p != nil {
				p.cl.Close()
			}
		}
	}()
	for i := range producers {
		lo, hi := i*cfg.Records/cfg.Producers, (i+1)*cfg.Records/cfg.Producers
		n := cfg.poolRecords(hi - lo)
		// A fixed seed per producer: the bytes only need to be
		// incompressible, and runs stay comparable.
		rng := rand.NewChaCha8([32]byte{0: 'c', 1: 'b', 2: byte(i), 3: byte(i >> 8)})
		pool := newRecordPool(cfg.Topic, n, cfg.Size, cfg.keyCap(), rng)
		opts := append(slices.Clip(cfg.ClientOpts),
			kgo.RequiredAcks(kgo.AllISRAcks()), // and idempotence, kgo's default
			kgo.ProducerBatchCompression(compression),
			kgo.ProducerBatchMaxBytes(batchMaxBytes),
			// The pool bounds what is in flight. kgo's own limit sits
			// above it because a record returns to the pool just
			// before kgo stops counting it as buffered.
			kgo.MaxBufferedRecords(2*n),
		)
		if cfg.Transactional {
			// The topic's name is new for every run, so the ids are
			// too: no run fences another.
			opts = append(opts, kgo.TransactionalID(fmt.Sprintf("%s-%d", cfg.Topic, i)))
		}
		cl, err := kgo.NewClient(opts...)
		if err != nil {
			return Throughput{}, nil, fmt.Errorf("bench: produce: %w", err)
		}
		producers[i] = &producer{cl: cl, pool: pool, lo: lo, hi: hi}
		// Connect and get the producer ID now, so neither the timing
		// nor the first records' latency includes the setup.
		if _, _, err := cl.ProducerID(ctx); err != nil {
			return Throughput{}, nil, fmt.Errorf("bench: produce: init producer id: %w", err)
		}
	}

	start := time.Now()
	var wg sync.WaitGroup
	for _, p := range producers {
		wg.Go(func() { p.run(ctx, cfg, clk, acked, fail) })
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := context.Cause(ctx); err != nil {
		return Throughput{}, nil, err
	}
	var commits []int64
	for _, p := range producers {
		commits = append(commits, p.commits...)
	}
	n := acked.Load()
	return Throughput{Records: n, Bytes: n * int64(cfg.Size), Elapsed: elapsed, Start: start}, commits, nil
}

// run produces sequence numbers [p.lo, p.hi), keyed if cfg.Keys > 0 (see
// keys.go), and waits for them to be acknowledged; in a transactional run
// it wraps them in transactions of cfg.TxnRecords records or
// cfg.TxnInterval each, and commits the last one.
func (p *producer) run(ctx context.Context, cfg Config, clk clock, acked *atomic.Int64, fail func(error)) {
	// One promise for every record: kgo calls promises serially per
	// client, and a closure per record would be an allocation per record.
	promise := func(r *kgo.Record, err error) {
		if err != nil {
			fail(err)
		} else {
			acked.Add(1)
		}
		p.pool.put(r)
	}
	var (
		inTxn    int   // records produced in the open transaction
		txnStart int64 // when it began, on clk
	)
	for seq := p.lo; seq < p.hi; seq++ {
		r, err := p.pool.get(ctx)
		if err != nil {
			return // the cause is already recorded, or the caller canceled
		}
		if cfg.Keys > 0 {
			r.Key = appendKey(keyBuf(r), uint64(seq), cfg.Keys)
		}
		now := clk.now()
		if cfg.Transactional && (inTxn == 0 || cfg.txnFull(inTxn, now-txnStart)) {
			if inTxn > 0 && !p.commit(ctx, clk, fail) {
				p.pool.put(r)
				return
			}
			if err := p.cl.BeginTransaction(); err != nil {
				fail(fmt.Errorf("begin transaction: %w", err))
				p.pool.put(r)
				return
			}
			txnStart, inTxn, now = clk.now(), 0, clk.now()
		}
		PutHeader(r.Value, uint64(seq), now)
		p.cl.Produce(ctx, r, promise)
		inTxn++
	}
	if cfg.Transactional {
		if inTxn > 0 {
			p.commit(ctx, clk, fail)
		}
		return
	}
	if err := p.cl.Flush(ctx); err != nil && ctx.Err() == nil {
		fail(err)
	}
}

// commit ends the open transaction: it waits for its records to be
// acknowledged (kgo wants a flush before EndTransaction) and commits it,
// noting how long both took. It reports whether the commit succeeded.
func (p *producer) commit(ctx context.Context, clk clock, fail func(error)) bool {
	start := clk.now()
	if err := p.cl.Flush(ctx); err != nil {
		if ctx.Err() == nil {
			fail(err)
		}
		return false
	}
	if err := p.cl.EndTransaction(ctx, kgo.TryCommit); err != nil {
		if ctx.Err() == nil {
			fail(fmt.Errorf("commit transaction: %w", err))
		}
		return false
	}
	p.commits = append(p.commits, clk.now()-start)
	return true
}
