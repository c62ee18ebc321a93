package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeBatches creates a log in dir holding n batches and returns the
// stored bytes of each, then abandons it as a crash would.
func writeBatches(t testing.TB, dir string, cfg Config, n int) [][]byte {
	t.Helper()
	l := openTest(t, dir, cfg, Options{})
	var out [][]byte
	for i := 0; i < n; i++ {
		raw, _ := mustAppend(t, l, batch(1+i%3).values(20+i*7).idem(9, 0, int32(seqAfter(out))))
		out = append(out, raw)
	}
	crash(l)
	return out
}

// seqAfter is the next sequence for producer 9 after the given batches.
func seqAfter(batches [][]byte) int {
	n := 0
	for _, b := range batches {
		n += int(parseHeader(b).recordCount)
	}
	return n
}

// keptBatches returns how many of batches lie wholly before byte cut.
func keptBatches(batches [][]byte, cut int) int {
	pos := 0
	for i, b := range batches {
		if pos+len(b) > cut {
			return i
		}
		pos += len(b)
	}
	return len(batches)
}

// checkRecovered opens dir and checks that it holds exactly the first want
// batches, that the producer state matches them and that the log accepts a
// new append.
func checkRecovered(t *testing.T, dir string, batches [][]byte, want int) {
	t.Helper()
	l := openTest(t, dir, Config{}, Options{})
	defer l.Close()
	if got, wantB := readAll(t, l), bytes.Join(batches[:want], nil); !bytes.Equal(got, wantB) {
		t.Fatalf("recovered %d bytes, want the first %d batches (%d bytes)", len(got), want, len(wantB))
	}
	next := int64(seqAfter(batches[:want]))
	if l.HighWatermark() != next {
		t.Fatalf("hwm %d, want %d", l.HighWatermark(), next)
	}
	// The producer continues exactly after the last kept batch.
	raw, res := mustAppend(t, l, batch(1).idem(9, 0, int32(next)))
	if res.BaseOffset != next || res.Duplicate {
		t.Fatalf("append after recovery: %+v", res)
	}
	// The file was cut back to the valid prefix before the new batch.
	wantSize := int64(len(bytes.Join(batches[:want], nil)) + len(raw))
	if fi, err := os.Stat(filepath.Join(dir, segmentName(0)+logSuffix)); err != nil || fi.Size() != wantSize {
		t.Fatalf("segment file not truncated to the valid prefix: %v, %v", fi.Size(), err)
	}
}

func TestTornTailTruncation(t *testing.T) {
	src := t.TempDir()
	batches := writeBatches(t, src, Config{}, 8)
	data, err := os.ReadFile(filepath.Join(src, segmentName(0)+logSuffix))
	if err != nil {
		t.Fatal(err)
	}
	// Every batch boundary and its neighbours, plus random cuts.
	cuts := []int{0, 1, 11, 12, 60, 61, len(data) - 1}
	pos := 0
	for _, b := range batches {
		pos += len(b)
		cuts = append(cuts, pos-1, pos, pos+1)
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 30; i++ {
		cuts = append(cuts, rng.IntN(len(data)+1))
	}
	for _, cut := range cuts {
		cut = min(cut, len(data))
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, segmentName(0)+logSuffix), data[:cut], 0o644); err != nil {
			t.Fatal(err)
		}
		checkRecovered(t, dir, batches, keptBatches(batches, cut))
	}
}

func TestCorruptByteTruncation(t *testing.T) {
	src := t.TempDir()
	batches := writeBatches(t, src, Config{}, 6)
	data, err := os.ReadFile(filepath.Join(src, segmentName(0)+logSuffix))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	positions := []int{0, 8, 11, 16, 17, 21, 30, 57, 60, len(data) - 1}
	for i := 0; i < 40; i++ {
		positions = append(positions, rng.IntN(len(data)))
	}
	for _, p := range positions {
		dir := t.TempDir()
		damaged := bytes.Clone(data)
		damaged[p] ^= 0x5a
		if err := os.WriteFile(filepath.Join(dir, segmentName(0)+logSuffix), damaged, 0o644); err != nil {
			t.Fatal(err)
		}
		// The batch holding p is lost with everything after it, unless p is
		// in its partitionLeaderEpoch, the one field nothing checks.
		want := keptBatches(batches, p)
		start := len(bytes.Join(batches[:want], nil))
		if rel := p - start; rel >= offLeaderEpoch && rel < offMagic {
			l := openTest(t, dir, Config{}, Options{})
			if l.HighWatermark() != int64(seqAfter(batches)) {
				t.Fatalf("flip in leader epoch at %d lost data", p)
			}
			l.Close()
			continue
		}
		checkRecovered(t, dir, batches, want)
	}
}

