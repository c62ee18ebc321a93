package storage

// Tests of producer-state snapshots and of transactions across restarts:
// a clean Close, a crash (process and power loss on vfs.MemFS), with and
// without snapshots, a damaged snapshot, and the snapshot decoder's fuzz
// target.

import (
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/courier-dev/courier/internal/broker/vfs"
)

// txnState is what a restart must preserve of a log's transactions.
type txnState struct {
	lso       int64
	producers []ProducerInfo
	aborted   []AbortedTxn // a read_committed read of everything
}

func stateOf(t *testing.T, l *Log) txnState {
	t.Helper()
	st := txnState{lso: l.LastStableOffset(), producers: l.Producers()}
	seen := map[AbortedTxn]bool{}
	for next := l.LogStartOffset(); next < st.lso; {
		b, ab, err := l.ReadCommitted(next, 1<<20)
		if err != nil || len(b) == 0 {
			t.Fatalf("ReadCommitted(%d): %d bytes, %v", next, len(b), err)
		}
		for _, a := range ab {
			if !seen[a] {
				seen[a] = true
				st.aborted = append(st.aborted, a)
			}
		}
		next = endOfBatches(b)
	}
	return st
}

func sameState(t *testing.T, what string, got, want txnState) {
	t.Helper()
	// The last append time is not the same after a replay: compare the rest.
	if got.lso != want.lso || !slices.Equal(got.producers, want.producers) || !slices.Equal(got.aborted, want.aborted) {
		t.Fatalf("%s: state\n%+v\nwant\n%+v", what, got, want)
	}
}

// txnWork writes two producers' transactions over several segments: one
// aborted early (its marker in a later segment), one committed, one left
// open.
func txnWork(t *testing.T, l *Log) {
	t.Helper()
	mustAppend(t, l, batch(2).txn(1, 0, 0))
	mustAppend(t, l, batch(3))
	mustAppend(t, l, batch(1).txn(2, 0, 0))
	for i := range 6 {
		mustAppend(t, l, batch(2).txn(1, 0, int32(2+2*i)))
	}
	if _, err := l.AppendMarker(*abort(1, 0)); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, l, batch(2))
	if _, err := l.AppendMarker(Marker{ProducerID: 2, Commit: true, CoordinatorEpoch: 3}); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, l, batch(1).txn(1, 0, 14))
	mustAppend(t, l, batch(2))
}

func snapshotFiles(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, "*"+snapshotSuffix))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestTxnStateSurvivesRestart(t *testing.T) {
	cfg := Config{SegmentBytes: 400}
	for _, tc := range []struct {
		name   string
		stop   func(l *Log)
		before func(t *testing.T, dir string) // between stop and Open
		replay bool                           // the replay must start at the log start
	}{
		{name: "close", stop: func(l *Log) { l.Close() }},
		{name: "crash", stop: crash},
		{name: "close without snapshots", stop: func(l *Log) { l.Close() }, replay: true, before: func(t *testing.T, dir string) {
			for _, s := range snapshotFiles(t, dir) {
				os.Remove(s)
			}
		}},
		{name: "damaged newest snapshot", stop: func(l *Log) { l.Close() }, before: func(t *testing.T, dir string) {
			snaps := snapshotFiles(t, dir)
			b, _ := os.ReadFile(snaps[len(snaps)-1])
			b[len(b)/2] ^= 0xff
			os.WriteFile(snaps[len(snaps)-1], b, 0o644)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			l := openTest(t, dir, cfg, Options{})
			txnWork(t, l)
			l.Sync()
			want := stateOf(t, l)
			if want.lso != 22 || len(want.aborted) != 1 {
				t.Fatalf("before the restart: %+v", want)
			}
			tc.stop(l)
			if len(snapshotFiles(t, dir)) == 0 {
				t.Fatal("no snapshot written")
			}
			if tc.before != nil {
				tc.before(t, dir)
			}
			l = openTest(t, dir, cfg, Options{})
			defer l.Close()
			sameState(t, tc.name, stateOf(t, l), want)
			r := l.Recovery()
			total := int64(0)
			for _, b := range readBatchList(t, l) {
				if parseHeader(b).producerID >= 0 {
					total++
				}
			}
			if tc.replay != (r.ReplayedBatches == total) {
				t.Fatalf("replayed %d of %d batches", r.ReplayedBatches, total)
			}
			if tc.name == "damaged newest snapshot" && r.SnapshotsDamaged != 1 {
				t.Fatalf("report %+v", r)
			}
			// The log goes on: the open transaction is still open.
			if _, err := l.Append(batch(1).idem(1, 0, 15).encode()); !errors.Is(err, ErrInvalidTxnState) {
				t.Fatalf("non-transactional write in the recovered transaction: %v", err)
			}
			if _, err := l.AppendMarker(*commit(1, 0)); err != nil {
				t.Fatal(err)
			}
			if lso := l.LastStableOffset(); lso != l.HighWatermark() {
				t.Fatalf("LSO %d, HW %d after the last commit", lso, l.HighWatermark())
			}
		})
	}
}

