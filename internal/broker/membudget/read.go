package membudget

// read.go is the policy of reading records against a budget, shared by
// Fetch and ShareFetch: a read takes what it may allocate before it reads
// and keeps it until its response is written. When the budget is short, a
// response that already has records answers with them rather than read
// more, and one that has none waits for at least ReadGrantMin, so that
// every consumer progresses and the memory held stays within the budget.
// A log read may return more than it was asked for (its first batch
// whole, KIP-74); that memory is already allocated when it is known, so it
// is counted with Force: the budget is exceeded by at most one batch per
// such read.

import "context"

// ReadGrantMin is the least a read for a response that has no records
// yet waits for when the budget is short: enough for typical batches,
// small enough that many consumers share a tight budget.
const ReadGrantMin = 1 << 20

// ReserveRead takes what a read of up to limit (>= 1) bytes may
// allocate: for the first read of a response (first), waiting for at
// least min(limit, ReadGrantMin) bytes; for a later one, only what is
// free at once. It returns the bytes taken, which are also the most to
// read; ok is false when nothing was taken (the budget is short and the
// response has records already, or ctx ended while waiting).
func (b *Budget) ReserveRead(ctx context.Context, limit int64, first bool) (granted int64, ok bool) {
	limit = max(limit, 1)
	lo := min(limit, ReadGrantMin)
	if !first {
		g := b.TryAcquire(lo, limit)
		return g, g > 0
	}
	g, err := b.Acquire(ctx, lo, limit)
	return g, err == nil
}

// HoldRead adjusts what a read holds once its size n is known: a first
// batch larger than what was reserved is counted on top (it is already in
// memory). What was reserved but not read stays held: the read allocated
// its window from the reservation, and the records returned are slices
// of it. It returns what the read holds now.
func (b *Budget) HoldRead(held int64, n int) int64 {
	if extra := int64(n) - held; extra > 0 {
		b.Force(extra)
		held += extra
	}
	return held
}
