package storage

import (
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// fillSegments appends n one-record batches of equal size s into segments
// of three batches each and returns s.
func fillSegments(t *testing.T, l *Log, n int, ts func(i int) int64) int64 {
	t.Helper()
	var size int64
	for i := 0; i < n; i++ {
		raw, _ := mustAppend(t, l, batch(1).values(100).at(ts(i)))
		size = int64(len(raw))
	}
	return size
}

var oneBatchSize = int64(len(batch(1).values(100).encode()))

func TestRetentionBytes(t *testing.T) {
	s := oneBatchSize
	tests := []struct {
		name      string
		retention int64
		deleted   int // segments deleted, of [0-2] [3-5] [6-8] [9]
	}{
		{"unlimited", -1, 0},
		{"everything fits", 10 * s, 0},
		{"just over by less than a segment", 8 * s, 0},
		{"over by exactly one segment", 7 * s, 1},
		{"over by more than one segment", 6 * s, 1},
		{"two segments", 4 * s, 2},
		{"tiny: never the active segment", 1, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			l := openTest(t, dir, Config{SegmentBytes: 3 * s, RetentionMs: -1, RetentionBytes: tt.retention}, Options{})
			defer l.Close()
			fillSegments(t, l, 10, func(int) int64 { return 1000 })
			if len(l.segs) != 4 {
				t.Fatalf("setup: %d segments", len(l.segs))
			}
			if err := l.ApplyRetention(); err != nil {
				t.Fatal(err)
			}
			if got := len(segmentFiles(t, dir)); got != 4-tt.deleted {
				t.Fatalf("%d segment files, want %d", got, 4-tt.deleted)
			}
			wantStart := int64(3 * tt.deleted)
			if l.LogStartOffset() != wantStart || l.Size() != (10-wantStart)*s {
				t.Fatalf("start %d size %d, want %d %d", l.LogStartOffset(), l.Size(), wantStart, (10-wantStart)*s)
			}
			if wantStart > 0 {
				if _, err := l.Read(wantStart-1, 100); !errors.Is(err, ErrOffsetOutOfRange) {
					t.Fatalf("read below start: %v", err)
				}
			}
			readAll(t, l)
		})
	}
}

func TestRetentionTime(t *testing.T) {
	clock := newFakeClock()
	now := clock.Now().UnixMilli()
	dir := t.TempDir()
	s := oneBatchSize
	l := openTest(t, dir, Config{SegmentBytes: 3 * s, RetentionMs: 10_000}, Options{Now: clock.Now})
	defer l.Close()
	// Segments [0-2] [3-5] [6-8] have maxima 30s, 25s and 20s old; the
	// active segment [9] is fresh.
	fillSegments(t, l, 10, func(i int) int64 {
		if i == 9 {
			return now
		}
		return now - 30_000 + int64(i/3)*5_000
	})
	steps := []struct {
		name       string
		advance    time.Duration
		wantStart  int64
		wantActive int64 // base of the (only) remaining, active segment
	}{
		{"old segments go, the fresh active one stays", 0, 9, 9},
		{"an expired non-empty active segment is rolled, then deleted", time.Hour, 10, 10},
		{"an empty active segment is never deleted", time.Hour, 10, 10},
	}
	for _, st := range steps {
		clock.Add(st.advance)
		if err := l.ApplyRetention(); err != nil {
			t.Fatal(err)
		}
		if len(l.segs) != 1 || l.LogStartOffset() != st.wantStart || l.segs[0].base != st.wantActive {
			t.Fatalf("%s: %d segments, start %d, active %d", st.name, len(l.segs), l.LogStartOffset(), l.segs[len(l.segs)-1].base)
		}
		if got := len(segmentFiles(t, dir)); got != 1 {
			t.Fatalf("%s: %d files", st.name, got)
		}
	}
	if l.HighWatermark() != 10 {
		t.Fatalf("hwm %d", l.HighWatermark())
	}
	if b, err := l.Read(10, 100); err != nil || len(b) != 0 {
		t.Fatalf("read at hwm of an emptied log: %d bytes, %v", len(b), err)
	}
	if _, res := mustAppend(t, l, batch(1).at(clock.Now().UnixMilli())); res.BaseOffset != 10 {
		t.Fatalf("append at %d", res.BaseOffset)
	}
}

