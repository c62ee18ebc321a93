// Package quota enforces Kafka-style byte-rate quotas (KIP-13, with KIP-219's
// "answer at once, then mute" throttling): each client id, or each
// authenticated principal, may produce and fetch at most a configured number
// of bytes per second, measured over a sliding window of samples like
// Kafka's quota.window.num × quota.window.size.seconds.
//
// What it promises:
//   - Recording a request costs O(1) (one short critical section, no
//     allocation once the key is known); keys idle for a whole window are
//     forgotten, so the memory held is proportional to the clients active in
//     the last window.
//   - The throttle time returned for a request that pushed its key over the
//     quota is Kafka's: (rate − quota) / quota × window, capped at the
//     window, so a client that waits it out comes back at the quota.
package quota

import (
	"sync"
	"time"

	"github.com/courier-dev/courier/internal/broker/auth"
)

// Defaults of Config's window, Kafka's quota.window.num and
// quota.window.size.seconds.
const (
	DefaultSamples      = 11
	DefaultSampleWindow = time.Second
)

// Config sets the quotas. A zero rate means no quota of that kind.
type Config struct {
	// ProduceBytesPerSec bounds each key's produce request bytes per second.
	ProduceBytesPerSec int64
	// FetchBytesPerSec bounds each key's fetched record bytes per second.
	FetchBytesPerSec int64
	// ByUser keys quotas by the connection's principal instead of the
	// client id (Kafka's user quotas rather than client-id quotas).
	ByUser bool
	// Samples and SampleWindow shape the sliding window the rate is
	// measured over (default 11 × 1s).
	Samples      int
	SampleWindow time.Duration
}

// Manager tracks the rates of every key and computes throttle times. A nil
// *Manager enforces nothing; its methods are safe to call.
type Manager struct {
	cfg Config

	mu        sync.Mutex
	keys      map[Key]*entry
	lastSweep int64 // unix nanos
}

// Key identifies whose bytes are counted: a client id or a principal.
type Key struct {
	typ, name string // typ "" for a client id
}

// entry is one key's produce and fetch rates.
type entry struct {
	produce, fetch rate
	last           int64 // unix nanos of the last record
}

// New returns a manager for cfg, or nil when cfg sets no quota.
func New(cfg Config) *Manager {
	if cfg.ProduceBytesPerSec <= 0 && cfg.FetchBytesPerSec <= 0 {
		return nil
	}
	if cfg.Samples < 2 {
		cfg.Samples = DefaultSamples
	}
	if cfg.SampleWindow <= 0 {
		cfg.SampleWindow = DefaultSampleWindow
	}
	return &Manager{cfg: cfg, keys: make(map[Key]*entry)}
}

// KeyFor is the key a request's bytes are counted under: its principal with
// Config.ByUser, its client id otherwise. It does not allocate.
func (m *Manager) KeyFor(clientID string, p auth.Principal) Key {
	if m != nil && m.cfg.ByUser {
		return Key{typ: p.Type, name: p.Name}
	}
	return Key{name: clientID}
}

// String is the key as logs show it: "client-id:ID" or the principal.
func (k Key) String() string {
	if k.typ == "" {
		return "client-id:" + k.name
	}
	return k.typ + ":" + k.name
}

// Produce records a produce request of bytes (its frame size) and returns
// how long the client is throttled for (0 when within its quota).
func (m *Manager) Produce(k Key, bytes int, now time.Time) time.Duration {
	if m == nil || m.cfg.ProduceBytesPerSec <= 0 {
		return 0
	}
	return m.record(k, true, bytes, now)
}

// Fetch records bytes of records returned by a fetch and returns how long
// the client is throttled for (0 when within its quota).
func (m *Manager) Fetch(k Key, bytes int, now time.Time) time.Duration {
	if m == nil || m.cfg.FetchBytesPerSec <= 0 {
		return 0
	}
	return m.record(k, false, bytes, now)
}

// record adds bytes to k's produce or fetch rate and returns the throttle.
func (m *Manager) record(k Key, produce bool, bytes int, now time.Time) time.Duration {
	ns := now.UnixNano()
	win := int64(m.cfg.SampleWindow)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.maybeSweep(ns)
	e := m.keys[k]
	if e == nil {
		e = &entry{produce: newRate(m.cfg.Samples), fetch: newRate(m.cfg.Samples)}
		m.keys[k] = e
	}
	e.last = ns
	r, quota := &e.produce, m.cfg.ProduceBytesPerSec
	if !produce {
		r, quota = &e.fetch, m.cfg.FetchBytesPerSec
	}
	r.record(float64(bytes), ns, win)
	observed, window := r.measure(ns, win)
	q := float64(quota)
	if observed <= q {
		return 0
	}
	throttle := time.Duration((observed - q) / q * float64(window))
	if limit := time.Duration(int64(m.cfg.Samples) * win); throttle > limit {
		throttle = limit
	}
	return throttle
}

// maybeSweep forgets keys idle for a whole window, at most once a window,
// so the cost is amortized over the window's records.
func (m *Manager) maybeSweep(ns int64) {
	full := int64(m.cfg.Samples) * int64(m.cfg.SampleWindow)
	if ns-m.lastSweep < full {
		return
	}
	m.lastSweep = ns
	for k, e := range m.keys {
		if ns-e.last > full {
			delete(m.keys, k)
		}
	}
}

// Keys reports how many keys are tracked (for tests and metrics).
func (m *Manager) Keys() int {
	if m == nil {
		return 0
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.keys)
}
