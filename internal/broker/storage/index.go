package storage

// This file holds a segment's two sparse indexes, in memory and in their
// on-disk encodings:
//
//   - the offset index maps a batch's base offset (relative to the segment's
//     base, uint32) to its file position (uint32); an entry is added when
//     more than index.interval.bytes were appended since the previous one,
//     so a lookup lands at most about that many bytes before its target;
//   - the time index maps a running maximum timestamp (int64) to the
//     relative offset of the last record of the batch that set it (uint32);
//     an entry is added at the same cadence, and only when the maximum grew,
//     plus a final entry when the segment is sealed, so the last entry of a
//     sealed segment is its largest timestamp.
//
// Both follow Kafka's LogSegment. Files are big-endian arrays of entries,
// written whole (tmp + fsync + rename) only after the segment's data is
// fsynced, so the presence of sane index files marks a cleanly sealed
// segment. The in-memory copy is always rebuilt from the batch headers
// scanned at Open; the files decide only whether that scan must also verify
// CRCs (see recovery.go).

import (
	"encoding/binary"
	"fmt"
	"sort"
)

const (
	offsetEntrySize = 8  // relative offset uint32 + position uint32
	timeEntrySize   = 12 // timestamp int64 + relative offset uint32
)

// offsetEntry says that the batch whose base offset is segment base + rel
// starts at file position pos.
type offsetEntry struct {
	rel uint32
	pos uint32
}

// timeEntry says that no batch up to and including the one whose last
// offset is segment base + rel has a max timestamp above ts.
type timeEntry struct {
	ts  int64
	rel uint32
}

// segIndex is a segment's in-memory index state. Fields are written by the
// appender under Log.mu and read under Log.mu; readers copy the slice
// headers, and since entries are only ever appended, a copied prefix stays
// valid while the appender grows the slice.
type segIndex struct {
	offsets []offsetEntry
	times   []timeEntry
	// bytesSince counts bytes appended since the last offset entry.
	bytesSince int64
	// maxTs is the largest batch max timestamp in the segment (-1 if none)
	// and maxTsOffset the last offset of the first batch that carried it.
	maxTs       int64
	maxTsOffset int64
}

func newSegIndex() segIndex { return segIndex{maxTs: -1, maxTsOffset: -1} }

// add records one appended batch. segBase is the segment's base offset, pos
// the batch's file position, size its length, base/last its offsets and
// maxTs its max timestamp as stored. The cadence copies Kafka: the entry
// points at the first batch that starts more than interval bytes after the
// previous entry.
func (x *segIndex) add(segBase, pos, size, base, last, maxTs int64, interval int32) {
	if maxTs > x.maxTs {
		x.maxTs, x.maxTsOffset = maxTs, last
	}
	if x.bytesSince > int64(interval) {
		x.offsets = append(x.offsets, offsetEntry{rel: uint32(base - segBase), pos: uint32(pos)})
		x.maybeAddTime(segBase)
		x.bytesSince = 0
	}
	x.bytesSince += size
}

// maybeAddTime appends the running maximum to the time index if it grew.
func (x *segIndex) maybeAddTime(segBase int64) {
	if x.maxTs < 0 {
		return
	}
	if n := len(x.times); n > 0 && x.times[n-1].ts >= x.maxTs {
		return
	}
	x.times = append(x.times, timeEntry{ts: x.maxTs, rel: uint32(x.maxTsOffset - segBase)})
}

// seal adds the final time entry so that a sealed segment's last time entry
// is its maximum timestamp.
func (x *segIndex) seal(segBase int64) { x.maybeAddTime(segBase) }

// lookupOffset returns the file position of the last indexed batch whose
// base offset is <= segBase+rel (0, the segment start, if none is).
func lookupOffset(entries []offsetEntry, rel uint32) int64 {
	i := sort.Search(len(entries), func(i int) bool { return entries[i].rel > rel })
	if i == 0 {
		return 0
	}
	return int64(entries[i-1].pos)
}