// TestSnapshotAboveEndRemoved checks that a snapshot whose offset lies
// beyond the recovered end (its data lost) is not used, and is removed.
func TestSnapshotAboveEndRemoved(t *testing.T) {
	dir := t.TempDir()
	l := openTest(t, dir, Config{}, Options{})
	mustAppend(t, l, batch(1).txn(1, 0, 0))
	want := stateOf(t, l)
	l.Close()
	// A snapshot from a future that never became durable, claiming no
	// transaction is open.
	fake := encodeSnapshot(50, newProducerState(), nil)
	if err := os.WriteFile(filepath.Join(dir, segmentName(50)+snapshotSuffix), fake, 0o644); err != nil {
		t.Fatal(err)
	}
	l = openTest(t, dir, Config{}, Options{})
	defer l.Close()
	sameState(t, "after open", stateOf(t, l), want)
	if r := l.Recovery(); r.SnapshotsIgnored != 1 {
		t.Fatalf("report %+v", r)
	}
	if _, err := os.Stat(filepath.Join(dir, segmentName(50)+snapshotSuffix)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("snapshot beyond the end still there: %v", err)
	}
}

// TestSnapshotsPruned checks that a log keeps a few snapshots, none below
// its log start but the newest.
func TestSnapshotsPruned(t *testing.T) {
	dir := t.TempDir()
	l := openTest(t, dir, Config{SegmentBytes: 300}, Options{})
	defer l.Close()
	for i := range 30 {
		mustAppend(t, l, batch(1).idem(1, 0, int32(i)))
	}
	l.Sync()
	if n := len(snapshotFiles(t, dir)); n != maxSnapshots {
		t.Fatalf("%d snapshots, want %d", n, maxSnapshots)
	}
	if _, err := l.DeleteRecords(l.HighWatermark()); err != nil {
		t.Fatal(err)
	}
	snaps := snapshotFiles(t, dir)
	if len(snaps) != 1 {
		t.Fatalf("snapshots after DeleteRecords: %v", snaps)
	}
}

