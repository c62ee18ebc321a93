// Package group is Courier's group coordinator for Kafka's classic consumer
// group protocol (JoinGroup, SyncGroup, Heartbeat, LeaveGroup), KIP-848's
// consumer protocol (ConsumerGroupHeartbeat, ConsumerGroupDescribe) and
// the committed offsets of every group, transactional ones included
// (TxnOffsetCommit, KIP-98 and KIP-447). A group is classic or consumer
// (Group.cg); both kinds share the group ids, the offsets and the journal.
//
// It has three layers, each testable alone:
//
//   - Group (group.go, join.go, membership.go, offsets.go, txn.go) is one group's state
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
//     from a snapshot of the durable state (state.go; it keeps pending
//     transactional offsets pending, in their log order), and repaired by
//     itself after a failed write. persist.go feeds it the groups' records
//     and folds each batch's outcome back (durable.go): offsets,
//     deletions and a leader's assignment take effect only once durable.
//   - Coordinator (coordinator.go) owns the groups, one mutex per group so
//     that a slow or busy group never stalls another, drives each group's
//     deadlines with a timer from an injectable Clock, feeds the groups'
//     records to the log, and expires offsets of empty groups.
//
// Consumer groups (consumer*.go, assignor.go) follow Kafka 4's
// GroupMetadataManager: the broker assigns partitions with the uniform or
// range assignor (target assignment, at the group epoch), and each member
// is reconciled towards its target one heartbeat at a time, revoking
// before it is given anything, and given a partition only once its
// previous owner reported it released. Their state is in the journal
// (consumer_records.go) and a heartbeat is answered only once what it
// shows is durable. Classic members may join a consumer group, and groups
// with members are converted between the protocols as
// group.consumer.migration.policy allows (consumer_classic.go,
// consumer_migrate.go). The broker's topics reach the coordinator through
// Topics (topics.go). Invariants are listed in consumer.go and checked by
// the model test (consumer_model_test.go).
//
// Promises: an OffsetCommit is answered only after its records are on disk,
// and its offsets are visible only from then; a commit that could not be
// written is answered NOT_COORDINATOR and leaves the previous offsets; a
// restart replays every acknowledged commit and deletion; the state
// machine follows Kafka's GroupCoordinator (states Empty,
// PreparingRebalance, CompletingRebalance, Stable, Dead; generation and
// member fencing; static membership; protocol selection by vote; the
// leader's assignment relayed byte for byte). Transactional offsets are
// durable when TxnCommitOffsets' wait returns and invisible to
// FetchOffsets until the transaction coordinator's CompleteTxn(commit) is
// durable; they stay pending across restarts and crashes until it comes
// (CompleteTxn(abort) drops them; completing twice is harmless); when a
// transaction commits, each partition keeps whichever of its plain commit
// and its transactional offset came later in the log, as Kafka does; and
// neither a pending offset nor its group expires while the transaction is
// open (deleting the partition's offset or the group drops it, as in
// Kafka).
package group
