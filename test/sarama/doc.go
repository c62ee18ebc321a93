// Package sarama holds Courier's Sarama compatibility tests: they start a
// broker in-process on a free loopback port (package testbroker) and drive
// it over TCP with IBM/sarama, the other widely used Go Kafka client, whose
// protocol code shares nothing with franz-go's kmsg that the broker itself
// decodes with. A request sarama encodes differently from franz-go, or a
// response field sarama reads that franz-go ignores, shows up here.
//
//   - Consumer groups: the seed's flow with sarama's ConsumerGroup, once per
//     balance strategy (range, roundrobin, sticky and cooperative-sticky).
//     rider-updates is created with sarama's ClusterAdmin and written with
//     its SyncProducer (acks=all, manual partitioner). Two members of
//     user-1 each claim one partition and read exactly its records; the
//     one member of user-2 reads everything once, in order. One user-1
//     member is closed and the other claims both partitions, continuing
//     from the committed offsets. A second and third member join: one of
//     the three claims nothing. The owner of a partition is closed after
//     reading records it never marked: its successor reads them again, and
//     nothing else twice. ClusterAdmin then lists and describes both
//     groups as they are.
//   - Idempotent producer: sarama's SyncProducer with Producer.Idempotent
//     writes records that sarama's partition consumer reads back, and that
//     are stored in batches carrying the producer ID the broker gave it.
//
// Every wait is bounded; the package runs in well under 30s.
package sarama
