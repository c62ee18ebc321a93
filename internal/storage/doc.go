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
//
// # Files
//
// A partition directory holds, per segment, NNN.log (the batches), NNN.index
// (relative offset -> file position) and NNN.timeindex (timestamp ->
// relative offset), plus log-start-offset, a checkpoint written by
// DeleteRecords. Index files are written (tmp + fsync + rename) only once
// the segment's data is fsynced, when it is sealed by a roll; never for
// the active segment (Open removes any it has, since the segment will grow
// past them), so a non-active segment with sane index files is one that
// was sealed cleanly and needs no CRC pass at Open.
// Files ending in .tmp or .deleted are interrupted work; Open removes them.
//
// # Batches
//
// Records are never decoded or re-encoded. Append validates a batch's header
// and CRC, rewrites the bytes the broker owns (base offset, partition leader
// epoch, and for LogAppendTime the max timestamp, timestamp type and CRC) in
// the caller's buffer, and writes it with one positional write. Reads return
// stored batches verbatim.
//
// # Concurrency
//
// Appends (and rolls, retention's detaching of segments, Close) are
// serialized by one mutex. The state readers need (segment list, sizes,
// in-memory indexes, high watermark, log start offset) is published under a
// short read-write lock after each write completes, so a reader never sees a
// partly written batch. Reads snapshot that state and then use ReadAt with
// no lock held; a segment deleted under a reader yields ErrOffsetOutOfRange.
//
// # Durability
//
// Fsyncs run under their own mutex and never under the append mutex, so
// producers keep appending while a sync runs. Each sync covers everything
// written before it started and advances a durable watermark; WaitDurable
// callers that queued behind it find themselves covered and return (group
// commit). Segment creation is made durable by a directory fsync in the
// next sync (before any offset in the new segment is reported durable);
// segment deletion fsyncs the directory at once. A failed fsync is sticky:
// the page cache may have dropped the data, so the log refuses further
// writes and syncs until reopened.
//
// # Recovery
//
// Open scans the active segment, and any segment whose index files are
// missing or malformed, batch by batch (framing, CRC, record count, offset
// continuity), truncates at the first bad batch and removes any segment
// after a truncated one or after a gap in offsets. It reads the batch
// headers of every retained segment to rebuild the in-memory indexes and
// the idempotent-producer state.
package storage
