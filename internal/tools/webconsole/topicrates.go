package webconsole

// topicrates.go keeps what the topic list needs to show rates: per topic,
// the last sample of its end offsets (summed over partitions) and its size,
// and the rates computed between the last two samples at least
// rateMinGap apart. Samples come from the topic listings themselves (no
// background client: the console may have no identity of its own), so the
// first listing shows no rates ("–") and the next one does. Memory is
// bounded: at most rateMaxTopics topics are tracked, and a topic not seen
// for rateForget is dropped.

import (
	"sync"
	"time"
)

const (
	// rateMinGap is the shortest interval a rate is computed over: two
	// listings closer than this keep the earlier rate.
	rateMinGap = time.Second
	// rateMaxTopics bounds the topics tracked.
	rateMaxTopics = 100_000
	// rateForget drops a topic not listed for this long.
	rateForget = time.Hour
)

// topicSample is one observation of a topic.
type topicSample struct {
	Records int64 // sum of the partitions' end offsets
	Bytes   int64 // size on disk, -1 when unknown
}

// topicRate is what the list shows; nil fields are unknown ("–").
type topicRate struct {
	RecordsPerSec *float64
	BytesPerSec   *float64
}

// rateEntry is one tracked topic.
type rateEntry struct {
	at   time.Time
	last topicSample
	rate topicRate
}

// rateSampler tracks the topics' samples and rates.
type rateSampler struct {
	mu     sync.Mutex
	topics map[string]*rateEntry
	swept  time.Time
}

// newRateSampler returns an empty sampler.
func newRateSampler() *rateSampler { return &rateSampler{topics: map[string]*rateEntry{}} }

// observe records samples taken at now and returns each topic's rates.
func (rs *rateSampler) observe(now time.Time, samples map[string]topicSample) map[string]topicRate {
	rs.mu.Lock()
	defer rs.mu.Unlock()
	if now.Sub(rs.swept) > rateForget/4 {
		for name, e := range rs.topics {
			if now.Sub(e.at) > rateForget {
				delete(rs.topics, name)
			}
		}
		rs.swept = now
	}
	out := make(map[string]topicRate, len(samples))
	for name, cur := range samples {
		e := rs.topics[name]
		if e == nil {
			if len(rs.topics) < rateMaxTopics {
				rs.topics[name] = &rateEntry{at: now, last: cur}
			}
			continue
		}
		dt := now.Sub(e.at)
		if dt < rateMinGap {
			out[name] = e.rate
			continue
		}
		secs := dt.Seconds()
		var r topicRate
		// End offsets only grow; a smaller sum is a topic deleted and made
		// again, which has no rate yet.
		if d := cur.Records - e.last.Records; d >= 0 {
			v := float64(d) / secs
			r.RecordsPerSec = &v
		}
		// Sizes shrink when retention deletes segments: such a delta says
		// nothing of the bytes written, so it has no rate.
		if cur.Bytes >= 0 && e.last.Bytes >= 0 {
			if d := cur.Bytes - e.last.Bytes; d >= 0 {
				v := float64(d) / secs
				r.BytesPerSec = &v
			}
		}
		e.at, e.last, e.rate = now, cur, r
		out[name] = r
	}
	return out
}
