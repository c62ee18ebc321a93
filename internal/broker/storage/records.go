package storage

// records.go validates a producer's batch the way Kafka's broker does
// (ProduceRequest.validateRecords, UnifiedLog.analyzeAndValidateRecords,
// LogValidator, DefaultRecordBatch and DefaultRecord.readFrom): after the
// header and CRC checks of batch.go it checks the attributes a client may
// set, then walks every record (inflating a compressed batch first) and
// checks its framing, offset delta, key, value, headers and timestamp. A
// batch that passes is one every consumer can read to its last record; a
// batch that fails is refused whole with a BatchError naming the problem.
//
// The walk reads an uncompressed batch in place and allocates nothing.

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/twmb/franz-go/pkg/kbin"
)

// Batch attribute bits beyond the codec and timestamp type.
const (
	attrCodecMask     = 0x07
	attrTransactional = 0x10
	attrControl       = 0x20
	// attrKnown are the bits a producer may set: codec, timestamp type,
	// transactional, control. Bit 6 (delete horizon) is the log
	// cleaner's; bits 7-15 are unused.
	attrKnown = 0x3f

	// minRecordSize is the smallest encoded record: one byte each for the
	// length, attributes, timestamp delta, offset delta, key length, value
	// length and header count.
	minRecordSize = 7
)

// Reasons a batch is refused: the Reason of a BatchError, and the label of
// the broker's rejected-batch metric.
const (
	ReasonFraming       = "framing"       // length or magic
	ReasonTooLarge      = "too_large"     // above max.message.bytes
	ReasonCRC           = "crc"           // CRC32C mismatch
	ReasonHeader        = "header"        // record count, lastOffsetDelta, base offset, producer fields
	ReasonAttributes    = "attributes"    // unknown codec or attribute bits
	ReasonControl       = "control"       // control batch from a client
	ReasonTransactional = "transactional" // transactional batch without a producer id
	ReasonDecompress    = "decompress"    // compressed data does not decode, or inflates past the bound
	ReasonRecords       = "records"       // a record's framing, lengths or offset delta
	ReasonTimestamp     = "timestamp"     // outside message.timestamp.before/after.max.ms, or LogAppendTime from a producer
	ReasonBatches       = "batches"       // not exactly one v2 batch per partition
	ReasonCompression   = "compression"   // zstd before Produce v7
	ReasonNoKey         = "no_key"        // a record without a key on a compacted topic
)

// RecordError names one record of a refused batch: Kafka's RecordError,
// returned in a Produce v8+ response.
type RecordError struct {
	// Index is the record's position in its batch (Kafka's batch_index).
	Index int32
	// Message says what is wrong with it.
	Message string
}

// BatchError is the error Append (and ProducedBatch) return for a batch
// that fails validation. It wraps one of ErrCorruptMessage,
// ErrMessageTooLarge, ErrInvalidRecord or ErrInvalidTimestamp, which select
// the Kafka error code.
type BatchError struct {
	// Reason is one of the Reason constants.
	Reason string
	// Records lists the records at fault when the checks that failed are
	// per record (timestamps), as Kafka's LogValidator does; else nil.
	Records []RecordError
	err     error
}

func (e *BatchError) Error() string { return e.err.Error() }
func (e *BatchError) Unwrap() error { return e.err }

// refuse wraps err, which wraps one of the sentinel errors, with a reason.
func refuse(reason string, err error) *BatchError { return &BatchError{Reason: reason, err: err} }

// refusef builds a BatchError from a message and the sentinel kind.
func refusef(reason string, kind error, format string, args ...any) *BatchError {
	return refuse(reason, fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), kind))
}

