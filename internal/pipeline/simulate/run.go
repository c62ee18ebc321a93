package simulate

// run.go paces the riders' reports to the target rate and hands them, in
// batches, to a fixed set of publishing goroutines.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/region"
	"github.com/courier-dev/courier/internal/pipeline/rider"
)

// Defaults of Config's zero fields.
const (
	DefaultRiders      = 1000
	DefaultRate        = 1000.0
	DefaultBatchSize   = 500
	DefaultConcurrency = 4
)

// Pacing and failure handling.
var (
	// tick is how often the pacer emits the updates that are due.
	tick = 10 * time.Millisecond
	// maxBacklog bounds how far behind the target rate the pacer tries to
	// catch up after a slow spell, as a duration of updates at the rate.
	maxBacklog = 500 * time.Millisecond
	// stallTimeout is how long publishes may fail (or hang) with none
	// delivered before Run gives up.
	stallTimeout = 10 * time.Second
	// drainGrace is how long publishes in flight may finish after ctx ends.
	drainGrace = 5 * time.Second
)

// Config is a simulation. Zero fields take their defaults.
type Config struct {
	// City is where riders move; region.Bengaluru if zero.
	City region.City
	// Riders is the number of riders; DefaultRiders if zero.
	Riders int
	// Rate is the target number of updates per second, all riders
	// together; DefaultRate if zero. Every rider reports about every
	// Riders/Rate seconds.
	Rate float64
	// Duration ends the run; zero runs until ctx ends or Count is reached.
	Duration time.Duration
	// Count ends the run after this many updates; zero is unlimited.
	Count int64
	// BatchSize is the number of updates per Publish call;
	// DefaultBatchSize if zero. A DirectTarget always takes 1.
	BatchSize int
	// Concurrency is the number of Publish calls in flight at most;
	// DefaultConcurrency if zero.
	Concurrency int
	// Seed chooses the riders' starting points and turns: the same seed
	// gives the same riders and the same moves.
	Seed int64
	// Logger receives publish failures (at most one line a second); nil
	// uses slog.Default().
	Logger *slog.Logger
}

// Stats are a run's counters, safe to read while it runs.
type Stats struct {
	// Sent counts updates the target accepted.
	Sent atomic.Int64
	// Failed counts updates whose Publish returned an error.
	Failed atomic.Int64
}

