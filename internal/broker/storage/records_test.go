package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/klauspost/compress/snappy"
	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// encodeCompressed builds a batch of one record per value, record i at
// offset delta i and timestamp ts+i, its records compressed with codec by
// franz-go's compressor (an implementation independent of ours).
func encodeCompressed(values [][]byte, ts int64, codec kgo.CompressionCodec) ([]byte, error) {
	var recs []byte
	for i, v := range values {
		recs = appendRecord(recs, kmsg.Record{TimestampDelta64: int64(i), OffsetDelta: int32(i), Value: v})
	}
	attrs := int16(0)
	if c, err := kgo.DefaultCompressor(codec); err != nil {
		return nil, fmt.Errorf("compressor: %w", err)
	} else if c != nil {
		out, used := c.Compress(new(bytes.Buffer), recs)
		if used < 0 {
			return nil, fmt.Errorf("compress with %v failed", codec)
		}
		recs, attrs = bytes.Clone(out), int16(used)
	}
	return encodeRaw(kmsg.RecordBatch{
		Attributes:      attrs,
		LastOffsetDelta: int32(len(values) - 1),
		FirstTimestamp:  ts,
		MaxTimestamp:    ts + int64(len(values)-1),
		ProducerID:      -1,
		ProducerEpoch:   -1,
		FirstSequence:   -1,
		NumRecords:      int32(len(values)),
		Records:         recs,
	}), nil
}

// appendRecord appends r's encoding with its length computed.
func appendRecord(dst []byte, r kmsg.Record) []byte {
	r.Length = int32(len(r.AppendTo(nil)) - 1) // the zero Length varint is one byte
	return r.AppendTo(dst)
}

// encodeRaw encodes rb as a producer would: magic 2, the length filled in,
// base offset 0, partition leader epoch -1 and a correct CRC.
func encodeRaw(rb kmsg.RecordBatch) []byte {
	rb.Magic, rb.PartitionLeaderEpoch, rb.FirstOffset = 2, -1, 0
	rb.Length = int32(minBatchLength + len(rb.Records))
	raw := rb.AppendTo(nil)
	binary.BigEndian.PutUint32(raw[offCRC:], batchCRC(raw))
	return raw
}

// Raw record building blocks, for records no encoder would write.
func vi(v int32) []byte { return kbin.AppendVarint(nil, v) }
func vl(v int64) []byte { return kbin.AppendVarlong(nil, v) }

// rec joins a record's fields and prefixes their length.
func rec(fields ...[]byte) []byte {
	body := bytes.Join(fields, nil)
	return append(vi(int32(len(body))), body...)
}

// goodRec is record i with a one-byte key and a value, well formed.
func goodRec(i int32) []byte {
	return rec([]byte{0}, vl(int64(i)), vi(i), vi(1), []byte{'k'}, vi(3), []byte("val"), vi(0))
}

// withRecords builds a batch of count records from raw record bytes, its
// CRC right, so that only record validation can refuse it.
func withRecords(count int32, recs ...[]byte) []byte {
	return encodeRaw(kmsg.RecordBatch{
		LastOffsetDelta: count - 1, FirstTimestamp: 1_000, MaxTimestamp: 1_000 + int64(count) - 1,
		ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1, NumRecords: count,
		Records: bytes.Join(recs, nil),
	})
}

// editHeader decodes raw's header, lets f change it, and re-encodes the
// batch with a correct CRC.
func editHeader(raw []byte, f func(rb *kmsg.RecordBatch)) []byte {
	var rb kmsg.RecordBatch
	if err := rb.ReadFrom(raw); err != nil {
		panic(err)
	}
	f(&rb)
	out := encodeRaw(rb)
	if f != nil && rb.FirstOffset != 0 {
		binary.BigEndian.PutUint64(out, uint64(rb.FirstOffset))
	}
	return out
}

