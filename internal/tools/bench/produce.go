package bench

// produce.go sends the run's records: acks=all, idempotent, default batching
// and linger, values from a per-producer pool so nothing is allocated per
// record.

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

// produce sends cfg.Records records, split into contiguous sequence ranges
// across cfg.Producers clients, counting acknowledged records in acked. It
// returns once every record is acknowledged, or after the first failure.
// Elapsed runs from the first Produce call to the last acknowledgement.
func produce(ctx context.Context, cfg Config, clk clock, acked *atomic.Int64) (Throughput, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	fail := func(err error) { cancel(fmt.Errorf("bench: produce: %w", err)) } // the first cause sticks

	compression, err := codec(cfg.Compression)
	if err != nil {
		return Throughput{}, err
	}
	type producer struct {
		cl     *kgo.Client
		pool   *recordPool
		lo, hi int
	}
	producers := make([]producer, cfg.Producers)
	defer func() {
		for _, p := range producers {
			if p.cl != nil {
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
		cl, err := kgo.NewClient(append(slices.Clip(cfg.ClientOpts),
			kgo.RequiredAcks(kgo.AllISRAcks()), // and idempotence, kgo's default
			kgo.ProducerBatchCompression(compression),
			kgo.ProducerBatchMaxBytes(batchMaxBytes),
			// The pool bounds what is in flight. kgo's own limit sits
			// above it because a record returns to the pool just
			// before kgo stops counting it as buffered.
			kgo.MaxBufferedRecords(2*n),
		)...)
		if err != nil {
			return Throughput{}, fmt.Errorf("bench: produce: %w", err)
		}
		producers[i] = producer{cl: cl, pool: pool, lo: lo, hi: hi}
		// Connect and get the producer ID now, so neither the timing
		// nor the first records' latency includes the setup.
		if _, _, err := cl.ProducerID(ctx); err != nil {
			return Throughput{}, fmt.Errorf("bench: produce: init producer id: %w", err)
		}
	}

	start := time.Now()
	var wg sync.WaitGroup
	for _, p := range producers {
		wg.Go(func() {
			produceRange(ctx, p.cl, p.pool, p.lo, p.hi, cfg.Keys, clk, acked, fail)
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := context.Cause(ctx); err != nil {
		return Throughput{}, err
	}
	n := acked.Load()
	return Throughput{Records: n, Bytes: n * int64(cfg.Size), Elapsed: elapsed, Start: start}, nil
}

// produceRange produces sequence numbers [lo, hi) with one client, keyed if
// keys > 0 (see keys.go), and waits for them to be acknowledged.
func produceRange(ctx context.Context, cl *kgo.Client, pool *recordPool, lo, hi, keys int, clk clock, acked *atomic.Int64, fail func(error)) {
	// One promise for every record: kgo calls promises serially per
	// client, and a closure per record would be an allocation per record.
	promise := func(r *kgo.Record, err error) {
		if err != nil {
			fail(err)
		} else {
			acked.Add(1)
		}
		pool.put(r)
	}
	for seq := lo; seq < hi; seq++ {
		r, err := pool.get(ctx)
		if err != nil {
			return // the cause is already recorded, or the caller canceled
		}
		if keys > 0 {
			r.Key = appendKey(keyBuf(r), uint64(seq), keys)
		}
		PutHeader(r.Value, uint64(seq), clk.now())
		cl.Produce(ctx, r, promise)
	}
	if err := cl.Flush(ctx); err != nil && ctx.Err() == nil {
		fail(err)
	}
}
