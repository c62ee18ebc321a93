// Package rdkafka848 checks Courier against librdkafka's KIP-848 consumer
// (group.protocol=consumer), through confluent-kafka-go v2.11.1, which
// bundles a static librdkafka 2.11.1 (Debian's 2.0.2 predates KIP-848).
//
// It is a module of its own so that the main module never builds cgo; run
// it with `cd test/rdkafka848 && go test ./...` (scripts/test.sh does,
// after the main tests). The tests build ./cmd/courier from the repository
// and start it on a free port; RDKAFKA848_BROKER=kfake runs them against
// franz-go's in-memory cluster instead, and RDKAFKA848_BROKER=HOST:PORT
// against a running broker.
//
// The flow is the seed's, with the new protocol: two members share a
// two-partition topic, a third waits with nothing, a member that dies
// (SIGKILLed, in a process of its own) and a member that leaves have
// their partitions taken over by the others, and two groups each receive
// every record (pub/sub). Every member must speak ConsumerGroupHeartbeat
// (its debug log says so) and never JoinGroup.
package rdkafka848
