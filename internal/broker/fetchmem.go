package broker

// fetchmem.go bounds the memory fetches hold across connections
// (Config.FetchMemoryBytes), Fetch's and ShareFetch's alike. A fetch takes
// what a partition read may allocate from the budget before reading it,
// and gives it back once the response has been written
// (server.Request.OnDone) or dropped (a long poll that read too little);
// membudget.ReserveRead and HoldRead are the policy (a response with
// records does not wait for more memory; one without waits for a little;
// a first batch larger than the reservation is counted on top).

import (
	"context"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// reserveFetch takes from the fetch memory budget what reading up to limit
// bytes of a partition at offset may allocate (membudget.ReserveRead). It
// returns the most to read and the bytes held; ok is false when this
// partition must not be read now (the budget is short and the fetch
// already has records, or ctx ended while waiting).
func (b *Broker) reserveFetch(ctx context.Context, offset int64, sp *kmsg.FetchResponseTopicPartition, limit int64, first bool) (readMax, held int64, ok bool) {
	if offset >= sp.HighWatermark || offset < sp.LogStartOffset {
		// Nothing to read, or an out-of-range error: Read allocates nothing,
		// or, if an append lands in between, a single batch, counted after.
		return 1, 0, true
	}
	g, ok := b.fetchMem.ReserveRead(ctx, limit, first)
	return g, g, ok
}
