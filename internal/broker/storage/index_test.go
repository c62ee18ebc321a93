package storage

import (
	"slices"
	"testing"
)

// TestSegIndexCadence checks Kafka's indexing cadence: an entry for the
// first batch that starts more than interval bytes after the previous entry,
// and a time entry only when the running max grew.
func TestSegIndexCadence(t *testing.T) {
	const segBase, interval = 100, 100
	type in struct {
		size, records, maxTs int64
	}
	batches := []in{
		{60, 2, 10}, {60, 1, 30}, {60, 3, 20}, {60, 1, 20}, {60, 1, 40}, {60, 1, -1}, {60, 2, 50},
	}
	x := newSegIndex()
	var pos, off int64 = 0, segBase
	for _, b := range batches {
		x.add(segBase, pos, b.size, off, off+b.records-1, b.maxTs, interval)
		pos += b.size
		off += b.records
	}
	// Batches start at 0,60,...,360 with offsets 100,102,103,106,107,108,109.
	wantOffsets := []offsetEntry{{rel: 3, pos: 120}, {rel: 7, pos: 240}, {rel: 9, pos: 360}}
	if !slices.Equal(x.offsets, wantOffsets) {
		t.Fatalf("offsets = %v, want %v", x.offsets, wantOffsets)
	}
	// At batch 2 the running max is 30 (set by batch 1, last offset 102);
	// at batch 4 it is 40 (batch 4, offset 107); at batch 6 it is 50
	// (batch 6, offsets 109..110).
	wantTimes := []timeEntry{{ts: 30, rel: 2}, {ts: 40, rel: 7}, {ts: 50, rel: 10}}
	if !slices.Equal(x.times, wantTimes) {
		t.Fatalf("times = %v, want %v", x.times, wantTimes)
	}
	if x.maxTs != 50 || x.maxTsOffset != 110 {
		t.Fatalf("max = %d@%d", x.maxTs, x.maxTsOffset)
	}
	x.seal(segBase) // max already indexed: nothing to add
	if len(x.times) != 3 {
		t.Fatalf("seal added a duplicate entry: %v", x.times)
	}
}

func TestSealAddsFinalTimeEntry(t *testing.T) {
	x := newSegIndex()
	x.add(0, 0, 50, 0, 0, 7, 4096)
	if len(x.times) != 0 {
		t.Fatal("no entry expected before the interval")
	}
	x.seal(0)
	if want := []timeEntry{{ts: 7, rel: 0}}; !slices.Equal(x.times, want) {
		t.Fatalf("times = %v, want %v", x.times, want)
	}
}

func TestLookupOffset(t *testing.T) {
	idx := []offsetEntry{{rel: 10, pos: 1000}, {rel: 20, pos: 2000}, {rel: 35, pos: 3000}}
	tests := []struct {
		rel  uint32
		want int64
	}{
		{0, 0}, {9, 0}, {10, 1000}, {19, 1000}, {20, 2000}, {34, 2000}, {35, 3000}, {1 << 30, 3000},
	}
	for _, tt := range tests {
		if got := lookupOffset(idx, tt.rel); got != tt.want {
			t.Errorf("lookupOffset(%d) = %d, want %d", tt.rel, got, tt.want)
		}
	}
	if got := lookupOffset(nil, 5); got != 0 {
		t.Errorf("empty index: %d", got)
	}
}

func TestLookupTime(t *testing.T) {
	idx := []timeEntry{{ts: 100, rel: 4}, {ts: 200, rel: 9}, {ts: 300, rel: 15}}
	tests := []struct {
		ts   int64
		want uint32
	}{
		{-1, 0}, {50, 0}, {100, 0}, {101, 5}, {200, 5}, {250, 10}, {300, 10}, {301, 16},
	}
	for _, tt := range tests {
		if got := lookupTime(idx, tt.ts); got != tt.want {
			t.Errorf("lookupTime(%d) = %d, want %d", tt.ts, got, tt.want)
		}
	}
}

func TestIndexEncoding(t *testing.T) {
	offsets := []offsetEntry{{rel: 1, pos: 100}, {rel: 5, pos: 900}}
	times := []timeEntry{{ts: 10, rel: 0}, {ts: 20, rel: 5}}
	got, err := decodeOffsetIndex(encodeOffsetIndex(offsets), 1000, 10)
	if err != nil || !slices.Equal(got, offsets) {
		t.Fatalf("offset round trip: %v %v", got, err)
	}
	gotT, err := decodeTimeIndex(encodeTimeIndex(times), 10)
	if err != nil || !slices.Equal(gotT, times) {
		t.Fatalf("time round trip: %v %v", gotT, err)
	}
	if got, err := decodeOffsetIndex(nil, 0, 0); err != nil || len(got) != 0 {
		t.Fatalf("empty offset index: %v %v", got, err)
	}

	badOffsets := []struct {
		name     string
		b        []byte
		size, rl int64
	}{
		{"torn entry", encodeOffsetIndex(offsets)[:11], 1000, 10},
		{"position past the segment", encodeOffsetIndex(offsets), 900, 10},
		{"offset past the segment", encodeOffsetIndex(offsets), 1000, 5},
		{"offsets out of order", encodeOffsetIndex([]offsetEntry{{5, 100}, {1, 200}}), 1000, 10},
		{"positions out of order", encodeOffsetIndex([]offsetEntry{{1, 200}, {5, 100}}), 1000, 10},
	}
	for _, tt := range badOffsets {
		if _, err := decodeOffsetIndex(tt.b, tt.size, tt.rl); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
	badTimes := []struct {
		name string
		b    []byte
		rl   int64
	}{
		{"torn entry", encodeTimeIndex(times)[:13], 10},
		{"offset past the segment", encodeTimeIndex(times), 5},
		{"timestamps not increasing", encodeTimeIndex([]timeEntry{{20, 0}, {20, 1}}), 10},
		{"offsets decreasing", encodeTimeIndex([]timeEntry{{10, 3}, {20, 1}}), 10},
		{"negative timestamp", encodeTimeIndex([]timeEntry{{-5, 0}}), 10},
	}
	for _, tt := range badTimes {
		if _, err := decodeTimeIndex(tt.b, tt.rl); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
}
