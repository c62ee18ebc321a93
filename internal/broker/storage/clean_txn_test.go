package storage

// The log cleaner's transaction rules (see clean.go): aborted records go,
// markers go once their transaction left nothing and delete.retention.ms
// passed, and nothing at or past the last stable offset is cleaned.

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"testing"
	"time"
)

// txnKeyedBatch is keyedBatch from a transactional producer.
func txnKeyedBatch(t testing.TB, ts int64, recs []kv, pid int64, seq int32) []byte {
	t.Helper()
	raw := keyedBatch(t, ts, recs, false, pid, seq)
	binary.BigEndian.PutUint16(raw[offAttributes:], attrTransactional)
	return recrc(raw)
}

// TestCleanTransactions checks the cleaner's transaction rules: records of
// an aborted transaction are removed and never supersede committed ones,
// committed ones are compacted as any, markers stay until their
// transaction left nothing and delete.retention.ms passed, and nothing at
// or past the last stable offset is cleaned.
func TestCleanTransactions(t *testing.T) {
	dir := t.TempDir()
	clock := newFakeClock()
	cfg := compactConfig()
	cfg.SegmentBytes = 300
	l := openTest(t, dir, cfg, Options{Now: clock.Now})
	defer func() { l.Close() }()
	ts := clock.Now().UnixMilli()
	app := func(raw []byte) {
		t.Helper()
		if _, err := l.Append(raw); err != nil {
			t.Fatal(err)
		}
	}
	marker := func(m Marker) int64 {
		t.Helper()
		off, err := l.AppendMarker(m)
		if err != nil || off < 0 {
			t.Fatalf("marker: %d %v", off, err)
		}
		return off
	}
	app(keyedBatch(t, ts, []kv{{[]byte("a"), []byte("plain")}}, false, -1, 0))                          // 0
	app(txnKeyedBatch(t, ts, []kv{{[]byte("a"), []byte("aborted")}, {[]byte("b"), []byte("x")}}, 1, 0)) // 1-2
	app(txnKeyedBatch(t, ts, []kv{{[]byte("c"), []byte("committed")}}, 2, 0))                           // 3
	abortAt := marker(*abort(1, 0))                                                                     // 4
	commitAt := marker(*commit(2, 0))                                                                   // 5
	app(txnKeyedBatch(t, ts, []kv{{[]byte("c"), []byte("newer")}}, 2, 1))                               // 6
	commit2At := marker(*commit(2, 0))                                                                  // 7
	for i := range 6 {
		app(keyedBatch(t, ts, []kv{{[]byte("filler"), []byte(fmt.Sprint(i))}}, false, -1, 0))
	}
	openAt := l.LogEndOffset()
	app(txnKeyedBatch(t, ts, []kv{{[]byte("a"), []byte("open")}}, 3, 0)) // an ongoing transaction
	for i := range 8 {
		app(keyedBatch(t, ts, []kv{{[]byte("later"), []byte(fmt.Sprint(i))}}, false, -1, 0))
	}
	if lso := l.LastStableOffset(); lso != openAt {
		t.Fatalf("LSO %d, want %d", lso, openAt)
	}
	l.Sync()
	res, err := l.Clean(context.Background(), CleanOptions{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.AbortedRecordsRemoved != 2 || res.MarkersRemoved != 0 {
		t.Fatalf("first clean: %+v", res)
	}
	values := func() map[int64]string {
		out := map[int64]string{}
		for _, r := range readRecords(t, l) {
			out[r.offset] = string(r.value)
		}
		return out
	}
	got := values()
	for off, want := range map[int64]string{0: "plain", 6: "newer", openAt: "open"} {
		if got[off] != want {
			t.Fatalf("offset %d holds %q, want %q (all: %v)", off, got[off], want, got)
		}
	}
	for _, off := range []int64{1, 2, 3} {
		if v, ok := got[off]; ok {
			t.Fatalf("offset %d still holds %q", off, v)
		}
	}
	if fd := l.CleanerState().FirstDirty; fd > openAt {
		t.Fatalf("cleaned up to %d, past the LSO %d", fd, openAt)
	}
	hasMarker := func(off int64) bool {
		for _, b := range splitAll(t, readAll(t, l)) {
			if h := parseHeader(b); h.baseOffset == off && h.attributes&attrControl != 0 {
				return true
			}
		}
		return false
	}
	for _, off := range []int64{abortAt, commitAt, commit2At} {
		if !hasMarker(off) {
			t.Fatalf("marker at %d removed before delete.retention.ms", off)
		}
	}

	// Once delete.retention.ms has passed, markers whose transaction left
	// nothing go; the one whose transaction's record is kept stays.
	// (Producer 3 commits, so that there is a dirty section to clean.)
	clock.Add(25 * time.Hour)
	marker(*commit(3, 0))
	for i := range 3 {
		app(keyedBatch(t, clock.Now().UnixMilli(), []kv{{[]byte("later"), []byte(fmt.Sprint(i))}}, false, -1, 0))
	}
	l.Sync()
	if res, err = l.Clean(context.Background(), CleanOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	if res.MarkersRemoved == 0 || !hasMarker(commit2At) {
		t.Fatalf("after delete.retention.ms: %+v; marker at %d present: %v", res, commit2At, hasMarker(commit2At))
	}
	// A marker is there exactly when a batch of its transaction is (a
	// batch kept empty, as the last of a cleaned segment, keeps it too).
	open := map[int64]bool{} // producers with a batch since their last marker
	for _, b := range splitAll(t, readAll(t, l)) {
		h := parseHeader(b)
		switch {
		case h.attributes&attrControl != 0:
			if !open[h.producerID] {
				t.Fatalf("marker at %d kept, but no batch of its transaction is", h.baseOffset)
			}
			delete(open, h.producerID)
		case h.attributes&attrTransactional != 0:
			open[h.producerID] = true
		}
	}
	if len(open) != 0 {
		t.Fatalf("transactional batches of producers %v kept without their marker", open)
	}
	// The transactions' state survives a restart of the cleaned log.
	want := stateOf(t, l)
	l.Close()
	snaps := snapshotFiles(t, dir)
	for _, s := range snaps {
		os.Remove(s)
	}
	l = openTest(t, dir, cfg, Options{Now: clock.Now})
	if got := l.LastStableOffset(); got != want.lso {
		t.Fatalf("after restart LSO %d, want %d", got, want.lso)
	}
}
