// Package cleaner runs the broker's log cleaner threads (Kafka's
// LogCleaner): each thread repeatedly takes the compacted partition most in
// need of cleaning (the highest dirty ratio among those due: ratio at or
// above min.cleanable.dirty.ratio, or a record older than
// max.compaction.lag.ms) that no other thread is cleaning, and compacts it
// with storage.Log.Clean. The threads share one key-map memory budget
// (log.cleaner.dedupe.buffer.size, split among them) and one I/O throttle
// (log.cleaner.io.max.bytes.per.second). When nothing is due a thread
// sleeps for the backoff (log.cleaner.backoff.ms).
package cleaner

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/courier-dev/courier/internal/broker/storage"
)

// Config configures the cleaner.
type Config struct {
	// Threads is log.cleaner.threads (default 1); 0 or less disables
	// compaction (compacted topics then grow like delete-policy ones
	// without retention).
	Threads int
	// KeyMapBytes is log.cleaner.dedupe.buffer.size, the key map memory of
	// all threads together (default 128 MiB).
	KeyMapBytes int64
	// IOBytesPerSecond is log.cleaner.io.max.bytes.per.second, reads and
	// writes together; 0 or less is unlimited.
	IOBytesPerSecond int64
	// Backoff is log.cleaner.backoff.ms, the sleep when nothing is due
	// (default 15 s).
	Backoff time.Duration
	// Logger receives the cleaner's logs.
	Logger *slog.Logger
}

// Defaults, Kafka's.
const (
	DefaultThreads     = 1
	DefaultKeyMapBytes = 128 << 20
	DefaultBackoff     = 15 * time.Second
)

// Target is a partition the cleaner may clean.
type Target struct {
	// Name is "topic-partition", for logs.
	Name string
	Log  *storage.Log
}

// Stats are the cleaner's cumulative counters since start.
type Stats struct {
	Runs, Failures          int64
	BytesRead, BytesWritten int64
	RecordsRemoved          int64
	TombstonesRemoved       int64
	// AbortedRecordsRemoved are records of aborted transactions;
	// MarkersRemoved transaction markers with nothing of their
	// transaction left.
	AbortedRecordsRemoved, MarkersRemoved int64
}

// Manager owns the cleaner threads.
type Manager struct {
	cfg      Config
	targets  func() []Target
	throttle storage.IOThrottle
	wake     chan struct{}

	mu     sync.Mutex
	busy   map[*storage.Log]bool
	cancel context.CancelFunc
	wg     sync.WaitGroup

	runs, failures          atomic.Int64
	bytesRead, bytesWritten atomic.Int64
	removed, tombstones     atomic.Int64
	aborted, markers        atomic.Int64
}

// New returns a manager over the partitions targets lists (called at every
// choice, so new topics are seen). Start starts its threads.
func New(cfg Config, targets func() []Target) *Manager {
	if cfg.KeyMapBytes <= 0 {
		cfg.KeyMapBytes = DefaultKeyMapBytes
	}
	if cfg.Backoff <= 0 {
		cfg.Backoff = DefaultBackoff
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	m := &Manager{cfg: cfg, targets: targets, busy: map[*storage.Log]bool{}, wake: make(chan struct{}, 1)}
	if cfg.IOBytesPerSecond > 0 {
		m.throttle = NewThrottle(cfg.IOBytesPerSecond)
	}
	return m
}

// Start starts the threads; Close stops them.
func (m *Manager) Start() {
	if m.cfg.Threads <= 0 {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	m.mu.Lock()
	m.cancel = cancel
	m.mu.Unlock()
	for range m.cfg.Threads {
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			m.thread(ctx)
		}()
	}
}

// Close stops the threads, interrupting cleanings in progress (a cleaning
// stopped part way leaves the log as it was or with some groups swapped:
// both are consistent), and waits for them.
func (m *Manager) Close() {
	m.mu.Lock()
	cancel := m.cancel
	m.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	m.wg.Wait()
}

// Wake asks an idle thread to look for work now (after a config change,
// say) instead of at the end of its backoff.
func (m *Manager) Wake() {
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// Stats returns the counters.
func (m *Manager) Stats() Stats {
	return Stats{
		Runs: m.runs.Load(), Failures: m.failures.Load(),
		BytesRead: m.bytesRead.Load(), BytesWritten: m.bytesWritten.Load(),
		RecordsRemoved: m.removed.Load(), TombstonesRemoved: m.tombstones.Load(),
		AbortedRecordsRemoved: m.aborted.Load(), MarkersRemoved: m.markers.Load(),
	}
}

// thread cleans until ctx ends.
func (m *Manager) thread(ctx context.Context) {
	for ctx.Err() == nil {
		t, ok := m.choose()
		if !ok {
			select {
			case <-ctx.Done():
			case <-m.wake:
			case <-time.After(m.cfg.Backoff):
			}
			continue
		}
		m.clean(ctx, t)
		m.mu.Lock()
		delete(m.busy, t.Log)
		m.mu.Unlock()
	}
}

// choose takes the due partition with the highest dirty ratio that no
// thread is cleaning, and marks it busy.
func (m *Manager) choose() (Target, bool) {
	var best Target
	bestRatio := -1.0
	for _, t := range m.targets() {
		st := t.Log.CleanerState()
		if !st.Due || st.DirtyRatio <= bestRatio {
			continue
		}
		m.mu.Lock()
		busy := m.busy[t.Log]
		m.mu.Unlock()
		if !busy {
			best, bestRatio = t, st.DirtyRatio
		}
	}
	if bestRatio < 0 {
		return Target{}, false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.busy[best.Log] {
		return Target{}, false // taken meanwhile; the next choice looks again
	}
	m.busy[best.Log] = true
	return best, true
}

// clean runs one cleaning and accounts for it.
func (m *Manager) clean(ctx context.Context, t Target) {
	start := time.Now()
	before := t.Log.CleanerState()
	res, err := t.Log.Clean(ctx, storage.CleanOptions{
		KeyMapBytes: m.cfg.KeyMapBytes / int64(max(m.cfg.Threads, 1)),
		Throttle:    m.throttle,
	})
	m.runs.Add(1)
	m.bytesRead.Add(res.BytesRead)
	m.bytesWritten.Add(res.BytesWritten)
	m.removed.Add(res.RecordsRemoved)
	m.tombstones.Add(res.TombstonesRemoved)
	m.aborted.Add(res.AbortedRecordsRemoved)
	m.markers.Add(res.MarkersRemoved)
	switch {
	case err == nil:
		m.cfg.Logger.Info("cleaned partition", "partition", t.Name, "dirty_ratio", before.DirtyRatio,
			"passes", res.Passes, "segments", res.SegmentsIn, "into", res.SegmentsOut,
			"bytes_read", res.BytesRead, "bytes_written", res.BytesWritten,
			"records_removed", res.RecordsRemoved, "tombstones_removed", res.TombstonesRemoved,
			"aborted_records_removed", res.AbortedRecordsRemoved, "markers_removed", res.MarkersRemoved, "took", time.Since(start).Round(time.Millisecond))
	case ctx.Err() != nil, errors.Is(err, fs.ErrClosed):
		// Stopping, or the topic was deleted under the cleaner.
	default:
		m.failures.Add(1)
		m.cfg.Logger.Error("cleaning failed; the partition keeps its data and is tried again later", "partition", t.Name, "err", err)
		// Do not spin on a partition that fails: sleep the backoff.
		select {
		case <-ctx.Done():
		case <-time.After(m.cfg.Backoff):
		}
	}
}
