package rider

// bench_test.go measures the gateway's decoding of request bodies: a
// JSON array and an NDJSON body of batchBenchN updates (ParseBatch) and a
// single update (UnmarshalOne), reported in bytes/s.

import (
	"bytes"
	"fmt"
	"testing"
)

// batchBenchN is the number of updates in a benchmark batch body.
const batchBenchN = 1000

// benchBodies returns the same batchBenchN updates as a JSON array and as
// NDJSON, in the shape rider apps send (RFC 3339 ts, six decimals).
func benchBodies() (array, ndjson []byte) {
	var a, n bytes.Buffer
	a.WriteByte('[')
	for i := range batchBenchN {
		obj := fmt.Sprintf(`{"rider_id":"rider-%05d","lat":%.6f,"lon":%.6f,"ts":"2026-11-25T12:59:%02d.%03dZ"}`,
			i, 12.9+float64(i)/1e5, 77.5+float64(i)/1e5, i%60, i%1000)
		if i > 0 {
			a.WriteByte(',')
		}
		a.WriteString(obj)
		n.WriteString(obj)
		n.WriteByte('\n')
	}
	a.WriteByte(']')
	return a.Bytes(), n.Bytes()
}

func BenchmarkParseBatch(b *testing.B) {
	array, ndjson := benchBodies()
	for _, c := range []struct {
		name   string
		format Format
		body   []byte
	}{{"array", JSON, array}, {"ndjson", NDJSON, ndjson}} {
		b.Run(c.name, func(b *testing.B) {
			b.SetBytes(int64(len(c.body)))
			b.ReportAllocs()
			for b.Loop() {
				locs, err := ParseBatch(bytes.NewReader(c.body), c.format, batchBenchN, now, DefaultLimits)
				if err != nil || len(locs) != batchBenchN {
					b.Fatalf("%d updates, %v", len(locs), err)
				}
			}
		})
	}
}

func BenchmarkUnmarshalOne(b *testing.B) {
	body := []byte(`{"rider_id":"rider-00042","lat":12.971599,"lon":77.594566,"ts":"2026-11-25T12:59:00.123Z"}`)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := UnmarshalOne(body, -1, now); err != nil {
			b.Fatal(err)
		}
	}
}
