package storage

// rebuild.go takes a stored or produced batch apart into its records and
// builds a batch again from a subset of them, as Kafka's
// MemoryRecords.filterTo does for the log cleaner and LogValidator does for
// compression.type: the base offset, first timestamp, producer fields and
// (so that producer sequences still add up) the last offset delta stay the
// original's; the record count, max timestamp, codec and CRC are computed
// for what is kept. A record's own bytes are copied unchanged, since its
// offset and timestamp are deltas from those kept header fields.

import (
	"encoding/binary"
	"fmt"
)

// storedRecord is one record of a batch: its bytes, length prefix
// included, and the fields the cleaner decides on.
type storedRecord struct {
	raw         []byte
	offsetDelta int32
	tsDelta     int64
	key         []byte
	keyNull     bool
	valueNull   bool
}

// batchRecords returns the uncompressed records section of batch b (with
// header h), inflating it into a pooled buffer that release gives back.
// limit bounds the inflated size.
func batchRecords(b []byte, h *batchHeader, limit int) (recs []byte, release func(), err error) {
	recs = b[batchHeaderSize:]
	codec := int8(h.attributes & attrCodecMask)
	if codec == codecNone {
		return recs, func() {}, nil
	}
	buf := getBuf()
	buf.b, err = decompress(buf.b[:0], recs, codec, limit)
	if err != nil {
		putBuf(buf)
		return nil, nil, err
	}
	return buf.b, func() { putBuf(buf) }, nil
}

// decodeRecords splits recs into h.recordCount records, appended to out.
// A stored batch may have been compacted already, so offset deltas need
// only increase and stay within the header's last offset delta. Errors
// wrap ErrCorruptMessage.
func decodeRecords(recs []byte, h *batchHeader, out []storedRecord) ([]storedRecord, error) {
	prev := int32(-1)
	for i := range h.recordCount {
		length, n := varint(recs)
		if n <= 0 || length < 0 || int(length) > len(recs)-n {
			return out, fmt.Errorf("record %d of batch at offset %d: bad length: %w", i, h.baseOffset, ErrCorruptMessage)
		}
		r := storedRecord{raw: recs[:n+int(length)]}
		body := recs[n : n+int(length)]
		recs = recs[n+int(length):]
		if !parseRecordFields(body, &r) {
			return out, fmt.Errorf("record %d of batch at offset %d: malformed: %w", i, h.baseOffset, ErrCorruptMessage)
		}
		if r.offsetDelta <= prev || r.offsetDelta > h.lastOffsetDelta {
			return out, fmt.Errorf("record %d of batch at offset %d: offset delta %d after %d (last %d): %w", i, h.baseOffset, r.offsetDelta, prev, h.lastOffsetDelta, ErrCorruptMessage)
		}
		prev = r.offsetDelta
		out = append(out, r)
	}
	if len(recs) != 0 {
		return out, fmt.Errorf("batch at offset %d: %d bytes after its %d records: %w", h.baseOffset, len(recs), h.recordCount, ErrCorruptMessage)
	}
	return out, nil
}

// parseRecordFields reads a record body's deltas, key and value nullness
// into r; scanRecord has checked the same layout for every stored record.
func parseRecordFields(b []byte, r *storedRecord) bool {
	if _, _, ok := scanRecord(b); !ok {
		return false
	}
	p := 1
	ts, n := varlong(b[p:])
	p += n
	off, n := varint(b[p:])
	p += n
	r.tsDelta, r.offsetDelta = ts, off
	klen, n := varint(b[p:])
	p += n
	if klen < 0 {
		r.keyNull = true
	} else {
		r.key = b[p : p+int(klen)]
		p += int(klen)
	}
	vlen, _ := varint(b[p:])
	r.valueNull = vlen < 0
	return true
}

// rebuildBatch builds a batch from orig's header and the kept records,
// compressed with codec at level. For CreateTime the max timestamp is the
// kept records' (the original's if none is kept: an empty batch kept for
// its offsets and producer state).
func rebuildBatch(orig []byte, h *batchHeader, kept []storedRecord, codec int8, level int) ([]byte, error) {
	var plain []byte
	size := 0
	for _, r := range kept {
		size += len(r.raw)
	}
	plain = make([]byte, 0, size)
	maxTs := h.maxTimestamp
	if h.attributes&attrLogAppendTime == 0 && len(kept) > 0 {
		maxTs = -1
		for _, r := range kept {
			maxTs = max(maxTs, h.firstTimestamp+r.tsDelta)
		}
	}
	for _, r := range kept {
		plain = append(plain, r.raw...)
	}
	out := make([]byte, batchHeaderSize, batchHeaderSize+size/2+64)
	copy(out, orig[:batchHeaderSize])
	var err error
	if len(kept) == 0 {
		codec = codecNone // an empty batch has nothing to compress
	}
	if out, err = compress(out, plain, codec, level); err != nil {
		return nil, err
	}
	be := binary.BigEndian
	attrs := (h.attributes &^ attrCodecMask) | int16(codec)
	be.PutUint32(out[offBatchLength:], uint32(len(out)-logOverhead))
	be.PutUint16(out[offAttributes:], uint16(attrs))
	be.PutUint64(out[offMaxTimestamp:], uint64(maxTs))
	be.PutUint32(out[offRecordCount:], uint32(len(kept)))
	be.PutUint32(out[offCRC:], batchCRC(out))
	return out, nil
}
