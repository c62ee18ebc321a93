// Package console moves records between a terminal and a Kafka-compatible
// cluster: Produce turns lines of input into records, and Consume prints
// records through a small format language. It speaks only the public Kafka
// protocol through franz-go's kgo, so it works against Courier and against
// Apache Kafka alike.
//
// Promises:
//   - One line is one record. Lines are split on '\n' only; every other
//     byte, '\r' included, is kept, so producing a file and consuming it
//     with the default format "%v\n" gives back the same bytes (provided the
//     file ends in a newline). An empty line is a record with an empty value.
//   - A line longer than the configured limit stops the run with an error
//     rather than being cut or dropped silently.
//   - Produce reports every record that failed; success is silent.
//   - Produce stops reading as soon as its context ends (Ctrl-C), even
//     while waiting for a line from a terminal.
//   - Consume stops cleanly when its context ends, after the requested
//     number of records, or when its timeout expires; the timeout is an
//     error only if it cut short a requested number of records.
//   - In a group, only what was printed counts: a consumer group commits
//     the printed records, a share group acknowledges each printed record
//     (accepted, or rejected or released as asked) and releases what was
//     fetched but not printed. A group protocol the cluster does not
//     offer (KIP-848, share groups) is an error before anything joins,
//     never a silent fallback.
package console
