package storage

import (
	"math/rand/v2"
	"testing"
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
				if _, err := l.Append(raw); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
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
