package broker_test

// share_bench_test.go measures share groups end to end: franz-go share
// consumers on a four-partition topic accept every record, and the
// benchmark reports records acknowledged per second. With -mutexprofile it
// shows whether the share coordinator's locks are contended.

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/twmb/franz-go/pkg/kgo"
)

// BenchmarkShareGroup: 1, 4 and 16 consumers of one share group on a
// four-partition topic of 20,000 records; each iteration is a new group
// that accepts them all. Each fetch asks for 100 records: four consumers
// of a partition asking for 500 each would fill its 2,000 record locks
// (share.partition.max.record.locks), and a consumer whose next fetch
// leaves before it acknowledges then waits out its MaxWait, which
// measures the client's pipelining rather than the broker.
func BenchmarkShareGroup(b *testing.B) {
	const topic, records = "bench", 20_000
	br := testbroker.Start(b)
	testclient.CreateTopic(b, br.Addr, topic, 4, nil)
	cl := testclient.New(b, br.Addr, kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	var rs []*kgo.Record
	for i := range records {
		rs = append(rs, &kgo.Record{Topic: topic, Value: fmt.Appendf(nil, "record %d", i)})
	}
	if err := cl.ProduceSync(context.Background(), rs...).FirstErr(); err != nil {
		b.Fatal(err)
	}
	run := 0
	for _, consumers := range []int{1, 4, 16} {
		b.Run(fmt.Sprintf("consumers=%d", consumers), func(b *testing.B) {
			var total time.Duration
			for range b.N {
				run++
				group := fmt.Sprintf("bench-%d", run)
				setGroupConfigs(b, cl, group, "share.auto.offset.reset", "earliest")
				d := consumeShared(b, br.Addr, topic, group, consumers, records)
				if testing.Verbose() {
					b.Logf("%d consumers: %v", consumers, d)
				}
				total += d
			}
			b.ReportMetric(float64(records*b.N)/total.Seconds(), "records/s")
		})
	}
}

// consumeShared runs consumers share consumers of group until they have
// accepted n records, and returns how long that took.
func consumeShared(b *testing.B, addr, topic, group string, consumers, n int) time.Duration {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var (
		accepted atomic.Int64
		wg       sync.WaitGroup
		all      = make(chan struct{})
		once     sync.Once
	)
	start := time.Now()
	for range consumers {
		c := shareClient(b, addr, topic, group, kgo.ShareMaxRecords(100))
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			for ctx.Err() == nil {
				select {
				case <-all:
					c.FlushAcks(ctx)
					return
				default:
				}
				c.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
					r.Ack(kgo.AckAccept)
					if accepted.Add(1) == int64(n) {
						once.Do(func() { close(all) })
					}
				})
			}
		}()
	}
	select {
	case <-all:
	case <-ctx.Done():
		b.Fatalf("%d of %d records accepted", accepted.Load(), n)
	}
	elapsed := time.Since(start)
	cancel()
	wg.Wait()
	return elapsed
}
