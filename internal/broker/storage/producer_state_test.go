package storage

import (
	"errors"
	"math"
	"testing"
)

// step is one append in a producer scenario and what it must produce.
type step struct {
	b       testBatch
	wantOff int64 // base offset of a written or duplicate batch
	dup     bool
	wantErr error
}

func runSteps(t *testing.T, l *Log, steps []step) {
	t.Helper()
	for i, s := range steps {
		res, err := l.Append(s.b.encode())
		if !errors.Is(err, s.wantErr) || (err == nil) != (s.wantErr == nil) {
			t.Fatalf("step %d: error %v, want %v", i, err, s.wantErr)
		}
		if err != nil {
			continue
		}
		if res.BaseOffset != s.wantOff || res.Duplicate != s.dup {
			t.Fatalf("step %d: got offset %d dup %v, want %d dup %v", i, res.BaseOffset, res.Duplicate, s.wantOff, s.dup)
		}
	}
}

func TestIdempotentProducer(t *testing.T) {
	p := func(epoch int16, seq int32, n int) testBatch { return batch(n).idem(1, epoch, seq) }
	tests := []struct {
		name  string
		steps []step
	}{
		{"in order", []step{
			{b: p(0, 0, 2), wantOff: 0},
			{b: p(0, 2, 3), wantOff: 2},
			{b: p(0, 5, 1), wantOff: 5},
		}},
		{"retry of the last batch is a duplicate", []step{
			{b: p(0, 0, 2), wantOff: 0},
			{b: p(0, 2, 3), wantOff: 2},
			{b: p(0, 2, 3), wantOff: 2, dup: true},
			{b: p(0, 5, 1), wantOff: 5},
		}},
		{"retry of any of the last five is a duplicate", []step{
			{b: p(0, 0, 1), wantOff: 0},
			{b: p(0, 1, 1), wantOff: 1},
			{b: p(0, 2, 1), wantOff: 2},
			{b: p(0, 3, 1), wantOff: 3},
			{b: p(0, 4, 1), wantOff: 4},
			{b: p(0, 1, 1), wantOff: 1, dup: true},
			{b: p(0, 5, 1), wantOff: 5},
			// seq 0 has now left the cache of five: it is out of order.
			{b: p(0, 0, 1), wantErr: ErrOutOfOrderSequence},
		}},
		{"same first sequence, different range, is not a duplicate", []step{
			{b: p(0, 0, 2), wantOff: 0},
			{b: p(0, 0, 3), wantErr: ErrOutOfOrderSequence},
		}},
		{"gap", []step{
			{b: p(0, 0, 2), wantOff: 0},
			{b: p(0, 3, 1), wantErr: ErrOutOfOrderSequence},
			{b: p(0, 2, 1), wantOff: 2},
		}},
		{"unknown producer must start at 0", []step{
			{b: p(0, 5, 1), wantErr: ErrOutOfOrderSequence},
			{b: p(0, 0, 1), wantOff: 0},
		}},
		{"older epoch is fenced", []step{
			{b: p(1, 0, 1), wantOff: 0},
			{b: p(0, 1, 1), wantErr: ErrInvalidProducerEpoch},
		}},
		{"new epoch restarts at 0", []step{
			{b: p(0, 0, 3), wantOff: 0},
			{b: p(1, 3, 1), wantErr: ErrOutOfOrderSequence},
			{b: p(1, 0, 1), wantOff: 3},
			{b: p(1, 1, 1), wantOff: 4},
			{b: p(0, 3, 1), wantErr: ErrInvalidProducerEpoch},
		}},
		{"duplicate across an epoch is not a duplicate", []step{
			{b: p(0, 0, 1), wantOff: 0},
			{b: p(1, 0, 1), wantOff: 1},
		}},
		{"producers are independent", []step{
			{b: batch(1).idem(1, 0, 0), wantOff: 0},
			{b: batch(1).idem(2, 0, 0), wantOff: 1},
			{b: batch(1).idem(1, 0, 1), wantOff: 2},
			{b: batch(1).idem(2, 0, 0), wantOff: 1, dup: true},
		}},
		{"non-idempotent batches are never deduplicated", []step{
			{b: batch(1), wantOff: 0},
			{b: batch(1), wantOff: 1},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := openTest(t, t.TempDir(), Config{}, Options{})
			defer l.Close()
			runSteps(t, l, tt.steps)
		})
	}
}

