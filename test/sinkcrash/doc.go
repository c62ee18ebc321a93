// Package sinkcrash holds the exactly-once-after-crash test of the sink:
// the real courier binary runs as a broker and as `courier sink`, the sink
// is SIGKILLed at random moments while it writes and restarted each time,
// and at the end the database (SQLite and PostgreSQL) must hold every
// produced record exactly once, at its (partition, offset), with its
// content, and each rider's newest update as its latest. Stopped with
// SIGTERM instead (sigterm_test.go), the sink writes and commits the batch
// it holds: no warning, and the committed offsets count the rows written.
// In a share group (share_test.go), three sinks on a two-partition topic
// are SIGKILLed in turn while they write: what a killed sink wrote but had
// not acknowledged comes back to another, and the database still holds
// every record once.
package sinkcrash