// compressed builds a 3-record batch compressed with codec.
func compressed(codec kgo.CompressionCodec) []byte {
	raw, err := encodeCompressed([][]byte{[]byte("one"), []byte("two"), bytes.Repeat([]byte("three"), 50)}, 1_000, codec)
	if err != nil {
		panic(err)
	}
	return raw
}

// xerialBatch is a 3-record batch snappy-compressed with xerial framing, as
// the Java producer writes it, in chunks of at most chunk bytes.
func xerialBatch(chunk int) []byte {
	var recs []byte
	for i := range int32(3) {
		recs = append(recs, goodRec(i)...)
	}
	framed := append(bytes.Clone(xerialMagic), 0, 0, 0, 1, 0, 0, 0, 1)
	for rest := recs; len(rest) > 0; {
		n := min(chunk, len(rest))
		block := snappy.Encode(nil, rest[:n])
		framed = binary.BigEndian.AppendUint32(framed, uint32(len(block)))
		framed = append(framed, block...)
		rest = rest[n:]
	}
	return encodeRaw(kmsg.RecordBatch{
		Attributes: codecSnappy, LastOffsetDelta: 2, FirstTimestamp: 1_000, MaxTimestamp: 1_002,
		ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1, NumRecords: 3, Records: framed,
	})
}

