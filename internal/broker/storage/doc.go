// Package storage owns a partition's durable log: a directory of segment
// files holding Kafka record batches exactly as producers sent them (with the
// broker-assigned base offset), a sparse offset index and a time index per
// segment, segment rolling, retention, recovery after a crash or damage, the
// leader-epoch cache (epoch.go), the producer state used to drop duplicate
// batches and to track transactions (producer_state.go, snapshot.go), and
// what transactions need of the log (txn.go): markers, the last stable
// offset, the aborted-transactions index and read_committed reads.
//
// Invariants:
//   - A segment file is a plain concatenation of v2 record batches; every
//     batch on disk passed validation (magic 2, length, CRC32C).
//   - Offsets are dense and increasing within a segment and increase
//     across segments; a segment file is named by the base offset of its
//     first batch (20 digits, ".log"). Offsets may be missing between two
//     segments (a damaged region recovery moved out, a lost segment file):
//     reads skip the gap.
//   - Indexes are derived data: they can always be rebuilt from the segment.
//   - After Open returns, the log ends at the last whole, valid batch.
//   - Nothing Open cannot read is deleted unless it is provably worthless
//     (interrupted .tmp/.deleted files, an empty segment, a torn tail of
//     zeros): it goes to the partition's quarantine folder.
//   - Every batch carries the leader epoch that wrote it; epochs never
//     decrease along the log.
//   - No reader at read_committed sees an offset at or past the first
//     offset of an ongoing transaction: the log end and the transaction
//     state are published together.
//   - A producer-state snapshot NNN.snapshot is the state as of offset
//     NNN and is written only once the data below NNN is durable.
//
// # Files
//
// A partition directory holds, per segment, NNN.log (the batches), NNN.index
// (relative offset -> file position) and NNN.timeindex (timestamp ->
// relative offset), plus log-start-offset, a checkpoint written by
// DeleteRecords. Index files are written (tmp + fsync + rename) only once
// the segment's data is fsynced, when it is sealed by a roll; the active
// segment has none (Open removes any, since the segment will grow past
// them), so a non-active segment with sane index files is one that was
// sealed cleanly and needs no CRC pass at Open.
// NNN.snapshot files hold the producer state (with open transactions and
// the aborted-transactions index) as of offset NNN, written at segment
// rolls and at Close (snapshot.go).
// Files ending in .tmp or .deleted are interrupted work; Open removes them.
// The quarantine folder holds what recovery could not read; Open never
// reads or removes it.
//
// Sealed segments' files are opened on demand through a FileCache shared by
// every log of a broker and closed when idle longest, so a broker holds at
// most about the cache's capacity open besides each log's active segment;
// readers take a reference, so no file is closed under a reader
// (filecache.go).
//
// # Batches
//
// Records are read but never re-encoded. Append validates a producer's
// batch as Kafka's broker does: header and CRC (batch.go), then the
// attributes a client may set and every record (records.go): framing,
// count, offset deltas 0..n-1, key, value and header lengths, and CreateTime
// timestamps against message.timestamp.before/after.max.ms. A compressed
// batch is inflated first (decompress.go: gzip, snappy raw or xerial, lz4,
// zstd) into a pooled buffer, never past 64 x max.message.bytes (at least
// 16 MiB); an uncompressed one is walked in place without allocating. A
// batch that fails is refused whole with a *BatchError (its reason, and the
// records at fault for timestamps) and nothing is written, so every stored
// batch decodes to its last record for every consumer. Append then
// rewrites the bytes the broker owns (base offset, partition leader epoch,
// for LogAppendTime the max timestamp, timestamp type and CRC, and for
// CreateTime a max timestamp that disagrees with the records) in the
// caller's buffer, and writes it with one positional write. Reads return
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
// segment deletion fsyncs the directory at once; a new partition's
// directory entry is fsynced in its parent by its first sync with data. A
// sync with nothing new costs nothing. With SyncAlways the high watermark
// readers see is the durable offset, and readers waiting on Notify are
// woken by fsyncs, not appends. A failed fsync is sticky: the page cache
// may have dropped the data, so the log refuses further writes and syncs
// until reopened.
//
// # Recovery
//
// Open scans the active segment, and any segment whose index files are
// missing or malformed, batch by batch (framing, CRC, record count, offset
// continuity), and reads the batch headers of every other segment. Damage
// is mapped (damage.go) and handled without losing what can be read
// (recovery.go, repair.go): a torn tail at the very end of the last segment
// is cut; a segment damaged anywhere else is first copied whole to
// quarantine, then every valid batch in it is kept, also those after the
// damage; an intact batch whose base offset was damaged is restamped. The header walk rebuilds the in-memory indexes, the
// epoch cache and, from the newest snapshot that verifies, the producer
// state, replaying the batches (and markers) after it. Log.Recovery reports
// what was done.
package storage
