package crash

// producer_test.go is the producer the kill tests share: numbered records
// sent with acks=all and idempotence through broker kills, every outcome
// collected, and the wait for the producer to recover after the last kill.

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/twmb/franz-go/pkg/kgo"
)

// crashProducer produces record(n) for n = 1, 2, ... until finished.
type crashProducer struct {
	cl        *kgo.Client
	closeOnce func()
	cancel    context.CancelFunc
	done      chan struct{}
	stop      atomic.Bool
	produced  atomic.Int64

	mu     sync.Mutex
	acked  []ack
	failed []error
}

// startCrashProducer starts producing to topic on addr; buffered bounds
// the records in flight, opts add to the client's options.
func startCrashProducer(t *testing.T, addr, topic string, buffered int, record func(n int) *kgo.Record, opts ...kgo.Opt) *crashProducer {
	t.Helper()
	opts = append([]kgo.Opt{
		kgo.DefaultProduceTopic(topic),
		kgo.RecordDeliveryTimeout(deliveryTimeout),
		kgo.RetryTimeout(deliveryTimeout),
		kgo.ProduceRequestTimeout(5 * time.Second),
		kgo.RetryBackoffFn(func(int) time.Duration { return 50 * time.Millisecond }),
		kgo.MaxBufferedRecords(buffered),
		// After a failed produce the client waits for fresh metadata; the
		// default minimum age (5s) would idle it through the next kills.
		kgo.MetadataMinAge(100 * time.Millisecond),
	}, opts...)
	p := &crashProducer{cl: testclient.New(t, addr, opts...), done: make(chan struct{})}
	p.closeOnce = sync.OnceFunc(p.cl.Close)
	t.Cleanup(p.closeOnce)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	p.cancel = cancel
	t.Cleanup(cancel)
	go func() {
		defer close(p.done)
		for n := 1; n <= maxRecords && !p.stop.Load() && ctx.Err() == nil; n++ {
			p.cl.Produce(ctx, record(n), p.outcome)
			p.produced.Store(int64(n))
			if n%20 == 0 {
				time.Sleep(time.Millisecond) // about 20k records/s at most
			}
		}
	}()
	return p
}

// outcome records one record's result.
func (p *crashProducer) outcome(r *kgo.Record, err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.failed = append(p.failed, fmt.Errorf("value %s: %w", r.Value, err))
		return
	}
	p.acked = append(p.acked, ack{r.Partition, r.Offset, string(r.Value)})
}

// ackedCount is how many records were acknowledged so far.
func (p *crashProducer) ackedCount() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.acked)
}

// finish lets the producer get more records through the restarted broker
// (up to 10 s), stops it, waits for every outcome and closes the client.
// It fails the test if any record failed (with kill -9 the OS keeps every
// written byte, and each restart takes well under the delivery timeout) or
// none was acknowledged after the last kill. It returns the
// acknowledgements.
func (p *crashProducer) finish(t *testing.T, more int) []ack {
	t.Helper()
	afterLastKill := p.ackedCount()
	deadline := time.Now().Add(10 * time.Second)
	for p.ackedCount() < afterLastKill+more && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	p.stop.Store(true)
	<-p.done
	fctx, fcancel := context.WithTimeout(context.Background(), flushTimeout)
	defer fcancel()
	if err := p.cl.Flush(fctx); err != nil {
		t.Fatalf("flush: %v (some records have no outcome after %v)", err, flushTimeout)
	}
	p.closeOnce()
	p.mu.Lock()
	defer p.mu.Unlock()
	t.Logf("produced %d records: %d acknowledged, %d failed", p.produced.Load(), len(p.acked), len(p.failed))
	for i, err := range p.failed {
		if i == 5 {
			t.Errorf("... and %d more failures", len(p.failed)-5)
			break
		}
		t.Errorf("record failed: %v", err)
	}
	if len(p.acked) <= afterLastKill {
		t.Errorf("no record was acknowledged after the last restart (%d before, %d at the end)", afterLastKill, len(p.acked))
	}
	return p.acked
}
