package cleaner

// throttle.go is the cleaner's I/O throttle: a token bucket shared by the
// cleaner threads, as Kafka's Throttler caps log.cleaner.io.max.bytes.per.second.

import (
	"context"
	"sync"
	"time"
)

// Throttle lets through at most a rate of bytes per second on average, with
// bursts of up to one second's worth. It implements storage.IOThrottle.
type Throttle struct {
	rate float64 // bytes per second

	mu     sync.Mutex
	tokens float64
	last   time.Time
	now    func() time.Time
}

// NewThrottle returns a throttle of bytesPerSecond (> 0).
func NewThrottle(bytesPerSecond int64) *Throttle {
	return &Throttle{rate: float64(bytesPerSecond), tokens: float64(bytesPerSecond), last: time.Now(), now: time.Now}
}

// Wait blocks until n bytes may pass or ctx ends. A request larger than
// the burst runs the bucket into debt, which later callers wait out, so a
// big batch is never refused.
func (t *Throttle) Wait(ctx context.Context, n int64) error {
	t.mu.Lock()
	now := t.now()
	t.tokens = min(t.tokens+now.Sub(t.last).Seconds()*t.rate, t.rate)
	t.last = now
	t.tokens -= float64(n)
	debt := -t.tokens
	t.mu.Unlock()
	if debt <= 0 {
		return nil
	}
	timer := time.NewTimer(time.Duration(debt / t.rate * float64(time.Second)))
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}