// TestValidateProduced has one row per poison batch: each is built with
// kmsg (or by hand where no encoder would write it) with a correct CRC, so
// only the produced-batch validation can refuse it.
func TestValidateProduced(t *testing.T) {
	now := int64(1_700_000_000_000)
	three := withRecords(3, goodRec(0), goodRec(1), goodRec(2))
	lz4Raw := compressed(kgo.Lz4Compression())
	lz4Frame := lz4Raw[batchHeaderSize:]
	withLZ4 := func(frame []byte) []byte {
		return editHeader(lz4Raw, func(rb *kmsg.RecordBatch) { rb.Records = frame })
	}
	setAttrs := func(raw []byte, attrs int16) []byte {
		return editHeader(raw, func(rb *kmsg.RecordBatch) { rb.Attributes = attrs })
	}
	tests := []struct {
		name     string
		batch    []byte
		cfg      Config
		wantErr  error
		reason   string
		contains string
	}{
		{name: "valid uncompressed", batch: three},
		{name: "valid from kmsg records", batch: batch(5).values(300).encode()},
		{name: "valid gzip", batch: compressed(kgo.GzipCompression())},
		{name: "valid snappy block", batch: compressed(kgo.SnappyCompression())},
		{name: "valid snappy xerial one chunk", batch: xerialBatch(1 << 10)},
		{name: "valid snappy xerial several chunks", batch: xerialBatch(7)},
		{name: "valid lz4", batch: lz4Raw},
		{name: "valid zstd", batch: compressed(kgo.ZstdCompression())},
		{name: "valid null key and value, headers", batch: withRecords(1,
			rec([]byte{0}, vl(0), vi(0), vi(-1), vi(-1), vi(2), vi(1), []byte("h"), vi(-1), vi(2), []byte("h2"), vi(1), []byte("v")))},
		{name: "valid timestamp -1 (none) outside any window", batch: withRecords(1,
			rec([]byte{0}, vl(-1_001), vi(0), vi(-1), vi(-1), vi(0))), cfg: Config{TimestampBeforeMaxMs: -1}},

		// The poison batches.
		{name: "record count above the records", batch: editHeader(three, func(rb *kmsg.RecordBatch) { rb.NumRecords, rb.LastOffsetDelta = 4, 3 }),
			wantErr: ErrInvalidRecord, reason: ReasonRecords, contains: "record 3"},
		{name: "record count below the records", batch: editHeader(three, func(rb *kmsg.RecordBatch) { rb.NumRecords, rb.LastOffsetDelta = 2, 1 }),
			wantErr: ErrInvalidRecord, reason: ReasonRecords, contains: "bytes remain after its 2 records"},
		{name: "NumRecords 2^31-1", batch: editHeader(three, func(rb *kmsg.RecordBatch) { rb.NumRecords, rb.LastOffsetDelta = math.MaxInt32, math.MaxInt32-1 }),
			wantErr: ErrInvalidRecord, reason: ReasonHeader, contains: "2147483647 records"},
		{name: "garbage record bytes", batch: withRecords(2, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x13, 0x37, 0x42}, bytes.Repeat([]byte{0xa5}, 20)),
			wantErr: ErrInvalidRecord, reason: ReasonRecords},
		{name: "gzip flag on plain records", batch: setAttrs(three, codecGzip),
			wantErr: ErrCorruptMessage, reason: ReasonDecompress, contains: "gzip"},
		{name: "snappy flag on plain records", batch: setAttrs(three, codecSnappy), wantErr: ErrCorruptMessage, reason: ReasonDecompress},
		{name: "lz4 flag on plain records", batch: setAttrs(three, codecLZ4), wantErr: ErrCorruptMessage, reason: ReasonDecompress},
		{name: "zstd flag on plain records", batch: setAttrs(three, codecZstd), wantErr: ErrCorruptMessage, reason: ReasonDecompress},
		{name: "codec 5", batch: setAttrs(three, 5), wantErr: ErrCorruptMessage, reason: ReasonAttributes, contains: "codec 5"},
		{name: "codec 7", batch: setAttrs(three, 7), wantErr: ErrCorruptMessage, reason: ReasonAttributes, contains: "codec 7"},
		{name: "control bit from a client", batch: setAttrs(three, attrControl),
			wantErr: ErrInvalidRecord, reason: ReasonControl, contains: "not allowed to write control records"},
		{name: "transactional bit", batch: setAttrs(three, attrTransactional), wantErr: ErrInvalidRecord, reason: ReasonTransactional},
		{name: "delete horizon bit", batch: setAttrs(three, 0x40), wantErr: ErrInvalidRecord, reason: ReasonAttributes},
		{name: "unused attribute bit", batch: setAttrs(three, 0x100), wantErr: ErrInvalidRecord, reason: ReasonAttributes},

		// Header fields.
		{name: "base offset not 0", batch: editHeader(three, func(rb *kmsg.RecordBatch) { rb.FirstOffset = 5 }),
			wantErr: ErrInvalidRecord, reason: ReasonHeader, contains: "should be 0"},
		{name: "idempotent with epoch -1", batch: batch(1).idem(3, -1, 0).encode(), wantErr: ErrInvalidRecord, reason: ReasonHeader},
		{name: "idempotent with sequence -1", batch: batch(1).idem(3, 0, -1).encode(), wantErr: ErrInvalidRecord, reason: ReasonHeader},
		{name: "lastOffsetDelta disagrees with count", batch: editHeader(three, func(rb *kmsg.RecordBatch) { rb.LastOffsetDelta = 7 }),
			wantErr: ErrInvalidRecord, reason: ReasonHeader},
		{name: "bad CRC", batch: func() []byte { b := bytes.Clone(three); b[len(b)-1] ^= 1; return b }(),
			wantErr: ErrCorruptMessage, reason: ReasonCRC},
		{name: "too large", batch: three, cfg: Config{MaxMessageBytes: 50}, wantErr: ErrMessageTooLarge, reason: ReasonTooLarge},

		// Records.
		{name: "offset deltas out of order", batch: withRecords(2, goodRec(1), goodRec(0)),
			wantErr: ErrInvalidRecord, reason: ReasonRecords, contains: "offset delta 1, want 0"},
		{name: "offset deltas not from 0", batch: withRecords(2, goodRec(1), goodRec(2)), wantErr: ErrInvalidRecord, reason: ReasonRecords},
		{name: "record length not a varint", batch: withRecords(1, []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, make([]byte, 6)),
			wantErr: ErrInvalidRecord, reason: ReasonRecords, contains: "length is not a valid varint"},
		{name: "negative record length", batch: withRecords(1, vi(-3), goodRec(0)), wantErr: ErrInvalidRecord, reason: ReasonRecords, contains: "length -3"},
		{name: "record length past the end", batch: withRecords(1, vi(500), []byte{0, 0, 0, 0, 0, 0, 0}), wantErr: ErrInvalidRecord, reason: ReasonRecords},
		{name: "empty record", batch: withRecords(1, vi(0), make([]byte, 6)), wantErr: ErrInvalidRecord, reason: ReasonRecords, contains: "empty record"},
		{name: "fields shorter than the length", batch: withRecords(1, rec([]byte{0}, vl(0), vi(0), vi(-1), vi(-1), vi(0), []byte{9, 9})),
			wantErr: ErrInvalidRecord, reason: ReasonRecords, contains: "2 bytes left"},
		{name: "timestamp delta not a varlong", batch: withRecords(1, rec([]byte{0}, bytes.Repeat([]byte{0xff}, 10), []byte{0x7f}, vi(0), vi(-1), vi(-1), vi(0))),
			wantErr: ErrInvalidRecord, reason: ReasonRecords, contains: "timestamp delta"},
		{name: "key length -2", batch: withRecords(1, rec([]byte{0}, vl(0), vi(0), vi(-2), vi(-1), vi(0))),
			wantErr: ErrInvalidRecord, reason: ReasonRecords, contains: "invalid key length -2"},
		{name: "value length -5", batch: withRecords(1, rec([]byte{0}, vl(0), vi(0), vi(-1), vi(-5), vi(0))),
			wantErr: ErrInvalidRecord, reason: ReasonRecords, contains: "invalid value length -5"},
		{name: "key longer than the record", batch: withRecords(1, rec([]byte{0}, vl(0), vi(0), vi(40), []byte("k"), vi(-1), vi(0))),
			wantErr: ErrInvalidRecord, reason: ReasonRecords, contains: "key length 40"},
		{name: "negative header count", batch: withRecords(1, rec([]byte{0}, vl(0), vi(0), vi(-1), vi(-1), vi(-1))),
			wantErr: ErrInvalidRecord, reason: ReasonRecords, contains: "header count -1"},
		{name: "header count beyond the record", batch: withRecords(1, rec([]byte{0}, vl(0), vi(0), vi(-1), vi(-1), vi(1000), vi(0), vi(0))),
			wantErr: ErrInvalidRecord, reason: ReasonRecords, contains: "header count 1000"},
		{name: "null header key", batch: withRecords(1, rec([]byte{0}, vl(0), vi(0), vi(-1), vi(-1), vi(1), vi(-1), vi(-1))),
			wantErr: ErrInvalidRecord, reason: ReasonRecords, contains: "header 0 key length -1"},
		{name: "header value length -2", batch: withRecords(1, rec([]byte{0}, vl(0), vi(0), vi(-1), vi(-1), vi(1), vi(1), []byte("h"), vi(-2))),
			wantErr: ErrInvalidRecord, reason: ReasonRecords, contains: "header 0 value length -2"},

		// Compressed data.
		{name: "lz4 frame truncated", batch: withLZ4(lz4Frame[:len(lz4Frame)-6]), wantErr: ErrCorruptMessage, reason: ReasonDecompress},
		{name: "two lz4 frames", batch: withLZ4(append(bytes.Clone(lz4Frame), lz4Frame...)),
			wantErr: ErrCorruptMessage, reason: ReasonDecompress, contains: "after the LZ4 frame"},
		{name: "lz4 dependent blocks", batch: withLZ4(func() []byte { f := bytes.Clone(lz4Frame); f[4] &^= 0x20; return f }()),
			wantErr: ErrCorruptMessage, reason: ReasonDecompress, contains: "independent blocks"},
		{name: "xerial chunk length past the end", batch: editHeader(xerialBatch(64), func(rb *kmsg.RecordBatch) {
			binary.BigEndian.PutUint32(rb.Records[16:], 1<<20)
		}), wantErr: ErrCorruptMessage, reason: ReasonDecompress},
		{name: "snappy block claiming 1 GiB", batch: editHeader(three, func(rb *kmsg.RecordBatch) {
			rb.Attributes, rb.Records = codecSnappy, append(binary.AppendUvarint(nil, 1<<30), 0)
		}), wantErr: ErrCorruptMessage, reason: ReasonDecompress, contains: "inflate past"},
		{name: "compressed records with a wrong count", batch: editHeader(compressed(kgo.ZstdCompression()), func(rb *kmsg.RecordBatch) {
			rb.NumRecords, rb.LastOffsetDelta = 2, 1
		}), wantErr: ErrInvalidRecord, reason: ReasonRecords},

		// Timestamps.
		{name: "timestamp over an hour ahead", batch: batch(2).at(now + 3_600_001).encode(),
			wantErr: ErrInvalidTimestamp, reason: ReasonTimestamp, contains: "out of range"},
		{name: "timestamp just within an hour ahead", batch: batch(1).at(now + 3_600_000).encode()},
		{name: "timestamp ahead with after.max.ms raised", batch: batch(1).at(now + 7_200_000).encode(), cfg: Config{TimestampAfterMaxMs: 7_200_000}},
		{name: "timestamp older than before.max.ms", batch: batch(1).at(now - 60_001).encode(), cfg: Config{TimestampBeforeMaxMs: 60_000},
			wantErr: ErrInvalidTimestamp, reason: ReasonTimestamp},
		{name: "timestamp in the past with no difference allowed", batch: batch(1).at(now - 1).encode(), cfg: Config{TimestampBeforeMaxMs: -1},
			wantErr: ErrInvalidTimestamp, reason: ReasonTimestamp},
		{name: "timestamps ignored on a LogAppendTime topic", batch: batch(1).at(now + 9e9).encode(), cfg: Config{LogAppendTime: true}},
		{name: "LogAppendTime bit on a LogAppendTime topic", batch: setAttrs(three, attrLogAppendTime), cfg: Config{LogAppendTime: true},
			wantErr: ErrInvalidTimestamp, reason: ReasonTimestamp, contains: "LogAppendTime"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg.withDefaults()
			b := bytes.Clone(tt.batch)
			_, _, err := validateProduced(b, &cfg, now)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("refused a valid batch: %v", err)
				}
				checkDecodes(t, b)
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("error %v, want %v", err, tt.wantErr)
			}
			var be *BatchError
			if !errors.As(err, &be) || be.Reason != tt.reason {
				t.Fatalf("error %v: reason %q, want %q", err, reasonOf(err), tt.reason)
			}
			if !strings.Contains(err.Error(), tt.contains) {
				t.Fatalf("error %q does not say %q", err, tt.contains)
			}
			if tt.wantErr == ErrInvalidTimestamp && len(be.Records) == 0 {
				t.Fatal("timestamp error without record errors")
			}
		})
	}
}

