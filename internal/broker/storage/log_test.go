package storage

import (
	"bytes"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/vfs"
)

// TestAppendReadRoundTrip appends batches of varied sizes into small

// segments and reads every offset back.

func TestAppendReadRoundTrip(t *testing.T) {
	dir := t.TempDir()
	l := openTest(t, dir, Config{SegmentBytes: 2048, IndexIntervalBytes: 256}, Options{})
	defer l.Close()

	rng := rand.New(rand.NewPCG(1, 2))
	var stored [][]byte
	var want []byte
	var offsets []int64 // base offset of each batch
	for i := 0; i < 150; i++ {
		raw, res := mustAppend(t, l, batch(1+rng.IntN(5)).values(rng.IntN(200)))
		if i > 0 && res.BaseOffset != nextOf(stored[i-1]) {
			t.Fatalf("batch %d base %d does not follow", i, res.BaseOffset)
		}
		stored = append(stored, raw)
		offsets = append(offsets, res.BaseOffset)
		want = append(want, raw...)
	}
	if n := len(segmentFiles(t, dir)); n < 5 {
		t.Fatalf("expected several segments, got %d", n)
	}
	if got := readAll(t, l); !bytes.Equal(got, want) {
		t.Fatal("log content differs from what was appended")
	}
	if l.Size() != int64(len(want)) {
		t.Fatalf("Size = %d, want %d", l.Size(), len(want))
	}
	// Every offset, including those inside a batch, reads back its batch.
	for i, raw := range stored {
		for off := offsets[i]; off < nextOf(raw); off++ {
			got, err := l.Read(off, 1)
			if err != nil {
				t.Fatalf("Read(%d): %v", off, err)
			}
			if !bytes.Equal(got, raw) {
				t.Fatalf("Read(%d) did not return exactly batch %d", off, i)
			}
		}
	}
}

// nextOf returns the offset after a stored batch (base offset assigned).

func nextOf(b []byte) int64 {
	h := parseHeader(b)
	return h.lastOffset() + 1
}

// TestReadLargeWindow reads with a small index interval far from an index

// entry and with a first batch larger than the read window, which takes the

// second-read paths.

func TestRestartPreservesOffsets(t *testing.T) {
	for _, clean := range []bool{true, false} {
		name := "crash"
		if clean {
			name = "clean close"
		}
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			cfg := Config{SegmentBytes: 1024}
			l := openTest(t, dir, cfg, Options{})
			for i := 0; i < 40; i++ {
				mustAppend(t, l, batch(2).values(50))
			}
			before := readAll(t, l)
			hwm := l.HighWatermark()
			if clean {
				if err := l.Close(); err != nil {
					t.Fatal(err)
				}
			} else {
				crash(l)
			}
			l = openTest(t, dir, cfg, Options{})
			defer l.Close()
			if l.HighWatermark() != hwm || l.LogStartOffset() != 0 {
				t.Fatalf("after reopen hwm %d start %d, want %d 0", l.HighWatermark(), l.LogStartOffset(), hwm)
			}
			if !bytes.Equal(readAll(t, l), before) {
				t.Fatal("content changed across restart")
			}
			_, res := mustAppend(t, l, batch(1))
			if res.BaseOffset != hwm {
				t.Fatalf("append after restart got offset %d, want %d", res.BaseOffset, hwm)
			}
		})
	}
}

// TestIndexFilesPersisted checks that a rolled segment gets index files
// matching its in-memory index once synced, and that the active segment
// never has any, not even after Close (Open would remove them: writing
// them cost three fsyncs per partition at every shutdown).

