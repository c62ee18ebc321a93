package storage

import "errors"

// The sentinel errors below are what a caller (the broker) matches with
// errors.Is to pick a Kafka error code. Every error the package returns wraps
// at most one of them, with context (the log directory, offsets, sequences)
// in the message.
var (
	// ErrCorruptMessage means a batch failed structural validation: its
	// length field disagrees with the bytes supplied, its magic is not 2,
	// its CRC32C does not match, its codec is unknown, or its compressed
	// records do not decode or inflate past the bound (Kafka
	// CORRUPT_MESSAGE).
	ErrCorruptMessage = errors.New("corrupt record batch")

	// ErrMessageTooLarge means a batch is larger than Config.MaxMessageBytes
	// (Kafka MESSAGE_TOO_LARGE).
	ErrMessageTooLarge = errors.New("record batch larger than max.message.bytes")

	// ErrInvalidRecord means a well-formed batch breaks a rule about its
	// contents: no records, a lastOffsetDelta that disagrees with the record
	// count or the records found, a malformed record, a control or
	// transactional batch from a client, or a negative sequence or epoch
	// from an idempotent producer (Kafka INVALID_RECORD).
	ErrInvalidRecord = errors.New("invalid record batch")

	// ErrInvalidTimestamp means a record's CreateTime timestamp lies
	// outside message.timestamp.before.max.ms / after.max.ms of the
	// broker's clock, or a producer set the LogAppendTime attribute on a
	// LogAppendTime topic (Kafka INVALID_TIMESTAMP).
	ErrInvalidTimestamp = errors.New("invalid timestamp")

	// ErrUnsupportedCompression means a produce request too old for its
	// batch's codec (zstd before Produce v7; Kafka
	// UNSUPPORTED_COMPRESSION_TYPE).
	ErrUnsupportedCompression = errors.New("unsupported compression type")

	// ErrOutOfOrderSequence means an idempotent producer's batch does not
	// continue its sequence (Kafka OUT_OF_ORDER_SEQUENCE_NUMBER).
	ErrOutOfOrderSequence = errors.New("out of order sequence number")

	// ErrInvalidProducerEpoch means an idempotent producer wrote with an
	// epoch older than one already seen for its producer ID (Kafka
	// INVALID_PRODUCER_EPOCH).
	ErrInvalidProducerEpoch = errors.New("invalid producer epoch")

	// ErrUnknownProducerID exists so the broker can map it to Kafka's
	// UNKNOWN_PRODUCER_ID. This version of the log never returns it: a batch
	// from a producer with no retained state and a non-zero sequence gets
	// ErrOutOfOrderSequence (or is accepted once retention has removed
	// history; see Log.Append), which is what current Kafka brokers do.
	ErrUnknownProducerID = errors.New("unknown producer id")

	// ErrInvalidTxnState means a producer with an ongoing transaction on
	// the partition sent a non-transactional batch (Kafka
	// INVALID_TXN_STATE).
	ErrInvalidTxnState = errors.New("invalid transaction state")

	// ErrCoordinatorFenced means a transaction marker came from an older
	// coordinator epoch than one already seen for its producer (Kafka
	// TRANSACTION_COORDINATOR_FENCED).
	ErrCoordinatorFenced = errors.New("transaction coordinator fenced")

	// ErrOffsetOutOfRange means an offset lies below the log start offset or
	// above the high watermark (Kafka OFFSET_OUT_OF_RANGE).
	ErrOffsetOutOfRange = errors.New("offset out of range")
)
