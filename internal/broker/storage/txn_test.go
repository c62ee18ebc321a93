package storage

// Tests of transactions in the log: transactional appends, markers, the
// last stable offset, read_committed reads and the aborted index, producer
// expiration, and a model-based test that checks all of them against a
// simple reference model across restarts and crashes.

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// txnOp is one step of a transaction scenario.
type txnOp struct {
	b       *testBatch // an append, or
	marker  *Marker    // a marker
	wantOff int64      // offset of the batch or marker (-1: marker wrote nothing)
	wantErr error
	wantLSO int64
}

func commit(pid int64, epoch int16) *Marker {
	return &Marker{ProducerID: pid, ProducerEpoch: epoch, Commit: true}
}
func abort(pid int64, epoch int16) *Marker { return &Marker{ProducerID: pid, ProducerEpoch: epoch} }
func tb(b testBatch) *testBatch            { return &b }

func TestTxnAppendAndMarkers(t *testing.T) {
	tests := []struct {
		name string
		ops  []txnOp
	}{
		{"commit moves the LSO", []txnOp{
			{b: tb(batch(2).txn(1, 0, 0)), wantOff: 0, wantLSO: 0},
			{b: tb(batch(1).txn(1, 0, 2)), wantOff: 2, wantLSO: 0},
			{marker: commit(1, 0), wantOff: 3, wantLSO: 4},
		}},
		{"interleaved producers", []txnOp{
			{b: tb(batch(1)), wantOff: 0, wantLSO: 1},
			{b: tb(batch(1).txn(1, 0, 0)), wantOff: 1, wantLSO: 1},
			{b: tb(batch(1).txn(2, 0, 0)), wantOff: 2, wantLSO: 1},
			{b: tb(batch(1)), wantOff: 3, wantLSO: 1},
			{marker: commit(2, 0), wantOff: 4, wantLSO: 1},
			{marker: abort(1, 0), wantOff: 5, wantLSO: 6},
		}},
		{"re-sent marker writes nothing", []txnOp{
			{b: tb(batch(1).txn(1, 0, 0)), wantOff: 0, wantLSO: 0},
			{marker: commit(1, 0), wantOff: 1, wantLSO: 2},
			{marker: commit(1, 0), wantOff: -1, wantLSO: 2},
			{marker: abort(9, 0), wantOff: -1, wantLSO: 2}, // unknown producer
		}},
		{"non-transactional write during a transaction", []txnOp{
			{b: tb(batch(1).txn(1, 0, 0)), wantOff: 0, wantLSO: 0},
			{b: tb(batch(1).idem(1, 0, 1)), wantErr: ErrInvalidTxnState, wantLSO: 0},
			{b: tb(batch(1).txn(1, 0, 0)), wantOff: 0, wantLSO: 0}, // a retry is still a duplicate
			{marker: commit(1, 0), wantOff: 1, wantLSO: 2},
			{b: tb(batch(1).idem(1, 0, 1)), wantOff: 2, wantLSO: 3},
		}},
		{"older epoch fenced, newer marker epoch fences the producer", []txnOp{
			{b: tb(batch(1).txn(1, 3, 0)), wantOff: 0, wantLSO: 0},
			{b: tb(batch(1).txn(1, 2, 1)), wantErr: ErrInvalidProducerEpoch, wantLSO: 0},
			{marker: abort(1, 2), wantErr: ErrInvalidProducerEpoch, wantLSO: 0},
			{marker: abort(1, 4), wantOff: 1, wantLSO: 2},
			{b: tb(batch(1).txn(1, 3, 1)), wantErr: ErrInvalidProducerEpoch, wantLSO: 2},
			{b: tb(batch(1).txn(1, 4, 1)), wantErr: ErrOutOfOrderSequence, wantLSO: 2},
			{b: tb(batch(1).txn(1, 4, 0)), wantOff: 2, wantLSO: 2},
		}},
		{"coordinator epoch fencing", []txnOp{
			{b: tb(batch(1).txn(1, 0, 0)), wantOff: 0, wantLSO: 0},
			{marker: &Marker{ProducerID: 1, Commit: true, CoordinatorEpoch: 5}, wantOff: 1, wantLSO: 2},
			{b: tb(batch(1).txn(1, 0, 1)), wantOff: 2, wantLSO: 2},
			{marker: &Marker{ProducerID: 1, Commit: true, CoordinatorEpoch: 4}, wantErr: ErrCoordinatorFenced, wantLSO: 2},
			{marker: &Marker{ProducerID: 1, Commit: true, CoordinatorEpoch: 5}, wantOff: 3, wantLSO: 4},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := openTest(t, t.TempDir(), Config{}, Options{})
			defer l.Close()
			for i, op := range tc.ops {
				var off int64
				var err error
				if op.b != nil {
					var res AppendResult
					res, err = l.Append(op.b.encode())
					off = res.BaseOffset
				} else {
					off, err = l.AppendMarker(*op.marker)
				}
				if !errors.Is(err, op.wantErr) || (err == nil) != (op.wantErr == nil) {
					t.Fatalf("op %d: error %v, want %v", i, err, op.wantErr)
				}
				if err == nil && off != op.wantOff {
					t.Fatalf("op %d: offset %d, want %d", i, off, op.wantOff)
				}
				if got := l.LastStableOffset(); got != op.wantLSO {
					t.Fatalf("op %d: LSO %d, want %d", i, got, op.wantLSO)
				}
			}
		})
	}
}

