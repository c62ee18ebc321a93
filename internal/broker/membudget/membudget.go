// Package membudget bounds the memory that many goroutines together may
// hold for one purpose (request frames read but not answered, fetched
// record bytes not yet written), as Kafka's queued.max.request.bytes memory
// pool does for requests.
//
// Promises:
//   - Bytes are granted in arrival order: a waiter is never overtaken by a
//     later request, so a large request is not starved by a stream of small
//     ones.
//   - A request larger than the whole budget is granted the whole budget
//     once nothing else holds any of it: it proceeds alone, never
//     deadlocks. Callers account such a request as holding the capacity.
//   - An allocation built up piece by piece (a frame read as its bytes
//     arrive) never deadlocks against others doing the same: Grow gives
//     one of them at a time the overflow lane, in which it is granted at
//     once, beyond the capacity if need be, until it ends (EndOverflow).
//   - InUse never exceeds Capacity except through the overflow lane (by at
//     most the one allocation in it) and Force, which callers use for
//     memory already allocated (a fetch's first batch, larger than what it
//     was granted).
//   - A wait ends with the caller's context; nothing is held then.
package membudget

import (
	"container/list"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
)

// Budget is a byte budget shared by goroutines. The zero value is not
// usable; use New.
type Budget struct {
	capacity int64 // <= 0: unbounded

	mu      sync.Mutex
	used    int64
	waiters list.List // of *waiter, oldest first
	// laneHeld: some caller's *lane is true (see Grow).
	laneHeld bool

	waits atomic.Int64
}

// waiter is a blocked Acquire.
type waiter struct {
	lo, hi  int64
	lane    *bool         // Grow's lane flag; nil for Acquire
	granted int64         // set before ready is closed
	ready   chan struct{} // closed once granted
}

// New returns a budget of capacity bytes; capacity <= 0 means unbounded
// (every acquisition is granted at once and only counted).
func New(capacity int64) *Budget { return &Budget{capacity: capacity} }

// Capacity is the budget's size (<= 0: unbounded).
func (b *Budget) Capacity() int64 { return b.capacity }

// InUse is the bytes currently held.
func (b *Budget) InUse() int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used
}

// Waits is how many acquisitions have had to wait so far.
func (b *Budget) Waits() int64 { return b.waits.Load() }

// bounds clamps a request of at least lo and at most hi bytes to the
// capacity, so that an oversize request waits for the whole budget instead
// of forever.
func (b *Budget) bounds(lo, hi int64) (int64, int64, error) {
	if lo < 1 || hi < lo {
		return 0, 0, fmt.Errorf("membudget: bad request for [%d, %d] bytes", lo, hi)
	}
	if b.capacity > 0 {
		lo, hi = min(lo, b.capacity), min(hi, b.capacity)
	}
	return lo, hi, nil
}

// grantLocked takes between lo and hi bytes if at least lo are free.
func (b *Budget) grantLocked(lo, hi int64) int64 {
	if b.capacity <= 0 {
		b.used += hi
		return hi
	}
	free := b.capacity - b.used
	if free < lo {
		return 0
	}
	g := min(hi, free)
	b.used += g
	return g
}

// Acquire waits until at least lo bytes are free (all of them, if lo is
// more than the capacity) and takes as many as are free up to hi. It
// returns the bytes taken, to be given back with Release, or ctx's error
// with nothing taken.
func (b *Budget) Acquire(ctx context.Context, lo, hi int64) (int64, error) {
	return b.acquire(ctx, lo, hi, nil)
}

// Grow takes n more bytes for an allocation the caller is building up
// piece by piece and already holds part of (a frame half read). It waits
// like Acquire, except that when the caller would have to wait and nobody
// holds the overflow lane, the caller takes the lane (*lane becomes true):
// from then on its Grow calls are granted at once, beyond the capacity if
// need be, until it calls EndOverflow once the allocation is complete or
// abandoned. So such allocations never wait on one another forever, and
// the budget is exceeded by at most the one allocation in the lane.
func (b *Budget) Grow(ctx context.Context, n int64, lane *bool) (int64, error) {
	return b.acquire(ctx, n, n, lane)
}