// ProducedBatch checks the records field of one partition of a produce
// request as Kafka's ProduceRequest.validateRecords does: it must hold
// exactly one batch, of magic 2, and before Produce v7 not zstd-compressed.
// It returns that batch (aliasing records). The batch itself is validated
// by Log.Append.
func ProducedBatch(version int16, records []byte) ([]byte, error) {
	batches, err := SplitBatches(records)
	if err != nil {
		return nil, refuse(ReasonFraming, err)
	}
	if len(batches) == 0 {
		return nil, refusef(ReasonBatches, ErrInvalidRecord, "produce requests with version %d must have at least one record batch per partition", version)
	}
	b := batches[0]
	if b[offMagic] != magicV2 {
		return nil, refusef(ReasonBatches, ErrInvalidRecord, "produce requests with version %d are only allowed to contain record batches with magic version 2", version)
	}
	if len(batches) > 1 {
		return nil, refusef(ReasonBatches, ErrInvalidRecord, "produce requests with version %d are only allowed to contain exactly one record batch per partition, got %d", version, len(batches))
	}
	if version < 7 && batchAttributes(b)&attrCodecMask == codecZstd {
		return nil, refusef(ReasonCompression, ErrUnsupportedCompression, "produce requests with version %d are not allowed to use ZStandard compression", version)
	}
	return b, nil
}

// IsTransactional reports whether a batch (at least a header long) carries
// the transactional attribute. The broker checks it for the whole request
// first, as Kafka does.
func IsTransactional(batch []byte) bool {
	return len(batch) >= batchHeaderSize && batchAttributes(batch)&attrTransactional != 0
}

func batchAttributes(b []byte) int16 { return int16(binary.BigEndian.Uint16(b[offAttributes:])) }

// validateProduced checks one batch from a producer before Append takes its
// lock and returns its header. For a CreateTime topic it also sets the
// header's max timestamp to the records' (and clears a LogAppendTime bit),
// rewriting the CRC, as Kafka's LogValidator does, so that the time index
// and retention see the timestamps consumers see.
//
// When the topic's compression.type names a codec other than the batch's,
// the batch is recompressed into it and the new bytes are returned as
// rebuilt (nil otherwise).
func validateProduced(b []byte, cfg *Config, nowMs int64) (h batchHeader, rebuilt []byte, err error) {
	h, err = validateBatch(b, cfg.MaxMessageBytes)
	if err != nil {
		return h, nil, err
	}
	if err := checkProducedHeader(&h, len(b), cfg); err != nil {
		return h, nil, err
	}
	records := b[batchHeaderSize:]
	codec := int8(h.attributes & attrCodecMask)
	if codec != codecNone {
		buf := getBuf()
		defer putBuf(buf)
		var err error
		buf.b, err = decompress(buf.b[:0], records, codec, decompressLimit(cfg.MaxMessageBytes))
		if err != nil {
			return h, nil, refuse(ReasonDecompress, err)
		}
		records = buf.b
	}
	w := recordWalk{firstTs: h.firstTimestamp, nowMs: nowMs, cfg: cfg, appendTimeBit: h.attributes&attrLogAppendTime != 0}
	if err := w.walk(records, h.recordCount); err != nil {
		return h, nil, err
	}
	if w.keyless != nil {
		return h, nil, &BatchError{Reason: ReasonNoKey, Records: w.keyless, err: fmt.Errorf(
			"compacted topic cannot accept a record without a key (%d of %d records have none, the first: record %d): %w", len(w.keyless), h.recordCount, w.keyless[0].Index, ErrInvalidRecord)}
	}
	if w.errs != nil {
		return h, nil, &BatchError{Reason: ReasonTimestamp, Records: w.errs, err: fmt.Errorf(
			"%d of %d records rejected, the first: record %d: %s: %w", len(w.errs), h.recordCount, w.errs[0].Index, w.errs[0].Message, ErrInvalidTimestamp)}
	}
	if !cfg.LogAppendTime && (h.maxTimestamp != w.maxTs || h.attributes&attrLogAppendTime != 0) {
		h.maxTimestamp, h.attributes = w.maxTs, h.attributes&^attrLogAppendTime
		binary.BigEndian.PutUint64(b[offMaxTimestamp:], uint64(h.maxTimestamp))
		binary.BigEndian.PutUint16(b[offAttributes:], uint16(h.attributes))
		binary.BigEndian.PutUint32(b[offCRC:], batchCRC(b))
	}
	if want, ok := cfg.Compression.codec(); ok && want != codec {
		return recompress(b, h, records, want, cfg)
	}
	return h, nil, nil
}