func reasonOf(err error) string {
	var be *BatchError
	if errors.As(err, &be) {
		return be.Reason
	}
	return "(not a BatchError)"
}

// TestValidateProducedTimestampRecordErrors checks that every record whose
// timestamp is out of range is listed, by index, as Kafka's LogValidator
// lists them.
func TestValidateProducedTimestampRecordErrors(t *testing.T) {
	now := int64(1_700_000_000_000)
	// Records at now-2000+i*1000: 0 and 1 are too old, 2 and 3 are not.
	b := editHeader(batch(4).at(now-2_000).encode(), func(rb *kmsg.RecordBatch) {
		var recs []byte
		for i := range int32(4) {
			recs = appendRecord(recs, kmsg.Record{TimestampDelta64: int64(i) * 1_000, OffsetDelta: i, Value: []byte("v")})
		}
		rb.Records, rb.MaxTimestamp = recs, now+1_000
	})
	cfg := Config{TimestampBeforeMaxMs: 500}.withDefaults()
	_, _, err := validateProduced(b, &cfg, now)
	var be *BatchError
	if !errors.As(err, &be) || !errors.Is(err, ErrInvalidTimestamp) {
		t.Fatalf("error %v, want an INVALID_TIMESTAMP BatchError", err)
	}
	if len(be.Records) != 2 || be.Records[0].Index != 0 || be.Records[1].Index != 1 {
		t.Fatalf("record errors %+v, want records 0 and 1", be.Records)
	}
}