func TestDuplicateReturnsOriginalResult(t *testing.T) {
	clock := newFakeClock()
	l := openTest(t, t.TempDir(), Config{LogAppendTime: true}, Options{Now: clock.Now})
	defer l.Close()
	_, first := mustAppend(t, l, batch(3).idem(4, 0, 0))
	clock.Add(5000)
	_, again := mustAppend(t, l, batch(3).idem(4, 0, 0))
	if !again.Duplicate || again.BaseOffset != first.BaseOffset || again.LastOffset != first.LastOffset || again.LogAppendTime != first.LogAppendTime {
		t.Fatalf("duplicate %+v, original %+v", again, first)
	}
	if l.HighWatermark() != 3 {
		t.Fatal("duplicate was written")
	}
}

func TestProducerStateSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{SegmentBytes: 500}
	l := openTest(t, dir, cfg, Options{})
	for i := 0; i < 20; i++ {
		mustAppend(t, l, batch(2).idem(7, 3, int32(2*i)).values(40))
	}
	mustAppend(t, l, batch(1).idem(8, 0, 0))
	crash(l)
	l = openTest(t, dir, cfg, Options{})
	defer l.Close()
	if len(l.segs) < 3 {
		t.Fatalf("want several segments, got %d", len(l.segs))
	}
	runSteps(t, l, []step{
		{b: batch(2).idem(7, 3, 38), wantOff: 38, dup: true},
		{b: batch(2).idem(7, 3, 30), wantOff: 30, dup: true},
		{b: batch(2).idem(7, 3, 20), wantErr: ErrOutOfOrderSequence}, // beyond the last five
		{b: batch(1).idem(7, 2, 40), wantErr: ErrInvalidProducerEpoch},
		{b: batch(1).idem(8, 0, 0), wantOff: 40, dup: true},
		{b: batch(1).idem(7, 3, 40), wantOff: 41},
	})
}

// TestUnknownProducerAfterRetention: once history was deleted, a producer
// without state may resume mid-sequence.
func TestUnknownProducerAfterRetention(t *testing.T) {
	dir := t.TempDir()
	l := openTest(t, dir, Config{SegmentBytes: 300}, Options{})
	defer l.Close()
	for i := 0; i < 6; i++ {
		mustAppend(t, l, batch(1).idem(5, 0, int32(i)).values(100))
	}
	runSteps(t, l, []step{{b: batch(1).idem(6, 0, 9), wantErr: ErrOutOfOrderSequence}})
	if _, err := l.DeleteRecords(l.HighWatermark()); err != nil {
		t.Fatal(err)
	}
	if _, ok := l.producers.m[5]; ok {
		t.Fatal("producer wholly below the log start kept")
	}
	runSteps(t, l, []step{
		{b: batch(1).idem(5, 0, 6), wantOff: 6},
		{b: batch(1).idem(6, 0, 9), wantOff: 7},
		{b: batch(1).idem(6, 0, 11), wantErr: ErrOutOfOrderSequence},
	})
}

func TestProducerStateWraparound(t *testing.T) {
	p := newProducerState()
	h := func(seq int32, n int32, base int64) *batchHeader {
		return &batchHeader{producerID: 1, baseSequence: seq, lastOffsetDelta: n - 1, recordCount: n, baseOffset: base}
	}
	first := h(math.MaxInt32-1, 3, 0) // sequences MaxInt32-1, MaxInt32, 0
	if _, err := p.check(first, true); err != nil {
		t.Fatal(err)
	}
	p.update(first, -1, 0)
	if got := p.m[1].batches[0].lastSeq; got != 0 {
		t.Fatalf("last sequence %d, want 0", got)
	}
	if _, err := p.check(h(2, 1, 3), false); !errors.Is(err, ErrOutOfOrderSequence) {
		t.Fatalf("gap after wrap: %v", err)
	}
	if dup, err := p.check(h(1, 1, 3), false); err != nil || dup != nil {
		t.Fatalf("continuation after wrap: %v %v", dup, err)
	}
	if dup, _ := p.check(h(math.MaxInt32-1, 3, 9), false); dup == nil || dup.baseOffset != 0 {
		t.Fatal("retry of the wrapping batch not detected")
	}
}
