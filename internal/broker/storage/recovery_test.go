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
	"slices"
	"strings"
	"testing"

	"github.com/courier-dev/courier/internal/broker/vfs"
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

// readBatchList reads the whole log from its start and returns its
// batches in order (each validated).
func readBatchList(t testing.TB, l *Log) [][]byte {
	t.Helper()
	batches, err := SplitBatches(readAll(t, l))
	if err != nil {
		t.Fatal(err)
	}
	return batches
}

// quarantined returns the contents of every file in dir's quarantine
// folder.
func quarantined(t testing.TB, dir string) [][]byte {
	t.Helper()
	entries, err := os.ReadDir(filepath.Join(dir, quarantineDirName))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, quarantineDirName, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// checkNothingLost checks the recovery invariant for a log whose batches
// were written as want: every batch is either readable, byte for byte at
// its offset, or (if damaged is set for it) its damaged bytes are in the
// quarantine folder; readable batches are in offset order; the log then
// takes an append right after its last batch. It returns the recovered
// batches.
func checkNothingLost(t *testing.T, dir string, want [][]byte, damaged map[int][]byte) [][]byte {
	t.Helper()
	l := openTest(t, dir, Config{}, Options{})
	defer l.Close()
	got := readBatchList(t, l)
	q := bytes.Join(quarantined(t, dir), []byte("|"))
	byBase := map[int64][]byte{}
	for _, b := range got {
		byBase[parseHeader(b).baseOffset] = b
	}
	for i, w := range want {
		base := parseHeader(w).baseOffset
		d, isDamaged := damaged[i]
		if g, ok := byBase[base]; ok && (bytes.Equal(g, w) || isDamaged && bytes.Equal(g, d)) {
			continue // intact, or damaged only where nothing checks
		}
		if !isDamaged {
			t.Fatalf("undamaged batch %d (offset %d) lost; recovered %d batches", i, base, len(got))
		}
		if !bytes.Contains(q, d) && !bytes.Equal(d, make([]byte, len(d))) {
			t.Fatalf("damaged batch %d (offset %d) neither readable nor in quarantine; quarantine has %d bytes, got %d batches", i, base, len(q), len(got))
		}
	}
	var next int64
	if n := len(got); n > 0 {
		h := parseHeader(got[n-1])
		next = h.lastOffset() + 1
	}
	if l.HighWatermark() != next {
		t.Fatalf("hwm %d, last batch ends at %d", l.HighWatermark(), next)
	}
	if _, res := mustAppend(t, l, batch(1)); res.BaseOffset != next {
		t.Fatalf("append at %d, want %d", res.BaseOffset, next)
	}
	return got
}

// TestCorruptByteKeepsOtherBatches flips one byte anywhere in a segment:
// only the batch holding it may leave the log (into quarantine), and not
// even that one when the byte is in its base offset (restamped from its
// neighbours) or its partition leader epoch (not checked).
func TestCorruptByteKeepsOtherBatches(t *testing.T) {
	src := t.TempDir()
	batches := writeBatches(t, src, Config{}, 6)
	data, err := os.ReadFile(filepath.Join(src, segmentName(0)+logSuffix))
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(5, 6))
	positions := []int{0, 7, 8, 11, 16, 17, 21, 30, 57, 60, len(data) - 1, len(data) - 80}
	for i := 0; i < 60; i++ {
		positions = append(positions, rng.IntN(len(data)))
	}
	for _, p := range positions {
		dir := t.TempDir()
		damaged := bytes.Clone(data)
		damaged[p] ^= 0x5a
		if err := os.WriteFile(filepath.Join(dir, segmentName(0)+logSuffix), damaged, 0o644); err != nil {
			t.Fatal(err)
		}
		hit := keptBatches(batches, p)
		start := len(bytes.Join(batches[:hit], nil))
		t.Logf("flip at %d (batch %d field %d)", p, hit, p-start)
		got := checkNothingLost(t, dir, batches, map[int][]byte{hit: damaged[start : start+len(batches[hit])]})
		rel := p - start
		survives := rel < offBaseOffset+8 || (rel >= offLeaderEpoch && rel < offMagic)
		if survives && len(got) != len(batches) {
			t.Fatalf("flip at %d (field offset %d) lost a batch", p, rel)
		}
		if !survives && len(got) != len(batches)-1 {
			t.Fatalf("flip at %d (field offset %d): %d batches recovered, want %d", p, rel, len(got), len(batches)-1)
		}
		// A second start finds nothing left to do.
		l := openTest(t, dir, Config{}, Options{})
		if r := l.Recovery(); r.Changed() {
			t.Fatalf("flip at %d: second start still repairs: %+v", p, r)
		}
		l.Close()
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

// TestRecoveryKeepsSegmentsAfterCorruption damages a batch header in a
// sealed segment: the damaged batch goes to quarantine, every other batch
// of that segment and every later segment stays readable.
func TestRecoveryKeepsSegmentsAfterCorruption(t *testing.T) {
	for _, field := range []struct {
		name string
		at   int
	}{{"length", offBatchLength + 1}, {"magic", offMagic}, {"records", batchHeaderSize + 3}} {
		t.Run(field.name, func(t *testing.T) {
			dir := t.TempDir()
			batches, bases := multiSegment(t, dir)
			// The second segment's second batch. Its index files go too: a
			// cleanly sealed segment is trusted at start (as in Kafka) and
			// only its batch headers are read, so damage inside records is
			// found only when the segment is verified.
			seg := filepath.Join(dir, segmentName(bases[1])+logSuffix)
			os.Remove(filepath.Join(dir, segmentName(bases[1])+indexSuffix))
			data, _ := os.ReadFile(seg)
			hit := int(bases[1]/2) + 1
			pos := len(batches[hit-1])
			orig := bytes.Clone(data[pos : pos+len(batches[hit])])
			data[pos+field.at] ^= 0x40
			os.WriteFile(seg, data, 0o644)

			got := checkNothingLost(t, dir, batches, map[int][]byte{hit: data[pos : pos+len(orig)]})
			if len(got) != len(batches)-1 {
				t.Fatalf("%d batches recovered, want %d", len(got), len(batches)-1)
			}
			q := bytes.Join(quarantined(t, dir), nil)
			if !bytes.Contains(q, data[pos:pos+len(orig)]) {
				t.Fatal("damaged batch not in quarantine")
			}
		})
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

// TestRecoveryServesAroundMissingSegment loses a middle segment file: the
// later segments stay, reads skip the gap, the gap is reported.
func TestRecoveryServesAroundMissingSegment(t *testing.T) {
	dir := t.TempDir()
	batches, bases := multiSegment(t, dir)
	os.Remove(filepath.Join(dir, segmentName(bases[2])+logSuffix))
	l := openTest(t, dir, Config{}, Options{})
	defer l.Close()
	if l.HighWatermark() != 60 || len(segmentFiles(t, dir)) != len(bases)-1 {
		t.Fatalf("hwm %d with %d segments; want 60 with %d", l.HighWatermark(), len(segmentFiles(t, dir)), len(bases)-1)
	}
	lost := int(bases[3]-bases[2]) / 2
	first := int(bases[2]) / 2
	want := append(slices.Clone(batches[:first]), batches[first+lost:]...)
	if got := readAll(t, l); !bytes.Equal(got, bytes.Join(want, nil)) {
		t.Fatalf("read %d bytes, want %d", len(got), len(bytes.Join(want, nil)))
	}
	// A read inside the gap returns the first batch after it.
	b, err := l.Read(bases[2], 1)
	if err != nil || parseHeader(b).baseOffset != bases[3] {
		t.Fatalf("read in gap: base %d, %v", parseHeader(b).baseOffset, err)
	}
	if r := l.Recovery(); r.OffsetGaps != 1 || r.MissingOffsets != bases[3]-bases[2] {
		t.Fatalf("report %+v", r)
	}
}

// TestRecoveryDistrustsCheckpointBeyondEnd: a log start checkpoint beyond
// the log's end would make every batch unreadable; the data wins.
func TestRecoveryDistrustsCheckpointBeyondEnd(t *testing.T) {
	dir := t.TempDir()
	batches := writeBatches(t, dir, Config{}, 2) // offsets 0..2
	if err := writeCheckpoint(vfs.Default, dir, 99999999); err != nil {
		t.Fatal(err)
	}
	l := openTest(t, dir, Config{}, Options{})
	defer l.Close()
	if l.LogStartOffset() != 0 || l.HighWatermark() != 3 {
		t.Fatalf("start %d hwm %d, want 0 3", l.LogStartOffset(), l.HighWatermark())
	}
	if !bytes.Equal(readAll(t, l), bytes.Join(batches, nil)) {
		t.Fatal("data lost")
	}
	if q := quarantined(t, dir); len(q) != 1 || string(q[0]) != "99999999\n" {
		t.Fatalf("checkpoint not quarantined: %q", q)
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
// bytes. Open must not fail or panic; every original batch whose bytes
// survived the damage must be readable at its offset or kept in the
// quarantine folder; what is readable must be valid batches in offset
// order; the log must take an append after them; and a second Open must
// find nothing more to repair.
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
	f.Add([]byte{0xff, 0xff, 0xff}, uint16(8), true)
	f.Add([]byte{0x7f}, uint16(360), true) // inside the marker's control record
	f.Add([]byte{0, 5}, uint16(362), true) // its key's type
	f.Fuzz(func(t *testing.T, junk []byte, at uint16, overwrite bool) {
		dir := t.TempDir()
		fsys := &faultFS{FS: vfs.Default, noSync: true}
		open := func() *Log {
			l, err := openLog(fsys, dir, Config{}, Options{Logger: quietLogger()})
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			return l
		}
		// Two plain batches, a transactional one and its ABORT marker (a
		// control batch, whose record recovery reads).
		var batches [][]byte
		l := open()
		for i := 0; i < 3; i++ {
			b := batch(2).values(10 * i)
			if i == 2 {
				b = b.txn(1, 0, 0)
			}
			raw, _ := mustAppend(t, l, b)
			batches = append(batches, raw)
		}
		off, err := l.AppendMarker(*abort(1, 0))
		if err != nil {
			t.Fatal(err)
		}
		marker, err := l.Read(off, 1<<20)
		if err != nil {
			t.Fatal(err)
		}
		batches = append(batches, marker)
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		damaged := bytes.Join(batches, nil)
		if overwrite {
			p := int(at) % (len(damaged) + 1)
			end := p + len(junk)
			if end > len(damaged) {
				damaged = append(damaged, make([]byte, end-len(damaged))...)
			}
			copy(damaged[p:], junk)
		} else {
			damaged = append(damaged, junk...)
		}
		if err := os.WriteFile(filepath.Join(dir, segmentName(0)+logSuffix), damaged, 0o644); err != nil {
			t.Fatal(err)
		}

		l = open()
		got := readBatchList(t, l)
		q := bytes.Join(quarantined(t, dir), []byte("|"))
		var prevEnd int64
		byBase := map[int64][]byte{}
		for _, b := range got {
			h := parseHeader(b)
			if h.baseOffset < prevEnd {
				t.Fatalf("batch at offset %d after one ending at %d", h.baseOffset, prevEnd)
			}
			prevEnd = h.lastOffset() + 1
			byBase[h.baseOffset] = b
		}
		pos := 0
		for i, b := range batches {
			intact := bytes.Equal(damaged[pos:min(pos+len(b), len(damaged))], b)
			pos += len(b)
			if !intact {
				continue
			}
			if g := byBase[parseHeader(b).baseOffset]; !bytes.Equal(g, b) && !bytes.Contains(q, b) {
				t.Fatalf("intact batch %d neither readable nor quarantined", i)
			}
		}
		if l.HighWatermark() != prevEnd {
			t.Fatalf("hwm %d, recovered batches end at %d", l.HighWatermark(), prevEnd)
		}
		// The marker, if readable where it was written, closed the
		// transaction; else the transaction is open if its batch survived.
		txnBase := parseHeader(batches[2]).baseOffset
		switch lso := l.LastStableOffset(); {
		case sameButEpoch(byBase[off], marker):
			if lso != prevEnd {
				t.Fatalf("marker recovered, LSO %d, want %d", lso, prevEnd)
			}
		case bytes.Equal(byBase[txnBase], batches[2]):
			if lso != txnBase {
				t.Fatalf("transaction recovered without its marker, LSO %d, want %d", lso, txnBase)
			}
		}
		raw, res := mustAppend(t, l, batch(1))
		if res.BaseOffset != prevEnd {
			t.Fatalf("append at %d, want %d", res.BaseOffset, prevEnd)
		}
		if b, err := l.Read(prevEnd, 1<<20); err != nil || !bytes.Equal(b, raw) {
			t.Fatalf("read back after recovery: %v", err)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		l = open()
		defer l.Close()
		if r := l.Recovery(); r.Changed() {
			t.Fatalf("second open repaired again: %+v", r)
		}
		if l.HighWatermark() != prevEnd+1 {
			t.Fatalf("second open: hwm %d, want %d", l.HighWatermark(), prevEnd+1)
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

// TestRecoveryDamagedFirstBatch damages the header of the very first batch
// of the first segment (the case that once cut segment 0 and deleted every
// segment after it): only that batch leaves the log, into quarantine; the
// rest of segment 0 and every later segment stay readable, and the log
// start moves past the lost batch.
func TestRecoveryDamagedFirstBatch(t *testing.T) {
	dir := t.TempDir()
	batches, bases := multiSegment(t, dir)
	seg := filepath.Join(dir, segmentName(bases[0])+logSuffix)
	os.Remove(filepath.Join(dir, segmentName(bases[0])+indexSuffix))
	data, _ := os.ReadFile(seg)
	data[offMagic] = 9
	os.WriteFile(seg, data, 0o644)

	got := checkNothingLost(t, dir, batches, map[int][]byte{0: data[:len(batches[0])]})
	if len(got) != len(batches)-1 {
		t.Fatalf("%d batches recovered, want all but the first (%d)", len(got), len(batches)-1)
	}
	l := openTest(t, dir, Config{}, Options{})
	defer l.Close()
	if start := l.LogStartOffset(); start != 2 {
		t.Fatalf("log start %d, want 2 (after the lost batch)", start)
	}
	if len(segmentFiles(t, dir)) != len(bases) {
		t.Fatalf("%d segment files, want %d", len(segmentFiles(t, dir)), len(bases))
	}
}

// sameButEpoch reports whether two stored batches are equal but for their
// partition leader epoch, a field outside the CRC that damage may change
// without making the batch unreadable (recovery then leaves it out of the
// epoch cache, and the batch, a marker say, still counts).
func sameButEpoch(a, b []byte) bool {
	if len(a) != len(b) || len(a) < offMagic {
		return false
	}
	return bytes.Equal(a[:offLeaderEpoch], b[:offLeaderEpoch]) && bytes.Equal(a[offMagic:], b[offMagic:])
}