// TestValidateProducedFixesMaxTimestamp checks the header rewrite for
// CreateTime topics: a max timestamp that disagrees with the records, or a
// LogAppendTime bit from a producer, is replaced by the records' max with a
// correct CRC, as Kafka's LogValidator does; a right one is left alone.
func TestValidateProducedFixesMaxTimestamp(t *testing.T) {
	cfg := Config{}.withDefaults()
	for _, tt := range []struct {
		name  string
		edit  func(rb *kmsg.RecordBatch)
		write bool
	}{
		{"consistent", func(*kmsg.RecordBatch) {}, false},
		{"max timestamp in the future", func(rb *kmsg.RecordBatch) { rb.MaxTimestamp = 9e12 }, true},
		{"max timestamp too small", func(rb *kmsg.RecordBatch) { rb.MaxTimestamp = 0 }, true},
		{"LogAppendTime bit", func(rb *kmsg.RecordBatch) { rb.Attributes |= attrLogAppendTime }, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			orig := editHeader(batch(3).at(5_000).encode(), tt.edit)
			b := bytes.Clone(orig)
			h, _, err := validateProduced(b, &cfg, 6_000)
			if err != nil {
				t.Fatal(err)
			}
			if h.maxTimestamp != 5_002 || binary.BigEndian.Uint64(b[offMaxTimestamp:]) != 5_002 || h.attributes&attrLogAppendTime != 0 {
				t.Fatalf("max timestamp %d (header %d), attributes %#x", h.maxTimestamp, binary.BigEndian.Uint64(b[offMaxTimestamp:]), h.attributes)
			}
			if _, err := validateBatch(b, 1<<20); err != nil {
				t.Fatalf("rewritten batch: %v", err)
			}
			if !tt.write && !bytes.Equal(b, orig) {
				t.Fatal("a consistent batch was rewritten")
			}
		})
	}
}

