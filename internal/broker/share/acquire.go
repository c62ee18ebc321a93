package share

// acquire.go is the fetching half of ShareFetch: for each partition of the
// session in turn, where to read (the first available offset of the
// window, or its end), the read of whole batches within the response's
// limits and the fetch memory budget, the acquisition of what is
// available of them, and the long poll until records arrive or are
// released.

import (
	"context"
	"fmt"
	"reflect"
	"time"

	"github.com/courier-dev/courier/internal/broker/membudget"
	"github.com/courier-dev/courier/internal/broker/storage"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// splitRanges splits acquired ranges into runs of at most size offsets
// (ShareFetch v1's BatchSize; 0: whole).
func splitRanges(rs []Range, size int32) []Range {
	if size <= 0 {
		return rs
	}
	var out []Range
	for _, r := range rs {
		for first := r.First; first <= r.Last; first += int64(size) {
			out = append(out, Range{First: first, Last: min(first+int64(size)-1, r.Last), DeliveryCount: r.DeliveryCount})
		}
	}
	return out
}

// fetched is what a fetch got from one partition.
type fetched struct {
	tp      TopicPartition
	code    int16
	records []byte
	ranges  []Range
	w       *waiter
	// held is what records hold of the fetch memory budget.
	held int64
}

// fetcher acquires records for one ShareFetch.
type fetcher struct {
	c          *Coordinator
	g          *shareGroup
	s          *session
	member     string
	cfg        GroupConfig
	readable   Readable
	mem        *membudget.Budget
	maxRecords int
	maxBytes   int32
	batchSize  int32
	partMax    map[TopicPartition]int32
	wait       time.Duration
}

// run acquires from the session's partitions; when nothing is acquired
// it waits, until MaxWait, for an append to one of them or for records
// of the group to become available again, and tries again.
func (f *fetcher) run(ctx context.Context) []fetched {
	var deadline <-chan time.Time
	if f.wait > 0 {
		t := time.NewTimer(f.wait)
		defer t.Stop()
		deadline = t.C
	}
	for {
		// Subscribe first, then look, so nothing slips in between. A
		// look that acquired nothing holds no memory while it waits.
		wake := f.channels()
		got, any := f.once(ctx)
		if any || len(wake) == 0 || deadline == nil || ctx.Err() != nil {
			return got
		}
		cases := []reflect.SelectCase{
			{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())},
			{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(deadline)},
		}
		for _, ch := range wake {
			cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ch)})
		}
		if chosen, _, _ := reflect.Select(cases); chosen < 2 {
			return got
		}
	}
}

// channels returns what wakes a waiting fetch: the group's releases and
// appends to the session's partitions. None: the session is gone.
func (f *fetcher) channels() []<-chan struct{} {
	f.c.mu.Lock()
	if f.c.groups[f.g.id] != f.g || f.g.sessions[f.member] != f.s {
		f.c.mu.Unlock()
		return nil
	}
	out := []<-chan struct{}{f.g.wake}
	parts := append([]TopicPartition(nil), f.s.parts...)
	f.c.mu.Unlock()
	for _, tp := range parts {
		if name, ok := f.c.topics.TopicName(tp.TopicID); ok {
			if l := f.c.topics.Log(name, tp.Partition); l != nil {
				out = append(out, l.Notify())
			}
		}
	}
	return out
}

