// Package journal is Courier's one durable record log for small state: an
// append-only file of CRC-framed records (frame.go), written and fsynced by
// one goroutine so that concurrent appends share an fsync (writer.go),
// compacted by atomically replacing the file with a snapshot the user
// provides, and recovered at Open (recover.go, scan.go). The group
// coordinator's committed offsets and group metadata live in one; topic
// metadata, transaction state and share-group state are meant to, rather
// than each growing a log of its own. All I/O goes through internal/vfs,
// so tests inject a full disk (vfs.ErrorFS) or a power loss
// (vfs.MemFS.CrashClone).
//
// Records are opaque bytes: the user owns their encoding (json.go has
// the one the transaction and share-group coordinators share: a kind
// byte, then one strictly decoded JSON object). A user keeps its state in
// two parts:
//
//   - the durable state: the fold of every record in log order. Open
//     rebuilds it by calling Options.Replay with each record in the file;
//     from then on the user folds in a batch's records in that batch's
//     done callback, when it is called with nil. This is the state readers
//     may see, and what Options.Snapshot writes out (records that rebuild
//     it from nothing). The done callbacks and Snapshot run on one
//     goroutine, one at a time, so the durable state they share needs no
//     lock of its own for them (readers on other goroutines need one).
//   - changes in flight: whatever the user appended and has not yet been
//     told the outcome of. They must not be visible as done: a change
//     becomes visible in its done(nil), and is dropped in its done(err).
//
// Records should be idempotent upserts and deletions keyed by what they
// describe (a group's offset of one partition, a topic's configuration),
// so that replaying a log, or a snapshot followed by a log, yields the
// latest state, and so that no record needs an earlier one: a batch
// appended while an earlier one is failing may be written without it.
// The topic metadata store, for example, appends one record
// per created or changed topic, adds the topic to its map in done(nil),
// and snapshots one record per topic: creating N topics costs N appends
// and amortised compactions, not N rewrites of every topic. A transaction
// coordinator appends each transactional id's state transition and
// answers the client in done.
//
// Invariants:
//   - A batch is reported durable only after its bytes were written and
//     fsynced, and only after every batch appended before it was
//     reported.
//   - After a failed write or fsync the file's contents are unknown, so
//     nothing more is appended to it: the failed batch and every batch
//     queued behind it are reported failed, and the next append (or the
//     writer itself, after a back-off) repairs the journal by rewriting it
//     from the user's durable state (temporary file, fsync, rename,
//     directory fsync) before writing anything else. While repairs fail
//     (the disk is still full), appends fail fast until the next attempt
//     is due. A failed batch is never in the rewritten file.
//   - Open cuts only a torn tail: what one interrupted append can leave at
//     the very end (including sectors the file system never wrote, which
//     read as zeros, before sectors it did; a copy of the file is kept
//     when such a tail is cut). A record damaged elsewhere (its checksum
//     fails, or the user's Replay rejects it) is skipped, counted, and
//     logged with the file, byte offset and reason, after a copy of the
//     file as it was is kept beside it; framing lost with no valid record
//     after it, and not explainable as a torn tail, makes Open refuse with
//     a DamageError naming the byte offset and what to do.
//   - Under Options.RefuseDamage, for state that must never be silently
//     partial (topic metadata), Open refuses any damaged record with a
//     DamageError instead of skipping it, and replays nothing after it.
//
// Promises:
//   - Every batch whose done was called with nil is replayed by every
//     later Open of the file, whatever crashed in between.
//   - No batch whose done was called with an error is replayed by an
//     Open after the journal repaired itself. (At the failure the journal
//     also cuts the file back to its last durable size at once; only if
//     that fails too and the machine crashes before the repair can the
//     failed batch's bytes, if they reached the disk whole, come back.)
//   - A batch in flight at a crash (appended, done not yet called) may
//     come back whole, as a prefix of its records, or not at all; a record
//     is always whole or absent.
//   - The journal recovers from a full disk by itself once space returns,
//     without a restart.
//   - Damage is never dropped silently: every record skipped, every tail
//     cut, every failed write and every repair is logged and counted in
//     Stats (exported by the broker on /metrics).
package journal
