package quota

import (
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/auth"
)

func TestNoQuotaIsNil(t *testing.T) {
	var m *Manager = New(Config{})
	if m != nil {
		t.Fatal("a config without rates made a manager")
	}
	if d := m.Produce(m.KeyFor("c", auth.Anonymous), 1<<30, time.Now()); d != 0 {
		t.Fatalf("nil manager throttled %s", d)
	}
}

func TestThrottleConvergesToQuota(t *testing.T) {
	// A client sending 10 KB every 10 ms (1 MB/s) against a 100 KB/s
	// quota, waiting out each throttle as a KIP-219 client does, ends up
	// sending at about the quota.
	const quota = 100_000
	m := New(Config{ProduceBytesPerSec: quota, Samples: 11, SampleWindow: 100 * time.Millisecond})
	k := m.KeyFor("greedy", auth.Anonymous)
	now := time.Unix(1000, 0)
	start := now
	sent, throttled := 0, 0
	var sentAfterWarmup int
	warm := start.Add(5 * time.Second)
	for now.Before(start.Add(30 * time.Second)) {
		d := m.Produce(k, 10_000, now)
		sent += 10_000
		if !now.Before(warm) {
			sentAfterWarmup += 10_000
		}
		now = now.Add(10 * time.Millisecond)
		if d > 0 {
			throttled++
			now = now.Add(d)
		}
	}
	if throttled == 0 {
		t.Fatal("never throttled")
	}
	rate := float64(sentAfterWarmup) / now.Sub(warm).Seconds()
	if rate < 0.8*quota || rate > 1.2*quota {
		t.Fatalf("achieved %.0f B/s against a quota of %d", rate, quota)
	}
	// Another client id is unaffected.
	if d := m.Produce(m.KeyFor("polite", auth.Anonymous), 1000, now); d != 0 {
		t.Fatalf("other client throttled %s", d)
	}
}

func TestThrottleFormula(t *testing.T) {
	// 11 × 1s window; 22 KB at once against 1 KB/s: rate = 22 KB over the
	// padded 10 s window = 2.2 KB/s, throttle (2.2-1)/1 × 10 s = 12 s,
	// capped at the 11 s window.
	m := New(Config{FetchBytesPerSec: 1000})
	now := time.Unix(1000, 0)
	if d := m.Fetch(m.KeyFor("c", auth.Anonymous), 22_000, now); d != 11*time.Second {
		t.Fatalf("throttle %s, want 11s", d)
	}
	m = New(Config{FetchBytesPerSec: 1000})
	if d := m.Fetch(m.KeyFor("c", auth.Anonymous), 15_000, now); d != 5*time.Second {
		t.Fatalf("throttle %s, want 5s", d)
	}
	if d := m.Produce(m.KeyFor("c", auth.Anonymous), 1<<20, now); d != 0 {
		t.Fatal("produce throttled without a produce quota")
	}
}

func TestKeysByUserAndEviction(t *testing.T) {
	m := New(Config{ProduceBytesPerSec: 1000, ByUser: true, Samples: 2, SampleWindow: time.Second})
	now := time.Unix(1000, 0)
	// By user: two client ids of one user share the quota.
	m.Produce(m.KeyFor("a", auth.User("alice")), 1500, now)
	if d := m.Produce(m.KeyFor("b", auth.User("alice")), 1500, now); d == 0 {
		t.Fatal("alice's second client id was not throttled")
	}
	if d := m.Produce(m.KeyFor("a", auth.User("bob")), 100, now); d != 0 {
		t.Fatal("bob throttled by alice's bytes")
	}
	if m.Keys() != 2 {
		t.Fatalf("%d keys, want 2", m.Keys())
	}
	// Keys idle for a whole window are forgotten.
	m.Produce(m.KeyFor("a", auth.User("carol")), 1, now.Add(10*time.Second))
	if m.Keys() != 1 {
		t.Fatalf("%d keys after eviction, want 1", m.Keys())
	}
	if got := m.KeyFor("x", auth.User("alice")).String(); got != "User:alice" {
		t.Fatal(got)
	}
}

func BenchmarkProduce(b *testing.B) {
	m := New(Config{ProduceBytesPerSec: 1 << 30})
	k := m.KeyFor("c", auth.Anonymous)
	now := time.Now()
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		m.Produce(k, 1000, now.Add(time.Duration(i)*time.Microsecond))
	}
}
