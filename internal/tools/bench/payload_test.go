package bench

import (
	"bytes"
	"compress/flate"
	"context"
	"math"
	"math/rand/v2"
	"testing"
)

func TestHeaderRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		seq  uint64
		sent int64
	}{
		{0, 0},
		{1, 1},
		{999_999, 1_234_567_890},
		{math.MaxUint64, math.MaxInt64},
		{42, -5}, // a clock read before the base survives the trip
	} {
		v := make([]byte, 100)
		for i := range v {
			v[i] = 0xAA
		}
		PutHeader(v, tc.seq, tc.sent)
		seq, sent, ok := ReadHeader(v)
		if !ok || seq != tc.seq || sent != tc.sent {
			t.Errorf("PutHeader(%d, %d) read back (%d, %d, %v)", tc.seq, tc.sent, seq, sent, ok)
		}
		if !bytes.Equal(v[HeaderSize:], bytes.Repeat([]byte{0xAA}, 100-HeaderSize)) {
			t.Errorf("PutHeader wrote past the header")
		}
	}
}

func TestHeaderLayout(t *testing.T) {
	// Send time first, then sequence, both big endian: other tools may read
	// the send time from the first 8 bytes.
	v := make([]byte, HeaderSize)
	PutHeader(v, 0x0102030405060708, 0x1112131415161718)
	want := []byte{0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 1, 2, 3, 4, 5, 6, 7, 8}
	if !bytes.Equal(v, want) {
		t.Fatalf("header = %x, want %x", v, want)
	}
}

func TestReadHeaderShort(t *testing.T) {
	for n := range HeaderSize {
		if _, _, ok := ReadHeader(make([]byte, n)); ok {
			t.Errorf("ReadHeader accepted a %d-byte value", n)
		}
	}
}

func TestRecordPoolValues(t *testing.T) {
	const n, size = 64, 1024
	p := newRecordPool("t", n, size, 0, rand.NewChaCha8([32]byte{}))
	ctx := context.Background()
	var all []byte
	for range n {
		r, err := p.get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if r.Topic != "t" || len(r.Value) != size || cap(r.Value) != size {
			t.Fatalf("record topic %q len %d cap %d", r.Topic, len(r.Value), cap(r.Value))
		}
		all = append(all, r.Value...)
	}
	// Random values must not compress: a batch of them should stay as big.
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	w.Write(all)
	w.Close()
	if ratio := float64(buf.Len()) / float64(len(all)); ratio < 0.95 {
		t.Errorf("values compress to %.2f of their size; want incompressible", ratio)
	}

	// The pool is empty now: get waits, and gives up with the context.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := p.get(cctx); err == nil {
		t.Fatal("get on an empty pool with a canceled context succeeded")
	}
}

func TestRecordPoolReuseResets(t *testing.T) {
	p := newRecordPool("t", 1, 32, 0, rand.NewChaCha8([32]byte{}))
	r, _ := p.get(context.Background())
	v := r.Value
	r.Partition, r.Offset, r.Key = 3, 99, []byte("k")
	p.put(r)
	r2, _ := p.get(context.Background())
	if r2 != r || &r2.Value[0] != &v[0] {
		t.Fatal("pool did not reuse the record and its value")
	}
	if r2.Partition != 0 || r2.Offset != 0 || r2.Key != nil || r2.Topic != "t" {
		t.Fatalf("reused record not reset: %+v", r2)
	}
}

func TestSeen(t *testing.T) {
	s := newSeen(130)
	for _, seq := range []uint64{0, 63, 64, 129, 64, 200} {
		s.mark(seq)
	}
	if s.unique != 4 || s.dups != 1 || s.invalid != 1 || s.missing() != 126 {
		t.Fatalf("unique %d dups %d invalid %d missing %d", s.unique, s.dups, s.invalid, s.missing())
	}
	if got := s.firstMissing(3); len(got) != 3 || got[0] != 1 || got[1] != 2 || got[2] != 3 {
		t.Fatalf("firstMissing = %v", got)
	}
}
