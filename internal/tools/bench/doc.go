// Package bench owns Courier's produce/consume benchmark: it measures any
// Kafka-compatible cluster (Courier's broker, Apache Kafka, franz-go's kfake)
// only through the public protocol with franz-go clients.
//
// A run creates a fresh topic, produces Records values of Size bytes
// (acks=all, idempotent, default batching and linger) while a consumer reads
// the topic concurrently to time each record end to end, then reads
// everything again from the beginning with a second consumer to time
// consumption on its own. It deletes the topic afterwards unless told to keep
// it.
//
// What a run promises:
//   - Every value starts with a 16-byte header (see [PutHeader]): the send
//     time on the run's monotonic clock, then the record's sequence number in
//     [0, Records). The rest is random bytes generated once per run, so the
//     payload does not compress and the generator costs nothing per record.
//   - Both consumers track sequence numbers in a bitset, so [Result] reports
//     exactly how many records were missing or duplicated in each pass;
//     [Result.Check] turns loss into an error.
//   - Records have no key unless Config.Keys is set: then record seq has key
//     "key-<seq % Keys>". The topic is created with Config.TopicConfigs. On
//     a compacted topic (cleanup.policy compact) the cleaner may remove
//     superseded records while the consumers read, so there the consumers
//     read up to the log end as it was after production, and the check is
//     what compaction promises: no record twice, the newest record of every
//     key present (keys.go says how that is known without offsets).
//   - Throughput counts value bytes only (no keys, headers or protocol
//     framing), and MB means 10^6 bytes.
//   - With Config.Transactional, every producer has its own transactional
//     id and wraps its records in transactions that it ends, by a flush
//     and a commit, every TxnRecords records or every TxnInterval; the
//     commit latency (flush plus EndTransaction) is reported beside the
//     throughput, and both consumers read with isolation read_committed,
//     so their end-to-end latency includes the wait for the commit. The
//     check is the same: every record exactly once.
//   - End-to-end latency is the time from the Produce call to the poll that
//     returned the record. At full speed it includes the time records wait in
//     the producer's buffer, so it shows latency under saturation, not the
//     latency of an idle cluster.
//   - The client is built to cost the broker as little CPU as possible: value
//     buffers and kgo.Records are reused from a pool sized by BufferBytes, and
//     fetched records are recycled.
//
// Two more benchmarks measure the group protocols: [RunGroups] (groups.go),
// the records per second share groups and classic groups of 1, 4 and 16
// consumers acknowledge on one topic, and [RunRebalance] (rebalance.go),
// how long a member joining a group waits for partitions under KIP-848 and
// under the classic protocol. [RunConsole] (console.go) seeds a cluster
// with 10,000 topics, 1,000 groups and a million records and times Courier
// Console's HTTP API on it as a script uses it.
package bench
