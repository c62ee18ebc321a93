package share

// fetch_test.go drives ShareFetch through the coordinator over a fake
// partition log: acquisition of the log's batches, lock expiry by the
// sweep on the fake clock, the release when a session's connection
// closes, archiving at the delivery limit, and the fetch memory budget.

import (
	"context"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/membudget"
	"github.com/courier-dev/courier/internal/broker/storage"
	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// fakeLog is a partition log of empty-bodied batches: enough for the
// coordinator, which reads only batch headers.
type fakeLog struct {
	batches [][]byte
	end     int64
	notify  chan struct{}
}

func (l *fakeLog) add(n int) {
	l.batches = append(l.batches, l.batchOf(n))
	l.end += int64(n)
}

// batchOf is the next batch of n records.
func (l *fakeLog) batchOf(n int) []byte {
	b := kmsg.RecordBatch{FirstOffset: l.end, Length: 49, Magic: 2, LastOffsetDelta: int32(n - 1), NumRecords: int32(n)}
	return b.AppendTo(nil)
}

func (l *fakeLog) LogStartOffset() int64   { return 0 }
func (l *fakeLog) HighWatermark() int64    { return l.end }
func (l *fakeLog) LastStableOffset() int64 { return l.end }
func (l *fakeLog) Notify() <-chan struct{} { return l.notify }
func (l *fakeLog) OffsetForTime(int64) (int64, int64, error) {
	return -1, -1, nil
}

// Read returns whole batches from the one holding offset, up to maxBytes
// but the first, as storage.Log does.
func (l *fakeLog) Read(offset int64, maxBytes int32) ([]byte, error) {
	var out []byte
	for _, b := range l.batches {
		var rb kmsg.RecordBatch
		_ = rb.ReadFrom(b)
		if rb.FirstOffset+int64(rb.LastOffsetDelta) < offset {
			continue
		}
		if len(out) > 0 && len(out)+len(b) > int(maxBytes) {
			break
		}
		out = append(out, b...)
	}
	return out, nil
}

func (l *fakeLog) ReadCommitted(offset int64, n int32) ([]byte, []storage.AbortedTxn, error) {
	b, err := l.Read(offset, n)
	return b, nil, err
}

// logTopics is one topic "t" with one partition over a fake log.
type logTopics struct{ log *fakeLog }

func (l logTopics) Topic(name string) ([16]byte, int32, bool) { return [16]byte{7}, 1, name == "t" }
func (l logTopics) TopicName(id [16]byte) (string, bool)      { return "t", id == [16]byte{7} }
func (l logTopics) Log(string, int32) Log                     { return l.log }

func TestFetchExpiryConnCloseAndLimit(t *testing.T) {
	cfg := earliest()
	cfg.DeliveryLimit = 3
	h := logHarness(t, cfg, nil, 4, 6)
	c := h.c
	opts := h.c.opts
	tp := TopicPartition{TopicID: [16]byte{7}}
	fetch := func(member string, conn Conn) []kmsg.ShareFetchResponseTopicPartitionAcquiredRecord {
		t.Helper()
		h.heartbeat("g", member, 0, "t")
		req := kmsg.NewPtrShareFetchRequest()
		req.Version = 2
		req.GroupID, req.MemberID = kmsg.StringPtr("g"), kmsg.StringPtr(member)
		req.MaxRecords = 100
		rt := kmsg.NewShareFetchRequestTopic()
		rt.TopicID = tp.TopicID
		rt.Partitions = []kmsg.ShareFetchRequestTopicPartition{kmsg.NewShareFetchRequestTopicPartition()}
		req.Topics = append(req.Topics, rt)
		resp := fetchNow(context.Background(), c.ShareFetch(req, conn, func(string) bool { return true }))
		if resp.ErrorCode != 0 || len(resp.Topics) != 1 || resp.Topics[0].Partitions[0].ErrorCode != 0 {
			t.Fatalf("%s fetch: %+v", member, resp)
		}
		return resp.Topics[0].Partitions[0].AcquiredRecords
	}
	// a takes all ten; its locks expire; b gets them again.
	if got := fetch("a", Conn{ID: 1}); len(got) != 1 || got[0].FirstOffset != 0 || got[0].LastOffset != 9 || got[0].DeliveryCount != 1 {
		t.Fatalf("a acquired %+v", got)
	}
	h.clock.Advance(cfg.LockDuration + time.Second)
	if s := c.Stats(); s.LockExpiries != 10 || s.Available != 10 {
		t.Fatalf("after the locks expired: %+v", s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	if got := fetch("b", Conn{ID: 2, Ctx: ctx}); len(got) != 1 || got[0].DeliveryCount != 2 {
		t.Fatalf("b acquired %+v", got)
	}
	// b's connection closes: its records are released at once.
	cancel()
	testwait.For(t, 5*time.Second, "b's records released", func() string {
		if s := c.Stats(); s.Available != 10 {
			return "not yet"
		}
		return ""
	})
	if got := fetch("c", Conn{ID: 3}); len(got) != 1 || got[0].DeliveryCount != 3 {
		t.Fatalf("c acquired %+v", got)
	}
	// The third delivery was the last: expired, they are archived, and
	// the start offset moves past them, durably.
	h.clock.Advance(cfg.LockDuration + time.Second)
	offs, _ := c.Offsets("g")
	if s := c.Stats(); s.ArchivedAtLimit != 10 || len(offs) != 1 || offs[0].StartOffset != 10 {
		t.Fatalf("after the last delivery expired: %+v, offsets %+v", s, offs)
	}
	c.Close()
	c, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	h.c = c
	if offs, _ := c.Offsets("g"); len(offs) != 1 || offs[0].StartOffset != 10 {
		t.Fatalf("after reopen: %+v", offs)
	}
}

// TestFetchMemoryBudget: a ShareFetch reads only what the fetch memory
// budget allows (at least one batch), holds it until its response is
// written, waits when the budget is taken, and holds nothing when it
// acquired nothing.
func TestFetchMemoryBudget(t *testing.T) {
	batch := len((&fakeLog{}).batchOf(2))
	mem := membudget.New(int64(2*batch + batch/2))
	h := logHarness(t, earliest(), func(o *Options) { o.FetchMemory = mem }, 2, 2, 2, 2, 2)
	h.heartbeat("g", "a", 0, "t")
	reply := h.c.ShareFetch(shareFetch("a", 0, fetchPart{tp: tpT}), Conn{ID: 1}, allReadable)
	resp, release := reply(context.Background())
	got := resp.Topics[0].Partitions[0]
	if len(got.Records) != 2*batch || len(got.AcquiredRecords) != 1 || got.AcquiredRecords[0].LastOffset != 3 {
		t.Fatalf("fetched %d bytes, acquired %+v; want two batches, offsets 0-3", len(got.Records), got.AcquiredRecords)
	}
	if n := mem.InUse(); n != mem.Capacity() {
		t.Fatalf("before the response is written the fetch holds %d bytes, want the %d it reserved", n, mem.Capacity())
	}
	release()
	if n := mem.InUse(); n != 0 {
		t.Fatalf("after release %d bytes held", n)
	}

	// With the budget taken, the next fetch waits, then reads.
	mem.Force(mem.Capacity())
	done := make(chan *kmsg.ShareFetchResponse, 1)
	go func() {
		done <- fetchNow(context.Background(), h.c.ShareFetch(shareFetch("a", 1), Conn{ID: 1}, allReadable))
	}()
	testwait.For(t, 5*time.Second, "the fetch to wait for memory", func() string {
		if mem.Waits() == 0 {
			return "not waiting"
		}
		return ""
	})
	select {
	case r := <-done:
		t.Fatalf("answered while the budget was taken: %+v", r)
	default:
	}
	mem.Release(mem.Capacity())
	if r := <-done; len(r.Topics) != 1 || r.Topics[0].Partitions[0].AcquiredRecords[0].FirstOffset != 4 {
		t.Fatalf("after the release: %+v", r)
	}
	if n := mem.InUse(); n != 0 {
		t.Fatalf("%d bytes held after the second fetch", n)
	}

	// A fetch that acquires nothing (b: everything left is a's) holds
	// nothing, even before its response is written.
	fetchNow(context.Background(), h.c.ShareFetch(shareFetch("a", 2), Conn{ID: 1}, allReadable))
	h.heartbeat("g", "b", 0, "t")
	resp, release = h.c.ShareFetch(shareFetch("b", 0, fetchPart{tp: tpT}), Conn{ID: 2}, allReadable)(context.Background())
	if len(resp.Topics) != 0 || mem.InUse() != 0 {
		t.Fatalf("b's fetch: %+v, %d bytes held", resp, mem.InUse())
	}
	release()
}

// TestFullWindowWakesWaitingFetch: when a partition's window is full
// (share.partition.max.record.locks), a fetch waits; an acknowledgement
// that moves the start offset makes room and wakes it at once, rather
// than at the end of its MaxWait.
func TestFullWindowWakesWaitingFetch(t *testing.T) {
	cfg := earliest()
	cfg.MaxLocks = 4
	h := logHarness(t, cfg, nil, 1, 1, 1, 1, 1, 1, 1, 1)
	h.heartbeat("g", "a", 0, "t")
	h.heartbeat("g", "b", 0, "t")
	got := fetchNow(context.Background(), h.c.ShareFetch(shareFetch("a", 0, fetchPart{tp: tpT}), Conn{ID: 1}, allReadable))
	if r := got.Topics[0].Partitions[0].AcquiredRecords; len(r) != 1 || r[0].FirstOffset != 0 || r[0].LastOffset != 3 {
		t.Fatalf("a acquired %+v, want 0-3 (the window's four locks)", r)
	}
	done := make(chan *kmsg.ShareFetchResponse, 1)
	go func() {
		req := shareFetch("b", 0, fetchPart{tp: tpT})
		req.MaxWaitMillis = 30_000
		done <- fetchNow(context.Background(), h.c.ShareFetch(req, Conn{ID: 2}, allReadable))
	}()
	select {
	case r := <-done:
		t.Fatalf("b's fetch answered while the window was full: %+v", r)
	case <-time.After(100 * time.Millisecond):
	}
	ack := h.c.ShareAcknowledge(shareAck("a", 1, fetchPart{tpT, []AckBatch{{0, 1, []int8{AckAccept}}}}), allReadable)(context.Background())
	if c := ack.Topics[0].Partitions[0].ErrorCode; c != 0 {
		t.Fatalf("a's acknowledgement: %v", kerr.ErrorForCode(c))
	}
	select {
	case r := <-done:
		if ar := r.Topics[0].Partitions[0].AcquiredRecords; len(ar) != 1 || ar[0].FirstOffset != 4 || ar[0].LastOffset != 5 {
			t.Fatalf("b acquired %+v, want 4-5", ar)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("b's fetch was not woken when the window made room")
	}
}
