// Package txn is Courier's transaction coordinator (KIP-98 transactions,
// with KIP-360's producer epoch bumps, KIP-447's group checks, KIP-664's
// admin listing and KIP-890 part 1's verification): Kafka's
// TransactionCoordinator, TransactionStateManager, TransactionMetadata and
// TransactionMarkerChannelManager, with their rules and error codes, and
// no Kafka-wire I/O. The broker's handlers decode requests and call it;
// it calls back into the broker (Markers) to write COMMIT/ABORT markers to
// partitions and to complete transactional offset commits in groups.
//
// It has three layers:
//
//   - The state machine (state.go): one transactional id's metadata
//     (producer id and epoch, the previous ones, timeout, state,
//     partitions and groups, start and update times) and the transition
//     each request asks for, pure, with time passed in.
//   - The journal (record.go, coordinator.go): each transition is one
//     record, an upsert keyed by transactional id (a deletion when the id
//     expires), appended to DATA/meta/transactions/txn.log through
//     internal/broker/journal, the record log the coordinators share. A
//     transition takes effect only in the journal's done callback, once
//     its record is durable; until then the id is pending and other
//     transitions of it answer CONCURRENT_TRANSACTIONS. The snapshot is
//     every id's current record and the coordinator epoch.
//   - The coordinator (coordinator.go, api.go, complete.go, timeouts.go,
//     describe.go): one lock over the ids, never held across a journal
//     wait, a Markers call or a producer id allocation; one goroutine per
//     transaction being completed (markers, then the Complete record);
//     two timers on an injectable Clock (aborting timed-out transactions,
//     expiring idle ids). Close stops all of them.
//
// A transaction's life: InitProducerId (Empty, epoch bumped) ->
// AddPartitionsToTxn / AddOffsetsToTxn (Ongoing, start time set) ->
// EndTxn (PrepareCommit or PrepareAbort, durable before anything else
// happens) -> markers on every partition and group, retried until durable
// -> CompleteCommit or CompleteAbort. InitProducerId during Ongoing, or a
// transaction outliving its timeout, fences the producer: the epoch is
// bumped in the PrepareAbort record, so the markers carry the new epoch
// and the old producer's requests get PRODUCER_FENCED.
//
// Promises:
//   - A request is answered only after its transition is durable; a
//     transition that could not be stored leaves the id as it was and is
//     answered NOT_COORDINATOR (retriable, as Kafka's coordinator answers a
//     failed log append).
//   - Once a PrepareCommit or PrepareAbort record is durable the
//     transaction ends that way and no other: its markers are written to
//     exactly its partitions and groups with that outcome, retried with
//     back-off while they fail, and after a crash at any point by the next
//     Open, which finishes every prepared transaction before it is used
//     again. Only then is the Complete record written.
//   - Producer epochs of an id only grow; a fenced producer's requests
//     fail.
//   - An ongoing transaction keeps its start time across restarts, so its
//     timeout still applies.
//   - A damaged record is never applied: the journal skips it, keeps a
//     copy of the file, logs it and counts it (JournalStats); records that
//     decode are validated (meta.validate) before they become state.
package txn
