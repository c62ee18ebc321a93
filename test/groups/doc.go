// Package groups holds Courier's consumer-group stress tests: they start a
// broker in-process on a free loopback port (package testbroker) and drive
// it over TCP with franz-go group consumers.
//
//   - Rebalance storm: a producer writes continuously to a 4-partition
//     topic while the members of two groups (one eager with explicit
//     commits, one cooperative-sticky with auto-commit) join and leave
//     every second or so, and a third group consumes throughout with one
//     member. Afterwards every acknowledged record was consumed at least
//     once by every group, the committed offsets polled all along never
//     went backwards (nor past the log end), and every group ends with
//     its offsets committed at the log end.
//
// Every loop is bounded in count and time; the file runs in about 13s.
package groups
