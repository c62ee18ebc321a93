package bench

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestPercentile(t *testing.T) {
	hundred := make([]int64, 100)
	for i := range hundred {
		hundred[i] = int64(i + 1) // 1..100
	}
	thousand := make([]int64, 1000)
	for i := range thousand {
		thousand[i] = int64(i + 1)
	}
	for _, tc := range []struct {
		name   string
		sorted []int64
		p      float64
		want   int64
	}{
		{"empty", nil, 50, 0},
		{"one p50", []int64{7}, 50, 7},
		{"one p99", []int64{7}, 99, 7},
		{"p0 is min", hundred, 0, 1},
		{"p50 of 1..100", hundred, 50, 50},
		{"p99 of 1..100", hundred, 99, 99},
		{"p100 is max", hundred, 100, 100},
		{"p99.9 of 1..1000", thousand, 99.9, 999},
		{"p99 of 1..1000", thousand, 99, 990},
		{"p1 of 1..1000", thousand, 1, 10},
		{"p50 of two", []int64{10, 20}, 50, 10},
		{"p51 of two", []int64{10, 20}, 51, 20},
		{"above 100 clamps", hundred, 150, 100},
	} {
		if got := Percentile(tc.sorted, tc.p); got != tc.want {
			t.Errorf("%s: Percentile(p=%v) = %d, want %d", tc.name, tc.p, got, tc.want)
		}
	}
}

func TestSummarize(t *testing.T) {
	if got := Summarize(nil); got != (Latency{}) {
		t.Fatalf("Summarize(nil) = %+v", got)
	}
	// 1..10000 ms, shuffled: Summarize must sort.
	const n = 10000
	samples := make([]int64, n)
	for i := range samples {
		samples[i] = int64(i+1) * int64(time.Millisecond)
	}
	r := rand.New(rand.NewPCG(1, 2))
	r.Shuffle(n, func(i, j int) { samples[i], samples[j] = samples[j], samples[i] })

	got := Summarize(samples)
	want := Latency{
		Samples: n,
		Min:     1 * time.Millisecond,
		Mean:    5000500 * time.Microsecond, // (1+10000)/2 ms
		P50:     5000 * time.Millisecond,
		P99:     9900 * time.Millisecond,
		P999:    9990 * time.Millisecond,
		Max:     10000 * time.Millisecond,
	}
	if got != want {
		t.Fatalf("Summarize = %+v\nwant        %+v", got, want)
	}
	if !slices.IsSorted(samples) {
		t.Fatal("Summarize did not sort its input")
	}
}
