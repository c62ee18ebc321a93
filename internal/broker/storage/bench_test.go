package storage

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

// BenchmarkAppend measures the append path: validation (one CRC pass),
// header stamping and one positional write.
func BenchmarkAppend(b *testing.B) {
	for _, size := range []int{100, 1 << 10, 16 << 10} {
		b.Run(byteSize(size), func(b *testing.B) {
			l := openTest(b, b.TempDir(), Config{}, Options{})
			defer l.Close()
			raw := batch(10).values(size / 10).encode()
			b.SetBytes(int64(len(raw)))
			b.ReportAllocs()
			for b.Loop() {
				binary.BigEndian.PutUint64(raw, 0) // Append stamped the offset; a producer sends 0
				if _, err := l.Append(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkAppend16KiB measures appending producer-sized batches (about
// 16 KiB of records, Java's default batch.size) of 100 B and 1 KiB records,
// uncompressed and compressed, where validation walks every record.
func BenchmarkAppend16KiB(b *testing.B) {
	for _, size := range []int{100, 1 << 10} {
		for _, c := range benchCodecs {
			b.Run(fmt.Sprintf("records=%s/codec=%s", byteSize(size), c.name), func(b *testing.B) {
				l := openTest(b, b.TempDir(), Config{}, Options{})
				defer l.Close()
				n := (16 << 10) / (size + 12) // a record costs about 12 bytes of framing
				raw := benchBatch(b, n, size, c.codec)
				b.SetBytes(int64(len(raw)))
				b.ReportAllocs()
				for b.Loop() {
					binary.BigEndian.PutUint64(raw, 0)
					if _, err := l.Append(raw); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}

// benchCodecs are the codecs the batch benchmarks run with: none, and the
// two a throughput-minded producer picks.
var benchCodecs = []struct {
	name  string
	codec kgo.CompressionCodec
}{{"none", kgo.NoCompression()}, {"lz4", kgo.Lz4Compression()}, {"zstd", kgo.ZstdCompression()}}

// benchBatch builds a batch of n records whose values look like rider
// location updates (so that they compress about as well as real JSON),
// compressed with codec.
func benchBatch(b *testing.B, n, size int, codec kgo.CompressionCodec) []byte {
	b.Helper()
	rng := rand.New(rand.NewPCG(7, 7))
	values := make([][]byte, n)
	for i := range values {
		v := fmt.Appendf(nil, `{"rider":"r-%05d","lat":%.6f,"lon":%.6f,"speed":%.2f,"note":"`,
			rng.IntN(100000), 52+rng.Float64(), 13+rng.Float64(), rng.Float64()*30)
		for len(v) < size-2 {
			v = append(v, "abcdefghijklmnopqrstuvwxyz0123456789"[rng.IntN(36)])
		}
		values[i] = append(v, '"', '}')
	}
	raw, err := encodeCompressed(values, 1_000, codec)
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

// BenchmarkAppendIdempotent adds the producer-state check and update.
func BenchmarkAppendIdempotent(b *testing.B) {
	l := openTest(b, b.TempDir(), Config{}, Options{})
	defer l.Close()
	batches := make([][]byte, b.N)
	for i := range batches {
		batches[i] = batch(10).values(100).idem(1, 0, int32(10*i)).encode()
	}
	b.SetBytes(int64(len(batches[0])))
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := l.Append(batches[i]); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRead measures random fetches of up to 64 KiB from a log of
// 1 KiB batches.
func BenchmarkRead(b *testing.B) {
	l := openTest(b, b.TempDir(), Config{SegmentBytes: 8 << 20}, Options{})
	defer l.Close()
	raw := batch(10).values(100).encode()
	for i := 0; i < 20_000; i++ {
		if _, err := l.Append(raw); err != nil {
			b.Fatal(err)
		}
	}
	rng := rand.New(rand.NewPCG(1, 1))
	hwm := l.HighWatermark()
	b.ReportAllocs()
	var n int64
	for b.Loop() {
		out, err := l.Read(rng.Int64N(hwm), 64<<10)
		if err != nil {
			b.Fatal(err)
		}
		n += int64(len(out))
	}
	b.SetBytes(n / int64(b.N))
}

func byteSize(n int) string {
	if n >= 1<<10 {
		return itoa(n>>10) + "KiB"
	}
	return itoa(n) + "B"
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

// BenchmarkValidate16KiB measures only the validation Append runs before
// taking its lock (no I/O), on the batches of BenchmarkAppend16KiB.
func BenchmarkValidate16KiB(b *testing.B) {
	for _, size := range []int{100, 1 << 10} {
		for _, c := range benchCodecs {
			b.Run(fmt.Sprintf("records=%s/codec=%s", byteSize(size), c.name), func(b *testing.B) {
				raw := benchBatch(b, (16<<10)/(size+12), size, c.codec)
				b.SetBytes(int64(len(raw)))
				b.ReportAllocs()
				cfg := Config{}.withDefaults()
				for b.Loop() {
					if _, _, err := validateProduced(raw, &cfg, 2_000); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