func TestIndexFilesPersisted(t *testing.T) {
	dir := t.TempDir()
	l := openTest(t, dir, Config{SegmentBytes: 4000, IndexIntervalBytes: 100}, Options{})
	for i := 0; i < 60; i++ {
		mustAppend(t, l, batch(1).values(100).at(int64(1000+i)))
	}
	l.bg.Wait()
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	first := l.segs[0]
	ob, err := os.ReadFile(first.indexPath)
	if err != nil {
		t.Fatalf("rolled segment has no index file: %v", err)
	}
	if !bytes.Equal(ob, encodeOffsetIndex(first.idx.offsets)) || len(first.idx.offsets) == 0 {
		t.Fatal("offset index file differs from memory")
	}
	tb, err := os.ReadFile(first.timePath)
	if err != nil || !bytes.Equal(tb, encodeTimeIndex(first.idx.times)) {
		t.Fatalf("time index file differs from memory: %v", err)
	}
	if last := first.idx.times[len(first.idx.times)-1]; last.ts != first.idx.maxTs {
		t.Fatalf("sealed time index ends at %d, max is %d", last.ts, first.idx.maxTs)
	}
	active := l.segs[len(l.segs)-1]
	if _, err := os.Stat(active.indexPath); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("active segment has an index file before Close")
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(active.indexPath); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Close wrote the active segment's index files: %v", err)
	}
	// A previous version's Close wrote them: Open removes them, since the
	// segment grows past them.
	for _, p := range []string{active.indexPath, active.timePath} {
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	l = openTest(t, dir, Config{SegmentBytes: 4000, IndexIntervalBytes: 100}, Options{})
	defer l.Close()
	for _, p := range []string{active.indexPath, active.timePath} {
		if _, err := os.Stat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("Open kept the active segment's %s: %v", p, err)
		}
	}
	if _, err := os.Stat(first.indexPath); err != nil {
		t.Fatalf("Open removed a sealed segment's index: %v", err)
	}
	if entries, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(entries) != 0 {
		t.Fatalf("temporary files left: %v", entries)
	}
}

func TestSegmentRollByTime(t *testing.T) {
	dir := t.TempDir()
	clock := newFakeClock()
	l := openTest(t, dir, Config{SegmentMs: 1000}, Options{Now: clock.Now})
	defer l.Close()
	mustAppend(t, l, batch(1).at(10_000))
	mustAppend(t, l, batch(1).at(10_900)) // within segment.ms of the first
	if n := len(segmentFiles(t, dir)); n != 1 {
		t.Fatalf("%d segments, want 1", n)
	}
	mustAppend(t, l, batch(1).at(11_001)) // more than 1000 ms after the first
	if n := len(segmentFiles(t, dir)); n != 2 {
		t.Fatalf("%d segments, want 2", n)
	}

	// With LogAppendTime the broker clock drives it.
	dir2 := t.TempDir()
	l2 := openTest(t, dir2, Config{SegmentMs: 1000, LogAppendTime: true}, Options{Now: clock.Now})
	defer l2.Close()
	mustAppend(t, l2, batch(1))
	clock.Add(999 * time.Millisecond)
	mustAppend(t, l2, batch(1))
	clock.Add(2 * time.Millisecond)
	mustAppend(t, l2, batch(1))
	if n := len(segmentFiles(t, dir2)); n != 2 {
		t.Fatalf("LogAppendTime: %d segments, want 2", n)
	}
}

func TestLogAppendTime(t *testing.T) {
	clock := newFakeClock()
	l := openTest(t, t.TempDir(), Config{LogAppendTime: true}, Options{Now: clock.Now})
	defer l.Close()
	raw, res := mustAppend(t, l, batch(3).at(5))
	if want := clock.Now().UnixMilli(); res.LogAppendTime != want {
		t.Fatalf("LogAppendTime = %d, want %d", res.LogAppendTime, want)
	}
	got, err := l.Read(0, 1<<20)
	if err != nil || !bytes.Equal(got, raw) {
		t.Fatalf("Read: %v", err)
	}
	h, err := validateBatch(got, 1<<20)
	if err != nil {
		t.Fatalf("stored batch fails validation: %v", err)
	}
	if h.maxTimestamp != res.LogAppendTime || h.attributes&attrLogAppendTime == 0 || h.leaderEpoch != 0 {
		t.Fatalf("stored header %+v", h)
	}
	// CreateTime topics report -1.
	l2 := openTest(t, t.TempDir(), Config{}, Options{})
	defer l2.Close()
	if _, res := mustAppend(t, l2, batch(1)); res.LogAppendTime != -1 {
		t.Fatalf("CreateTime LogAppendTime = %d", res.LogAppendTime)
	}
}

