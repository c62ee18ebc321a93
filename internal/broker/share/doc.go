// Package share is Courier's share-group coordinator (KIP-932, "queues
// for Kafka"; KIP-1206's record limits, KIP-1222's lock renewal,
// KIP-1226's lag): Kafka's share-group membership in its
// GroupMetadataManager, SharePartitionManager, SharePartition,
// ShareSessionCache and ShareCoordinator in one package, with no Kafka
// wire I/O of its own: the broker's handlers (76, 77, 78, 79, 90, 91,
// 92) decode requests and call it, and it reads the partition logs
// through the Log interface.
//
// It has four layers:
//
//   - The share-partition (partition.go, delta.go) is a pure state
//     machine, with time passed in: the share-partition start offset
//     (SPSO), the window of in-flight offsets after it, each offset
//     Available, Acquired (by one member, until its lock expires),
//     Acknowledged or Archived, with its delivery count. Changes
//     accumulate as a Delta the coordinator persists.
//   - The journal (record.go, durable.go): each change is one record, an
//     upsert of a share-partition's changed offsets (or its whole state)
//     keyed by (group, topic id, partition), or a group's creation or
//     deletion, appended to DATA/meta/share/state.log through
//     internal/broker/journal. The durable state is the fold of the
//     records reported durable, kept apart from the live state; the
//     snapshots that compact the journal are written from it.
//   - Membership (member.go, assign.go): members name themselves, join
//     with epoch 0, leave with -1, time out after share.session.timeout.ms;
//     any change of members, subscriptions or the subscribed topics
//     (created, deleted, grown) reassigns at once, and a partition is
//     shared by several members when there are more members than
//     partitions, so every member gets records.
//   - Sessions and fetching (session.go, fetch.go, acknowledge.go,
//     acquire.go): ShareFetch and ShareAcknowledge with their share
//     sessions, acknowledgements piggybacked or alone, acquisition of
//     whole batches' offsets read through the log (read_committed stops
//     at the last stable offset and archives aborted transactions'
//     records and markers) within the broker's fetch memory budget, the
//     long poll until records arrive or are released, and the admin APIs
//     (admin.go). One lock guards all groups; it is never held across a
//     log read or a wait for the journal. A sweep on an injectable clock
//     expires locks and member sessions.
//
// Delivery counts are persisted when a record is acquired, before the
// records are handed out: a record that crashes its consumer (or the
// broker) again and again still reaches share.delivery.count.limit and
// is archived, across restarts too.
//
// Promises:
//   - A ShareFetch or ShareAcknowledge is answered only once every change
//     it reports (acknowledgements, acquisitions with their delivery
//     counts) is durable; a change that could not be stored is answered
//     KAFKA_STORAGE_ERROR and the partition's next record holds its whole
//     state, so the durable state catches up.
//   - A record is acquired by at most one member at a time; an accepted
//     or archived record is never delivered again, across restarts and
//     crashes; the SPSO never passes a record that is not acknowledged or
//     archived (or gone from the log).
//   - After a restart or a crash, what was acquired is available again
//     with its delivery count, and the groups, their SPSOs and every
//     acknowledgement are as the journal last stored them; a damaged
//     record is skipped, logged and counted by the journal, never
//     applied, and never a panic.
//   - Closing a share session, or the connection it was opened on, or a
//     member leaving or timing out, releases what the member holds there.
//   - Damaged or hostile requests get Kafka's error codes and change
//     nothing they are refused for: a partition's acknowledgements are
//     applied all or none (INVALID_REQUEST for a malformed batch or a
//     partition named twice, INVALID_RECORD_STATE for an offset the
//     member does not hold), and a request costs time and memory in
//     proportion to its size, never to the offsets it names (a batch of
//     0..MaxInt64 is refused without looking at its offsets). A share
//     session holds only partitions that exist; group ids must be UTF-8,
//     as the journal stores them.
package share
