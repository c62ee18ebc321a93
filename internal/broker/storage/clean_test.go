package storage

// Tests of the log cleaner: a model-based test (random produces of keys,
// values and tombstones interleaved with cleaning, restarts and crashes,
// checked against a model after every step), a crash at every file-system
// step of a cleaning, readers during swaps, and the rules one by one.

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/vfs"
	"github.com/klauspost/compress/zstd"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// kv is one record for a keyed test batch; a nil value is a tombstone, a
// nil key a keyless record.
type kv struct{ key, value []byte }

// keyedBatch encodes records with kmsg, zstd-compressed (with klauspost's
// encoder, not the package's) when zstdc is set.
func keyedBatch(t testing.TB, ts int64, recs []kv, zstdc bool, pid int64, seq int32) []byte {
	t.Helper()
	var body []byte
	for i, r := range recs {
		rec := kmsg.Record{TimestampDelta64: int64(i), OffsetDelta: int32(i), Key: r.key, Value: r.value}
		rec.Length = int32(len(rec.AppendTo(nil)) - 1)
		body = rec.AppendTo(body)
	}
	attrs := int16(0)
	if zstdc {
		enc, err := zstd.NewWriter(nil)
		if err != nil {
			t.Fatal(err)
		}
		body = enc.EncodeAll(body, nil)
		enc.Close()
		attrs = codecZstd
	}
	epoch := int16(-1)
	if pid >= 0 {
		epoch = 0
	}
	rb := kmsg.RecordBatch{
		PartitionLeaderEpoch: -1, Magic: 2, Attributes: attrs,
		LastOffsetDelta: int32(len(recs) - 1),
		FirstTimestamp:  ts, MaxTimestamp: ts + int64(len(recs)-1),
		ProducerID: pid, ProducerEpoch: epoch, FirstSequence: seq,
		NumRecords: int32(len(recs)), Records: body,
	}
	if pid < 0 {
		rb.FirstSequence = -1
	}
	rb.Length = int32(minBatchLength + len(body))
	raw := rb.AppendTo(nil)
	binary.BigEndian.PutUint32(raw[offCRC:], crc32.Checksum(raw[offAttributes:], crc32.MakeTable(crc32.Castagnoli)))
	return raw
}

// readRecord is a record as read back.
type readRecord struct {
	offset     int64
	key, value []byte
	tombstone  bool
}

// readRecords reads the whole log from its start and decodes every record,
// failing on anything a consumer could not read.
func readRecords(t testing.TB, l *Log) []readRecord {
	t.Helper()
	var out []readRecord
	for _, raw := range splitAll(t, readAll(t, l)) {
		h := parseHeader(raw)
		if h.attributes&attrControl != 0 {
			continue
		}
		recs, err := batchRecordsDecoded(raw, &h, 1<<30, nil)
		if err != nil {
			t.Fatalf("decode batch at %d: %v", h.baseOffset, err)
		}
		for _, r := range recs {
			var kmr kmsg.Record
			if err := kmr.ReadFrom(r.raw); err != nil {
				t.Fatalf("kmsg cannot read record at %d: %v", h.baseOffset+int64(r.offsetDelta), err)
			}
			out = append(out, readRecord{offset: h.baseOffset + int64(r.offsetDelta), key: kmr.Key, value: kmr.Value, tombstone: kmr.Value == nil})
		}
	}
	return out
}

func splitAll(t testing.TB, b []byte) [][]byte {
	t.Helper()
	batches, err := SplitBatches(b)
	if err != nil {
		t.Fatal(err)
	}
	return batches
}

// cleanModel is what the log must hold: every record produced, by offset.
type cleanModel struct {
	records map[int64]kv
	latest  map[string]int64 // key -> offset of its newest record
	end     int64
}

func newCleanModel() *cleanModel {
	return &cleanModel{records: map[int64]kv{}, latest: map[string]int64{}}
}

func (m *cleanModel) add(base int64, recs []kv) {
	for i, r := range recs {
		off := base + int64(i)
		m.records[off] = r
		if r.key != nil {
			m.latest[string(r.key)] = off
		}
	}
	m.end = base + int64(len(recs))
}

