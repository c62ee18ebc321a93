package broker

// fetchmem.go bounds the memory fetches hold across connections
// (Config.FetchMemoryBytes). A fetch takes what a partition read may
// allocate from the budget before reading it, and gives it back once the
// response has been written (server.Request.OnDone) or dropped (a long poll
// that read too little). When the budget is short, a fetch that already has
// records answers with them rather than read more, and one that has none
// waits for at least fetchGrantMin, so that every consumer progresses and
// the memory held stays within the budget. Storage.Log.Read may return more
// than it was asked for (a first batch larger than the limit, KIP-74); that
// memory is already allocated when it is known, so it is counted with
// Force: the budget is exceeded by at most one batch (max.message.bytes)
// per such fetch.

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// fetchGrantMin is the least a fetch that has no records yet waits for
// when the budget is short: enough for typical batches, small enough that
// many consumers share a tight budget.
const fetchGrantMin = 1 << 20

// reserveFetch takes from the fetch memory budget what reading up to limit
// bytes of a partition at offset may allocate. It returns the most to read
// and the bytes held; ok is false when this partition must not be read now
// (the budget is short and the fetch already has records, or ctx ended
// while waiting).
func (b *Broker) reserveFetch(ctx context.Context, offset int64, sp *kmsg.FetchResponseTopicPartition, limit int64, first bool) (readMax, held int64, ok bool) {
	if offset >= sp.HighWatermark || offset < sp.LogStartOffset {
		// Nothing to read, or an out-of-range error: Read allocates nothing,
		// or, if an append lands in between, a single batch, counted after.
		return 1, 0, true
	}
	lo := min(limit, fetchGrantMin)
	if !first {
		g := b.fetchMem.TryAcquire(lo, limit)
		return g, g, g > 0
	}
	g, err := b.fetchMem.Acquire(ctx, lo, limit)
	if err != nil {
		return 0, 0, false
	}
	return g, g, true
}

// holdRead adjusts what a read holds once its size n is known: a first
// batch larger than what was reserved is counted on top (it is already in
// memory). What was reserved but not read stays held: the read allocated
// its window from the reservation, and the records returned are slices of
// it.
func (b *Broker) holdRead(held int64, n int) int64 {
	if extra := int64(n) - held; extra > 0 {
		b.fetchMem.Force(extra)
		held += extra
	}
	return held
}
