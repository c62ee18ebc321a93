package share

// fetch_test.go drives ShareFetch through the coordinator over a fake
// partition log: acquisition of the log's batches, lock expiry by the
// sweep on the fake clock, the release when a session's connection
// closes, and archiving at the delivery limit.

import (
	"context"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/storage"
	"github.com/courier-dev/courier/internal/testkit/testwait"
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
	b := kmsg.RecordBatch{FirstOffset: l.end, Length: 49, Magic: 2, LastOffsetDelta: int32(n - 1), NumRecords: int32(n)}
	l.batches = append(l.batches, b.AppendTo(nil))
	l.end += int64(n)
}

func (l *fakeLog) LogStartOffset() int64   { return 0 }
func (l *fakeLog) HighWatermark() int64    { return l.end }
func (l *fakeLog) LastStableOffset() int64 { return l.end }
func (l *fakeLog) Notify() <-chan struct{} { return l.notify }
func (l *fakeLog) OffsetForTime(int64) (int64, int64, error) {
	return -1, -1, nil
}

func (l *fakeLog) Read(offset int64, _ int32) ([]byte, error) {
	var out []byte
	o := int64(0)
	for _, b := range l.batches {
		var rb kmsg.RecordBatch
		_ = rb.ReadFrom(b)
		o = rb.FirstOffset + int64(rb.LastOffsetDelta)
		if o >= offset {
			out = append(out, b...)
		}
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
		resp := c.ShareFetch(req, conn, func(string) bool { return true })(context.Background())
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
