package storage

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"sync"
	"testing"

	"github.com/courier-dev/courier/internal/broker/vfs"
)

func TestReadLimits(t *testing.T) {
	l := openTest(t, t.TempDir(), Config{}, Options{})
	defer l.Close()
	a, _ := mustAppend(t, l, batch(3).values(100)) // offsets 0-2
	b, _ := mustAppend(t, l, batch(2).values(100)) // 3-4
	c, _ := mustAppend(t, l, batch(1).values(100)) // 5
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	tests := []struct {
		name     string
		offset   int64
		maxBytes int32
		want     []byte
		wantErr  error
	}{
		{"first batch whole even if over maxBytes", 0, 1, a, nil},
		{"zero maxBytes still one batch", 1, 0, a, nil},
		{"negative maxBytes still one batch", 1, -5, a, nil},
		{"exactly two batches", 0, int32(len(a) + len(b)), cat(a, b), nil},
		{"two and a bit", 0, int32(len(a) + len(b) + len(c) - 1), cat(a, b), nil},
		{"everything", 0, 1 << 20, cat(a, b, c), nil},
		{"mid batch starts at its batch", 4, 1 << 20, cat(b, c), nil},
		{"last offset", 5, 1 << 20, c, nil},
		{"at high watermark is empty", 6, 1 << 20, nil, nil},
		{"past high watermark", 7, 1 << 20, nil, ErrOffsetOutOfRange},
		{"negative", -1, 1 << 20, nil, ErrOffsetOutOfRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := l.Read(tt.offset, tt.maxBytes)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("Read error = %v, want %v", err, tt.wantErr)
			}
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("Read returned %d bytes, want %d", len(got), len(tt.want))
			}
		})
	}
}

func TestReadLargeWindow(t *testing.T) {
	l := openTest(t, t.TempDir(), Config{IndexIntervalBytes: 1 << 20}, Options{})
	defer l.Close()
	var all [][]byte
	for i := 0; i < 50; i++ {
		raw, _ := mustAppend(t, l, batch(1).values(300))
		all = append(all, raw)
	}
	big, _ := mustAppend(t, l, batch(2).values(5000))
	// No index entries exist (interval 1 MiB), so reading offset 49 walks
	// 49 headers; the window (2 MiB + maxBytes) covers that.
	got, err := l.Read(49, 10)
	if err != nil || !bytes.Equal(got, all[49]) {
		t.Fatalf("Read(49): %v", err)
	}
	got, err = l.Read(50, 100)
	if err != nil || !bytes.Equal(got, big) {
		t.Fatalf("Read(50) = %d bytes, %v; want the %d-byte batch", len(got), err, len(big))
	}
}

func TestReadWindowRefill(t *testing.T) {
	// A tiny interval makes the window small (2*interval+maxBytes), so
	// walking from the segment start must refill it.
	l := openTest(t, t.TempDir(), Config{IndexIntervalBytes: 1}, Options{})
	defer l.Close()
	var all [][]byte
	for i := 0; i < 20; i++ {
		raw, _ := mustAppend(t, l, batch(1).values(100))
		all = append(all, raw)
	}
	// Drop the in-memory index to force the walk from position 0.
	l.mu.Lock()
	l.segs[0].idx.offsets = nil
	l.mu.Unlock()
	for i := range all {
		got, err := l.Read(int64(i), 1)
		if err != nil || !bytes.Equal(got, all[i]) {
			t.Fatalf("Read(%d): %v", i, err)
		}
	}
}