func TestAppendRefusesTransactionalWithoutProducer(t *testing.T) {
	l := openTest(t, t.TempDir(), Config{}, Options{})
	defer l.Close()
	b := batch(1)
	b.attrs = attrTransactional
	_, err := l.Append(b.encode())
	var be *BatchError
	if !errors.As(err, &be) || be.Reason != ReasonTransactional || !errors.Is(err, ErrInvalidRecord) {
		t.Fatalf("transactional batch without producer id: %v", err)
	}
	if _, err := l.AppendMarker(Marker{ProducerID: -1}); !errors.Is(err, ErrInvalidRecord) {
		t.Fatalf("marker without producer id: %v", err)
	}
}

func TestMarkerBatchFormat(t *testing.T) {
	l := openTest(t, t.TempDir(), Config{}, Options{})
	defer l.Close()
	mustAppend(t, l, batch(1).txn(4, 2, 0))
	off, err := l.AppendMarker(Marker{ProducerID: 4, ProducerEpoch: 2, Commit: true, CoordinatorEpoch: 7})
	if err != nil || off != 1 {
		t.Fatalf("marker: %d %v", off, err)
	}
	b, err := l.Read(1, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	h := parseHeader(b)
	if h.attributes != attrTransactional|attrControl || h.baseSequence != -1 || h.producerID != 4 || h.producerEpoch != 2 ||
		h.recordCount != 1 || h.baseOffset != 1 || batchCRC(b) != h.crc {
		t.Fatalf("marker header %+v", h)
	}
	m, err := parseControl(&h, b[batchHeaderSize:])
	if err != nil || m != (Marker{ProducerID: 4, ProducerEpoch: 2, Commit: true, CoordinatorEpoch: 7}) {
		t.Fatalf("marker record: %+v %v", m, err)
	}
	// The key and value are exactly Kafka's: version 0, type 1; version 0,
	// coordinator epoch 7.
	want := []byte{0, 0, 0, 1}
	if key := b[len(b)-12 : len(b)-8]; !slices.Equal(key, want) {
		t.Fatalf("control key % x, want % x", key, want)
	}
}

func TestReadCommittedBounds(t *testing.T) {
	l := openTest(t, t.TempDir(), Config{}, Options{})
	defer l.Close()
	mustAppend(t, l, batch(2))              // 0-1
	mustAppend(t, l, batch(1).txn(1, 0, 0)) // 2
	mustAppend(t, l, batch(1))              // 3
	if lso := l.LastStableOffset(); lso != 2 {
		t.Fatalf("LSO %d, want 2", lso)
	}
	for _, tc := range []struct {
		offset  int64
		want    int // batches
		wantErr error
	}{
		{0, 1, nil}, {1, 1, nil}, {2, 0, nil}, {3, 0, nil}, {4, 0, nil}, {5, 0, ErrOffsetOutOfRange},
	} {
		b, ab, err := l.ReadCommitted(tc.offset, 1<<20)
		if !errors.Is(err, tc.wantErr) || (err == nil) != (tc.wantErr == nil) {
			t.Fatalf("offset %d: %v, want %v", tc.offset, err, tc.wantErr)
		}
		if got := len(splitAll(t, b)); got != tc.want || len(ab) != 0 {
			t.Fatalf("offset %d: %d batches %v aborted, want %d", tc.offset, got, ab, tc.want)
		}
	}
	if _, err := l.AppendMarker(*abort(1, 0)); err != nil { // 4
		t.Fatal(err)
	}
	// The marker's timestamp (now) rolled the segment (segment.ms counts
	// from the first batch's timestamp), and a read stops at a segment's
	// end: read on.
	// Each read reports the aborted transactions its range overlaps.
	var got [][]byte
	for next := int64(0); next < l.LastStableOffset(); {
		b, ab, err := l.ReadCommitted(next, 1<<20)
		if err != nil || len(b) == 0 {
			t.Fatalf("after abort, at %d: %d bytes, %v", next, len(b), err)
		}
		if !slices.Equal(ab, []AbortedTxn{{ProducerID: 1, FirstOffset: 2}}) {
			t.Fatalf("after abort, at %d: aborted %v", next, ab)
		}
		got = append(got, splitAll(t, b)...)
		next = endOfBatches(b)
	}
	if len(got) != 4 {
		t.Fatalf("after abort: %d batches, want 4", len(got))
	}
	// A fetch from after the marker needs no aborted transaction.
	if _, ab, _ := l.ReadCommitted(5, 1<<20); ab != nil {
		t.Fatalf("aborted at the LSO: %v", ab)
	}
}

func TestProducerExpiration(t *testing.T) {
	clock := newFakeClock()
	cfg := Config{ProducerIDExpirationMs: 1000}
	l := openTest(t, t.TempDir(), cfg, Options{Now: clock.Now})
	defer l.Close()
	mustAppend(t, l, batch(1).idem(1, 0, 0))
	mustAppend(t, l, batch(1).txn(2, 0, 0))
	clock.Add(999 * time.Millisecond)
	if n := l.ExpireProducers(clock.Now()); n != 0 {
		t.Fatalf("expired %d before the expiration time", n)
	}
	clock.Add(time.Millisecond)
	if n := l.ExpireProducers(clock.Now()); n != 1 {
		t.Fatalf("expired %d, want 1 (producer 2 has an ongoing transaction)", n)
	}
	if ps := l.Producers(); len(ps) != 1 || ps[0].ProducerID != 2 || ps[0].CurrentTxnStartOffset != 1 {
		t.Fatalf("producers %+v", ps)
	}
	// Forgotten: producer 1 may start again at any epoch from sequence 0.
	mustAppend(t, l, batch(1).idem(1, 0, 0))
	if _, err := l.AppendMarker(*commit(2, 0)); err != nil {
		t.Fatal(err)
	}
	clock.Add(2 * time.Second)
	if n := l.ExpireProducers(clock.Now()); n != 2 {
		t.Fatalf("expired %d, want 2", n)
	}
}

func TestProducersDescribe(t *testing.T) {
	l := openTest(t, t.TempDir(), Config{}, Options{})
	defer l.Close()
	mustAppend(t, l, batch(3).idem(9, 1, 0).at(5000))
	mustAppend(t, l, batch(1).txn(3, 0, 0).at(6000))
	if _, err := l.AppendMarker(Marker{ProducerID: 3, Commit: true, CoordinatorEpoch: 2}); err != nil {
		t.Fatal(err)
	}
	mustAppend(t, l, batch(2).txn(3, 0, 1).at(7000))
	ps := l.Producers()
	if len(ps) != 2 {
		t.Fatalf("producers %+v", ps)
	}
	want := []ProducerInfo{
		{ProducerID: 3, ProducerEpoch: 0, LastSequence: 2, LastTimestamp: 7001, CoordinatorEpoch: 2, CurrentTxnStartOffset: 5},
		{ProducerID: 9, ProducerEpoch: 1, LastSequence: 2, LastTimestamp: 5002, CoordinatorEpoch: -1, CurrentTxnStartOffset: -1},
	}
	if !slices.Equal(ps, want) {
		t.Fatalf("producers\n%+v\nwant\n%+v", ps, want)
	}
}

// TestLSOAfterDeleteRecords checks Kafka's rule: the LSO never falls below
// the log start, and never passes an open transaction that began below it.
func TestLSOAfterDeleteRecords(t *testing.T) {
	l := openTest(t, t.TempDir(), Config{}, Options{})
	defer l.Close()
	mustAppend(t, l, batch(1).txn(1, 0, 0)) // 0
	mustAppend(t, l, batch(3))              // 1-3
	if _, err := l.DeleteRecords(2); err != nil {
		t.Fatal(err)
	}
	if lso := l.LastStableOffset(); lso != 2 {
		t.Fatalf("LSO %d, want the log start 2", lso)
	}
	if _, err := l.AppendMarker(*abort(1, 0)); err != nil {
		t.Fatal(err)
	}
	if lso := l.LastStableOffset(); lso != 5 {
		t.Fatalf("LSO %d, want 5", lso)
	}
	// The aborted transaction ends at 4, above the log start: kept.
	if _, ab, _ := l.ReadCommitted(2, 1<<20); len(ab) != 1 {
		t.Fatalf("aborted %v", ab)
	}
	if _, err := l.DeleteRecords(5); err != nil {
		t.Fatal(err)
	}
	l.mu.RLock()
	n := len(l.aborted)
	l.mu.RUnlock()
	if n != 0 {
		t.Fatalf("%d aborted entries wholly below the log start kept", n)
	}
}

// txnModel is a reference model of the transactional log.
type txnModel struct {
	end      int64
	batches  []modelBatch // every batch, in offset order
	ongoing  map[int64]int64
	aborted  []modelAbort
	epochs   map[int64]int16
	seqs     map[int64]int32
	coordEpo map[int64]int32
}

type modelBatch struct{ base, last int64 }
type modelAbort struct{ pid, first, last int64 }

func (m *txnModel) lso() int64 {
	lso := m.end
	for _, f := range m.ongoing {
		lso = min(lso, f)
	}
	return lso
}

// wantAborted is what ReadCommitted(offset) returning data up to upper must
// report.
func (m *txnModel) wantAborted(offset, upper int64) []AbortedTxn {
	var out []AbortedTxn
	for _, a := range m.aborted {
		if a.last >= offset && a.first < upper {
			out = append(out, AbortedTxn{ProducerID: a.pid, FirstOffset: a.first})
		}
	}
	slices.SortStableFunc(out, func(a, b AbortedTxn) int { return compareInt64(a.FirstOffset, b.FirstOffset) })
	return out
}

func TestTxnModel(t *testing.T) {
	for seed := uint64(1); seed <= 12; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { txnModelRound(t, seed) })
	}
}

