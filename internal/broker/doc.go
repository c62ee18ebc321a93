// Package broker serves the Kafka protocol on top of Courier's storage: it
// owns the topics and their partition logs, answers every request the
// server package decodes, and runs the background work (interval fsync,
// retention). Request handlers live one file per API, named by API key
// (00_produce.go, 01_fetch.go, ...), in the manner of franz-go's kfake: to
// find how Courier answers a request, open the file named by its key.
//
// Courier is a single node: it is the leader of every partition with leader
// epoch 0, its only replica and its in-sync set, and the coordinator of
// every group.
package broker