// check compares a read from the start with the model: offsets increase;
// each record read is the one produced at its offset; the newest record of
// every key is there unless it is a tombstone (which may be gone); an older
// record of a key is never there once its tombstone is gone (no
// resurrection); everything from dirtyFrom on is there; and, if compact is
// set, below clean no key appears twice.
func (m *cleanModel) check(t testing.TB, got []readRecord, dirtyFrom, clean int64) {
	t.Helper()
	seen := map[int64]bool{}
	prev := int64(-1)
	keyCount := map[string]int{}
	for _, r := range got {
		if r.offset <= prev {
			t.Fatalf("offset %d after %d", r.offset, prev)
		}
		prev = r.offset
		want, ok := m.records[r.offset]
		if !ok || !bytes.Equal(want.key, r.key) || !bytes.Equal(want.value, r.value) || (want.value == nil) != r.tombstone {
			t.Fatalf("offset %d: read key %q value %q, produced %q %q (known %v)", r.offset, r.key, r.value, want.key, want.value, ok)
		}
		seen[r.offset] = true
		if r.offset < clean && r.key != nil {
			keyCount[string(r.key)]++
			if keyCount[string(r.key)] > 1 {
				t.Fatalf("key %q appears twice below the clean point %d", r.key, clean)
			}
		}
	}
	for k, off := range m.latest {
		if seen[off] || m.records[off].value == nil {
			continue
		}
		t.Fatalf("newest record of key %q (offset %d) is gone", k, off)
	}
	for off, r := range m.records {
		if off >= dirtyFrom && !seen[off] {
			t.Fatalf("record at %d (key %q) in the dirty section is gone", off, r.key)
		}
		if seen[off] && r.key != nil {
			newest := m.latest[string(r.key)]
			if newest != off && m.records[newest].value == nil && !seen[newest] {
				t.Fatalf("record at %d of key %q survives its removed tombstone at %d", off, r.key, newest)
			}
		}
	}
}

// compactConfig is a compacted topic with small segments.
func compactConfig() Config {
	return Config{Policy: PolicyCompact, SegmentBytes: 1200, DeleteRetentionMs: 60_000, MinCleanableDirtyRatio: -1}
}

func TestCleanModel(t *testing.T) {
	for seed := uint64(1); seed <= 12; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { cleanModelRound(t, seed) })
	}
}

func cleanModelRound(t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, seed*7))
	dir := t.TempDir()
	clock := newFakeClock()
	cfg := compactConfig()
	opts := Options{Now: clock.Now, Files: NewFileCache(4)}
	l := openTest(t, dir, cfg, opts)
	defer func() { l.Close() }()
	m := newCleanModel()
	keyMap := int64(minKeyMapBytes)
	if seed%3 == 0 {
		keyMap = 0 // the smallest map: several passes
	}
	for step := 0; step < 120; step++ {
		switch op := rng.IntN(20); {
		case op < 14:
			n := 1 + rng.IntN(4)
			recs := make([]kv, n)
			for i := range recs {
				key := []byte(fmt.Sprintf("k%02d", rng.IntN(12)))
				val := []byte(fmt.Sprintf("v%d-%d", step, i))
				if rng.IntN(8) == 0 {
					val = nil
				}
				recs[i] = kv{key, val}
			}
			raw := keyedBatch(t, clock.Now().UnixMilli(), recs, rng.IntN(2) == 0, -1, 0)
			res, err := l.Append(raw)
			if err != nil {
				t.Fatalf("step %d: append: %v", step, err)
			}
			m.add(res.BaseOffset, recs)
		case op < 17:
			if _, err := l.Clean(context.Background(), CleanOptions{KeyMapBytes: keyMap, Force: true}); err != nil {
				t.Fatalf("step %d: clean: %v", step, err)
			}
		case op == 17:
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			l = openTest(t, dir, cfg, opts)
		case op == 18:
			l.Sync()
			crash(l)
			l = openTest(t, dir, cfg, opts)
		default:
			clock.Add(time.Duration(rng.IntN(90)) * time.Second)
		}
		if l.LogEndOffset() != m.end {
			t.Fatalf("step %d: log end %d, model %d", step, l.LogEndOffset(), m.end)
		}
		st := l.CleanerState()
		m.check(t, readRecords(t, l), st.FirstDirty, st.FirstDirty)
	}
}

