package txn

// fuzz_test.go fuzzes the record decoder and the whole recovery path: no
// input panics, and whatever decodes or replays is a state the coordinator
// could have written, which recovery then finishes.

import (
	"errors"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/group"
	"github.com/courier-dev/courier/internal/broker/journal"
	"github.com/courier-dev/courier/internal/broker/vfs"
)

// sampleRecords are records of every kind and state.
func sampleRecords() [][]byte {
	ongoing := meta{pid: 7, lastPID: noPID, epoch: 3, lastEpoch: 2, timeoutMs: 60_000, state: stateOngoing,
		parts: []Partition{tp("a", 0), tp("b", 2)}, groups: []string{"g"}, start: t0, lastUpdate: t0}
	prepared := ongoing.clone()
	prepared.state = statePrepareCommit
	aborting := ongoing.fenceAbort(t0)
	done := prepared.complete(t0.Add(time.Second))
	empty := meta{pid: 9, lastPID: 8, epoch: 0, lastEpoch: noEpoch, timeoutMs: 1000, state: stateEmpty, lastUpdate: t0}
	return [][]byte{
		encodeEpoch(4), encodeTxn("o", ongoing), encodeTxn("p", prepared), encodeTxn("x", aborting),
		encodeTxn("c", done), encodeTxn("e", empty), encodeDelete("e"),
	}
}

func FuzzDecodeRecord(f *testing.F) {
	for _, r := range sampleRecords() {
		f.Add(r)
	}
	f.Add([]byte{kindTxn, '{', '}'})
	f.Add([]byte{kindEpoch})
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRecord(b)
		if err != nil {
			if !errors.Is(err, errCorrupt) {
				t.Fatalf("error %v does not wrap errCorrupt", err)
			}
			return
		}
		if r.kind != kindTxn {
			return
		}
		if err := r.m.validate(); err != nil {
			t.Fatalf("decoded an invalid state: %v", err)
		}
		again, err := decodeRecord(encodeTxn(r.id, r.m))
		// The encoding holds every field (times in milliseconds, as
		// decoded), so equal encodings are equal states.
		if err != nil || again.id != r.id || string(encodeTxn("", again.m)) != string(encodeTxn("", r.m)) {
			t.Fatalf("round trip: %+v (%v), want %+v", again, err, r)
		}
	})
}

// FuzzReplay opens the coordinator on a damaged journal file: Open either
// refuses it with the journal's DamageError or yields valid states only,
// and finishes every prepared transaction.
func FuzzReplay(f *testing.F) {
	fs := vfs.NewMem()
	writeJournal(f, fs, sampleRecords()...)
	valid, err := vfs.ReadFile(fs, testPath)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add(append(append([]byte{}, valid...), valid[:20]...))
	flipped := append([]byte{}, valid...)
	flipped[len(flipped)/3] ^= 0x40
	f.Add(flipped)
	f.Fuzz(func(t *testing.T, data []byte) {
		h := &harness{t: t, fs: vfs.NewMem(), clock: group.NewFakeClock(t0), markers: &fakeMarkers{}}
		h.opts = Options{Path: testPath, AllocateProducerID: func() (int64, error) { return 1000, nil }, EndTxnWait: -1}
		if err := vfs.MkdirAllDurable(h.fs, "/data/meta/transactions", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := vfs.WriteAtomic(h.fs, testPath, data, 0o644); err != nil {
			t.Fatal(err)
		}
		o := h.opts
		o.FS, o.Clock, o.Markers = h.fs, h.clock, h.markers.current()
		c, err := Open(o)
		if err != nil {
			if !errors.Is(err, journal.ErrDamaged) {
				t.Fatalf("Open refused with %v, want a DamageError", err)
			}
			return
		}
		h.c = c
		defer c.Close()
		c.mu.Lock()
		for id, e := range c.txns {
			if err := journal.CheckName("id", id); err != nil || !e.known {
				t.Errorf("replayed id %q: %v (known %v)", id, err, e.known)
			}
			if err := e.m.validate(); err != nil {
				t.Errorf("replayed %s: %v", id, err)
			}
		}
		c.mu.Unlock()
		h.settle()
		for _, info := range c.List(nil, nil, -1) {
			if info.State == "PrepareCommit" || info.State == "PrepareAbort" {
				t.Fatalf("%s left %s after recovery", info.ID, info.State)
			}
		}
	})
}