// TestRecoveryLogsTruncation checks the truncation is logged with its size.
func TestRecoveryLogsTruncation(t *testing.T) {
	dir := t.TempDir()
	batches := writeBatches(t, dir, Config{}, 3)
	path := filepath.Join(dir, segmentName(0)+logSuffix)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("garbage!"))
	f.Close()
	var logs bytes.Buffer
	l, err := Open(dir, Config{}, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if l.HighWatermark() != int64(seqAfter(batches)) {
		t.Fatal("valid batches lost")
	}
	if !strings.Contains(logs.String(), "truncating") || !strings.Contains(logs.String(), "bytes=8") {
		t.Fatalf("truncation not logged with its size:\n%s", logs.String())
	}
}

// multiSegmentConfig gives segments of ~10 batches with index entries.
var multiSegmentConfig = Config{SegmentBytes: 700, IndexIntervalBytes: 100}

// multiSegment writes a log spread over several cleanly sealed segments.
func multiSegment(t *testing.T, dir string) (batches [][]byte, bases []int64) {
	t.Helper()
	l := openTest(t, dir, multiSegmentConfig, Options{})
	for i := 0; i < 30; i++ {
		raw, _ := mustAppend(t, l, batch(2).values(60).at(int64(1000+10*i)))
		batches = append(batches, raw)
	}
	for _, s := range l.segs {
		bases = append(bases, s.base)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if len(bases) < 4 {
		t.Fatalf("want at least 4 segments, got %d", len(bases))
	}
	return batches, bases
}

func TestRecoveryRemovesSegmentsAfterCorruption(t *testing.T) {
	dir := t.TempDir()
	batches, bases := multiSegment(t, dir)
	// Damage the second segment's last batch and drop its index so the
	// damage is found (a sealed segment is otherwise trusted).
	seg := filepath.Join(dir, segmentName(bases[1]))
	os.Remove(seg + indexSuffix)
	data, _ := os.ReadFile(seg + logSuffix)
	data[len(data)-3] ^= 1
	os.WriteFile(seg+logSuffix, data, 0o644)

	l := openTest(t, dir, Config{}, Options{})
	defer l.Close()
	if len(l.segs) != 2 {
		t.Fatalf("%d segments remain, want 2", len(l.segs))
	}
	if got := segmentFiles(t, dir); len(got) != 2 {
		t.Fatalf("segment files left: %v", got)
	}
	// Everything before the damaged batch survives.
	keep := int(bases[2]/2) - 1
	if got := readAll(t, l); !bytes.Equal(got, bytes.Join(batches[:keep], nil)) {
		t.Fatalf("recovered %d bytes, want %d batches", len(got), keep)
	}
	for _, b := range bases[2:] {
		if _, err := os.Stat(filepath.Join(dir, segmentName(b)+indexSuffix)); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("index of removed segment %d left behind", b)
		}
	}
}

