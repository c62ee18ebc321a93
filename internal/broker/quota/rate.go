package quota

// rate.go is a sampled rate, Kafka's org.apache.kafka.common.metrics.stats
// Rate over a SampledStat: the window is cut into samples, each started when
// the previous one is full; the rate is the sum of the live samples divided
// by the time they cover, padded to at least Samples−1 whole samples so
// that a burst at the start of a quiet period is not measured over a tiny
// interval.

// sample is the bytes recorded from start (unix nanos) on.
type sample struct {
	start int64
	value float64
}

// rate is a ring of samples; cur is the one being filled.
type rate struct {
	samples []sample
	cur     int
}

func newRate(n int) rate { return rate{samples: make([]sample, n)} }

// record adds v at ns, starting a new sample when the current one is a
// whole window old (or was never started).
func (r *rate) record(v float64, ns, win int64) {
	s := &r.samples[r.cur]
	if s.start == 0 || ns-s.start >= win {
		r.cur = (r.cur + 1) % len(r.samples)
		s = &r.samples[r.cur]
		*s = sample{start: ns}
	}
	s.value += v
}

// measure returns the rate in units per second at ns and the window
// (nanoseconds) it was measured over. Samples older than the whole window
// are dropped first.
func (r *rate) measure(ns, win int64) (perSec float64, window int64) {
	n := int64(len(r.samples))
	total, oldest := 0.0, ns
	for i := range r.samples {
		s := &r.samples[i]
		if s.start == 0 {
			continue
		}
		if ns-s.start >= n*win {
			*s = sample{}
			continue
		}
		total += s.value
		if s.start < oldest {
			oldest = s.start
		}
	}
	elapsed := ns - oldest
	if full := elapsed / win; full < n-1 {
		elapsed += (n - 1 - full) * win
	}
	return total / (float64(elapsed) / 1e9), elapsed
}
