package storage

// This file knows the v2 record batch header (KIP-98): where each field
// lives, how to validate a batch's header and CRC, and how the broker
// rewrites the few header bytes it owns. Nothing here decompresses or walks
// records: records.go does, for batches from producers.

import (
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"math"
)

// Byte offsets of the v2 batch header fields.
const (
	offBaseOffset      = 0  // int64, rewritten by the broker; not under the CRC
	offBatchLength     = 8  // int32, bytes after this field
	offLeaderEpoch     = 12 // int32, partitionLeaderEpoch; not under the CRC
	offMagic           = 16 // int8
	offCRC             = 17 // uint32 CRC32C of bytes [offAttributes:]
	offAttributes      = 21 // int16
	offLastOffsetDelta = 23 // int32
	offFirstTimestamp  = 27 // int64
	offMaxTimestamp    = 35 // int64
	offProducerID      = 43 // int64
	offProducerEpoch   = 51 // int16
	offBaseSequence    = 53 // int32
	offRecordCount     = 57 // int32

	// batchHeaderSize is the fixed header before the records.
	batchHeaderSize = 61
	// logOverhead is the baseOffset and batchLength prefix that batchLength
	// does not count.
	logOverhead = 12
	// minBatchLength is the smallest legal batchLength: a header, no records.
	minBatchLength = batchHeaderSize - logOverhead

	// attrLogAppendTime is attribute bit 3, the timestamp type.
	attrLogAppendTime = 0x08

	magicV2 = 2
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// batchHeader is the decoded fixed header of a v2 batch.
type batchHeader struct {
	baseOffset      int64
	length          int32 // batchLength field
	leaderEpoch     int32
	magic           int8
	crc             uint32
	attributes      int16
	lastOffsetDelta int32
	firstTimestamp  int64
	maxTimestamp    int64
	producerID      int64
	producerEpoch   int16
	baseSequence    int32
	recordCount     int32
}

// size is the batch's total size in bytes, prefix included.
func (h *batchHeader) size() int64 { return logOverhead + int64(h.length) }

// lastOffset is the offset of the batch's last record.
func (h *batchHeader) lastOffset() int64 { return h.baseOffset + int64(h.lastOffsetDelta) }

// lastSequence is the sequence number of the batch's last record.
func (h *batchHeader) lastSequence() int32 {
	return addSequence(h.baseSequence, h.lastOffsetDelta)
}

// parseHeader decodes the fixed header; b must hold at least batchHeaderSize
// bytes.
func parseHeader(b []byte) batchHeader {
	_ = b[batchHeaderSize-1]
	be := binary.BigEndian
	return batchHeader{
		baseOffset:      int64(be.Uint64(b[offBaseOffset:])),
		length:          int32(be.Uint32(b[offBatchLength:])),
		leaderEpoch:     int32(be.Uint32(b[offLeaderEpoch:])),
		magic:           int8(b[offMagic]),
		crc:             be.Uint32(b[offCRC:]),
		attributes:      int16(be.Uint16(b[offAttributes:])),
		lastOffsetDelta: int32(be.Uint32(b[offLastOffsetDelta:])),
		firstTimestamp:  int64(be.Uint64(b[offFirstTimestamp:])),
		maxTimestamp:    int64(be.Uint64(b[offMaxTimestamp:])),
		producerID:      int64(be.Uint64(b[offProducerID:])),
		producerEpoch:   int16(be.Uint16(b[offProducerEpoch:])),
		baseSequence:    int32(be.Uint32(b[offBaseSequence:])),
		recordCount:     int32(be.Uint32(b[offRecordCount:])),
	}
}

// checkFraming checks what can be checked from the header alone without
// knowing how many bytes follow: the length is at least a header and the
// magic is 2. The scanner and the validator share it so that recovery
// accepts exactly what Append wrote.
func (h *batchHeader) checkFraming() error {
	if h.length < minBatchLength {
		return fmt.Errorf("batch length %d below the %d-byte v2 header: %w", h.length, minBatchLength, ErrCorruptMessage)
	}
	if h.magic != magicV2 {
		return fmt.Errorf("batch magic %d, only 2 is supported: %w", h.magic, ErrCorruptMessage)
	}
	return nil
}

// checkContents checks the header fields that describe the records: a batch
// has records, its lastOffsetDelta matches its record count (a produced batch
// is never compacted), and an idempotent batch carries a sequence (a
// transaction marker, a control batch, has none).
func (h *batchHeader) checkContents() error {
	if h.recordCount <= 0 {
		return fmt.Errorf("batch has %d records: %w", h.recordCount, ErrInvalidRecord)
	}
	if int64(h.lastOffsetDelta) != int64(h.recordCount)-1 {
		return fmt.Errorf("batch lastOffsetDelta %d does not match %d records: %w", h.lastOffsetDelta, h.recordCount, ErrInvalidRecord)
	}
	if h.producerID >= 0 && h.baseSequence < 0 && h.attributes&attrControl == 0 {
		return fmt.Errorf("batch from producer %d has sequence %d: %w", h.producerID, h.baseSequence, ErrInvalidRecord)
	}
	return nil
}

// checkCompactedContents is checkContents for a batch the log cleaner may
// have rewritten: it keeps its lastOffsetDelta (so that the offsets and
// producer sequences it spans stay accounted for) but may hold fewer
// records, none at all when it is kept only for that.
func (h *batchHeader) checkCompactedContents() error {
	if h.recordCount < 0 || h.lastOffsetDelta < 0 || int64(h.recordCount) > int64(h.lastOffsetDelta)+1 {
		return fmt.Errorf("batch has %d records for lastOffsetDelta %d: %w", h.recordCount, h.lastOffsetDelta, ErrInvalidRecord)
	}
	if h.producerID >= 0 && h.baseSequence < 0 && h.attributes&attrControl == 0 {
		return fmt.Errorf("batch from producer %d has sequence %d: %w", h.producerID, h.baseSequence, ErrInvalidRecord)
	}
	return nil
}

// batchCRC computes the CRC32C that a v2 batch stores: attributes to end.
func batchCRC(b []byte) uint32 { return crc32.Checksum(b[offAttributes:], castagnoli) }

// validateBatch checks one complete batch's header and CRC and returns its
// header; errors are *BatchError. Checks run cheapest first; the CRC pass is
// the only one that touches the records. A producer's batch gets more
// checks (validateProduced in records.go).
func validateBatch(b []byte, maxMessageBytes int32) (batchHeader, error) {
	if len(b) < batchHeaderSize {
		return batchHeader{}, refusef(ReasonFraming, ErrCorruptMessage, "batch of %d bytes is shorter than the %d-byte v2 header", len(b), batchHeaderSize)
	}
	h := parseHeader(b)
	if int64(h.length) != int64(len(b))-logOverhead {
		return h, refusef(ReasonFraming, ErrCorruptMessage, "batch length field %d does not match %d bytes supplied", h.length, len(b)-logOverhead)
	}
	if err := h.checkFraming(); err != nil {
		return h, refuse(ReasonFraming, err)
	}
	if int64(len(b)) > int64(maxMessageBytes) {
		return h, refusef(ReasonTooLarge, ErrMessageTooLarge, "batch of %d bytes exceeds max.message.bytes %d", len(b), maxMessageBytes)
	}
	if got := batchCRC(b); got != h.crc {
		return h, refusef(ReasonCRC, ErrCorruptMessage, "batch CRC %#08x, computed %#08x", h.crc, got)
	}
	if err := h.checkContents(); err != nil {
		return h, refuse(ReasonHeader, err)
	}
	return h, nil
}

// stampBatch rewrites the header bytes the broker owns, in place: the base
// offset, the partition leader epoch (the epoch of this broker run) and,
// for LogAppendTime topics (appendTime >= 0), the max timestamp and the
// timestamp-type bit, which are under the CRC and so force a CRC rewrite.
func stampBatch(b []byte, baseOffset int64, epoch int32, appendTime int64) {
	be := binary.BigEndian
	be.PutUint64(b[offBaseOffset:], uint64(baseOffset))
	be.PutUint32(b[offLeaderEpoch:], uint32(epoch))
	if appendTime < 0 {
		return
	}
	be.PutUint64(b[offMaxTimestamp:], uint64(appendTime))
	attrs := be.Uint16(b[offAttributes:]) | attrLogAppendTime
	be.PutUint16(b[offAttributes:], attrs)
	be.PutUint32(b[offCRC:], batchCRC(b))
}

// SplitBatches splits a produce request's records field into its record
// batches using only the 12-byte offset+length prefix of each. It does not
// validate the batches (Log.Append does). The returned slices alias records
// and are capped so that appending to one cannot overwrite the next. Empty
// input yields no batches and no error; whether that is acceptable is the
// caller's decision (Kafka rejects it with INVALID_RECORD). A trailing
// partial batch or a length below the v2 header is ErrCorruptMessage.
func SplitBatches(records []byte) ([][]byte, error) {
	var batches [][]byte
	for pos := 0; pos < len(records); {
		rest := records[pos:]
		if len(rest) < logOverhead {
			return nil, fmt.Errorf("split batches: %d trailing bytes at position %d, too short for a batch prefix: %w", len(rest), pos, ErrCorruptMessage)
		}
		length := int32(binary.BigEndian.Uint32(rest[offBatchLength:]))
		if length < minBatchLength {
			return nil, fmt.Errorf("split batches: batch at position %d has length %d, below the v2 minimum %d: %w", pos, length, minBatchLength, ErrCorruptMessage)
		}
		size := int64(logOverhead) + int64(length)
		if size > int64(len(rest)) {
			return nil, fmt.Errorf("split batches: batch at position %d needs %d bytes, %d remain: %w", pos, size, len(rest), ErrCorruptMessage)
		}
		end := pos + int(size)
		batches = append(batches, records[pos:end:end])
		pos = end
	}
	return batches, nil
}

// addSequence adds delta to a producer sequence the way Kafka does: sequences
// are non-negative int32s that wrap from MaxInt32 to 0.
func addSequence(seq, delta int32) int32 {
	if seq > math.MaxInt32-delta {
		return delta - (math.MaxInt32 - seq) - 1
	}
	return seq + delta
}

// CountRecords returns how many data records b holds, b being whole v2
// batches as Read returns them: the record counts of the batches that are
// not control batches (transaction markers). It walks the headers only;
// bytes that do not frame a whole batch end the count.
func CountRecords(b []byte) int64 {
	var n int64
	for len(b) >= batchHeaderSize {
		h := parseHeader(b)
		if h.length < minBatchLength || h.size() > int64(len(b)) {
			break
		}
		if h.attributes&attrControl == 0 && h.recordCount > 0 {
			n += int64(h.recordCount)
		}
		b = b[h.size():]
	}
	return n
}