func TestRecoveryRebuildsIndexes(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, stem string)
	}{
		{"offset index missing", func(t *testing.T, stem string) { os.Remove(stem + indexSuffix) }},
		{"time index missing", func(t *testing.T, stem string) { os.Remove(stem + timeIndexSuffix) }},
		{"offset index torn", func(t *testing.T, stem string) { os.Truncate(stem+indexSuffix, 3) }},
		{"offset index garbage", func(t *testing.T, stem string) {
			os.WriteFile(stem+indexSuffix, bytes.Repeat([]byte{0xff}, 16), 0o644)
		}},
		{"offset index short but well formed", func(t *testing.T, stem string) {
			b, _ := os.ReadFile(stem + indexSuffix)
			os.WriteFile(stem+indexSuffix, b[:len(b)-offsetEntrySize], 0o644)
		}},
		{"time index out of order", func(t *testing.T, stem string) {
			os.WriteFile(stem+timeIndexSuffix, encodeTimeIndex([]timeEntry{{5, 1}, {4, 2}}), 0o644)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			batches, bases := multiSegment(t, dir)
			stem := filepath.Join(dir, segmentName(bases[1]))
			want, _ := os.ReadFile(stem + indexSuffix)
			wantT, _ := os.ReadFile(stem + timeIndexSuffix)
			if len(want) < 2*offsetEntrySize || len(wantT) < 2*timeEntrySize {
				t.Fatalf("index files too small to damage: %d, %d bytes", len(want), len(wantT))
			}
			tt.damage(t, stem)
			l := openTest(t, dir, multiSegmentConfig, Options{})
			defer l.Close()
			if !bytes.Equal(readAll(t, l), bytes.Join(batches, nil)) {
				t.Fatal("content changed")
			}
			if got, _ := os.ReadFile(stem + indexSuffix); !bytes.Equal(got, want) {
				t.Fatal("offset index not rewritten")
			}
			if got, _ := os.ReadFile(stem + timeIndexSuffix); !bytes.Equal(got, wantT) {
				t.Fatal("time index not rewritten")
			}
		})
	}
}

