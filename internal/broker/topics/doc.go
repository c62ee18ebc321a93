// Package topics owns the broker's topic metadata: which topics exist, their
// ids, partition counts and configs. The partition logs themselves belong
// to package storage.
//
// The metadata lives in DATA/meta/topics.log, a journal (internal/journal)
// with one record per created or changed topic (the whole topic, keyed by
// name) and one per deleted topic (record.go); compaction rewrites it as
// one record per topic. A change costs one small record and a share of one
// fsync, so creating N topics costs O(N), and a batch of topics (AddAll)
// costs one write and one fsync. A data directory of an earlier version,
// with DATA/meta/topics.json (the whole set, rewritten at every change), is
// imported once and the file kept as topics.json.migrated (legacy.go).
//
// Promises:
//   - A change is visible (Get, List) only once it is durable; a change
//     the journal could not write leaves the previous state, and the
//     caller gets the error.
//   - Every record is validated when the store opens, with the rules every
//     change follows (a valid name, which also becomes a path, partitions
//     in range, valid configs, a non-zero id no other topic has, ids that
//     never change, partition counts that never shrink, deletions of
//     topics that exist). A record that breaks them, or is damaged
//     anywhere but in a torn tail, refuses the open with ErrBadMetadata:
//     the metadata is never silently partial (the journal runs with
//     RefuseDamage). The broker's way out is --rebuild-metadata.
//   - After a crash, every acknowledged change is there; a change in
//     flight may be there or not, and of a batch in flight some of its
//     first topics may be, each whole.
package topics
