package gateway

// bench_test.go measures decoding a PUT body (parseOne), with and without
// the rider_id the path already gives.

import (
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/rider"
)

func BenchmarkParseOne(b *testing.B) {
	now := time.Date(2026, 11, 25, 13, 0, 0, 0, time.UTC)
	for _, c := range []struct{ name, body string }{
		{"with_id", `{"rider_id":"rider-00042","lat":12.971599,"lon":77.594566,"ts":"2026-11-25T12:59:00.123Z"}`},
		{"without_id", `{"lat":12.971599,"lon":77.594566,"ts":"2026-11-25T12:59:00.123Z"}`},
	} {
		b.Run(c.name, func(b *testing.B) {
			body := []byte(c.body)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := parseOne(body, "rider-00042", now, rider.DefaultLimits); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
