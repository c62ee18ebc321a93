package ridersdb_test

// bench_test.go measures WriteBatch: batches of 5000 updates over 10000
// riders, as the sink writes them, reported in rows/s.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/rider"
	"github.com/courier-dev/courier/internal/pipeline/ridersdb"
)

const (
	benchBatch  = 5000
	benchRiders = 10000
)

func BenchmarkWriteBatch(b *testing.B) {
	for _, d := range dialects {
		b.Run(d.name, func(b *testing.B) {
			db := open(b, d.dsn)
			ctx := context.Background()
			batch := make([]ridersdb.Update, benchBatch)
			var off int64
			start := time.Now()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for j := range batch {
					r := int(off) % benchRiders
					batch[j] = ridersdb.Update{
						Location: rider.Location{
							RiderID: fmt.Sprintf("rider-%05d", r),
							Lat:     12.9 + float64(r)/1e5, Lon: 77.5 + float64(off%1000)/1e4,
							TS: t0.Add(time.Duration(off) * time.Millisecond),
						},
						Topic: testTopic, Partition: int32(off % 4), Offset: off / 4,
					}
					off++
				}
				if _, err := db.WriteBatch(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(off)/time.Since(start).Seconds(), "rows/s")
		})
	}
}