// once tries every partition of the session once, starting at the
// session's turn. any reports records acquired or an error to tell.
func (f *fetcher) once(ctx context.Context) (got []fetched, any bool) {
	f.c.mu.Lock()
	if f.c.groups[f.g.id] != f.g || f.g.sessions[f.member] != f.s {
		f.c.mu.Unlock()
		return nil, true // the session was replaced or closed: answer empty
	}
	parts := append([]TopicPartition(nil), f.s.parts...)
	if len(parts) == 0 {
		f.c.mu.Unlock()
		return nil, true // nothing to wait for
	}
	start := f.s.turn % len(parts)
	f.s.turn++
	f.c.mu.Unlock()
	records, bytes := 0, int32(0)
	for i := range parts {
		tp := parts[(start+i)%len(parts)]
		if records >= f.maxRecords || bytes >= f.maxBytes {
			break
		}
		r := f.partition(ctx, tp, f.maxRecords-records, f.maxBytes-bytes, records == 0)
		if r.code == 0 && len(r.ranges) == 0 && r.w == nil {
			continue
		}
		for _, rg := range r.ranges {
			records += int(rg.Last - rg.First + 1)
		}
		bytes += int32(len(r.records))
		any = any || r.code != 0 || len(r.ranges) > 0
		got = append(got, r)
	}
	return got, any
}

// partition acquires up to maxRecords records of one partition within
// maxBytes: it finds where to read, takes what the read may allocate from
// the fetch memory budget (waiting for some only when first: the
// response has no records yet), reads whole batches, and acquires what is
// available of them. What the records hold of the budget is out.held;
// a read that acquired nothing gives its memory back at once.
func (f *fetcher) partition(ctx context.Context, tp TopicPartition, maxRecords int, maxBytes int32, first bool) fetched {
	out := fetched{tp: tp}
	name, ok := f.c.topics.TopicName(tp.TopicID)
	if !ok {
		out.code = kerr.UnknownTopicID.Code
		return out
	}
	if !f.readable(name) {
		out.code = kerr.TopicAuthorizationFailed.Code
		return out
	}
	log := f.c.topics.Log(name, tp.Partition)
	if log == nil {
		out.code = kerr.UnknownTopicOrPartition.Code
		return out
	}
	if pm := f.partMax[tp]; pm > 0 {
		maxBytes = min(maxBytes, pm)
	}
	lim := f.cfg.limits()
	f.c.mu.Lock()
	sp := f.c.sharePartLocked(f.g, name, tp, log, f.cfg)
	if sp == nil {
		f.c.mu.Unlock()
		return fetched{tp: tp} // the group is gone
	}
	sp.p.TrimTo(log.LogStartOffset())
	end := log.HighWatermark()
	if f.cfg.ReadCommitted {
		end = log.LastStableOffset()
	}
	from, ok := sp.p.FetchOffset(end, lim)
	if !ok {
		out.w = f.c.persistLocked(f.g, []TopicPartition{tp}, nil, nil)
		f.c.mu.Unlock()
		return out
	}
	f.c.mu.Unlock()

	readMax, ok := f.mem.ReserveRead(ctx, int64(max(maxBytes, 1)), first)
	if !ok {
		return out // the budget is short: this partition waits for the next fetch
	}
	data, batches, raws, code := f.read(log, name, tp, from, int32(readMax))
	held := f.mem.HoldRead(readMax, len(data))
	defer func() {
		if out.held == 0 {
			f.mem.Release(held)
		}
	}()
	if code != 0 {
		out.code = code
		return out
	}

	now := f.c.clock.Now()
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	if f.c.groups[f.g.id] != f.g || f.g.parts[tp] != sp || f.g.sessions[f.member] != f.s {
		return fetched{tp: tp}
	}
	ranges, archived := sp.p.Acquire(f.member, from, batches, maxRecords, now, lim)
	f.c.stats.archivedAtLimit.Add(uint64(archived))
	out.w = f.c.persistLocked(f.g, []TopicPartition{tp}, nil, nil)
	if len(ranges) == 0 {
		return out
	}
	out.held = held
	n := 0
	for _, r := range ranges {
		n += int(r.Last - r.First + 1)
	}
	f.c.stats.acquired.Add(uint64(n))
	out.ranges = ranges
	out.records = trimBatches(data, batches, raws, ranges[0].First, ranges[len(ranges)-1].Last)
	return out
}

