package share

// helpers_test.go is the coordinator's test harness: a fake topic table
// (topics without logs, enough for membership and the admin APIs), a
// coordinator on an in-memory file system with a fake clock, and a
// journal file written from records.

import (
	"context"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/group"
	"github.com/courier-dev/courier/internal/broker/journal"
	"github.com/courier-dev/courier/internal/broker/vfs"
	"github.com/twmb/franz-go/pkg/kmsg"
)

const testPath = "/data/meta/share/state.log"

var t0 = time.Unix(1_700_000_000, 0)

// fakeTopics is a topic table without logs.
type fakeTopics map[string]struct {
	id [16]byte
	n  int32
}

func (f fakeTopics) Topic(name string) ([16]byte, int32, bool) {
	t, ok := f[name]
	return t.id, t.n, ok
}

func (f fakeTopics) TopicName(id [16]byte) (string, bool) {
	for name, t := range f {
		if t.id == id {
			return name, true
		}
	}
	return "", false
}

func (f fakeTopics) Log(string, int32) Log { return nil }

func testTopics() fakeTopics {
	return fakeTopics{
		"two":   {id: [16]byte{2}, n: 2},
		"three": {id: [16]byte{3}, n: 3},
	}
}

// harness is a coordinator on a memory file system and a fake clock.
type harness struct {
	t      *testing.T
	fs     *vfs.MemFS
	clock  *group.FakeClock
	topics fakeTopics
	c      *Coordinator
}

func newHarness(t *testing.T) *harness {
	h := &harness{t: t, fs: vfs.NewMem(), clock: group.NewFakeClock(t0), topics: testTopics()}
	h.open()
	t.Cleanup(func() { h.c.Close() })
	return h
}

func (h *harness) options() Options {
	return Options{Path: testPath, FS: h.fs, Clock: h.clock, Topics: h.topics}
}

func (h *harness) open() {
	h.t.Helper()
	c, err := Open(h.options())
	if err != nil {
		h.t.Fatalf("open: %v", err)
	}
	h.c = c
}

// reopen closes the coordinator and opens it again on the same file.
func (h *harness) reopen() {
	h.t.Helper()
	if err := h.c.Close(); err != nil {
		h.t.Fatalf("close: %v", err)
	}
	h.open()
}

// heartbeat sends a ShareGroupHeartbeat and waits for what it stores.
func (h *harness) heartbeat(group, member string, epoch int32, topics ...string) *kmsg.ShareGroupHeartbeatResponse {
	h.t.Helper()
	req := kmsg.NewPtrShareGroupHeartbeatRequest()
	req.Version = 1
	req.GroupID, req.MemberID, req.MemberEpoch = group, member, epoch
	if topics != nil {
		req.SubscribedTopicNames = topics
	}
	resp, wait := h.c.Heartbeat(req, Client{ID: "test"})
	if wait != nil {
		if err := wait(context.Background()); err != nil {
			h.t.Fatalf("heartbeat stored: %v", err)
		}
	}
	return resp
}

// fetchNow runs a ShareFetch's reply and gives back the fetch memory
// its records hold at once: the response is read, not written anywhere.
func fetchNow(ctx context.Context, r FetchReply) *kmsg.ShareFetchResponse {
	resp, release := r(ctx)
	release()
	return resp
}

// writeJournal writes records as a journal file at testPath on fs.
func writeJournal(tb testing.TB, fs vfs.FS, recs ...[]byte) {
	tb.Helper()
	j, err := journal.Open(testPath, journal.Options{FS: fs, Replay: func([]byte) error { return nil }, Snapshot: func(func([]byte)) error { return nil }})
	if err != nil {
		tb.Fatal(err)
	}
	done := make(chan error, 1)
	if err := j.Append(recs, func(err error) { done <- err }); err != nil {
		tb.Fatal(err)
	}
	if err := <-done; err != nil {
		tb.Fatal(err)
	}
	if err := j.Close(); err != nil {
		tb.Fatal(err)
	}
}

// sampleRecords are records of every kind.
func sampleRecords() [][]byte {
	two := TopicPartition{TopicID: [16]byte{2}, Partition: 1}
	return [][]byte{
		encodeGroup("g"),
		encodePartition("g", "two", two, Delta{SPSO: 5, Full: true, Ranges: []StateRange{{5, 6, Acknowledged, 1}, {7, 9, Acquired, 2}, {10, 10, Available, 3}}}),
		encodePartition("g", "two", two, Delta{SPSO: 7, Ranges: []StateRange{{7, 7, Archived, 3}}}),
		encodePartition("g", "three", TopicPartition{TopicID: [16]byte{3}}, Delta{SPSO: 0, Full: true}),
		encodePartitionDelete("g", TopicPartition{TopicID: [16]byte{3}}),
		encodeGroup("h"),
		encodeGroupDelete("h"),
	}
}