// checkDecodes decodes an accepted batch with franz-go (kmsg, and kgo's
// decompressor) as a consumer would and checks it yields every record with
// the offset deltas 0..n-1.
func checkDecodes(t testing.TB, raw []byte) {
	t.Helper()
	var rb kmsg.RecordBatch
	if err := rb.ReadFrom(raw); err != nil {
		t.Fatalf("kmsg cannot decode an accepted batch: %v", err)
	}
	recs := rb.Records
	if codec := kgo.CompressionCodecType(rb.Attributes & 7); codec != kgo.CodecNone {
		var err error
		if recs, err = kgo.DefaultDecompressor().Decompress(recs, codec); err != nil {
			t.Fatalf("kgo cannot decompress an accepted batch: %v", err)
		}
	}
	for i := range rb.NumRecords {
		length, n := kbin.Varint(recs)
		if n <= 0 || length < 0 || int(length) > len(recs)-n {
			t.Fatalf("record %d: length %d does not frame", i, length)
		}
		var r kmsg.Record
		if err := r.ReadFrom(recs[:n+int(length)]); err != nil {
			t.Fatalf("kmsg cannot decode record %d: %v", i, err)
		}
		if r.OffsetDelta != i {
			t.Fatalf("record %d has offset delta %d", i, r.OffsetDelta)
		}
		recs = recs[n+int(length):]
	}
	if len(recs) != 0 {
		t.Fatalf("%d bytes after the records", len(recs))
	}
}