// TestTxnPowerLoss crashes a log on MemFS at random moments while two
// producers run transactions: after each crash every marker acknowledged
// durable is there with its effect (LSO, aborted list), and the log agrees
// with a replay of what it holds.
func TestTxnPowerLoss(t *testing.T) {
	for seed := uint64(1); seed <= 8; seed++ {
		rng := rand.New(rand.NewPCG(seed, 98))
		mem := vfs.NewMem()
		dir := "/data/t-0"
		cfg := Config{SegmentBytes: 500}
		seqs := map[int64]int32{}
		epoch := map[int64]int16{}
		var durableAborts []abortedTxn
		for round := int32(1); round <= 4; round++ {
			l, err := openLog(mem, dir, cfg, Options{Sync: SyncAlways, LeaderEpoch: round, Logger: quietLogger(), Files: NewFileCache(2)})
			if err != nil {
				t.Fatalf("seed %d: open: %v", seed, err)
			}
			got := stateOf(t, l)
			l.mu.RLock()
			index := l.aborted
			l.mu.RUnlock()
			for _, a := range durableAborts {
				if !slices.Contains(index, a) {
					t.Fatalf("seed %d round %d: durable abort %+v lost: %+v", seed, round, a, index)
				}
			}
			// Sequences lost with the crash are unknown: each producer
			// goes on with a newer epoch from sequence 0.
			for _, p := range got.producers {
				epoch[p.ProducerID] = max(epoch[p.ProducerID], p.ProducerEpoch+1)
			}
			for pid := range seqs {
				seqs[pid] = 0
			}
			for i := range 15 + rng.IntN(15) {
				pid := int64(1 + rng.IntN(2))
				var err error
				if rng.IntN(3) == 0 {
					var off int64
					// A bumped epoch fences the producer: the only way
					// to restart its sequence safely after a crash lost
					// some of its batches.
					off, err = l.AppendMarker(Marker{ProducerID: pid, ProducerEpoch: epoch[pid] + 1})
					epoch[pid]++
					seqs[pid] = 0
					if err == nil && off >= 0 {
						if err = l.WaitDurable(off); err == nil {
							durableAborts = append(durableAborts, abortOf(t, l, pid, off))
						}
					}
				} else {
					var res AppendResult
					res, err = l.Append(batch(1+rng.IntN(3)).txn(pid, epoch[pid], seqs[pid]).encode())
					seqs[pid] += int32(res.LastOffset - res.BaseOffset + 1)
				}
				if err != nil {
					t.Fatalf("seed %d round %d op %d: %v", seed, round, i, err)
				}
			}
			l.bg.Wait()
			mem = mem.CrashClone(vfs.CrashOptions{Rand: rng})
			crash(l)
		}
	}
}

// abortOf finds the aborted index's entry for the transaction of pid
// ended by the marker at off.
func abortOf(t *testing.T, l *Log, pid, off int64) abortedTxn {
	t.Helper()
	l.mu.RLock()
	defer l.mu.RUnlock()
	for _, a := range l.aborted {
		if a.producerID == pid && a.last == off {
			return a
		}
	}
	t.Fatalf("abort of producer %d at %d not indexed", pid, off)
	return abortedTxn{}
}

func FuzzProducerSnapshot(f *testing.F) {
	p := newProducerState()
	p.update(&batchHeader{producerID: 3, producerEpoch: 1, baseOffset: 4, lastOffsetDelta: 2, recordCount: 3, maxTimestamp: 99, attributes: attrTransactional}, -1, 5)
	p.update(&batchHeader{producerID: 8, baseOffset: 10, baseSequence: 7, maxTimestamp: 100, recordCount: 1}, 100, 6)
	valid := encodeSnapshot(20, p, txnIndex{{producerID: 5, first: 1, last: 2, lso: 3}})
	f.Add(valid)
	f.Add(encodeSnapshot(0, newProducerState(), nil))
	f.Add(valid[:len(valid)-3])
	f.Fuzz(func(t *testing.T, b []byte) {
		off, p, aborted, err := decodeSnapshot(b)
		if err != nil {
			if !errors.Is(err, errBadSnapshot) {
				t.Fatalf("error %v does not wrap errBadSnapshot", err)
			}
			return
		}
		// A valid snapshot round-trips exactly.
		if again := encodeSnapshot(off, p, aborted); !slices.Equal(again, b) {
			t.Fatalf("round trip changed the snapshot")
		}
		if len(p.ongoing) != len(slices.Collect(func(yield func(int64) bool) {
			for id, e := range p.m {
				if e.txnFirst >= 0 && !yield(id) {
					return
				}
			}
		})) {
			t.Fatal("ongoing set disagrees with the entries")
		}
	})
}