// recompress rebuilds a validated producer batch, whose inflated records
// are recs, with the topic's codec (compression.type), as Kafka's
// LogValidator does when the codecs differ.
func recompress(b []byte, h batchHeader, recs []byte, codec int8, cfg *Config) (batchHeader, []byte, error) {
	all, err := decodeRecords(recs, &h, make([]storedRecord, 0, h.recordCount))
	if err != nil {
		return h, nil, refuse(ReasonRecords, err)
	}
	out, err := rebuildBatch(b, &h, all, codec, cfg.CompressionLevel)
	if err != nil {
		return h, nil, fmt.Errorf("recompress batch with %s: %w", codecNames[codec], err)
	}
	if len(out) > int(cfg.MaxMessageBytes) {
		return h, nil, refusef(ReasonTooLarge, ErrMessageTooLarge, "batch of %d bytes recompressed with %s (compression.type) is %d bytes, above max.message.bytes %d", len(b), codecNames[codec], len(out), cfg.MaxMessageBytes)
	}
	return parseHeader(out), out, nil
}

// checkProducedHeader checks the header fields that only a producer's batch
// must satisfy (a stored batch has a base offset and may be a control
// batch).
func checkProducedHeader(h *batchHeader, size int, cfg *Config) error {
	if h.baseOffset != 0 {
		return refusef(ReasonHeader, ErrInvalidRecord, "the base offset of the record batch should be 0, but it is %d", h.baseOffset)
	}
	if codec := h.attributes & attrCodecMask; codec > codecZstd {
		return refusef(ReasonAttributes, ErrCorruptMessage, "unknown compression codec %d in batch attributes %#04x", codec, uint16(h.attributes))
	}
	if h.attributes&attrControl != 0 {
		return refusef(ReasonControl, ErrInvalidRecord, "clients are not allowed to write control records")
	}
	if h.attributes&attrTransactional != 0 && h.producerID < 0 {
		return refusef(ReasonTransactional, ErrInvalidRecord, "transactional batch without a producer id")
	}
	if h.attributes&^attrKnown != 0 {
		return refusef(ReasonAttributes, ErrInvalidRecord, "batch attributes %#04x set bits no producer writes", uint16(h.attributes))
	}
	if h.producerID >= 0 && h.producerEpoch < 0 {
		return refusef(ReasonHeader, ErrInvalidRecord, "batch from producer %d has epoch %d", h.producerID, h.producerEpoch)
	}
	// Every record takes at least minRecordSize bytes (inflated), so a
	// count the bytes cannot hold (2^31-1 records in a small batch, which
	// would move the next offset by 2^31) is refused before any work.
	room := int64(size - batchHeaderSize)
	if h.attributes&attrCodecMask != codecNone {
		room = int64(decompressLimit(cfg.MaxMessageBytes))
	}
	if int64(h.recordCount)*minRecordSize > room {
		return refusef(ReasonHeader, ErrInvalidRecord, "batch claims %d records, more than its %d bytes can hold", h.recordCount, room)
	}
	return nil
}

// recordWalk checks a batch's records and collects their max timestamp and
// the per-record timestamp errors.
type recordWalk struct {
	firstTs       int64
	nowMs         int64
	cfg           *Config
	appendTimeBit bool // the producer set the LogAppendTime attribute

	maxTs   int64
	errs    []RecordError
	keyless []RecordError // records without a key, on a compacted topic
}

