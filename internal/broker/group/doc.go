// Package group is Courier's group coordinator for Kafka's classic consumer
// group protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup) and the
// committed offsets of every group.
//
// It has three layers, each testable alone:
//
//   - Group (group.go, join.go, membership.go, offsets.go) is one group's state
//     machine in the manner of etcd's raft: no locks, no I/O, no clock.
//     Every input carries the current time; responses to requests that wait
//     (a JoinGroup until the rebalance completes, a follower's SyncGroup
//     until the leader's assignment arrives) are delivered through
//     callbacks; changes to persist accumulate as records the caller
//     drains; deadlines (session, rebalance and sync timeouts, the initial
//     rebalance delay) are reported by NextDeadline and fired by Tick.
//   - The offsets log is a journal (internal/journal) of the records in
//     record.go under the coordinator's directory: fsynced
//     (group-committed) before a commit is acknowledged, replayed at Open
//     (a torn tail cut, a damaged record skipped and reported), compacted
//     from a snapshot of the durable state (state.go), and repaired by
//     itself after a failed write. persist.go feeds it the groups' records
//     and folds each batch's outcome back (durable.go): offsets,
//     deletions and a leader's assignment take effect only once durable.
//   - Coordinator (coordinator.go) owns the groups, one mutex per group so
//     that a slow or busy group never stalls another, drives each group's
//     deadlines with a timer from an injectable Clock, feeds the groups'
//     records to the log, and expires offsets of empty groups.
//
// Promises: an OffsetCommit is answered only after its records are on disk,
// and its offsets are visible only from then; a commit that could not be
// written is answered NOT_COORDINATOR and leaves the previous offsets; a
// restart replays every acknowledged commit and deletion; the state
// machine follows Kafka's GroupCoordinator (states Empty,
// PreparingRebalance, CompletingRebalance, Stable, Dead; generation and
// member fencing; static membership; protocol selection by vote; the
// leader's assignment relayed byte for byte).
package group
