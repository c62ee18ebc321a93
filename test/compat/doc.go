// Package compat holds Courier's compatibility tests: they build the real
// courier binary, start it on free loopback ports with a temporary data
// directory (package brokerproc), and drive it with third-party Kafka
// clients as users would: kcat (librdkafka), kafkajs (Node.js, the scripts
// in kafkajs/) and confluent-kafka-python (the script in confluent/). Each test checks byte for byte that what a client reads back
// is what it, or another client, wrote. Consumer groups are checked the
// same way: the seed's flow (two members of user-1 splitting rider-updates,
// a user-2 member reading everything, a stopped or killed member's
// partitions taken over from the committed offsets, an idle third member)
// with kafkajs consumers (kafkajs/groups.js) and kcat -G.
//
// Log compaction and topic configs are checked the same way: Kafka
// Connect's compacted internal topics created, described, altered, written
// and read back compacted, a topic with every Kafka topic config, and
// compression.type recompressing what clients sent uncompressed.
//
// The clients are not Go dependencies. scripts/test.sh installs them (kcat
// and python3-confluent-kafka from Debian, kafkajs with `npm ci` in
// kafkajs/) and sets
// COURIER_REQUIRE_COMPAT=1, under which a missing client fails the test;
// without that variable such a test is skipped with instructions.
package compat
