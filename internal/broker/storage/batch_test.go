package storage

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestValidateBatch(t *testing.T) {
	valid := batch(3).encode()
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(valid)) }
	tests := []struct {
		name    string
		batch   []byte
		max     int32
		wantErr error
	}{
		{"valid", valid, 1 << 20, nil},
		{"valid at exactly max size", valid, int32(len(valid)), nil},
		{"empty", nil, 1 << 20, ErrCorruptMessage},
		{"shorter than header", valid[:60], 1 << 20, ErrCorruptMessage},
		{"slice shorter than length field", valid[:len(valid)-1], 1 << 20, ErrCorruptMessage},
		{"slice longer than length field", append(bytes.Clone(valid), 0), 1 << 20, ErrCorruptMessage},
		{"negative length field", edit(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[offBatchLength:], 0xffffffff)
			return b
		}), 1 << 20, ErrCorruptMessage},
		{"magic 1", edit(func(b []byte) []byte { b[offMagic] = 1; return b }), 1 << 20, ErrCorruptMessage},
		{"too large", valid, int32(len(valid) - 1), ErrMessageTooLarge},
		{"bad crc: record byte flipped", edit(func(b []byte) []byte { b[len(b)-1] ^= 0x40; return b }), 1 << 20, ErrCorruptMessage},
		{"bad crc: attributes changed", edit(func(b []byte) []byte { b[offAttributes+1] ^= 1; return b }), 1 << 20, ErrCorruptMessage},
		{"zero records", edit(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[offRecordCount:], 0)
			binary.BigEndian.PutUint32(b[offLastOffsetDelta:], 0xffffffff)
			return recrc(b)
		}), 1 << 20, ErrInvalidRecord},
		{"lastOffsetDelta disagrees with count", edit(func(b []byte) []byte {
			binary.BigEndian.PutUint32(b[offLastOffsetDelta:], 5)
			return recrc(b)
		}), 1 << 20, ErrInvalidRecord},
		{"idempotent with negative sequence", batch(1).idem(7, 0, -1).encode(), 1 << 20, ErrInvalidRecord},
		{"baseOffset and leader epoch are not under the CRC", edit(func(b []byte) []byte {
			binary.BigEndian.PutUint64(b[offBaseOffset:], 99)
			binary.BigEndian.PutUint32(b[offLeaderEpoch:], 7)
			return b
		}), 1 << 20, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, err := validateBatch(tt.batch, tt.max)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("validateBatch = %v, want %v", err, tt.wantErr)
			}
			if err == nil && h.recordCount != 3 && h.recordCount != 1 {
				t.Fatalf("record count %d", h.recordCount)
			}
		})
	}
}

func TestSplitBatches(t *testing.T) {
	a, b, c := batch(1).encode(), batch(2).encode(), batch(3).values(100).encode()
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	tooShort := cat(a, make([]byte, 12))
	binary.BigEndian.PutUint32(tooShort[len(a)+offBatchLength:], 10)
	tests := []struct {
		name    string
		in      []byte
		want    [][]byte
		wantErr error
	}{
		{"empty", nil, nil, nil},
		{"one", a, [][]byte{a}, nil},
		{"three", cat(a, b, c), [][]byte{a, b, c}, nil},
		{"truncated trailing prefix", cat(a, b[:7]), nil, ErrCorruptMessage},
		{"truncated trailing body", cat(a, b[:len(b)-1]), nil, ErrCorruptMessage},
		{"only a prefix", b[:12], nil, ErrCorruptMessage},
		{"length below the v2 header", tooShort, nil, ErrCorruptMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := SplitBatches(tt.in)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("SplitBatches error = %v, want %v", err, tt.wantErr)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %d batches, want %d", len(got), len(tt.want))
			}
			for i := range got {
				if !bytes.Equal(got[i], tt.want[i]) {
					t.Fatalf("batch %d differs", i)
				}
				if cap(got[i]) != len(got[i]) {
					t.Fatalf("batch %d has spare capacity %d: appending would clobber the next", i, cap(got[i])-len(got[i]))
				}
			}
		})
	}
}