func TestRetentionTimePartial(t *testing.T) {
	clock := newFakeClock()
	now := clock.Now().UnixMilli()
	s := oneBatchSize
	tests := []struct {
		name      string
		retention int64
		deleted   int
	}{
		{"nothing old enough", 60_000, 0},
		{"oldest only", 25_000, 1}, // segment maxima: -30s, -25s, -20s, -15s (exclusive bound)
		{"all but active", 15_000, 3},
		{"forever", -1, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			l := openTest(t, dir, Config{SegmentBytes: 3 * s, RetentionMs: tt.retention}, Options{Now: clock.Now})
			defer l.Close()
			fillSegments(t, l, 10, func(i int) int64 { return now - 30_000 + int64(i/3)*5_000 })
			if err := l.ApplyRetention(); err != nil {
				t.Fatal(err)
			}
			if got := len(l.segs); got != 4-tt.deleted {
				t.Fatalf("%d segments, want %d", got, 4-tt.deleted)
			}
			if got := len(segmentFiles(t, dir)); got != 4-tt.deleted {
				t.Fatalf("%d files, want %d", got, 4-tt.deleted)
			}
		})
	}
}

// TestRetentionWithoutTimestamps falls back to the last-append time.
func TestRetentionWithoutTimestamps(t *testing.T) {
	clock := newFakeClock()
	s := oneBatchSize
	l := openTest(t, t.TempDir(), Config{SegmentBytes: 3 * s, RetentionMs: 1000}, Options{Now: clock.Now})
	defer l.Close()
	fillSegments(t, l, 4, func(int) int64 { return -1 })
	if err := l.ApplyRetention(); err != nil || len(l.segs) != 2 {
		t.Fatalf("fresh segments deleted: %v, %d left", err, len(l.segs))
	}
	clock.Add(2 * time.Second)
	if err := l.ApplyRetention(); err != nil || l.LogStartOffset() != 4 {
		t.Fatalf("old segments kept: %v, start %d", err, l.LogStartOffset())
	}
}

func TestDeleteRecords(t *testing.T) {
	dir := t.TempDir()
	s := oneBatchSize
	cfg := Config{SegmentBytes: 3 * s}
	l := openTest(t, dir, cfg, Options{})
	fillSegments(t, l, 10, func(int) int64 { return 1000 })

	if _, err := l.DeleteRecords(11); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("beyond hwm: %v", err)
	}
	if _, err := l.DeleteRecords(-2); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("negative: %v", err)
	}
	start, err := l.DeleteRecords(7) // inside segment [6-8]
	if err != nil || start != 7 {
		t.Fatalf("DeleteRecords(7) = %d, %v", start, err)
	}
	if got := len(segmentFiles(t, dir)); got != 2 {
		t.Fatalf("%d segment files, want 2", got)
	}
	if _, err := l.Read(6, 100); !errors.Is(err, ErrOffsetOutOfRange) {
		t.Fatalf("read below start: %v", err)
	}
	if b, err := l.Read(7, 1); err != nil || parseHeader(b).baseOffset != 7 {
		t.Fatalf("read at start: %v", err)
	}
	if start, err := l.DeleteRecords(2); err != nil || start != 7 {
		t.Fatalf("moving back: %d, %v", start, err)
	}
	crash(l)

	l = openTest(t, dir, cfg, Options{})
	if l.LogStartOffset() != 7 {
		t.Fatalf("log start after restart %d, want 7", l.LogStartOffset())
	}
	if start, err := l.DeleteRecords(-1); err != nil || start != 10 {
		t.Fatalf("DeleteRecords(-1) = %d, %v", start, err)
	}
	if got := len(segmentFiles(t, dir)); got != 1 {
		t.Fatalf("%d segment files, want only the active one", got)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openTest(t, dir, cfg, Options{})
	defer l.Close()
	if l.LogStartOffset() != 10 || l.HighWatermark() != 10 {
		t.Fatalf("after second restart: start %d hwm %d", l.LogStartOffset(), l.HighWatermark())
	}
	if b, err := os.ReadFile(filepath.Join(dir, checkpointName)); err != nil || string(b) != "10\n" {
		t.Fatalf("checkpoint %q, %v", b, err)
	}
}

// TestReadsDuringRetention deletes segments under concurrent readers: they
// get data or ErrOffsetOutOfRange, never a crash or another error.
func TestReadsDuringRetention(t *testing.T) {
	l := openTest(t, t.TempDir(), Config{SegmentBytes: 2 * oneBatchSize}, Options{})
	defer l.Close()
	fillSegments(t, l, 60, func(int) int64 { return 1000 })
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				off := l.LogStartOffset()
				if _, err := l.Read(off, 1<<16); err != nil && !errors.Is(err, ErrOffsetOutOfRange) {
					t.Errorf("Read(%d): %v", off, err)
					return
				}
				if _, _, err := l.OffsetForTime(0); err != nil {
					t.Errorf("OffsetForTime: %v", err)
					return
				}
			}
		}()
	}
	for before := int64(2); before < 60; before += 3 {
		if _, err := l.DeleteRecords(before); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
}
