package webconsole

// search_bench_test.go measures the search target: a search over
// one million 100-byte records (a key that matches once, near the end)
// finishes in under 5 s through the API, continuing over calls as the page
// does. Run it with
//
//	go test ./internal/tools/webconsole -run '^$' -bench SearchMillion -benchtime 1x -v
//
// It is a benchmark, not a test, because producing the million records
// takes seconds that CI spends once, in test/console's browser test.

import (
	"context"
	"fmt"
	"net/url"
	"runtime"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// millionRecords is the benchmark's topic size.
const millionRecords = 1_000_000

// produceSized writes n records of 100 bytes (key "k-%07d", a value padded
// to 100 bytes in all) over partitions partitions, record i at msgBase + i
// ms, and returns how long it took.
func produceSized(tb testing.TB, seeds []string, topic string, partitions, n int) time.Duration {
	tb.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchMaxBytes(1<<20), kgo.MaxBufferedRecords(200_000), kgo.ProducerLinger(5*time.Millisecond))
	if err != nil {
		tb.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	began := time.Now()
	pad := make([]byte, 100)
	errc := make(chan error, 1)
	for i := range n {
		key := fmt.Appendf(nil, "k-%07d", i)
		val := append(fmt.Appendf(nil, "v-%07d-", i), pad[:100-len(key)-10]...)
		r := &kgo.Record{Topic: topic, Partition: int32(i % partitions), Key: key, Value: val, Timestamp: msgBase.Add(time.Duration(i) * time.Millisecond)}
		cl.Produce(ctx, r, func(_ *kgo.Record, err error) {
			if err != nil {
				select {
				case errc <- err:
				default:
				}
			}
		})
	}
	if err := cl.Flush(ctx); err != nil {
		tb.Fatal(err)
	}
	select {
	case err := <-errc:
		tb.Fatalf("produce: %v", err)
	default:
	}
	return time.Since(began)
}

// BenchmarkSearchMillion times a full search of a million records for a
// key found once near the end, and a search by timestamp, through the API.
func BenchmarkSearchMillion(b *testing.B) {
	tc := startConsole(b, Config{})
	seeds := []string{tc.broker.Addr}
	createTopic(b, seeds, "million", 4)
	took := produceSized(b, seeds, "million", 4, millionRecords)
	b.Logf("produced %d records of 100 bytes in %v", millionRecords, took)
	want := fmt.Sprintf("k-%07d", millionRecords-7)
	b.ResetTimer()
	for range b.N {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		before, peak := ms.HeapInuse, ms.HeapInuse
		stop := make(chan struct{})
		sampled := make(chan struct{})
		go func() { // the heap's peak during the search (the broker's heap is in it too)
			defer close(sampled)
			tick := time.NewTicker(5 * time.Millisecond)
			defer tick.Stop()
			for {
				select {
				case <-stop:
					return
				case <-tick.C:
					runtime.ReadMemStats(&ms)
					peak = max(peak, ms.HeapInuse)
				}
			}
		}()
		began := time.Now()
		found, calls := searchAll(b, tc, "million", url.Values{"from": {"oldest"}, "key": {want}}, 20)
		elapsed := time.Since(began)
		close(stop)
		<-sampled
		b.Logf("heap in use during the search: %.1f MiB more at its peak than before (broker and console together)", float64(peak-before)/(1<<20))
		if len(found) != 1 || found[0].Key.Data != want {
			b.Fatalf("search for %s found %d records: %+v", want, len(found), found)
		}
		b.Logf("search of %d records for key %s: %v in %d call(s) (%.0f records/s)", millionRecords, want, elapsed, calls, millionRecords/elapsed.Seconds())
		b.ReportMetric(elapsed.Seconds(), "s/search")
		if elapsed > 5*time.Second {
			b.Errorf("search took %v, the target is under 5 s", elapsed)
		}
	}
	b.StopTimer()
	began := time.Now()
	at := msgBase.Add(time.Duration(millionRecords-1000) * time.Millisecond)
	ans := browse(b, tc, "million", url.Values{"from": {"timestamp"}, "timestamp": {fmt.Sprint(at.UnixMilli())}, "limit": {"4"}})
	if len(ans.Records) != 4 || ans.Records[0].Timestamp != at.UnixMilli() {
		b.Fatalf("from a timestamp: %+v", ans.Records)
	}
	b.Logf("page from a timestamp near the end: %v", time.Since(began))
}