// TestStampBatchLogAppendTime checks the LogAppendTime rewrite: the result
// passes our validator (so the new CRC is right) and decodes with kmsg to
// the expected header, records untouched.
func TestStampBatchLogAppendTime(t *testing.T) {
	orig := batch(4).at(5_000).encode()
	b := bytes.Clone(orig)
	stampBatch(b, 1234, 7, 9_999)
	if _, err := validateBatch(b, 1<<20); err != nil {
		t.Fatalf("stamped batch does not validate: %v", err)
	}
	var rb, ob kmsg.RecordBatch
	if err := rb.ReadFrom(b); err != nil {
		t.Fatal(err)
	}
	if err := ob.ReadFrom(orig); err != nil {
		t.Fatal(err)
	}
	if rb.FirstOffset != 1234 || rb.PartitionLeaderEpoch != 7 || rb.MaxTimestamp != 9_999 || rb.Attributes&attrLogAppendTime == 0 {
		t.Fatalf("stamped header: offset %d epoch %d maxTs %d attrs %#x", rb.FirstOffset, rb.PartitionLeaderEpoch, rb.MaxTimestamp, rb.Attributes)
	}
	if rb.FirstTimestamp != ob.FirstTimestamp || rb.NumRecords != 4 || !bytes.Equal(rb.Records, ob.Records) {
		t.Fatal("stamping changed more than the broker-owned fields")
	}
	if uint32(rb.CRC) != batchCRC(b) {
		t.Fatalf("kmsg CRC %#x, computed %#x", uint32(rb.CRC), batchCRC(b))
	}

	// CreateTime: only the offset and epoch change, the CRC stays.
	c := bytes.Clone(orig)
	stampBatch(c, 77, 7, -1)
	if !bytes.Equal(c[offMagic:], orig[offMagic:]) || binary.BigEndian.Uint64(c) != 77 {
		t.Fatal("CreateTime stamp touched CRC-covered bytes")
	}
}

func TestAddSequence(t *testing.T) {
	tests := []struct{ seq, delta, want int32 }{
		{0, 0, 0}, {0, 4, 4}, {2147483646, 1, 2147483647}, {2147483647, 1, 0}, {2147483645, 4, 1},
	}
	for _, tt := range tests {
		if got := addSequence(tt.seq, tt.delta); got != tt.want {
			t.Errorf("addSequence(%d, %d) = %d, want %d", tt.seq, tt.delta, got, tt.want)
		}
	}
}

// TestCountRecords counts the data records of whole batches, not a
// control batch's marker, and stops at bytes that do not frame a batch.
func TestCountRecords(t *testing.T) {
	a, b := batch(1).encode(), batch(3).values(40).encode()
	marker := batch(1).encode()
	binary.BigEndian.PutUint16(marker[offAttributes:], uint16(attrControl|attrTransactional))
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	for _, tt := range []struct {
		name string
		in   []byte
		want int64
	}{
		{"nothing", nil, 0},
		{"one batch", a, 1},
		{"two batches", cat(a, b), 4},
		{"a marker", cat(b, marker, a), 4},
		{"a cut batch at the end", cat(a, b[:len(b)-1]), 1},
		{"a bare prefix", cat(b, a[:20]), 3},
	} {
		if got := CountRecords(tt.in); got != tt.want {
			t.Errorf("%s: %d records, want %d", tt.name, got, tt.want)
		}
	}
}

func FuzzSplitBatches(f *testing.F) {
	a, b := batch(1).encode(), batch(3).values(40).encode()
	f.Add([]byte{})
	f.Add(a)
	f.Add(append(bytes.Clone(a), b...))
	f.Add(append(bytes.Clone(a), b[:30]...))
	f.Add(make([]byte, 12))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, in []byte) {
		got, err := SplitBatches(in)
		counted := CountRecords(in) // never panics, whatever in is
		if err != nil {
			if !errors.Is(err, ErrCorruptMessage) {
				t.Fatalf("error does not wrap ErrCorruptMessage: %v", err)
			}
			return
		}
		var joined []byte
		for _, g := range got {
			if len(g) < batchHeaderSize {
				t.Fatalf("batch of %d bytes", len(g))
			}
			if int64(int32(binary.BigEndian.Uint32(g[offBatchLength:]))) != int64(len(g))-logOverhead {
				t.Fatal("batch length field disagrees with slice")
			}
			joined = append(joined, g...)
			// Validation must not panic on whatever the split produced.
			validateBatch(g, 1<<20)
		}
		if !bytes.Equal(joined, in) {
			t.Fatal("batches do not reassemble the input")
		}
		var want int64
		for _, g := range got {
			if h := parseHeader(g); h.attributes&attrControl == 0 && h.recordCount > 0 {
				want += int64(h.recordCount)
			}
		}
		if counted != want {
			t.Fatalf("CountRecords %d, the split batches hold %d", counted, want)
		}
	})
}