// read reads whole batches of a partition from offset, up to maxBytes
// (but its first batch), below the last stable offset under
// read_committed, and parses their headers. A read that fails is logged
// and answered with nothing (the next fetch retries; the log start may
// have moved); batches that cannot be parsed are CORRUPT_MESSAGE.
func (f *fetcher) read(log Log, name string, tp TopicPartition, from int64, maxBytes int32) ([]byte, []Batch, [][]byte, int16) {
	var (
		data    []byte
		aborted []storage.AbortedTxn
		err     error
	)
	if f.cfg.ReadCommitted {
		data, aborted, err = log.ReadCommitted(from, maxBytes)
	} else {
		data, err = log.Read(from, maxBytes)
	}
	if err != nil {
		f.c.log.Warn("share fetch read failed", "group", f.g.id, "topic", name, "partition", tp.Partition, "offset", from, "err", err)
		return data, nil, nil, 0
	}
	batches, raws, err := parseBatches(data, aborted)
	if err != nil {
		f.c.log.Error("share fetch: unreadable batches", "group", f.g.id, "topic", name, "partition", tp.Partition, "offset", from, "err", err)
		return data, nil, nil, kerr.CorruptMessage.Code
	}
	return data, batches, raws, 0
}

// sharePartLocked returns g's share-partition of tp, starting one where
// share.auto.offset.reset says when the group has none.
func (c *Coordinator) sharePartLocked(g *shareGroup, topic string, tp TopicPartition, log Log, cfg GroupConfig) *sharePart {
	if c.groups[g.id] != g {
		return nil
	}
	if sp := g.parts[tp]; sp != nil {
		return sp
	}
	start := log.HighWatermark()
	switch cfg.Reset {
	case ResetEarliest:
		start = log.LogStartOffset()
	case ResetByDuration:
		ts := c.clock.Now().Add(-cfg.ResetDuration).UnixMilli()
		if off, _, err := log.OffsetForTime(ts); err == nil && off >= 0 {
			start = off
		}
	}
	sp := &sharePart{topic: topic, p: NewPartition(start)}
	g.parts[tp] = sp
	c.log.Info("share-partition initialized", "group", g.id, "topic", topic, "partition", tp.Partition, "start_offset", start)
	return sp
}

// parseBatches reads the batch headers of a read: their offsets, and
// whether each is never to be delivered (a control batch, or a batch of an
// aborted transaction listed in aborted). raws are the batches' bytes.
func parseBatches(data []byte, aborted []storage.AbortedTxn) ([]Batch, [][]byte, error) {
	raws, err := storage.SplitBatches(data)
	if err != nil {
		return nil, nil, err
	}
	out := make([]Batch, 0, len(raws))
	open := map[int64]bool{} // producers whose aborted transaction has begun
	next := 0
	for _, raw := range raws {
		var rb kmsg.RecordBatch
		if err := rb.ReadFrom(raw); err != nil {
			return nil, nil, fmt.Errorf("read batch header: %w", err)
		}
		b := Batch{First: rb.FirstOffset, Last: rb.FirstOffset + int64(rb.LastOffsetDelta)}
		for next < len(aborted) && aborted[next].FirstOffset <= b.Last {
			open[aborted[next].ProducerID] = true
			next++
		}
		control := rb.Attributes&0x20 != 0
		transactional := rb.Attributes&0x10 != 0
		switch {
		case control:
			b.Skip = true
			delete(open, rb.ProducerID) // its marker ends the aborted transaction
		case transactional && open[rb.ProducerID]:
			b.Skip = true
		}
		out = append(out, b)
	}
	return out, raws, nil
}

// trimBatches returns the part of data holding the batches that overlap
// [first, last]: what a client needs for the offsets it acquired.
func trimBatches(data []byte, batches []Batch, raws [][]byte, first, last int64) []byte {
	lo, hi := -1, -1
	pos, start, end := 0, 0, 0
	for i, b := range batches {
		if b.Last >= first && b.First <= last {
			if lo < 0 {
				lo, start = i, pos
			}
			hi, end = i, pos+len(raws[i])
		}
		pos += len(raws[i])
	}
	if lo < 0 || hi < 0 {
		return nil
	}
	return data[start:end:end]
}