// EndOverflow ends the caller's hold on the overflow lane, if it has it;
// the bytes taken stay held until released.
func (b *Budget) EndOverflow(lane *bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if *lane {
		*lane = false
		b.laneHeld = false
		b.wakeLocked()
	}
}

// acquire is Acquire, or Grow when lane is not nil.
func (b *Budget) acquire(ctx context.Context, lo, hi int64, lane *bool) (int64, error) {
	lo, hi, err := b.bounds(lo, hi)
	if err != nil {
		return 0, err
	}
	b.mu.Lock()
	if lane != nil && *lane {
		b.used += hi
		b.mu.Unlock()
		return hi, nil
	}
	if b.waiters.Len() == 0 {
		if g := b.grantLocked(lo, hi); g > 0 {
			b.mu.Unlock()
			return g, nil
		}
	}
	if lane != nil && !b.laneHeld {
		b.laneHeld, *lane = true, true
		b.used += hi
		b.mu.Unlock()
		return hi, nil
	}
	w := &waiter{lo: lo, hi: hi, lane: lane, ready: make(chan struct{})}
	elem := b.waiters.PushBack(w)
	b.mu.Unlock()
	b.waits.Add(1)

	select {
	case <-w.ready:
		return w.granted, nil
	case <-ctx.Done():
	}
	b.mu.Lock()
	select {
	case <-w.ready:
		// Granted while ctx ended: give it back (a lane it was given stays
		// the caller's until EndOverflow).
		b.used -= w.granted
	default:
		b.waiters.Remove(elem)
	}
	// Either way the head of the queue may now fit.
	b.wakeLocked()
	b.mu.Unlock()
	return 0, ctx.Err()
}

// TryAcquire takes between lo and hi bytes if at least lo are free and
// nobody is waiting; otherwise it takes nothing and returns 0.
func (b *Budget) TryAcquire(lo, hi int64) int64 {
	lo, hi, err := b.bounds(lo, hi)
	if err != nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.waiters.Len() > 0 {
		return 0
	}
	return b.grantLocked(lo, hi)
}

// Force counts n bytes as held without waiting, even beyond the capacity:
// for memory that is already allocated and must be accounted for.
func (b *Budget) Force(n int64) {
	if n <= 0 {
		return
	}
	b.mu.Lock()
	b.used += n
	b.mu.Unlock()
}

// Release gives back n bytes taken by Acquire, TryAcquire or Force.
func (b *Budget) Release(n int64) {
	if n <= 0 {
		return
	}
	b.mu.Lock()
	b.used -= n
	if b.used < 0 {
		// A caller released more than it held: a bug, but one that must not
		// unbound the budget for everyone else.
		b.used = 0
	}
	b.wakeLocked()
	b.mu.Unlock()
}

// wakeLocked grants waiters in order while the oldest fits, then gives a
// free overflow lane to the oldest Grow waiter.
func (b *Budget) wakeLocked() {
	for e := b.waiters.Front(); e != nil; e = b.waiters.Front() {
		w := e.Value.(*waiter)
		g := b.grantLocked(w.lo, w.hi)
		if g == 0 {
			break
		}
		b.grant(e, g)
	}
	if b.laneHeld {
		return
	}
	for e := b.waiters.Front(); e != nil; e = e.Next() {
		if w := e.Value.(*waiter); w.lane != nil {
			b.laneHeld, *w.lane = true, true
			b.used += w.hi
			b.grant(e, w.hi)
			return
		}
	}
}

// grant wakes waiter e with g bytes.
func (b *Budget) grant(e *list.Element, g int64) {
	w := e.Value.(*waiter)
	w.granted = g
	b.waiters.Remove(e)
	close(w.ready)
}
