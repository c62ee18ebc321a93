package membudget

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testwait"
)

func TestAcquireGrants(t *testing.T) {
	tests := []struct {
		name     string
		capacity int64
		held     int64 // taken first
		lo, hi   int64
		want     int64 // granted by TryAcquire (0: must wait)
	}{
		{"fits", 100, 0, 10, 10, 10},
		{"up to what is free", 100, 70, 10, 50, 30},
		{"less than lo free", 100, 95, 10, 50, 0},
		{"oversize alone takes the whole budget", 100, 0, 500, 500, 100},
		{"oversize waits for everything", 100, 1, 500, 500, 0},
		{"unbounded", 0, 1 << 40, 5, 1 << 40, 1 << 40},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := New(tc.capacity)
			if tc.held > 0 {
				b.Force(tc.held)
			}
			if got := b.TryAcquire(tc.lo, tc.hi); got != tc.want {
				t.Fatalf("TryAcquire(%d, %d) = %d, want %d", tc.lo, tc.hi, got, tc.want)
			}
			if got, want := b.InUse(), tc.held+tc.want; got != want {
				t.Fatalf("in use %d, want %d", got, want)
			}
		})
	}
}

func TestBadRequestsRefused(t *testing.T) {
	b := New(100)
	for _, r := range [][2]int64{{0, 10}, {-1, 10}, {20, 10}} {
		if _, err := b.Acquire(context.Background(), r[0], r[1]); err == nil {
			t.Fatalf("Acquire(%d, %d) accepted", r[0], r[1])
		}
		if got := b.TryAcquire(r[0], r[1]); got != 0 {
			t.Fatalf("TryAcquire(%d, %d) = %d", r[0], r[1], got)
		}
	}
	if b.InUse() != 0 {
		t.Fatalf("in use %d after refusals", b.InUse())
	}
}

// TestWaitersServedInOrder: a large waiter is not overtaken by smaller
// requests that arrive after it, even though they would fit.
func TestWaitersServedInOrder(t *testing.T) {
	b := New(100)
	first, _ := b.Acquire(context.Background(), 60, 60)
	bigDone := make(chan int64)
	go func() {
		g, err := b.Acquire(context.Background(), 80, 80)
		if err != nil {
			t.Error(err)
		}
		bigDone <- g
	}()
	waitFor(t, b, 1)
	if g := b.TryAcquire(10, 10); g != 0 {
		t.Fatalf("a later small request overtook the waiter: granted %d", g)
	}
	b.Release(first)
	if g := <-bigDone; g != 80 {
		t.Fatalf("waiter granted %d, want 80", g)
	}
	if got := b.InUse(); got != 80 {
		t.Fatalf("in use %d, want 80", got)
	}
}

// TestOversizeProceedsWhenAlone: a request above the capacity waits for
// the holders to finish, then runs holding everything.
func TestOversizeProceedsWhenAlone(t *testing.T) {
	b := New(100)
	small := b.TryAcquire(30, 30)
	done := make(chan int64)
	go func() {
		g, _ := b.Acquire(context.Background(), 1000, 1000)
		done <- g
	}()
	waitFor(t, b, 1)
	select {
	case g := <-done:
		t.Fatalf("oversize request granted %d while 30 bytes were held", g)
	default:
	}
	b.Release(small)
	if g := <-done; g != 100 {
		t.Fatalf("oversize request granted %d, want the capacity 100", g)
	}
}

// TestCancelledWaitHoldsNothing: a wait that ends with its context takes
// nothing, and lets the next waiter through if it was first in line.
func TestCancelledWaitHoldsNothing(t *testing.T) {
	b := New(100)
	b.Force(90)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error)
	go func() {
		_, err := b.Acquire(ctx, 50, 50)
		errc <- err
	}()
	waitFor(t, b, 1)
	second := make(chan int64)
	go func() {
		g, _ := b.Acquire(context.Background(), 5, 5)
		second <- g
	}()
	waitFor(t, b, 2)
	cancel()
	if err := <-errc; err == nil {
		t.Fatal("cancelled wait returned no error")
	}
	// 10 bytes were free all along; the small waiter was only queued
	// behind the cancelled one.
	if g := <-second; g != 5 {
		t.Fatalf("second waiter granted %d", g)
	}
	if got := b.InUse(); got != 95 {
		t.Fatalf("in use %d, want 95", got)
	}
}

