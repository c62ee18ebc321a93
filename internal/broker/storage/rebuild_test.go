package storage

// Tests of batch rebuilding: compression.type recompressing on write (read
// back with independent decoders), segment rolls by segment.index.bytes and
// jitter, and fuzz targets for the cleaner's batch filter and for the
// recovery of swap files.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// independentInflate decompresses with the libraries directly (snappy's
// xerial framing by hand), not through the package's decompress.
func independentInflate(t *testing.T, codec int8, b []byte) []byte {
	t.Helper()
	var r io.Reader
	switch codec {
	case codecNone:
		return b
	case codecGzip:
		gr, err := gzip.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		r = gr
	case codecLZ4:
		r = lz4.NewReader(bytes.NewReader(b))
	case codecZstd:
		d, err := zstd.NewReader(nil)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		out, err := d.DecodeAll(b, nil)
		if err != nil {
			t.Fatalf("zstd: %v", err)
		}
		return out
	case codecSnappy:
		if !bytes.HasPrefix(b, xerialMagic) {
			t.Fatal("snappy output is not xerial-framed as Kafka's Java producer writes it")
		}
		out, err := unsnappy(nil, b, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	out, err := io.ReadAll(r)
	if err != nil {
		t.Fatalf("codec %d: %v", codec, err)
	}
	return out
}

func TestCompressionTypeRecompresses(t *testing.T) {
	for _, tc := range []struct {
		topic Compression
		codec int8
	}{
		{CompressionNone, codecNone}, {CompressionGzip, codecGzip}, {CompressionSnappy, codecSnappy},
		{CompressionLZ4, codecLZ4}, {CompressionZstd, codecZstd},
	} {
		t.Run(codecNames[tc.codec], func(t *testing.T) {
			l := openTest(t, t.TempDir(), Config{Compression: tc.topic, CompressionLevel: 3}, Options{})
			defer l.Close()
			recs := []kv{{[]byte("a"), bytes.Repeat([]byte("x"), 300)}, {nil, []byte("y")}, {[]byte("c"), nil}}
			for _, zstdIn := range []bool{false, true} {
				if _, err := l.Append(keyedBatch(t, 1000, recs, zstdIn, -1, 0)); err != nil {
					t.Fatal(err)
				}
			}
			for _, raw := range splitAll(t, readAll(t, l)) {
				h := parseHeader(raw)
				if got := int8(h.attributes & attrCodecMask); got != tc.codec {
					t.Fatalf("stored codec %d, want %d", got, tc.codec)
				}
				plain := independentInflate(t, tc.codec, raw[batchHeaderSize:])
				for i, want := range recs {
					var r kmsg.Record
					n := recordLen(t, plain)
					if err := r.ReadFrom(plain[:n]); err != nil {
						t.Fatal(err)
					}
					plain = plain[n:]
					if !bytes.Equal(r.Key, want.key) || !bytes.Equal(r.Value, want.value) || r.OffsetDelta != int32(i) {
						t.Fatalf("record %d: %q=%q delta %d", i, r.Key, r.Value, r.OffsetDelta)
					}
				}
			}
		})
	}
}

// recordLen is the length of the record at the start of b, prefix included.
func recordLen(t *testing.T, b []byte) int {
	t.Helper()
	length, n := varint(b)
	if n <= 0 {
		t.Fatal("bad record length")
	}
	return n + int(length)
}

func TestSegmentIndexBytesRolls(t *testing.T) {
	// Room for two offset-index entries (and one time-index entry): the
	// segment rolls when a second time entry would be needed.
	l := openTest(t, t.TempDir(), Config{SegmentIndexBytes: 16, IndexIntervalBytes: 1}, Options{})
	defer l.Close()
	for range 6 {
		mustAppend(t, l, batch(1))
	}
	if n := len(l.segs); n < 3 {
		t.Fatalf("%d segments after 6 batches with a 16-byte index limit, want at least 3", n)
	}
}

func TestMaxCompactionLagRolls(t *testing.T) {
	clock := newFakeClock()
	cfg := Config{Policy: PolicyCompact, MaxCompactionLagMs: 1000}
	l := openTest(t, t.TempDir(), cfg, Options{Now: clock.Now})
	defer l.Close()
	ts := clock.Now().UnixMilli()
	l.Append(keyedBatch(t, ts, []kv{{[]byte("a"), []byte("1")}}, false, -1, 0))
	l.Append(keyedBatch(t, ts+2000, []kv{{[]byte("a"), []byte("2")}}, false, -1, 0))
	if len(l.segs) != 2 {
		t.Fatalf("%d segments: max.compaction.lag.ms must roll a compacted topic's segment", len(l.segs))
	}
}

// FuzzCleanFilter feeds arbitrary batches to the cleaner's filter with
// arbitrary key maps: it never panics, and what it writes is a valid batch
// holding a subset of the records at their offsets.
func FuzzCleanFilter(f *testing.F) {
	f.Add(keyedBatch(f, 5, []kv{{[]byte("a"), []byte("1")}, {[]byte("b"), nil}, {nil, []byte("x")}}, false, -1, 0), []byte("a"), int64(3), true)
	f.Add(keyedBatch(f, 5, []kv{{[]byte("a"), []byte("1")}, {[]byte("a"), []byte("2")}}, true, 4, 0), []byte("a"), int64(1), false)
	f.Fuzz(func(t *testing.T, raw []byte, key []byte, newest int64, last bool) {
		if len(raw) < batchHeaderSize {
			return
		}
		h := parseHeader(raw)
		if h.checkFraming() != nil || h.checkCompactedContents() != nil || h.size() != int64(len(raw)) {
			return
		}
		// The cleaner reads verified segments: give the batch a valid CRC.
		raw = recrc(raw)
		h = parseHeader(raw)
		keys := map[keyDigest]int64{}
		if len(key) > 0 {
			keys[md5Sum(key)] = newest
		}
		flt := batchFilter{keys: keys, mapEnd: 1 << 40, retain: map[int64]bool{}, limit: 1 << 20,
			tombstonesGo: func(*segment) bool { return newest%2 == 0 },
			// Producer 1's transactional batches count as aborted.
			aborted: newAbortedSet(txnIndex{{producerID: 1, first: 0, last: 1 << 40}}), txnKept: map[int64]bool{}}
		var res CleanResult
		out, err := flt.filter(raw, &h, nil, last, &res)
		if err != nil || out == nil {
			return
		}
		oh := parseHeader(out)
		if oh.checkFraming() != nil || oh.checkCompactedContents() != nil || batchCRC(out) != oh.crc || oh.size() != int64(len(out)) {
			t.Fatalf("filter wrote an invalid batch: %+v", oh)
		}
		if oh.baseOffset != h.baseOffset || oh.lastOffsetDelta != h.lastOffsetDelta || oh.recordCount > h.recordCount {
			t.Fatalf("filter changed offsets: %+v from %+v", oh, h)
		}
		if h.attributes&attrControl != 0 || bytes.Equal(out, raw) {
			return // kept as is (control batches until transactions land)
		}
		before, err := batchRecordsDecoded(raw, &h, 1<<20, nil)
		if err != nil {
			t.Fatalf("input decoded for the filter but not again: %v", err)
		}
		after, err := batchRecordsDecoded(out, &oh, 1<<20, nil)
		if err != nil {
			t.Fatalf("filter output does not decode: %v", err)
		}
		i := 0
		for _, r := range after {
			for i < len(before) && !bytes.Equal(before[i].raw, r.raw) {
				i++
			}
			if i == len(before) {
				t.Fatalf("filter output holds a record the input did not (or out of order)")
			}
			i++
		}
	})
}

// FuzzSwapRecovery puts an arbitrary file where a cleaner swap would be,
// beside a real segment it claims to replace, and opens the log: Open
// never panics, and the data survives (from the swap if it verifies and
// covers it, else from the old segment).
func FuzzSwapRecovery(f *testing.F) {
	good := keyedBatch(f, 5, []kv{{[]byte("a"), []byte("1")}}, false, -1, 0)
	f.Add(good)
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0xff}, 80))
	f.Fuzz(func(t *testing.T, swap []byte) {
		dir := t.TempDir()
		l := openTest(t, dir, Config{Policy: PolicyCompact}, Options{})
		mustAppend(t, l, batch(3))
		l.Close()
		if err := os.WriteFile(filepath.Join(dir, segmentName(0)+logSuffix+swapSuffix), swap, 0o644); err != nil {
			t.Fatal(err)
		}
		l2, err := Open(dir, Config{Policy: PolicyCompact}, Options{Logger: quietLogger()})
		if err != nil {
			return // refused, not panicked; nothing was deleted (checked below)
		}
		defer l2.Close()
		readAll(t, l2)
		if next, ok, _ := verifySwap(l2.fs, filepath.Join(dir, "missing"), 0); ok || next != 0 {
			t.Fatal("verifySwap of a missing file")
		}
		if l2.LogEndOffset() < 1 {
			t.Fatalf("log end %d after recovering a swap", l2.LogEndOffset())
		}
		if _, err := l2.Clean(context.Background(), CleanOptions{Force: true}); err != nil {
			t.Fatalf("clean after recovery: %v", err)
		}
	})
}

// md5Sum is the key map's digest of key.
func md5Sum(key []byte) keyDigest { return keyDigestOf(key) }

func TestCodecNames(t *testing.T) {
	for c := CompressionNone; c <= CompressionZstd; c++ {
		if id, ok := c.codec(); !ok || codecNames[id] == "" {
			t.Fatal(fmt.Sprint("compression ", c, " has no codec"))
		}
	}
	if _, ok := CompressionProducer.codec(); ok {
		t.Fatal("producer must keep the batch's codec")
	}
}
