package gateway

// bench_test.go measures decoding a PUT body (parseOne), with and without
// the rider_id the path already gives, and a whole write through the
// handler against an in-memory cluster (BenchmarkPost).

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/publish"
	"github.com/courier-dev/courier/internal/pipeline/region"
	"github.com/courier-dev/courier/internal/pipeline/rider"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
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

// BenchmarkPost measures a whole write through the handler (decode,
// validate, publish with acks=all, answer) against kfake, an in-memory
// cluster, so that what the gateway adds per request shows: a batch of 100
// riders as the simulator posts it, and one PUT.
func BenchmarkPost(b *testing.B) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "rider-updates", "rider-latest"))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	cfg := Config{Publish: publish.Config{ClientOpts: []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}, City: region.Bengaluru}}
	g, err := New(b.Context(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer g.Close()
	h := g.Handler()
	var batch strings.Builder
	batch.WriteString("[")
	for i := range 100 {
		if i > 0 {
			batch.WriteString(",")
		}
		fmt.Fprintf(&batch, `{"rider_id":"rider-%05d","lat":%v,"lon":%v}`, i, 12.9+float64(i%40)/200, 77.5+float64(i%37)/200)
	}
	batch.WriteString("]")
	for _, c := range []struct{ name, method, path, body string }{
		{"batch100", "POST", "/v1/locations", batch.String()},
		{"put", "PUT", "/v1/riders/rider-00042/location", `{"lat":12.971599,"lon":77.594566}`},
	} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
				req.Header.Set("Content-Type", "application/json")
				w := httptest.NewRecorder()
				h.ServeHTTP(w, req)
				if w.Code != 202 {
					b.Fatalf("%s: %d %s", c.name, w.Code, w.Body)
				}
			}
		})
	}
}
