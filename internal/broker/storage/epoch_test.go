package storage

import (
	"testing"
)

func TestEpochCacheEndOffsetFor(t *testing.T) {
	c := epochCache{bound: 9}
	for _, e := range []epochEntry{{1, 0}, {1, 5}, {3, 10}, {2, 12}, {7, 20}, {10, 30}, {-1, 31}} {
		c.assign(e.epoch, e.start)
	}
	// 2 decreases, 10 is past the bound, -1 is negative: ignored.
	if want := []epochEntry{{1, 0}, {3, 10}, {7, 20}}; len(c.entries) != len(want) {
		t.Fatalf("entries %v, want %v", c.entries, want)
	}
	tests := []struct {
		requested, current int32
		wantEpoch          int32
		wantEnd            int64
	}{
		{1, 8, 1, 10},   // ends where epoch 3 starts
		{2, 8, 1, 10},   // never wrote: the epoch below it, ending at 3's start
		{3, 8, 3, 20},   // ends where 7 starts
		{7, 8, 7, 25},   // the latest written epoch ends at the log end
		{8, 8, 8, 25},   // the current epoch (nothing written yet) too
		{0, 8, 0, 0},    // older than anything known: ends where the first starts
		{9, 8, -1, -1},  // newer than the current epoch: unknown
		{-1, 8, -1, -1}, // undefined
	}
	for _, tc := range tests {
		e, end := c.endOffsetFor(tc.requested, tc.current, 25)
		if e != tc.wantEpoch || end != tc.wantEnd {
			t.Errorf("endOffsetFor(%d) = (%d, %d), want (%d, %d)", tc.requested, e, end, tc.wantEpoch, tc.wantEnd)
		}
	}
	for off, want := range map[int64]int32{0: 1, 9: 1, 10: 3, 19: 3, 20: 7, 99: 7} {
		if got := c.epochAt(off); got != want {
			t.Errorf("epochAt(%d) = %d, want %d", off, got, want)
		}
	}
	c.truncateFromStart(15)
	if len(c.entries) != 2 || c.entries[0].epoch != 3 {
		t.Fatalf("after truncateFromStart(15): %v", c.entries)
	}
}

// TestEpochsAcrossRestarts: each start's epoch is stamped on its batches,
// the cache is rebuilt from them at Open, and OffsetForLeaderEpoch tells a
// consumer where each epoch ended.
func TestEpochsAcrossRestarts(t *testing.T) {
	dir := t.TempDir()
	var next int64
	for epoch := int32(1); epoch <= 3; epoch++ {
		l := openTest(t, dir, Config{SegmentBytes: 400}, Options{LeaderEpoch: epoch})
		if e, end := l.EndOffsetForEpoch(epoch - 1); epoch > 1 && end != next {
			t.Fatalf("start %d: epoch %d ends at (%d, %d), want %d", epoch, epoch-1, e, end, next)
		}
		for i := 0; i < 4; i++ {
			raw, res := mustAppend(t, l, batch(2))
			if got := parseHeader(raw).leaderEpoch; got != epoch {
				t.Fatalf("batch stamped with epoch %d, want %d", got, epoch)
			}
			next = res.LastOffset + 1
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
	}
	l := openTest(t, dir, Config{}, Options{LeaderEpoch: 4})
	defer l.Close()
	for epoch, wantEnd := range map[int32]int64{1: 8, 2: 16, 3: 24, 4: 24} {
		if e, end := l.EndOffsetForEpoch(epoch); e != epoch || end != wantEnd {
			t.Errorf("epoch %d ends at (%d, %d), want (%d, %d)", epoch, e, end, epoch, wantEnd)
		}
	}
	if got := l.EpochAt(10); got != 2 {
		t.Errorf("EpochAt(10) = %d, want 2", got)
	}
}

// TestHighWatermarkIsDurableWithSyncAlways: with SyncAlways a consumer sees
// a batch only once it is fsynced; a reader waiting on Notify is woken by
// the fsync, not by the append.
func TestHighWatermarkIsDurableWithSyncAlways(t *testing.T) {
	l := openTest(t, t.TempDir(), Config{}, Options{Sync: SyncAlways})
	defer l.Close()
	ch := l.Notify()
	_, res := mustAppend(t, l, batch(3))
	if hw, end := l.HighWatermark(), l.LogEndOffset(); hw != 0 || end != 3 {
		t.Fatalf("before fsync: high watermark %d, log end %d; want 0, 3", hw, end)
	}
	if b, err := l.Read(0, 1<<20); err != nil || len(b) != 0 {
		t.Fatalf("read before fsync: %d bytes, %v; want none", len(b), err)
	}
	select {
	case <-ch:
		t.Fatal("readers woken before the fsync")
	default:
	}
	if err := l.WaitDurable(res.LastOffset); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ch:
	default:
		t.Fatal("readers not woken by the fsync")
	}
	if hw := l.HighWatermark(); hw != 3 {
		t.Fatalf("after fsync: high watermark %d", hw)
	}
	if b, err := l.Read(0, 1<<20); err != nil || len(b) == 0 {
		t.Fatalf("read after fsync: %v", err)
	}
	// An unsynced batch behind a synced one is not returned with it.
	mustAppend(t, l, batch(1))
	b, _ := l.Read(0, 1<<20)
	if batches, _ := SplitBatches(b); len(batches) != 1 {
		t.Fatalf("read returned %d batches, want only the durable one", len(batches))
	}
}