// walk checks that recs holds exactly count records, each well formed and
// with offset delta equal to its position, as DefaultRecord.readFrom and
// the batch iterator do. The loop is the hot path of every produce: it
// reads in place, and only a record that fails is parsed again, by
// explainRecord, to say why.
func (w *recordWalk) walk(recs []byte, count int32) error {
	w.maxTs = -1 // Kafka's NO_TIMESTAMP
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	if !w.cfg.LogAppendTime {
		lo, hi = timestampWindow(w.nowMs, w.cfg)
	}
	for i := range count {
		length, n := varint(recs)
		if n <= 0 {
			return recordErr(i, "length is not a valid varint (the batch declares %d records; the data ends sooner)", count)
		}
		recs = recs[n:]
		if length < 0 || int(length) > len(recs) {
			return recordErr(i, "length %d, but %d bytes remain", length, len(recs))
		}
		body := recs[:length]
		recs = recs[length:]
		tsDelta, offDelta, ok := scanRecord(body)
		if !ok {
			return explainRecord(i, body)
		}
		if offDelta != i {
			return recordErr(i, "offset delta %d, want %d (deltas run from 0 to count-1 in order)", offDelta, i)
		}
		if w.cfg.Policy.Compacts() && recordKeyNull(body) {
			w.keyless = append(w.keyless, RecordError{Index: i, Message: "compacted topic cannot accept message without key"})
		}
		ts := w.firstTs + tsDelta
		if ts > w.maxTs {
			w.maxTs = ts
		}
		if (ts < lo || ts > hi) && ts != -1 {
			w.errs = append(w.errs, RecordError{Index: i, Message: fmt.Sprintf(
				"timestamp %d of the record with offset delta %d is out of range: it should be within [%d, %d]", ts, i, lo, hi)})
		}
	}
	if len(recs) != 0 {
		return refusef(ReasonRecords, ErrInvalidRecord, "incorrect declared batch size: %d bytes remain after its %d records", len(recs), count)
	}
	if w.cfg.LogAppendTime && w.appendTimeBit {
		for i := range count {
			w.errs = append(w.errs, RecordError{Index: i, Message: "producer should not set timestamp type to LogAppendTime"})
		}
	}
	return nil
}

// scanRecord checks one record's body (after its length) and returns its
// timestamp and offset deltas; ok is false unless every field is valid and
// together they fill body exactly.
func scanRecord(b []byte) (tsDelta int64, offDelta int32, ok bool) {
	if len(b) < minRecordSize-1 {
		return 0, 0, false
	}
	tsDelta, n := varlong(b[1:]) // b[0] is the attributes byte, unused in v2 and ignored as Kafka does
	if n <= 0 {
		return 0, 0, false
	}
	p := 1 + n
	if offDelta, n = varint(b[p:]); n <= 0 {
		return 0, 0, false
	}
	p += n
	if p, ok = skipField(b, p, true); !ok { // key
		return 0, 0, false
	}
	if p, ok = skipField(b, p, true); !ok { // value
		return 0, 0, false
	}
	headers, n := varint(b[p:])
	if n <= 0 || headers < 0 || int(headers) > len(b)-p-n {
		return 0, 0, false
	}
	p += n
	for range headers {
		if p, ok = skipField(b, p, false); !ok { // header key: never null
			return 0, 0, false
		}
		if p, ok = skipField(b, p, true); !ok { // header value
			return 0, 0, false
		}
	}
	return tsDelta, offDelta, p == len(b)
}

// recordKeyNull reports whether a record body that scanRecord accepted
// has a null key.
func recordKeyNull(b []byte) bool {
	p := 1
	_, n := varlong(b[p:])
	p += n
	_, n = varint(b[p:])
	p += n
	klen, _ := varint(b[p:])
	return klen < 0
}