// withDefaults fills zero fields and checks the rest.
func (c Config) withDefaults(t Target) (Config, error) {
	if c.City.Box == (region.BBox{}) {
		c.City = region.Bengaluru
	}
	if c.Riders == 0 {
		c.Riders = DefaultRiders
	}
	if c.Rate == 0 {
		c.Rate = DefaultRate
	}
	if c.BatchSize == 0 {
		c.BatchSize = DefaultBatchSize
	}
	if c.Concurrency == 0 {
		c.Concurrency = DefaultConcurrency
	}
	if bl, ok := t.(batchLimiter); ok {
		c.BatchSize = min(c.BatchSize, bl.maxBatch())
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	b := c.City.Box
	switch {
	case !(b.MinLat < b.MaxLat && b.MinLon < b.MaxLon):
		return c, fmt.Errorf("simulate: city box %+v is empty", b)
	case c.Riders < 0:
		return c, fmt.Errorf("simulate: riders %d must be positive", c.Riders)
	case !(c.Rate > 0):
		return c, fmt.Errorf("simulate: rate %v must be positive", c.Rate)
	case c.Duration < 0 || c.Count < 0:
		return c, errors.New("simulate: duration and count must not be negative")
	case c.BatchSize < 0 || c.Concurrency < 0:
		return c, errors.New("simulate: batch size and concurrency must be positive")
	}
	return c, nil
}

// Run moves cfg.Riders riders along the streets of cfg.City and publishes
// their reports to t at cfg.Rate updates per second, counting them in stats
// (which may be nil). Reports are paced in 10 ms slices and go round-robin
// over the riders; a position is where the rider got to in the real time
// since its previous report, and its ts is now.
//
// When t is slower than the rate, pacing waits for publishes in flight
// (at most cfg.Concurrency), so the achieved rate is lower than cfg.Rate:
// nothing is dropped. A failed Publish counts its updates in stats.Failed,
// is logged, and the run goes on; if no update is delivered for 10 s while
// publishes fail or hang, Run stops with an error.
//
// Run returns nil when ctx ends, cfg.Duration has passed or cfg.Count
// updates were published. It returns after the publishes in flight end;
// after ctx ends, those get 5 s before they are cancelled, and 5 s more
// before Run returns without them.
func Run(ctx context.Context, cfg Config, t Target, stats *Stats) error {
	cfg, err := cfg.withDefaults(t)
	if err != nil {
		return err
	}
	if stats == nil {
		stats = new(Stats)
	}
	r := &runner{
		cfg:   cfg,
		t:     t,
		stats: stats,
		gen:   newGenerator(newGraph(Streets(cfg.City)), cfg.Riders, cfg.Seed),
		work:  make(chan []rider.Location),
		free:  make(chan []rider.Location, cfg.Concurrency+1),
	}
	for range cfg.Concurrency + 1 {
		r.free <- make([]rider.Location, 0, cfg.BatchSize)
	}
	pubCtx, cancelPubs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelPubs()
	var wg sync.WaitGroup
	for range cfg.Concurrency {
		wg.Go(func() { r.publishLoop(pubCtx) })
	}
	err = r.pace(ctx)
	close(r.work)
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	r.drain(ctx, done, cancelPubs, err != nil)
	return err
}

// runner is one Run's state.
type runner struct {
	cfg   Config
	t     Target
	stats *Stats
	gen   *generator
	// work carries full batches to the publishers; free brings the
	// buffers back.
	work, free chan []rider.Location
	// pendingSince is when the first publish started since the last one
	// that succeeded (Unix nanoseconds; 0 = none pending).
	pendingSince atomic.Int64

	logMu   sync.Mutex
	lastErr error
	lastLog time.Time
	unseen  int // failures not logged yet
}

// errStop ends pacing without an error.
var errStop = errors.New("stop")

// pace generates the due updates every tick until the run ends.
func (r *runner) pace(ctx context.Context) error {
	ticker := time.NewTicker(tick)
	defer ticker.Stop()
	start := time.Now()
	var deadline time.Time
	if r.cfg.Duration > 0 {
		deadline = start.Add(r.cfg.Duration)
	}
	maxCredit := max(r.cfg.Rate*maxBacklog.Seconds(), float64(r.cfg.BatchSize))
	credit, last := 0.0, start
	var generated int64
	batch := <-r.free

	// onTick checks whether the run must end at a tick.
	onTick := func() error {
		now := time.Now()
		if !deadline.IsZero() && !now.Before(deadline) {
			return errStop
		}
		return r.check(now)
	}
	// wait blocks until the next tick.
	wait := func() error {
		select {
		case <-ctx.Done():
			return errStop
		case <-ticker.C:
			return onTick()
		}
	}
	// send hands batch to a publisher, waiting while all are busy, and
	// takes a fresh buffer.
	send := func() error {
		for {
			select {
			case r.work <- batch:
				batch = (<-r.free)[:0]
				return nil
			case <-ctx.Done():
				return errStop
			case <-ticker.C:
				if err := onTick(); err != nil {
					return err
				}
			}
		}
	}
	for {
		if err := wait(); err != nil {
			return stopped(err)
		}
		now := time.Now()
		credit = min(credit+r.cfg.Rate*now.Sub(last).Seconds(), maxCredit)
		last = now
		n := int64(credit)
		if r.cfg.Count > 0 {
			n = min(n, r.cfg.Count-generated)
		}
		credit -= float64(n)
		generated += n
		for n > 0 {
			k := int(min(n, int64(r.cfg.BatchSize-len(batch))))
			l := len(batch)
			batch = batch[:l+k]
			r.gen.fill(batch[l:], now)
			n -= int64(k)
			if len(batch) == r.cfg.BatchSize {
				if err := send(); err != nil {
					return stopped(err)
				}
				now = time.Now()
			}
		}
		if len(batch) > 0 {
			if err := send(); err != nil {
				return stopped(err)
			}
		}
		if r.cfg.Count > 0 && generated >= r.cfg.Count {
			return nil
		}
	}
}

// stopped turns errStop into a clean end.
func stopped(err error) error {
	if err == errStop {
		return nil
	}
	return err
}

// drain waits for the publishers to finish (done), cancelling their
// publishes drainGrace after ctx ends or when deliveries stall. Publishes
// that ignore the cancellation (a producer cannot fail records it may
// already have sent) are abandoned drainGrace after it: their outcome
// still lands in stats when they end.
func (r *runner) drain(ctx context.Context, done <-chan struct{}, cancel context.CancelFunc, cancelled bool) {
	ticker := time.NewTicker(100 * time.Millisecond)
	defer ticker.Stop()
	ctxDone := ctx.Done()
	var grace, abandon <-chan time.Time
	stop := func() {
		cancel()
		if abandon == nil {
			abandon = time.After(drainGrace)
		}
	}
	if cancelled {
		stop()
	}
	for {
		select {
		case <-done:
			return
		case <-ctxDone:
			ctxDone = nil
			grace = time.After(drainGrace)
		case <-grace:
			stop()
		case <-abandon:
			r.cfg.Logger.Warn("simulate: publishes in flight do not end after cancellation; leaving them")
			return
		case <-ticker.C:
			if r.check(time.Now()) != nil {
				stop()
			}
		}
	}
}

// publishLoop publishes batches until work is closed.
func (r *runner) publishLoop(ctx context.Context) {
	for batch := range r.work {
		r.pendingSince.CompareAndSwap(0, time.Now().UnixNano())
		if err := r.t.Publish(ctx, batch); err != nil {
			r.stats.Failed.Add(int64(len(batch)))
			r.failed(err, len(batch))
		} else {
			r.stats.Sent.Add(int64(len(batch)))
			r.pendingSince.Store(0)
		}
		r.free <- batch
	}
}

// failed records and logs (at most once a second) a failed publish.
func (r *runner) failed(err error, n int) {
	r.logMu.Lock()
	defer r.logMu.Unlock()
	r.lastErr = err
	r.unseen += n
	if now := time.Now(); now.Sub(r.lastLog) >= time.Second {
		r.cfg.Logger.Warn("simulate: publish failed", "updates", r.unseen, "err", err)
		r.lastLog, r.unseen = now, 0
	}
}

// check returns an error once no update has been delivered for
// stallTimeout while publishes failed or hung.
func (r *runner) check(now time.Time) error {
	since := r.pendingSince.Load()
	if since == 0 || now.UnixNano()-since < int64(stallTimeout) {
		return nil
	}
	r.logMu.Lock()
	last := r.lastErr
	r.logMu.Unlock()
	if last == nil {
		return fmt.Errorf("simulate: no update delivered for %s: the target does not answer", stallTimeout)
	}
	return fmt.Errorf("simulate: no update delivered for %s; last error: %w", stallTimeout, last)
}