// lookupTime returns the relative offset after which a batch with max
// timestamp >= ts can first appear: the offset following the last entry
// whose timestamp is < ts, or 0 if there is none.
func lookupTime(entries []timeEntry, ts int64) uint32 {
	i := sort.Search(len(entries), func(i int) bool { return entries[i].ts >= ts })
	if i == 0 {
		return 0
	}
	return entries[i-1].rel + 1
}

func encodeOffsetIndex(entries []offsetEntry) []byte {
	b := make([]byte, 0, len(entries)*offsetEntrySize)
	for _, e := range entries {
		b = binary.BigEndian.AppendUint32(b, e.rel)
		b = binary.BigEndian.AppendUint32(b, e.pos)
	}
	return b
}

func encodeTimeIndex(entries []timeEntry) []byte {
	b := make([]byte, 0, len(entries)*timeEntrySize)
	for _, e := range entries {
		b = binary.BigEndian.AppendUint64(b, uint64(e.ts))
		b = binary.BigEndian.AppendUint32(b, e.rel)
	}
	return b
}

// decodeOffsetIndex parses and sanity-checks an offset index file for a
// segment of segSize bytes holding relative offsets below relLimit. It
// rejects a torn or foreign file: a size that is not a whole number of
// entries, entries out of order, or positions and offsets outside the
// segment.
func decodeOffsetIndex(b []byte, segSize int64, relLimit int64) ([]offsetEntry, error) {
	if len(b)%offsetEntrySize != 0 {
		return nil, fmt.Errorf("offset index size %d is not a multiple of %d", len(b), offsetEntrySize)
	}
	entries := make([]offsetEntry, 0, len(b)/offsetEntrySize)
	for i := 0; i < len(b); i += offsetEntrySize {
		e := offsetEntry{rel: binary.BigEndian.Uint32(b[i:]), pos: binary.BigEndian.Uint32(b[i+4:])}
		if int64(e.rel) >= relLimit || int64(e.pos) >= segSize {
			return nil, fmt.Errorf("offset index entry %d (offset +%d at %d) lies outside the segment (%d offsets, %d bytes)", i/offsetEntrySize, e.rel, e.pos, relLimit, segSize)
		}
		if n := len(entries); n > 0 && (e.rel <= entries[n-1].rel || e.pos <= entries[n-1].pos) {
			return nil, fmt.Errorf("offset index entry %d (offset +%d at %d) does not follow (+%d at %d)", i/offsetEntrySize, e.rel, e.pos, entries[n-1].rel, entries[n-1].pos)
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// decodeTimeIndex is decodeOffsetIndex for the time index: timestamps must
// strictly increase and offsets must not decrease.
func decodeTimeIndex(b []byte, relLimit int64) ([]timeEntry, error) {
	if len(b)%timeEntrySize != 0 {
		return nil, fmt.Errorf("time index size %d is not a multiple of %d", len(b), timeEntrySize)
	}
	entries := make([]timeEntry, 0, len(b)/timeEntrySize)
	for i := 0; i < len(b); i += timeEntrySize {
		e := timeEntry{ts: int64(binary.BigEndian.Uint64(b[i:])), rel: binary.BigEndian.Uint32(b[i+8:])}
		if int64(e.rel) >= relLimit || e.ts < 0 {
			return nil, fmt.Errorf("time index entry %d (ts %d, offset +%d) lies outside the segment (%d offsets)", i/timeEntrySize, e.ts, e.rel, relLimit)
		}
		if n := len(entries); n > 0 && (e.ts <= entries[n-1].ts || e.rel < entries[n-1].rel) {
			return nil, fmt.Errorf("time index entry %d (ts %d, offset +%d) does not follow (ts %d, +%d)", i/timeEntrySize, e.ts, e.rel, entries[n-1].ts, entries[n-1].rel)
		}
		entries = append(entries, e)
	}
	return entries, nil
}