func TestRecoveryCleansLeftovers(t *testing.T) {
	dir := t.TempDir()
	writeBatches(t, dir, Config{}, 2)
	leftovers := []string{
		segmentName(0) + indexSuffix + tmpSuffix,
		checkpointName + tmpSuffix,
		segmentName(500) + logSuffix + deletedSuffix,
		segmentName(900) + indexSuffix,     // orphan index
		segmentName(900) + timeIndexSuffix, // orphan time index
	}
	for _, name := range leftovers {
		os.WriteFile(filepath.Join(dir, name), []byte("x"), 0o644)
	}
	os.WriteFile(filepath.Join(dir, "unrelated.txt"), []byte("keep"), 0o644)
	l := openTest(t, dir, Config{}, Options{})
	defer l.Close()
	for _, name := range leftovers {
		if _, err := os.Stat(filepath.Join(dir, name)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s not removed", name)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "unrelated.txt")); err != nil {
		t.Error("unrelated file removed")
	}
}

func TestRecoveryGapRemovesLaterSegments(t *testing.T) {
	dir := t.TempDir()
	_, bases := multiSegment(t, dir)
	// Lose a whole middle segment: what follows no longer continues.
	os.Remove(filepath.Join(dir, segmentName(bases[2])+logSuffix))
	l := openTest(t, dir, Config{}, Options{})
	defer l.Close()
	if l.HighWatermark() != bases[2] || len(segmentFiles(t, dir)) != 2 {
		t.Fatalf("hwm %d with %d segments; want %d with 2", l.HighWatermark(), len(segmentFiles(t, dir)), bases[2])
	}
}

func TestRecoveryCheckpointBeyondEnd(t *testing.T) {
	dir := t.TempDir()
	writeBatches(t, dir, Config{}, 2) // offsets 0..2
	if err := writeCheckpoint(osFS{}, dir, 50); err != nil {
		t.Fatal(err)
	}
	l := openTest(t, dir, Config{}, Options{})
	defer l.Close()
	if l.LogStartOffset() != 50 || l.HighWatermark() != 50 {
		t.Fatalf("start %d hwm %d, want 50 50", l.LogStartOffset(), l.HighWatermark())
	}
	if _, res := mustAppend(t, l, batch(1)); res.BaseOffset != 50 {
		t.Fatalf("append at %d", res.BaseOffset)
	}
}

func TestRecoveryBadCheckpointIgnored(t *testing.T) {
	dir := t.TempDir()
	writeBatches(t, dir, Config{}, 2)
	os.WriteFile(filepath.Join(dir, checkpointName), []byte("not a number"), 0o644)
	l := openTest(t, dir, Config{}, Options{})
	defer l.Close()
	if l.LogStartOffset() != 0 {
		t.Fatalf("start %d", l.LogStartOffset())
	}
}

// FuzzRecovery writes valid batches, then appends or overwrites arbitrary
// bytes. Open must not fail or panic, must keep a prefix of the damaged
// file made of whole valid batches with continuing offsets (at least the
// undamaged batches), and the log must then take an append and read it.
func FuzzRecovery(f *testing.F) {
	next := batch(2).encode()
	binary.BigEndian.PutUint64(next, 6) // a valid continuation of the seed log
	f.Add([]byte{}, uint16(0), false)
	f.Add([]byte{0xff}, uint16(5), true)
	f.Add(bytes.Repeat([]byte{0}, 70), uint16(100), false)
	f.Add(next, uint16(0), false)
	f.Add(next[:40], uint16(0), false)
	f.Add(next, uint16(30), true)
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 49}, uint16(1), false)
	f.Fuzz(func(t *testing.T, junk []byte, at uint16, overwrite bool) {
		dir := t.TempDir()
		fsys := &faultFS{noSync: true}
		open := func() *Log {
			l, err := openLog(fsys, dir, Config{}, Options{Logger: quietLogger()})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			return l
		}
		var batches [][]byte
		l := open()
		for i := 0; i < 3; i++ {
			raw, _ := mustAppend(t, l, batch(2).values(10*i))
			batches = append(batches, raw)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		orig := bytes.Join(batches, nil)
		damaged := bytes.Clone(orig)
		undamaged := len(batches)
		if overwrite {
			p := int(at) % (len(damaged) + 1)
			end := p + len(junk)
			if end > len(damaged) {
				damaged = append(damaged, make([]byte, end-len(damaged))...)
			}
			copy(damaged[p:], junk)
			undamaged = keptBatches(batches, p)
		} else {
			damaged = append(damaged, junk...)
		}
		path := filepath.Join(dir, segmentName(0)+logSuffix)
		if err := os.WriteFile(path, damaged, 0o644); err != nil {
			t.Fatal(err)
		}

		l = open()
		defer l.Close()
		kept, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(damaged, kept) {
			t.Fatal("recovered file is not a prefix of the damaged file")
		}
		if len(kept) < len(bytes.Join(batches[:undamaged], nil)) {
			t.Fatalf("recovery dropped undamaged batches: kept %d bytes", len(kept))
		}
		split, err := SplitBatches(kept)
		if err != nil {
			t.Fatalf("recovered file does not split: %v", err)
		}
		var want int64
		for _, b := range split {
			h, err := validateBatch(b, 1<<30)
			if err != nil || h.baseOffset != want {
				t.Fatalf("recovered batch at offset %d invalid (base %d): %v", want, h.baseOffset, err)
			}
			want = h.lastOffset() + 1
		}
		if l.HighWatermark() != want {
			t.Fatalf("hwm %d, recovered batches end at %d", l.HighWatermark(), want)
		}
		raw, res := mustAppend(t, l, batch(1))
		if res.BaseOffset != want {
			t.Fatalf("append at %d, want %d", res.BaseOffset, want)
		}
		got, err := l.Read(want, 1<<20)
		if err != nil || !bytes.Equal(got, raw) {
			t.Fatalf("read back after recovery: %v", err)
		}
	})
}

// TestRecoveryLargeBatches covers batches bigger than the scanner's window:
// a sealed segment is walked by headers alone, the active one is verified
// by streaming the CRC, and damage near the end of a big batch is found.
func TestRecoveryLargeBatches(t *testing.T) {
	dir := t.TempDir()
	cfg := Config{SegmentBytes: 1 << 20, MaxMessageBytes: 1 << 20}
	l := openTest(t, dir, cfg, Options{})
	var batches [][]byte
	for i := 0; i < 7; i++ {
		raw, _ := mustAppend(t, l, batch(2).values(200<<10)) // ~400 KiB each
		batches = append(batches, raw)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if len(segmentFiles(t, dir)) < 2 {
		t.Fatal("want a sealed segment")
	}
	last := segmentFiles(t, dir)[len(segmentFiles(t, dir))-1]
	data, _ := os.ReadFile(last)
	data[len(data)-10] ^= 1 // inside the last batch, far past the window
	os.WriteFile(last, data, 0o644)

	l = openTest(t, dir, cfg, Options{})
	defer l.Close()
	if got := readAll(t, l); !bytes.Equal(got, bytes.Join(batches[:6], nil)) {
		t.Fatalf("recovered %d bytes, want the first 6 batches", len(got))
	}
}