// skipField skips the varint-length-prefixed byte string at b[p:] (null,
// -1, only if nullable) and returns the position after it.
func skipField(b []byte, p int, nullable bool) (int, bool) {
	l, n := varint(b[p:])
	if n <= 0 || l < -1 || (l == -1 && !nullable) || int(l) > len(b)-p-n {
		return 0, false
	}
	return p + n + max(int(l), 0), true
}

// explainRecord parses a record that scanRecord refused again, slowly,
// to say which field is wrong.
func explainRecord(i int32, b []byte) error {
	if len(b) == 0 {
		return recordErr(i, "empty record")
	}
	b = b[1:]
	if _, n := varlong(b); n <= 0 {
		return recordErr(i, "timestamp delta is not a valid varlong")
	} else {
		b = b[n:]
	}
	if _, n := varint(b); n <= 0 {
		return recordErr(i, "offset delta is not a valid varint")
	} else {
		b = b[n:]
	}
	field := func(what string, nullable bool) error {
		l, n := varint(b)
		switch {
		case n <= 0:
			return recordErr(i, "%s length is not a valid varint", what)
		case l < -1 || (l == -1 && !nullable):
			return recordErr(i, "invalid %s length %d", what, l)
		case int(l) > len(b)-n:
			return recordErr(i, "%s length %d, but %d bytes remain in the record", what, l, len(b)-n)
		}
		b = b[n+max(int(l), 0):]
		return nil
	}
	if err := field("key", true); err != nil {
		return err
	}
	if err := field("value", true); err != nil {
		return err
	}
	headers, n := varint(b)
	if n <= 0 || headers < 0 || int(headers) > len(b)-n {
		return recordErr(i, "invalid header count %d", headers)
	}
	b = b[n:]
	for j := range headers {
		if err := field(fmt.Sprintf("header %d key", j), false); err != nil {
			return err
		}
		if err := field(fmt.Sprintf("header %d value", j), true); err != nil {
			return err
		}
	}
	return recordErr(i, "%d bytes left after its fields (invalid record size)", len(b))
}

// recordErr is a structural error in record i.
func recordErr(i int32, format string, args ...any) *BatchError {
	return refusef(ReasonRecords, ErrInvalidRecord, "record %d: %s", i, fmt.Sprintf(format, args...))
}

// varint decodes a zigzag varint of at most 5 bytes (Kafka's int varint):
// n <= 0 means invalid. One- and two-byte encodings (every length below
// 8 KiB) are decoded here; longer ones by kbin, whose rules (no overflow
// past 32 bits) are kmsg's.
func varint(b []byte) (int32, int) {
	var u uint32
	var n int
	switch {
	case len(b) > 0 && b[0] < 0x80:
		u, n = uint32(b[0]), 1
	case len(b) > 1 && b[1] < 0x80:
		u, n = uint32(b[0]&0x7f)|uint32(b[1])<<7, 2
	default:
		return kbin.Varint(b)
	}
	return int32(u>>1) ^ -int32(u&1), n
}

// varlong decodes a zigzag varint of at most 10 bytes (Kafka's long
// varint) the same way.
func varlong(b []byte) (int64, int) {
	var u uint64
	var n int
	switch {
	case len(b) > 0 && b[0] < 0x80:
		u, n = uint64(b[0]), 1
	case len(b) > 1 && b[1] < 0x80:
		u, n = uint64(b[0]&0x7f)|uint64(b[1])<<7, 2
	default:
		return kbin.Varlong(b)
	}
	return int64(u>>1) ^ -int64(u&1), n
}

// timestampWindow is the range of CreateTime timestamps accepted at nowMs,
// saturated so that the default (unlimited before) never overflows.
func timestampWindow(nowMs int64, cfg *Config) (lo, hi int64) {
	before, after := cfg.timestampBeforeMax(), cfg.timestampAfterMax() // both >= 0
	if lo = nowMs - before; lo > nowMs {
		lo = math.MinInt64
	}
	if hi = nowMs + after; hi < nowMs {
		hi = math.MaxInt64
	}
	return lo, hi
}
