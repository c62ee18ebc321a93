package storage

// producer_fields.go reads a produced batch's producer id and epoch before
// it is appended: the broker checks a transactional batch's producer
// against the transaction coordinator first (KIP-890).

import "encoding/binary"

// BatchProducer returns the producer id and epoch in a batch's header, or
// (-1, -1) when batch is shorter than a header (Append refuses it then).
func BatchProducer(batch []byte) (producerID int64, epoch int16) {
	if len(batch) < batchHeaderSize {
		return -1, -1
	}
	return int64(binary.BigEndian.Uint64(batch[offProducerID:])), int16(binary.BigEndian.Uint16(batch[offProducerEpoch:]))
}