func TestConcurrentAppendRead(t *testing.T) {
	l := openTest(t, t.TempDir(), Config{SegmentBytes: 8 << 10, IndexIntervalBytes: 512}, Options{})
	defer l.Close()
	const writers, perWriter = 4, 200
	var wg sync.WaitGroup
	done := make(chan struct{})
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perWriter; i++ {
				if _, err := l.Append(batch(1 + i%4).values(i % 300).encode()); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	var rg sync.WaitGroup
	for r := 0; r < 4; r++ {
		rg.Add(1)
		go func(seed uint64) {
			defer rg.Done()
			rng := rand.New(rand.NewPCG(seed, 0))
			for {
				select {
				case <-done:
					return
				default:
				}
				hwm := l.HighWatermark()
				if hwm == 0 {
					continue
				}
				off := rng.Int64N(hwm)
				b, err := l.Read(off, int32(rng.IntN(4096)))
				if err != nil {
					t.Errorf("Read(%d): %v", off, err)
					return
				}
				batches, err := SplitBatches(b)
				if err != nil || len(batches) == 0 {
					t.Errorf("Read(%d): %v", off, err)
					return
				}
				for i, bb := range batches {
					h, err := validateBatch(bb, 1<<20)
					if err != nil {
						t.Errorf("Read(%d) batch %d: %v", off, i, err)
						return
					}
					if i == 0 && (h.baseOffset > off || h.lastOffset() < off) {
						t.Errorf("Read(%d) first batch %d..%d", off, h.baseOffset, h.lastOffset())
					}
				}
			}
		}(uint64(r))
	}
	wg.Wait()
	close(done)
	rg.Wait()
	if want := int64(writers * perWriter * 10 / 4); l.HighWatermark() != want {
		t.Fatalf("hwm %d, want %d", l.HighWatermark(), want)
	}
}

func TestOffsetForTimeAndMaxTimestamp(t *testing.T) {
	l := openTest(t, t.TempDir(), Config{SegmentBytes: 600, IndexIntervalBytes: 100}, Options{})
	defer l.Close()
	if off, ts := l.MaxTimestamp(); off != -1 || ts != -1 {
		t.Fatalf("empty MaxTimestamp = %d, %d", off, ts)
	}
	if off, ts, err := l.OffsetForTime(0); err != nil || off != -1 || ts != -1 {
		t.Fatalf("empty OffsetForTime = %d, %d, %v", off, ts, err)
	}
	// Batch i has 2 records (offsets 2i, 2i+1) and timestamps 100i, 100i+1,
	// except batch 7, which jumps ahead to 5000.
	for i := 0; i < 20; i++ {
		ts := int64(100 * i)
		if i == 7 {
			ts = 5000
		}
		mustAppend(t, l, batch(2).at(ts))
	}
	tests := []struct {
		ts             int64
		wantOff, wantT int64
	}{
		{0, 0, 0},
		{1, 1, 1},
		{2, 2, 100},
		{650, 14, 5000}, // batch 7 holds the first record (in offset order) at or after 650
		{701, 14, 5000},
		{900, 14, 5000},
		{1801, 14, 5000},
		{5001, 15, 5001}, // the exact record, not its batch's first
		{5002, -1, -1},
	}
	for _, tt := range tests {
		off, ts, err := l.OffsetForTime(tt.ts)
		if err != nil || off != tt.wantOff || ts != tt.wantT {
			t.Errorf("OffsetForTime(%d) = %d, %d, %v; want %d, %d", tt.ts, off, ts, err, tt.wantOff, tt.wantT)
		}
	}
	// With increasing timestamps the lookup goes through the time index of
	// later segments.
	l2 := openTest(t, t.TempDir(), Config{SegmentBytes: 600, IndexIntervalBytes: 100}, Options{})
	defer l2.Close()
	for i := 0; i < 40; i++ {
		mustAppend(t, l2, batch(2).at(int64(100*i)))
	}
	if len(l2.segs) < 4 {
		t.Fatalf("want several segments, got %d", len(l2.segs))
	}
	for i := int64(0); i < 40; i++ {
		for _, q := range []int64{100*i - 98, 100 * i, 100*i + 1} {
			// Batch k holds offsets 2k and 2k+1 stamped 100k and 100k+1:
			// the answer is the first record stamped q or later.
			want, wantTs := int64(-1), int64(-1)
			for off := int64(0); off < 80 && want < 0; off++ {
				if rts := off/2*100 + off%2; rts >= q {
					want, wantTs = off, rts
				}
			}
			off, ts, err := l2.OffsetForTime(q)
			if err != nil || off != want || ts != wantTs {
				t.Errorf("monotonic OffsetForTime(%d) = %d, %d, %v; want %d, %d", q, off, ts, err, want, wantTs)
			}
		}
	}
	if off, ts := l.MaxTimestamp(); off != 15 || ts != 5001 {
		t.Fatalf("MaxTimestamp = %d, %d; want 15, 5001", off, ts)
	}
	// A log start inside a batch is returned instead of the batch base.
	if _, err := l.DeleteRecords(3); err != nil {
		t.Fatal(err)
	}
	if off, ts, _ := l.OffsetForTime(0); off != 3 || ts != 101 {
		t.Fatalf("after DeleteRecords(3): OffsetForTime(0) = %d, %d", off, ts)
	}
}

// TestReadWithin: a fetch's later partitions get only the batches that fit,
// and a first batch that does not fit is not even read (a consumer fetching
// in small steps across partitions had the next partition's first batch
// read whole on every fetch, then dropped).
func TestReadWithin(t *testing.T) {
	ffs := &faultFS{FS: vfs.Default}
	l, err := openLog(ffs, t.TempDir(), Config{}, Options{Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	big, _ := mustAppend(t, l, batch(500).values(200)) // offsets 0-499, ~100 KB
	a, _ := mustAppend(t, l, batch(2).values(100))     // 500-501
	b, _ := mustAppend(t, l, batch(2).values(100))     // 502-503
	tests := []struct {
		name      string
		offset    int64
		maxBytes  int32
		committed bool
		want      []byte
	}{
		{"a first batch over maxBytes is not returned", 0, int32(len(big) - 1), false, nil},
		{"nor read_committed", 0, int32(len(big) - 1), true, nil},
		{"one that fits exactly is", 0, int32(len(big)), false, big},
		{"whole batches while they fit", 500, int32(len(a) + len(b) - 1), false, a},
		{"both", 500, int32(len(a) + len(b)), true, append(append([]byte(nil), a...), b...)},
		{"at the high watermark", 504, 1 << 20, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, aborted, err := l.ReadWithin(tt.offset, tt.maxBytes, tt.committed)
			if err != nil || len(aborted) != 0 {
				t.Fatalf("ReadWithin: %v, %d aborted", err, len(aborted))
			}
			if !bytes.Equal(got, tt.want) {
				t.Fatalf("ReadWithin returned %d bytes, want %d", len(got), len(tt.want))
			}
		})
	}
	// What it reads of a batch that does not fit is the window for the
	// header walk, never the batch: with a 1 KiB budget, far less than the
	// batch's ~100 KB, which Read reads whole.
	ffs.readBytes.Store(0)
	if got, _, err := l.ReadWithin(0, 1024, false); err != nil || len(got) != 0 {
		t.Fatalf("ReadWithin(0, 1 KiB) = %d bytes, %v", len(got), err)
	}
	if n := ffs.readBytes.Load(); n >= int64(len(big))/2 {
		t.Errorf("ReadWithin read %d bytes of the file for a %d-byte batch it does not return", n, len(big))
	}
	ffs.readBytes.Store(0)
	if got, err := l.Read(0, 1024); err != nil || !bytes.Equal(got, big) {
		t.Fatalf("Read(0, 1 KiB) = %d bytes, %v; want the first batch whole", len(got), err)
	}
	if n := ffs.readBytes.Load(); n < int64(len(big)) {
		t.Errorf("Read read %d bytes, less than the %d-byte batch it returned", n, len(big))
	}
}
