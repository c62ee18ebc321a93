// Package ctl administers topics, consumer groups and ACLs on any
// Kafka-compatible cluster, Courier's or Apache Kafka's, using only the
// public Kafka protocol through franz-go's kadm: topics (create, list,
// describe, delete, add partitions), groups of every type (classic, KIP-848
// consumer, KIP-932 share: list with their type, describe with epochs,
// target assignments, lag or share-partition state; delete, seek), ACLs (add, list, remove, named as kafka-acls.sh's flags
// name them: [ACLSpec]) and transactions (list, describe, the producers of a
// partition, find-hanging and abort, as kafka-transactions.sh does them:
// txn*.go), plus the plain-text tables the courier CLI prints for them. (SCRAM users are package userctl's, which also edits a stopped
// broker's store; ctl imports no broker package, so the pipeline may use
// it.)
//
// Promises:
//   - Every operation talks to the cluster through an [Admin]; nothing here
//     reaches into a broker's internals, so the same commands work against
//     any broker that speaks the Kafka protocol.
//   - A Kafka error code is turned into a message a person can act on
//     ("topic rider-updates already exists", "unknown topic rider-updates")
//     by [TopicError] (and [GroupError] for groups, [TxnError] for
//     transactional ids), which still unwraps to the *kerr.Error so callers can
//     test it with errors.Is.
//   - Optional information a broker may not provide (topic IDs, configs, log
//     directory sizes) degrades to "-" or a note instead of failing the
//     whole description.
package ctl