// TestCleanRemovesSupersededAndTombstones checks the basic rules with exact
// numbers.
func TestCleanRemovesSupersededAndTombstones(t *testing.T) {
	dir := t.TempDir()
	clock := newFakeClock()
	cfg := compactConfig()
	l := openTest(t, dir, cfg, Options{Now: clock.Now})
	defer l.Close()
	ts := clock.Now().UnixMilli()
	for i := range 30 {
		recs := []kv{{[]byte(fmt.Sprintf("k%d", i%3)), []byte(fmt.Sprintf("v%d", i))}}
		if i == 28 {
			recs[0].value = nil // k1's newest is a tombstone
		}
		if _, err := l.Append(keyedBatch(t, ts, recs, i%2 == 0, -1, 0)); err != nil {
			t.Fatal(err)
		}
	}
	// Roll so that everything is in sealed, fsynced segments.
	clock.Add(8 * 24 * time.Hour)
	if _, err := l.Append(keyedBatch(t, clock.Now().UnixMilli(), []kv{{[]byte("tail"), []byte("x")}}, false, -1, 0)); err != nil {
		t.Fatal(err)
	}
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	sizeBefore := l.Size()
	res, err := l.Clean(context.Background(), CleanOptions{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	got := readRecords(t, l)
	var keys []string
	for _, r := range got {
		keys = append(keys, fmt.Sprintf("%d:%s=%s", r.offset, r.key, r.value))
	}
	// k0's newest is v27, k2's v29, k1's a tombstone at 28 (kept: it was
	// dirty in this pass); tail stays in the active segment.
	want := []string{"27:k0=v27", "28:k1=", "29:k2=v29", "30:tail=x"}
	if fmt.Sprint(keys) != fmt.Sprint(want) {
		t.Fatalf("after clean: %v, want %v", keys, want)
	}
	if res.RecordsRemoved != 27 || l.Size() >= sizeBefore {
		t.Fatalf("removed %d records (want 27), size %d -> %d", res.RecordsRemoved, sizeBefore, l.Size())
	}
	// The next cleaning after delete.retention.ms drops the tombstone.
	clock.Add(2 * time.Minute)
	if _, err := l.Append(keyedBatch(t, clock.Now().UnixMilli(), []kv{{[]byte("tail"), []byte("y")}}, false, -1, 0)); err != nil {
		t.Fatal(err)
	}
	clock.Add(8 * 24 * time.Hour)
	if _, err := l.Append(keyedBatch(t, clock.Now().UnixMilli(), []kv{{[]byte("tail"), []byte("z")}}, false, -1, 0)); err != nil {
		t.Fatal(err)
	}
	l.Sync()
	if _, err := l.Clean(context.Background(), CleanOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	got = readRecords(t, l)
	// tail=x is superseded by tail=y; tail=y stays, since tail=z is in the
	// active segment, which the cleaner never reads.
	if len(got) != 4 || string(got[0].key) != "k0" || string(got[1].key) != "k2" || string(got[2].value) != "y" || string(got[3].value) != "z" {
		t.Fatalf("after tombstone expiry: %+v", got)
	}
	// Offsets are preserved across a restart, gaps and all.
	l.Close()
	l2 := openTest(t, dir, cfg, Options{Now: clock.Now})
	defer l2.Close()
	again := readRecords(t, l2)
	if fmt.Sprint(again) != fmt.Sprint(got) || l2.LogEndOffset() != 33 {
		t.Fatalf("after restart: %+v (end %d), before: %+v", again, l2.LogEndOffset(), got)
	}
	if rep := l2.Recovery(); rep.Changed() || rep.OffsetGaps != 0 {
		t.Fatalf("recovery of a cleaned log changed or saw gaps: %+v", rep)
	}
}

// TestCleanRefusesKeyless checks that a compacted topic refuses records
// without a key, naming each.
func TestCleanRefusesKeyless(t *testing.T) {
	l := openTest(t, t.TempDir(), compactConfig(), Options{})
	defer l.Close()
	_, err := l.Append(keyedBatch(t, 1000, []kv{{[]byte("a"), []byte("1")}, {nil, []byte("2")}}, false, -1, 0))
	var be *BatchError
	if !errors.As(err, &be) || !errors.Is(err, ErrInvalidRecord) || be.Reason != ReasonNoKey || len(be.Records) != 1 || be.Records[0].Index != 1 {
		t.Fatalf("keyless record on a compacted topic: %v (%+v)", err, be)
	}
	if l.LogEndOffset() != 0 {
		t.Fatal("refused batch was written")
	}
}

// TestCleanKeepsIdempotentProducers checks that a producer whose batches
// were all superseded keeps its sequence across a restart (its last batch
// stays, empty).
func TestCleanKeepsIdempotentProducers(t *testing.T) {
	dir := t.TempDir()
	clock := newFakeClock()
	cfg := compactConfig()
	cfg.ProducerIDExpirationMs = int64(30 * 24 * time.Hour / time.Millisecond) // outlive the 8 days below
	l := openTest(t, dir, cfg, Options{Now: clock.Now})
	ts := clock.Now().UnixMilli()
	if _, err := l.Append(keyedBatch(t, ts, []kv{{[]byte("a"), []byte("1")}}, false, 7, 0)); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		if _, err := l.Append(keyedBatch(t, ts, []kv{{[]byte("a"), []byte(fmt.Sprint(i))}}, false, -1, 0)); err != nil {
			t.Fatal(err)
		}
	}
	clock.Add(8 * 24 * time.Hour)
	if _, err := l.Append(keyedBatch(t, clock.Now().UnixMilli(), []kv{{[]byte("b"), []byte("x")}}, false, -1, 0)); err != nil {
		t.Fatal(err)
	}
	l.Sync()
	if _, err := l.Clean(context.Background(), CleanOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	l.Close()
	l = openTest(t, dir, cfg, Options{Now: clock.Now})
	defer l.Close()
	if _, err := l.Append(keyedBatch(t, clock.Now().UnixMilli(), []kv{{[]byte("a"), []byte("next")}}, false, 7, 1)); err != nil {
		t.Fatalf("producer 7's next sequence after cleaning and restart: %v", err)
	}
}

// TestReadersDuringClean reads the log from the start over and over while
// it is cleaned: every read succeeds, every record read is one produced at
// its offset.
func TestReadersDuringClean(t *testing.T) {
	dir := t.TempDir()
	clock := newFakeClock()
	cfg := compactConfig()
	l := openTest(t, dir, cfg, Options{Now: clock.Now, Files: NewFileCache(1)})
	defer l.Close()
	m := newCleanModel()
	for round := range 8 {
		for i := range 40 {
			recs := []kv{{[]byte(fmt.Sprintf("k%d", i%5)), []byte(fmt.Sprintf("r%d-%d", round, i))}}
			res, err := l.Append(keyedBatch(t, clock.Now().UnixMilli(), recs, i%3 == 0, -1, 0))
			if err != nil {
				t.Fatal(err)
			}
			m.add(res.BaseOffset, recs)
		}
		l.Sync()
		var stop atomic.Bool
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		for range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; n < 10_000 && !stop.Load(); n++ {
					for off := l.LogStartOffset(); off < l.HighWatermark(); {
						b, err := l.Read(off, 256)
						if err != nil {
							errs <- fmt.Errorf("read at %d: %w", off, err)
							return
						}
						batches, err := SplitBatches(b)
						if err != nil || len(batches) == 0 {
							errs <- fmt.Errorf("read at %d: %d bytes do not split: %v", off, len(b), err)
							return
						}
						h := parseHeader(batches[len(batches)-1])
						off = h.lastOffset() + 1
					}
				}
			}()
		}
		_, err := l.Clean(context.Background(), CleanOptions{Force: true})
		stop.Store(true)
		wg.Wait()
		close(errs)
		if err != nil {
			t.Fatal(err)
		}
		for err := range errs {
			t.Fatalf("reader during clean: %v", err)
		}
		m.check(t, readRecords(t, l), l.CleanerState().FirstDirty, l.CleanerState().FirstDirty)
	}
}

// crashFS lets the first n mutating file-system calls through and fails
// every one after, as if the process died there: what happened before
// stays, nothing after happens.
type crashFS struct {
	vfs.FS
	left    atomic.Int64
	crashed atomic.Bool
}

var errCrashed = errors.New("simulated crash")

func (c *crashFS) step() error {
	if c.left.Add(-1) < 0 {
		c.crashed.Store(true)
		return errCrashed
	}
	return nil
}

func (c *crashFS) Rename(a, b string) error {
	if err := c.step(); err != nil {
		return err
	}
	return c.FS.Rename(a, b)
}

func (c *crashFS) Remove(p string) error {
	if err := c.step(); err != nil {
		return err
	}
	return c.FS.Remove(p)
}

func (c *crashFS) SyncDir(p string) error {
	if err := c.step(); err != nil {
		return err
	}
	return c.FS.SyncDir(p)
}

func (c *crashFS) OpenFile(name string, flag int, perm os.FileMode) (file, error) {
	if flag&(os.O_CREATE|os.O_TRUNC) != 0 {
		if err := c.step(); err != nil {
			return nil, err
		}
	}
	return c.FS.OpenFile(name, flag, perm)
}

// TestCleanCrashAtEveryStep crashes a cleaning at each of its file-system
// steps in turn and checks, after recovery, that the log holds either the
// old or the new segments, loses nothing, and cleans to the same result.
func TestCleanCrashAtEveryStep(t *testing.T) {
	for n := int64(0); n < 200; n++ {
		dir := t.TempDir()
		clock := newFakeClock()
		cfg := compactConfig()
		l := openTest(t, dir, cfg, Options{Now: clock.Now})
		m := newCleanModel()
		for i := range 60 {
			recs := []kv{{[]byte(fmt.Sprintf("k%d", i%7)), []byte(fmt.Sprintf("v%d", i))}}
			res, err := l.Append(keyedBatch(t, clock.Now().UnixMilli(), recs, i%2 == 1, -1, 0))
			if err != nil {
				t.Fatal(err)
			}
			m.add(res.BaseOffset, recs)
		}
		clock.Add(8 * 24 * time.Hour)
		recs := []kv{{[]byte("tail"), []byte("t")}}
		res, _ := l.Append(keyedBatch(t, clock.Now().UnixMilli(), recs, false, -1, 0))
		m.add(res.BaseOffset, recs)
		l.Sync()
		l.Close()

		cfs := &crashFS{FS: vfs.Default}
		cfs.left.Store(1 << 30)
		cl, err := openLog(cfs, dir, cfg, Options{Now: clock.Now, Logger: quietLogger()})
		if err != nil {
			t.Fatalf("open: %v", err)
		}
		cfs.left.Store(n)
		_, err = cl.Clean(context.Background(), CleanOptions{Force: true})
		crashed := cfs.crashed.Load()
		crash(cl)
		if err != nil && !crashed {
			t.Fatalf("clean failed without a crash: %v", err)
		}

		// The interrupted cleaning may have swapped some groups before
		// its checkpoint: only the uncleanable tail must be untouched.
		l = openTest(t, dir, cfg, Options{Now: clock.Now})
		m.check(t, readRecords(t, l), res.BaseOffset, l.CleanerState().FirstDirty)
		if _, err := l.Clean(context.Background(), CleanOptions{Force: true}); err != nil {
			t.Fatalf("crash after %d steps: clean after recovery: %v", n, err)
		}
		final := readRecords(t, l)
		m.check(t, final, l.CleanerState().FirstDirty, l.CleanerState().FirstDirty)
		if len(final) != 8 {
			t.Fatalf("crash after %d steps: %d records after cleaning, want 8 (7 keys and the tail)", n, len(final))
		}
		leftovers, _ := filepath.Glob(filepath.Join(dir, "*.swap"))
		tmp, _ := filepath.Glob(filepath.Join(dir, "*.tmp"))
		l.Close()
		if len(leftovers)+len(tmp) > 0 {
			t.Fatalf("crash after %d steps: leftovers %v %v", n, leftovers, tmp)
		}
		if !crashed {
			return // the cleaning completed within n steps: every step was crashed at
		}
	}
	t.Fatal("cleaning took more than 200 file-system steps")
}

// fillKeys appends one batch per key for keys [from, to), value v, and
// returns the offset after the last.
func fillKeys(t *testing.T, l *Log, ts int64, from, to int, v string) int64 {
	t.Helper()
	var end int64
	for k := from; k < to; k += 50 {
		var recs []kv
		for i := k; i < min(k+50, to); i++ {
			recs = append(recs, kv{[]byte(fmt.Sprintf("key-%05d", i)), []byte(v)})
		}
		res, err := l.Append(keyedBatch(t, ts, recs, false, -1, 0))
		if err != nil {
			t.Fatal(err)
		}
		end = res.LastOffset + 1
	}
	return end
}

// TestCleanSeveralPasses: a dirty section with more keys than the key map
// holds is cleaned in several passes, to the same result.
func TestCleanSeveralPasses(t *testing.T) {
	clock := newFakeClock()
	cfg := Config{Policy: PolicyCompact, SegmentBytes: 64 << 10}
	l := openTest(t, t.TempDir(), cfg, Options{Now: clock.Now})
	defer l.Close()
	ts := clock.Now().UnixMilli()
	const keys = 4000 // the smallest key map holds 1365
	fillKeys(t, l, ts, 0, keys, "old")
	fillKeys(t, l, ts, 0, keys, "new")
	clock.Add(8 * 24 * time.Hour)
	fillKeys(t, l, clock.Now().UnixMilli(), 0, 1, "tail")
	l.Sync()
	res, err := l.Clean(context.Background(), CleanOptions{Force: true})
	if err != nil {
		t.Fatal(err)
	}
	if res.Passes < 3 {
		t.Fatalf("%d passes for %d keys, %d of which fit the key map", res.Passes, 2*keys, minKeyMapBytes/keyMapEntryBytes)
	}
	got := readRecords(t, l)
	seen := map[string]string{}
	for _, r := range got {
		if _, dup := seen[string(r.key)]; dup && r.offset < l.CleanerState().FirstDirty {
			t.Fatalf("key %s twice below the clean point", r.key)
		}
		seen[string(r.key)] = string(r.value)
	}
	for k := range keys {
		if v := seen[fmt.Sprintf("key-%05d", k)]; v != "new" && !(k == 0 && v == "tail") {
			t.Fatalf("key %d: newest %q", k, v)
		}
	}
	if len(got) > keys+1 {
		t.Fatalf("%d records after cleaning %d keys", len(got), keys)
	}
}

// TestCleanerStateDue checks when a log is due: the dirty ratio against
// min.cleanable.dirty.ratio, max.compaction.lag.ms overriding it, and
// min.compaction.lag.ms keeping young segments out.
func TestCleanerStateDue(t *testing.T) {
	for _, tc := range []struct {
		name        string
		cfg         Config
		age         time.Duration // of the records when the state is read
		due         bool
		dirtyBefore bool // some bytes are cleanable
	}{
		{"ratio reached", Config{MinCleanableDirtyRatio: 0.5}, time.Hour, true, true},
		{"ratio not reached", Config{MinCleanableDirtyRatio: 0.99}, time.Hour, true, true},
		{"too young for min lag", Config{MinCompactionLagMs: int64(2 * time.Hour / time.Millisecond)}, time.Hour, false, false},
		{"old enough for min lag", Config{MinCompactionLagMs: int64(30 * time.Minute / time.Millisecond)}, time.Hour, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clock := newFakeClock()
			cfg := tc.cfg
			cfg.Policy, cfg.SegmentBytes = PolicyCompact, 4096
			l := openTest(t, t.TempDir(), cfg, Options{Now: clock.Now})
			defer l.Close()
			fillKeys(t, l, clock.Now().UnixMilli(), 0, 400, "v")
			clock.Add(tc.age)
			l.Sync()
			st := l.CleanerState()
			if (st.DirtyBytes > 0) != tc.dirtyBefore {
				t.Fatalf("dirty bytes %d", st.DirtyBytes)
			}
			// With nothing cleaned yet every cleanable byte is dirty:
			// ratio 1, so even 0.99 is reached.
			if st.Due != tc.due {
				t.Fatalf("due %v, want %v (%+v)", st.Due, tc.due, st)
			}
		})
	}
	// After a cleaning, a little new dirt is below a high ratio; an old
	// record makes it due anyway with max.compaction.lag.ms.
	for _, maxLag := range []int64{0, 60_000} {
		clock := newFakeClock()
		cfg := Config{Policy: PolicyCompact, SegmentBytes: 4096, MinCleanableDirtyRatio: 0.9, MaxCompactionLagMs: maxLag}
		l := openTest(t, t.TempDir(), cfg, Options{Now: clock.Now})
		fillKeys(t, l, clock.Now().UnixMilli(), 0, 400, "v")
		l.Sync()
		if _, err := l.Clean(context.Background(), CleanOptions{Force: true}); err != nil {
			t.Fatal(err)
		}
		fillKeys(t, l, clock.Now().UnixMilli(), 400, 460, "v")
		l.Sync()
		clock.Add(2 * time.Minute)
		st := l.CleanerState()
		if st.DirtyRatio <= 0 || st.DirtyRatio >= 0.9 || st.Due != (maxLag > 0) {
			t.Fatalf("max.compaction.lag.ms %d: %+v", maxLag, st)
		}
		l.Close()
	}
}

