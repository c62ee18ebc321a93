// Package crash holds Courier's crash tests: they run the real courier
// binary (package brokerproc) and check what survives when it dies.
//
//   - Kill during produce: an idempotent franz-go producer (acks=all)
//     writes sequential values while the broker is SIGKILLed and restarted
//     several times, with --fsync always and --fsync interval. Every
//     acknowledged record must then be present exactly once, at the offset
//     it was acknowledged with, and each partition must hold strictly
//     increasing values with no duplicates.
//   - Torn tail: garbage appended to the active segment (as a crash in the
//     middle of a write leaves it) must be cut off at restart, keeping
//     every whole record and letting producing continue at the next offset.
//   - Kill between commits: a group member commits offsets while the broker
//     is SIGKILLed right after an acknowledged commit (and while commits are
//     in flight); after restart the group's offsets are exactly the last
//     acknowledged ones, and a new member resumes from them.
//   - Share group through deaths: eight share-group consumers of a
//     two-partition topic are killed and restarted at random while they
//     accept, reject and release records, and the broker is SIGKILLed;
//     every record must end accepted exactly once (by the acknowledgements
//     the broker confirmed), rejected, or archived at the delivery limit,
//     none delivered again after a confirmed acknowledgement, none lost.
//
// Every test is bounded in time; each file runs in well under 30 seconds.
package crash
