package chaos

// produce_test.go is the main producer: one idempotent acks=all franz-go
// client writing numbered records to the main topics at a steady pace,
// recording every acknowledgement in the ledger.

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// deliveryTimeout is how long a record may be retried across kills and
// full disks before it fails (unacknowledged, which is allowed).
const deliveryTimeout = 20 * time.Second

// producerOpts are the options of every producing client: acks=all and
// idempotence are franz-go's defaults; the rest make it retry briskly
// across restarts instead of idling on stale metadata.
func producerOpts(addr string) []kgo.Opt {
	return []kgo.Opt{
		kgo.SeedBrokers(addr),
		kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.RecordDeliveryTimeout(deliveryTimeout),
		kgo.RetryTimeout(deliveryTimeout),
		kgo.ProduceRequestTimeout(5 * time.Second),
		kgo.RetryBackoffFn(func(int) time.Duration { return 100 * time.Millisecond }),
		kgo.MetadataMinAge(100 * time.Millisecond),
		kgo.MaxBufferedRecords(5000),
	}
}

// producer writes record n of each main topic to partition n % partitions,
// so each partition's numbers must come back strictly increasing.
type producer struct {
	cl         *kgo.Client
	led        *ledger
	topics     []string
	partitions int32

	sent    atomic.Int64 // records handed to the client
	cancel  context.CancelFunc
	stopped chan struct{}
	wg      sync.WaitGroup
}

// startProducer starts producing one record per topic every interval,
// at most maxRecords in all, until stop.
func startProducer(addr string, led *ledger, topics []string, partitions int32, interval time.Duration, maxRecords int) (*producer, error) {
	cl, err := kgo.NewClient(producerOpts(addr)...)
	if err != nil {
		return nil, fmt.Errorf("producer client: %w", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	p := &producer{cl: cl, led: led, topics: topics, partitions: partitions, cancel: cancel, stopped: make(chan struct{})}
	p.wg.Add(1)
	go p.run(ctx, interval, maxRecords)
	return p, nil
}

// run is the producing loop.
func (p *producer) run(ctx context.Context, interval time.Duration, maxRecords int) {
	defer p.wg.Done()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for n := 0; int(p.sent.Load()) < maxRecords; n++ {
		select {
		case <-p.stopped:
			return
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for _, topic := range p.topics {
			k := recordKey{topic, n}
			r := &kgo.Record{Topic: topic, Partition: int32(n) % p.partitions, Value: recordValue(topic, n)}
			// Produce blocks while the client's buffer is full (the broker
			// is down or the disk full); ctx ends that at finish.
			p.cl.Produce(ctx, r, func(r *kgo.Record, err error) {
				p.led.produced(k, position{r.Partition, r.Offset}, err)
			})
			p.sent.Add(1)
		}
	}
}

// finish stops producing, waits up to timeout for every record's outcome
// and closes the client. Records still without one are failed (they are
// then not acknowledged) and reported in the error.
func (p *producer) finish(timeout time.Duration) error {
	close(p.stopped)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	ferr := p.cl.Flush(ctx)
	p.cancel()
	p.wg.Wait()
	p.cl.Close()
	if ferr != nil {
		return fmt.Errorf("flush the main producer: %w (records without an outcome after %v)", ferr, timeout)
	}
	return nil
}