func TestAppendRejects(t *testing.T) {
	l := openTest(t, t.TempDir(), Config{MaxMessageBytes: 500}, Options{})
	defer l.Close()
	bad := batch(1).encode()
	bad[len(bad)-1] ^= 1
	tests := []struct {
		name  string
		batch []byte
		want  error
	}{
		{"corrupt", bad, ErrCorruptMessage},
		{"too large", batch(1).values(600).encode(), ErrMessageTooLarge},
		{"garbage", []byte("hello"), ErrCorruptMessage},
	}
	for _, tt := range tests {
		if _, err := l.Append(tt.batch); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	if l.HighWatermark() != 0 || l.Size() != 0 {
		t.Fatal("rejected batches changed the log")
	}
}

func TestNotify(t *testing.T) {
	l := openTest(t, t.TempDir(), Config{}, Options{})
	ch := l.Notify()
	select {
	case <-ch:
		t.Fatal("notified before any append")
	default:
	}
	mustAppend(t, l, batch(1))
	select {
	case <-ch:
	case <-time.After(time.Second):
		t.Fatal("not notified after append")
	}
	ch2 := l.Notify()
	if ch2 == ch {
		t.Fatal("channel not replaced")
	}
	l.Close()
	select {
	case <-ch2:
	default:
		t.Fatal("Close did not wake waiters")
	}
}

func TestClosedLog(t *testing.T) {
	dir := t.TempDir()
	l := openTest(t, dir, Config{}, Options{Sync: SyncAlways})
	mustAppend(t, l, batch(1))
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := l.Append(batch(1).encode()); !errors.Is(err, fs.ErrClosed) {
		t.Fatalf("Append after Close: %v", err)
	}
	if _, err := l.Read(0, 100); !errors.Is(err, fs.ErrClosed) {
		t.Fatalf("Read after Close: %v", err)
	}
	if err := l.WaitDurable(0); err != nil {
		t.Fatalf("WaitDurable of synced data after Close: %v", err)
	}
	if err := l.Sync(); !errors.Is(err, fs.ErrClosed) {
		t.Fatalf("Sync after Close: %v", err)
	}
	if err := l.ApplyRetention(); !errors.Is(err, fs.ErrClosed) {
		t.Fatalf("ApplyRetention after Close: %v", err)
	}
	if _, err := l.DeleteRecords(1); !errors.Is(err, fs.ErrClosed) {
		t.Fatalf("DeleteRecords after Close: %v", err)
	}
	if err := l.Delete(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Fatal("Delete left the directory")
	}
}

// TestConcurrentAppendRead runs appenders and readers together (meant for

// -race): readers must only ever see whole, valid batches.

// TestWriteFailureIsUndone injects a failed (half-done) write: Append

// reports it, nothing is published, and the next append lands where the

// failed one would have.

func TestWriteFailureIsUndone(t *testing.T) {
	ffs := &faultFS{FS: vfs.Default}
	dir := t.TempDir()
	l, err := openLog(ffs, dir, Config{}, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	a, _ := mustAppend(t, l, batch(2))
	ffs.setWrite(func(string, []byte, int64) error { return errInjected })
	if _, err := l.Append(batch(3).encode()); !errors.Is(err, errInjected) {
		t.Fatalf("Append = %v, want injected error", err)
	}
	ffs.setWrite(nil)
	if l.HighWatermark() != 2 {
		t.Fatalf("hwm %d after failed append", l.HighWatermark())
	}
	b, res := mustAppend(t, l, batch(1))
	if res.BaseOffset != 2 {
		t.Fatalf("next append at %d", res.BaseOffset)
	}
	if got := readAll(t, l); !bytes.Equal(got, append(a, b...)) {
		t.Fatal("log content wrong after failed write")
	}
	crash(l)
	l2 := openTest(t, dir, Config{}, Options{})
	defer l2.Close()
	if l2.HighWatermark() != 3 {
		t.Fatalf("hwm after reopen %d", l2.HighWatermark())
	}
}