// TestOffsetForTimeAcrossGaps: ListOffsets by timestamp on a cleaned log
// finds the first surviving record at or after the time.
func TestOffsetForTimeAcrossGaps(t *testing.T) {
	clock := newFakeClock()
	l := openTest(t, t.TempDir(), compactConfig(), Options{Now: clock.Now})
	defer l.Close()
	base := clock.Now().UnixMilli()
	for i := range 20 {
		// key a at even times, b at odd: a's old records go.
		key := "a"
		if i%2 == 1 {
			key = "b"
		}
		if _, err := l.Append(keyedBatch(t, base+int64(i)*1000, []kv{{[]byte(key), []byte(fmt.Sprint(i))}}, false, -1, 0)); err != nil {
			t.Fatal(err)
		}
	}
	clock.Add(8 * 24 * time.Hour)
	l.Append(keyedBatch(t, clock.Now().UnixMilli(), []kv{{[]byte("c"), []byte("x")}}, false, -1, 0))
	l.Sync()
	if _, err := l.Clean(context.Background(), CleanOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	// Left: a at offset 18 (ts +18s), b at 19 (+19s), c at 20.
	off, ts, err := l.OffsetForTime(base + 5000)
	if err != nil || off != 18 || ts != base+18000 {
		t.Fatalf("offset for +5s: %d at %d (%v), want 18 at +18s", off, ts-base, err)
	}
	b, err := l.Read(3, 1<<20)
	if err != nil {
		t.Fatalf("read inside a gap: %v", err)
	}
	if h := parseHeader(b); h.lastOffset() < 3 {
		t.Fatalf("read at 3 returned a batch ending at %d", h.lastOffset())
	}
}

// TestReadStepsOverEmptyBatches: a read that lands on batches the cleaner
// emptied goes on to the next batch with records, so that a client that
// refetches an offset whose response had no record (kafkajs) moves on.
func TestReadStepsOverEmptyBatches(t *testing.T) {
	clock := newFakeClock()
	l := openTest(t, t.TempDir(), compactConfig(), Options{Now: clock.Now})
	defer l.Close()
	ts := clock.Now().UnixMilli()
	// Segments of superseded records only, then the newest of each key.
	for i := range 40 {
		if _, err := l.Append(keyedBatch(t, ts, []kv{{[]byte(fmt.Sprint("k", i%4)), []byte("old")}}, false, -1, 0)); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 4 {
		l.Append(keyedBatch(t, ts, []kv{{[]byte(fmt.Sprint("k", i)), []byte("new")}}, false, -1, 0))
	}
	clock.Add(8 * 24 * time.Hour)
	l.Append(keyedBatch(t, clock.Now().UnixMilli(), []kv{{[]byte("tail"), []byte("x")}}, false, -1, 0))
	l.Sync()
	if _, err := l.Clean(context.Background(), CleanOptions{Force: true}); err != nil {
		t.Fatal(err)
	}
	// Every read from any offset returns a record, or is at the end.
	for off := int64(0); off < l.HighWatermark(); off++ {
		b, err := l.Read(off, 1)
		if err != nil {
			t.Fatalf("read at %d: %v", off, err)
		}
		if _, empty := emptyBatches(b); empty {
			t.Fatalf("read at %d returned only empty batches", off)
		}
	}
}
