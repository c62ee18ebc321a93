package storage

// timestamp.go finds the exact record for a ListOffsets timestamp lookup
// inside the batch that holds it. This is the one place storage decodes
// records (decompressing them if needed); it runs only for timestamp
// lookups, never on the produce or fetch path.

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kbin"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// decompressor is franz-go's, shared: it pools codecs internally.
var decompressor = kgo.DefaultDecompressor()

// recordAtOrAfter returns the offset and timestamp of the first record of a
// whole raw batch whose timestamp is >= ts and whose offset is >= logStart.
// Batches stamped with LogAppendTime have one timestamp for every record,
// so their first offset is the answer. ok is false if no record qualifies.
func recordAtOrAfter(raw []byte, h *batchHeader, ts, logStart int64) (offset, timestamp int64, ok bool, err error) {
	if h.attributes&attrLogAppendTime != 0 {
		if h.maxTimestamp < ts {
			return 0, 0, false, nil
		}
		return max(h.baseOffset, logStart), h.maxTimestamp, true, nil
	}
	var rb kmsg.RecordBatch
	if err := rb.ReadFrom(raw); err != nil {
		return 0, 0, false, fmt.Errorf("%w: decode batch at offset %d: %v", ErrCorruptMessage, h.baseOffset, err)
	}
	records := rb.Records
	if codec := kgo.CompressionCodecType(rb.Attributes & 0x07); codec != kgo.CodecNone {
		if records, err = decompressor.Decompress(records, codec); err != nil {
			return 0, 0, false, fmt.Errorf("%w: decompress batch at offset %d: %v", ErrCorruptMessage, h.baseOffset, err)
		}
	}
	r := kbin.Reader{Src: records}
	for i := int32(0); i < rb.NumRecords && len(r.Src) > 0; i++ {
		length := r.Varint()
		if length < 0 {
			return 0, 0, false, fmt.Errorf("%w: record %d of batch at offset %d has length %d", ErrCorruptMessage, i, h.baseOffset, length)
		}
		body := r.Span(int(length))
		if err := r.Complete(); err != nil {
			return 0, 0, false, fmt.Errorf("%w: record %d of batch at offset %d is truncated", ErrCorruptMessage, i, h.baseOffset)
		}
		br := kbin.Reader{Src: body}
		br.Int8() // attributes
		tsDelta := br.Varlong()
		offDelta := br.Varint()
		if err := br.Complete(); err != nil {
			return 0, 0, false, fmt.Errorf("%w: record %d of batch at offset %d: %v", ErrCorruptMessage, i, h.baseOffset, err)
		}
		off, rts := h.baseOffset+int64(offDelta), rb.FirstTimestamp+tsDelta
		if rts >= ts && off >= logStart {
			return off, rts, true, nil
		}
	}
	return 0, 0, false, nil
}