// txnModelRound runs random transactional work of three producers and
// plain batches against the log and the model, with restarts (clean, a
// crash, and with the snapshots removed) in between, checking the LSO,
// read_committed reads and aborted lists after every step.
func txnModelRound(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 13))
	dir := t.TempDir()
	cfg := Config{SegmentBytes: 900}
	l := openTest(t, dir, cfg, Options{})
	defer func() { l.Close() }()
	m := &txnModel{ongoing: map[int64]int64{}, epochs: map[int64]int16{}, seqs: map[int64]int32{}, coordEpo: map[int64]int32{}}
	for step := range 300 {
		pid := int64(1 + rng.IntN(3))
		op := rng.IntN(12)
		t.Logf("step %d: op %d pid %d (end %d)", step, op, pid, m.end)
		switch {
		case op < 5: // a transactional batch
			n := 1 + rng.IntN(3)
			res, err := l.Append(batch(n).txn(pid, m.epochs[pid], m.seqs[pid]).encode())
			if err != nil {
				t.Fatalf("step %d: txn append: %v", step, err)
			}
			if _, ok := m.ongoing[pid]; !ok {
				m.ongoing[pid] = res.BaseOffset
			}
			m.seqs[pid] += int32(n)
			m.batches = append(m.batches, modelBatch{res.BaseOffset, res.LastOffset})
			m.end = res.LastOffset + 1
		case op < 7: // a plain batch, or a non-transactional one from pid
			b := batch(1)
			if op == 6 {
				b = b.idem(pid, m.epochs[pid], m.seqs[pid])
			}
			res, err := l.Append(b.encode())
			if _, open := m.ongoing[pid]; op == 6 && open {
				if !errors.Is(err, ErrInvalidTxnState) {
					t.Fatalf("step %d: non-transactional write during a transaction: %v", step, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("step %d: append: %v", step, err)
			}
			if op == 6 {
				m.seqs[pid]++
			}
			m.batches = append(m.batches, modelBatch{res.BaseOffset, res.LastOffset})
			m.end = res.LastOffset + 1
		case op < 11: // a marker, sometimes with a bumped epoch
			mk := Marker{ProducerID: pid, ProducerEpoch: m.epochs[pid], Commit: rng.IntN(2) == 0, CoordinatorEpoch: m.coordEpo[pid]}
			first, open := m.ongoing[pid]
			if open && rng.IntN(4) == 0 {
				mk.ProducerEpoch++
			}
			off, err := l.AppendMarker(mk)
			if err != nil {
				t.Fatalf("step %d: marker: %v", step, err)
			}
			if !open {
				if off != -1 {
					t.Fatalf("step %d: marker without a transaction written at %d", step, off)
				}
				continue
			}
			if off != m.end {
				t.Fatalf("step %d: marker at %d, want %d", step, off, m.end)
			}
			if mk.ProducerEpoch != m.epochs[pid] {
				m.epochs[pid], m.seqs[pid] = mk.ProducerEpoch, 0
			}
			delete(m.ongoing, pid)
			if !mk.Commit {
				m.aborted = append(m.aborted, modelAbort{pid, first, off})
			}
			m.batches = append(m.batches, modelBatch{off, off})
			m.end = off + 1
		default: // a restart
			switch rng.IntN(3) {
			case 0:
				if err := l.Close(); err != nil {
					t.Fatal(err)
				}
			case 1:
				crash(l)
			case 2:
				if err := l.Close(); err != nil {
					t.Fatal(err)
				}
				snaps, _ := filepath.Glob(filepath.Join(dir, "*"+snapshotSuffix))
				for _, s := range snaps {
					os.Remove(s)
				}
			}
			l = openTest(t, dir, cfg, Options{})
		}
		checkTxnModel(t, step, l, m, rng)
	}
}

func checkTxnModel(t *testing.T, step int, l *Log, m *txnModel, rng *rand.Rand) {
	t.Helper()
	lso := m.lso()
	if got := l.LastStableOffset(); got != lso {
		t.Fatalf("step %d: LSO %d, want %d", step, got, lso)
	}
	for _, p := range l.Producers() {
		want, open := m.ongoing[p.ProducerID]
		if !open {
			want = -1
		}
		if p.CurrentTxnStartOffset != want || p.ProducerEpoch != m.epochs[p.ProducerID] {
			t.Fatalf("step %d: producer %+v, want transaction from %d, epoch %d", step, p, want, m.epochs[p.ProducerID])
		}
	}
	for range 3 {
		offset := rng.Int64N(m.end + 1)
		b, ab, err := l.ReadCommitted(offset, int32(1+rng.IntN(400)))
		if err != nil {
			t.Fatalf("step %d: ReadCommitted(%d): %v", step, offset, err)
		}
		got := splitAll(t, b)
		if offset >= lso {
			if len(got) != 0 {
				t.Fatalf("step %d: ReadCommitted(%d) at or past the LSO %d returned %d batches", step, offset, lso, len(got))
			}
			continue
		}
		if len(got) == 0 {
			t.Fatalf("step %d: ReadCommitted(%d) below the LSO %d returned nothing", step, offset, lso)
		}
		i := slices.IndexFunc(m.batches, func(mb modelBatch) bool { return mb.last >= offset })
		for j, bb := range got {
			h := parseHeader(bb)
			if mb := m.batches[i+j]; h.baseOffset != mb.base || h.lastOffset() != mb.last || h.lastOffset() >= lso {
				t.Fatalf("step %d: ReadCommitted(%d) batch %d is %d-%d, want %d-%d below %d", step, offset, j, h.baseOffset, h.lastOffset(), mb.base, mb.last, lso)
			}
		}
		lastH := parseHeader(got[len(got)-1])
		upper := lastH.lastOffset() + 1
		if want := m.wantAborted(offset, upper); !slices.Equal(ab, want) {
			t.Fatalf("step %d: ReadCommitted(%d) aborted %v, want %v", step, offset, ab, want)
		}
	}
}

// TestRecoveryBadMarkerIsDamage checks that a control batch whose record
// is not a marker (here a valid CRC over an unknown control type) is
// handled as damage: quarantined, never a panic, and the batches after it
// kept.
func TestRecoveryBadMarkerIsDamage(t *testing.T) {
	dir := t.TempDir()
	clock := newFakeClock() // batches and marker in one segment: no roll by segment.ms
	now := clock.Now().UnixMilli()
	l := openTest(t, dir, Config{}, Options{Now: clock.Now})
	mustAppend(t, l, batch(1).txn(1, 0, 0).at(now))
	off, err := l.AppendMarker(*commit(1, 0))
	if err != nil {
		t.Fatal(err)
	}
	marker, _ := l.Read(off, 1<<20)
	mustAppend(t, l, batch(2).at(now))
	l.Close()
	path := filepath.Join(dir, segmentName(0)+logSuffix)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	at := len(data) - len(marker) - len(batch(2).at(now).encode())
	bad := data[at : at+len(marker)]
	bad[len(bad)-9] = 7 // the key's type: 1 (COMMIT) becomes 7
	recrc(bad)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	l = openTest(t, dir, Config{}, Options{Now: clock.Now})
	defer l.Close()
	if r := l.Recovery(); r.DamagedRegions != 1 || r.DamagedBytes != int64(len(marker)) {
		t.Fatalf("report %+v", r)
	}
	if len(quarantined(t, dir)) == 0 {
		t.Fatal("damaged segment not quarantined")
	}
	// Without its marker the transaction is open again; the batch after
	// the damage is kept.
	if lso, hw := l.LastStableOffset(), l.HighWatermark(); lso != 0 || hw != 4 {
		t.Fatalf("LSO %d HW %d, want 0 and 4", lso, hw)
	}
}
