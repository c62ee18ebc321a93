// Package storage owns a partition's durable log: a directory of segment
// files holding Kafka record batches exactly as producers sent them (with the
// broker-assigned base offset), a sparse offset index and a time index per
// segment, segment rolling, retention, recovery of a torn tail after a crash,
// and the idempotent-producer state used to drop duplicate batches.
//
// Invariants:
//   - A segment file is a plain concatenation of v2 record batches; every
//     batch on disk passed validation (magic 2, length, CRC32C).
//   - Offsets are dense and monotonic across segments; a segment file is
//     named by the base offset of its first batch (20 digits, ".log").
//   - Indexes are derived data: they can always be rebuilt from the segment.
//   - After Open returns, the log ends at the last whole, valid batch.
package storage
