package bench

// latency.go turns end-to-end latency samples into percentiles.

import (
	"math"
	"slices"
	"time"
)

// Latency summarizes end-to-end latency samples.
type Latency struct {
	Samples int
	Min     time.Duration
	Mean    time.Duration
	P50     time.Duration
	P99     time.Duration
	P999    time.Duration
	Max     time.Duration
}

// Summarize sorts samples (nanoseconds) in place and summarizes them. An
// empty slice gives the zero Latency.
func Summarize(samples []int64) Latency {
	if len(samples) == 0 {
		return Latency{}
	}
	slices.Sort(samples)
	var sum float64
	for _, s := range samples {
		sum += float64(s)
	}
	return Latency{
		Samples: len(samples),
		Min:     time.Duration(samples[0]),
		Mean:    time.Duration(sum / float64(len(samples))),
		P50:     time.Duration(Percentile(samples, 50)),
		P99:     time.Duration(Percentile(samples, 99)),
		P999:    time.Duration(Percentile(samples, 99.9)),
		Max:     time.Duration(samples[len(samples)-1]),
	}
}

// Percentile returns the p-th percentile (0 < p <= 100) of sorted by the
// nearest-rank method: the smallest sample such that at least p percent of
// the samples are less than or equal to it. It returns 0 for no samples and
// the minimum for p <= 0.
func Percentile(sorted []int64, p float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	// Work in millionths of a percent with integers so that, say, the 99th
	// percentile of 100 samples is rank 99 and not 100 through rounding.
	const scale = 1_000_000
	scaled := int64(math.Round(p * scale))
	n := int64(len(sorted))
	rank := (scaled*n + 100*scale - 1) / (100 * scale) // ceil(p/100 * n)
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}