// kgoCodec pairs franz-go's codec with Kafka's id, for seeds.
type kgoCodec struct {
	id    int
	codec kgo.CompressionCodec
}

var (
	gzipCodec   = kgoCodec{codecGzip, kgo.GzipCompression()}
	snappyCodec = kgoCodec{codecSnappy, kgo.SnappyCompression()}
	lz4Codec    = kgoCodec{codecLZ4, kgo.Lz4Compression()}
	zstdCodec   = kgoCodec{codecZstd, kgo.ZstdCompression()}
)

// FuzzValidateProduced runs the validator on arbitrary batches whose length
// field and CRC it fixes first (so that the fuzzer reaches the records): it
// never panics, refuses only with a BatchError, and whatever it accepts
// franz-go decodes to every record.
func FuzzValidateProduced(f *testing.F) {
	f.Add(batch(3).values(20).encode())
	f.Add(withRecords(1, rec([]byte{0}, vl(0), vi(0), vi(-1), vi(-1), vi(1), vi(1), []byte("h"), vi(-1))))
	f.Add(xerialBatch(9))
	for _, c := range []kgoCodec{gzipCodec, snappyCodec, lz4Codec, zstdCodec} {
		f.Add(compressed(c.codec))
	}
	f.Add(withRecords(2, goodRec(1), goodRec(0)))
	f.Fuzz(func(t *testing.T, in []byte) {
		if len(in) < batchHeaderSize {
			return
		}
		b := bytes.Clone(in)
		binary.BigEndian.PutUint32(b[offBatchLength:], uint32(len(b)-logOverhead))
		b[offMagic] = magicV2
		binary.BigEndian.PutUint32(b[offCRC:], batchCRC(b))
		cfg := Config{MaxMessageBytes: 1 << 20, TimestampBeforeMaxMs: 1 << 40}.withDefaults()
		_, _, err := validateProduced(b, &cfg, 1<<41)
		if err != nil {
			var be *BatchError
			if !errors.As(err, &be) || be.Reason == "" {
				t.Fatalf("refused without a BatchError: %v", err)
			}
			return
		}
		checkDecodes(t, b)
	})
}

// TestAppendRefusesPoison appends good batches around poison ones: each
// poison batch is refused with a BatchError, assigns no offset, and the log
// reads back exactly the good batches with dense offsets.
func TestAppendRefusesPoison(t *testing.T) {
	l := openTest(t, t.TempDir(), Config{}, Options{})
	defer l.Close()
	three := withRecords(3, goodRec(0), goodRec(1), goodRec(2))
	poison := [][]byte{
		editHeader(three, func(rb *kmsg.RecordBatch) { rb.NumRecords, rb.LastOffsetDelta = math.MaxInt32, math.MaxInt32-1 }),
		editHeader(three, func(rb *kmsg.RecordBatch) { rb.Attributes = codecGzip }),
		editHeader(three, func(rb *kmsg.RecordBatch) { rb.Attributes = 7 }),
		editHeader(three, func(rb *kmsg.RecordBatch) { rb.Attributes = attrControl }),
		withRecords(2, goodRec(0), goodRec(0)),
		withRecords(2, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}, bytes.Repeat([]byte{7}, 20)),
	}
	var want []byte
	for i, p := range poison {
		raw, _ := mustAppend(t, l, batch(2))
		want = append(want, raw...)
		if _, err := l.Append(bytes.Clone(p)); reasonOf(err) == "(not a BatchError)" {
			t.Fatalf("poison %d: Append = %v, want a BatchError", i, err)
		}
	}
	raw, res := mustAppend(t, l, batch(1))
	want = append(want, raw...)
	if res.BaseOffset != int64(2*len(poison)) {
		t.Fatalf("offset after the poison: %d, want %d", res.BaseOffset, 2*len(poison))
	}
	if got := readAll(t, l); !bytes.Equal(got, want) {
		t.Fatal("the log holds more or other than the good batches")
	}
}
