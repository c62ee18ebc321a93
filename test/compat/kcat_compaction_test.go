package compat

// kcat_compaction_test.go drives log compaction and compression.type with
// kcat (librdkafka): a compacted topic read from the start shows exactly
// the records the cleaner kept, at their original offsets, a tombstone as
// NULL, and the end of the partition; topics whose compression.type is
// gzip, snappy, lz4 or zstd, written uncompressed, are stored compressed
// with that codec and read back whole.

import (
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/courier-dev/courier/internal/testkit/testcompact"
)

// compactedFormat prints a record's offset, key and value; with -Z kcat
// prints a null value (a tombstone) as NULL.
const compactedFormat = "%o %k=%s\n"

// kcatReadCompacted reads partition 0 of topic from the beginning to its
// end with kcat -Z and returns the records it printed; it fails the test
// unless kcat reports reaching the end at end, without an error.
func kcatReadCompacted(t *testing.T, bin, addr, topic string, end int64) []testcompact.OffsetKV {
	t.Helper()
	argv := []string{"-b", addr, "-C", "-e", "-Z", "-X", "fetch.wait.max.ms=100", "-t", topic, "-p", "0", "-o", "beginning", "-f", compactedFormat}
	stdout, stderr, err := run(t, nil, kcatError, bin, argv...)
	if err != nil || strings.Contains(string(stderr), "ERROR") {
		t.Fatalf("kcat %s: %v\n%s", strings.Join(argv, " "), err, stderr)
	}
	if want := fmt.Sprintf("Reached end of topic %s [0] at offset %d", topic, end); !strings.Contains(string(stderr), want) {
		t.Fatalf("kcat's stderr lacks %q:\n%s", want, stderr)
	}
	var out []testcompact.OffsetKV
	for _, line := range strings.Split(strings.TrimSuffix(string(stdout), "\n"), "\n") {
		offset, rest, ok := strings.Cut(line, " ")
		key, value, ok2 := strings.Cut(rest, "=")
		o, err := strconv.ParseInt(offset, 10, 64)
		if !ok || !ok2 || err != nil {
			t.Fatalf("kcat printed %q, not %q", line, compactedFormat)
		}
		r := testcompact.OffsetKV{Offset: o, Key: []byte(key)}
		if value != "NULL" {
			r.Value = []byte(value)
		}
		out = append(out, r)
	}
	return out
}

// TestKcatReadsCompactedTopic writes several versions of each key and
// tombstones to a compacted topic, waits for the cleaner, and reads it
// with kcat from the beginning: exactly the records kept, at their
// original offsets with gaps, key-3's tombstone as NULL, and the end of
// the partition at the offset after the last record written.
func TestKcatReadsCompactedTopic(t *testing.T) {
	bin := requireKcat(t)
	b := startCompactBroker(t)
	const topic = "kcat-compacted"
	testclient.CreateTopic(t, b.Addr(), topic, 1, ptrs(map[string]string{"cleanup.policy": "compact", segmentBytes: smallSegment}))
	rounds := testcompact.Rounds(10, 12)
	produced := testcompact.Flatten(rounds)
	produceRounds(t, b.Addr(), topic, 0, rounds)
	before := waitCompacted(t, b.Addr(), topic, 0, produced)
	got := kcatReadCompacted(t, bin, b.Addr(), topic, int64(len(produced)))
	after := readFromStart(t, b.Addr(), topic, 0, int64(len(produced)))
	checkCompactedRead(t, "kcat", produced, before, got, after)
	last := got[len(got)-1]
	if last.Offset != int64(len(produced)-1) {
		t.Fatalf("kcat's last record is at offset %d, want %d", last.Offset, len(produced)-1)
	}
	var tombstone bool
	for _, r := range got {
		tombstone = tombstone || (string(r.Key) == "key-3" && r.Value == nil)
	}
	if !tombstone {
		t.Fatalf("kcat did not print key-3's tombstone (as key-3=NULL)")
	}
}

// TestKcatReadsRecompressedTopics creates one topic per codec with
// compression.type set to it, writes records uncompressed with franz-go,
// and checks that the broker stored them compressed with the topic's codec
// and that kcat reads every record back.
func TestKcatReadsRecompressedTopics(t *testing.T) {
	bin := requireKcat(t)
	b := startCompactBroker(t)
	for _, c := range []struct {
		name string
		id   int16
	}{{"gzip", codecGzip}, {"snappy", codecSnappy}, {"lz4", codecLz4}, {"zstd", codecZstd}} {
		t.Run(c.name, func(t *testing.T) {
			topic := "recompressed-" + c.name
			configs := ptrs(map[string]string{"compression.type": c.name})
			testclient.CreateTopic(t, b.Addr(), topic, 1, configs)
			var rounds [][]testcompact.KV
			var want strings.Builder
			for i := range 4 {
				var round []testcompact.KV
				for range 25 {
					o := len(round) + i*25
					k, v := fmt.Sprintf("key-%03d", o), fmt.Sprintf("%s record %03d %s", c.name, o, strings.Repeat("compressible ", 6))
					round = append(round, testcompact.KV{Key: []byte(k), Value: []byte(v)})
					fmt.Fprintf(&want, "%d %s=%s\n", o, k, v)
				}
				rounds = append(rounds, round)
			}
			produceRounds(t, b.Addr(), topic, 0, rounds)
			checkCodec(t, b.Addr(), topic, c.id, 100)
			argv := []string{"-b", b.Addr(), "-C", "-e", "-X", "fetch.wait.max.ms=100", "-t", topic, "-p", "0", "-o", "beginning", "-f", compactedFormat}
			stdout, stderr, err := run(t, nil, kcatError, bin, argv...)
			if err != nil || strings.Contains(string(stderr), "ERROR") {
				t.Fatalf("kcat %s: %v\n%s", strings.Join(argv, " "), err, stderr)
			}
			diff(t, "kcat read", string(stdout), want.String())
		})
	}
}