// TestConcurrentNeverOverCapacity hammers the budget from many goroutines
// and checks that what they hold together never exceeds the capacity.
func TestConcurrentNeverOverCapacity(t *testing.T) {
	const capacity = 1000
	b := New(capacity)
	var held, peak atomic.Int64
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 500 {
				n := int64(1 + (i*37+j*11)%400)
				g, err := b.Acquire(context.Background(), n/2+1, n)
				if err != nil {
					t.Error(err)
					return
				}
				h := held.Add(g)
				for p := peak.Load(); h > p && !peak.CompareAndSwap(p, h); p = peak.Load() {
				}
				held.Add(-g)
				b.Release(g)
			}
		}()
	}
	wg.Wait()
	if p := peak.Load(); p > capacity {
		t.Fatalf("peak held %d over capacity %d", p, capacity)
	}
	if b.InUse() != 0 {
		t.Fatalf("in use %d after all released", b.InUse())
	}
}

// waitFor waits until n acquisitions have queued.
func waitFor(t *testing.T, b *Budget, n int64) {
	t.Helper()
	testwait.For(t, 5*time.Second, fmt.Sprintf("%d waiting acquisitions", n), func() string {
		if got := b.Waits(); got < n {
			return fmt.Sprintf("%d waited", got)
		}
		return ""
	})
}

// TestGrowNeverDeadlocks: two allocations built piece by piece fill the
// budget between them; the overflow lane lets one finish beyond the
// capacity, then the other.
func TestGrowNeverDeadlocks(t *testing.T) {
	b := New(100)
	ctx := context.Background()
	var laneA, laneB bool
	a, _ := b.Acquire(ctx, 60, 60)
	c, _ := b.Acquire(ctx, 40, 40)
	g, err := b.Grow(ctx, 10, &laneA)
	if err != nil || g != 10 || !laneA {
		t.Fatalf("first grower: %d %v lane %v", g, err, laneA)
	}
	if g, _ := b.Grow(ctx, 30, &laneA); g != 30 || b.InUse() != 140 {
		t.Fatalf("in the lane: granted %d, in use %d", g, b.InUse())
	}
	grown := make(chan int64)
	go func() {
		g, _ := b.Grow(ctx, 10, &laneB)
		grown <- g
	}()
	waitFor(t, b, 1)
	if g := b.TryAcquire(1, 1); g != 0 {
		t.Fatal("plain acquisition granted over the capacity")
	}
	b.EndOverflow(&laneA)
	if g := <-grown; g != 10 || !laneB {
		t.Fatalf("second grower: %d, lane %v", g, laneB)
	}
	b.EndOverflow(&laneB)
	if laneA || laneB {
		t.Fatal("lane still marked after EndOverflow")
	}
	b.Release(a + 10 + 30)
	b.Release(c + 10)
	if b.InUse() != 0 {
		t.Fatalf("in use %d after releasing everything", b.InUse())
	}
}

// TestReserveRead: a response's first read waits for memory (at least
// ReadGrantMin, or what it asks if less), a later one takes only what is
// free at once, and HoldRead counts a read larger than its reservation.
func TestReserveRead(t *testing.T) {
	b := New(3 << 20)
	ctx := context.Background()
	if g, ok := b.ReserveRead(ctx, 10, true); !ok || g != 10 {
		t.Fatalf("small first read: %d, %v", g, ok)
	}
	if g, ok := b.ReserveRead(ctx, 8<<20, false); !ok || g != 3<<20-10 {
		t.Fatalf("later read: %d, %v", g, ok)
	}
	if g, ok := b.ReserveRead(ctx, 1, false); ok || g != 0 {
		t.Fatalf("later read with the budget spent: %d, %v", g, ok)
	}
	short, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if g, ok := b.ReserveRead(short, 8<<20, true); ok || g != 0 || b.Waits() != 1 {
		t.Fatalf("first read with the budget spent: %d, %v (waits %d)", g, ok, b.Waits())
	}
	b.Release(3 << 20)
	if held := b.HoldRead(10, 500); held != 500 || b.InUse() != 490 {
		t.Fatalf("a read of 500 bytes on 10 reserved holds %d (in use %d)", held, b.InUse())
	}
	if held := b.HoldRead(500, 20); held != 500 || b.InUse() != 490 {
		t.Fatalf("a short read holds %d (in use %d)", held, b.InUse())
	}
}
