package compat

// compaction_helpers_test.go: what the log-compaction and topic-config
// compatibility tests share: a broker whose cleaner looks for work every
// 50ms, a keyed workload (several versions of each key, tombstones), the
// model a compacted read must agree with, waiting (with franz-go) until
// the broker has compacted, and Kafka Connect's internal topics.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/brokerproc"
	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/courier-dev/courier/internal/testkit/testcompact"
	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kgo"
)

// compactWait bounds the wait for the cleaner; it compacts within about a
// second of the records being written.
const compactWait = 30 * time.Second

// smallSegment makes segments roll every few rounds of the workload, so
// that the cleaner has closed segments to compact (it never touches the
// active one). The cleaner's first pass over a partition finds every
// record dirty, above the default min.cleanable.dirty.ratio (0.5).
// Kafka 4 refuses a segment.bytes under 1 MiB; its tests set
// internal.segment.bytes (an internal topic config, not described), and
// so do these.
const smallSegment = "4096"

// segmentBytes is the config smallSegment is set as.
const segmentBytes = "internal.segment.bytes"

// startCompactBroker starts the binary as startBroker does, with the
// cleaner looking for work every 50ms instead of Kafka's 15s.
func startCompactBroker(t *testing.T) *brokerproc.Broker {
	t.Helper()
	return brokerproc.StartT(t, courierBin, t.TempDir(), brokerproc.Fsync("always"),
		brokerproc.Args("--cleaner-backoff=50ms"))
}

// checkCompactedRead fails the test unless got, what a client read from
// the start, is a compacted read of produced taken between before and
// after (franz-go's reads just before and after the client's): the
// cleaner may compact further meanwhile, never bring a record back.
func checkCompactedRead(t *testing.T, who string, produced []testcompact.KV, before, got, after []testcompact.OffsetKV) {
	t.Helper()
	if p := testcompact.Problem(produced, got); p != "" {
		t.Fatalf("%s read %d records: %s", who, len(got), p)
	}
	has := func(rs []testcompact.OffsetKV) map[int64]bool {
		m := map[int64]bool{}
		for _, r := range rs {
			m[r.Offset] = true
		}
		return m
	}
	b, g := has(before), has(got)
	for _, r := range got {
		if !b[r.Offset] {
			t.Fatalf("%s read offset %d, which franz-go's read before it no longer had", who, r.Offset)
		}
	}
	for _, r := range after {
		if !g[r.Offset] {
			t.Fatalf("%s missed offset %d, which franz-go's read after it still had", who, r.Offset)
		}
	}
}

// readFromStart reads partition of topic from its start to end (the
// offset after the last record produced) with franz-go.
func readFromStart(t *testing.T, addr, topic string, partition int32, end int64) []testcompact.OffsetKV {
	t.Helper()
	cl := testclient.New(t, addr, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {partition: kgo.NewOffset().AtStart()}}))
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var out []testcompact.OffsetKV
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read %d records of %s[%d] without reaching offset %d", len(out), topic, partition, end)
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Fatalf("fetch %s[%d]: %v", topic, partition, err) })
		for _, r := range fs.Records() {
			out = append(out, testcompact.OffsetKV{Offset: r.Offset, Key: r.Key, Value: r.Value})
			if r.Offset >= end-1 {
				return out
			}
		}
	}
}

// waitCompacted waits until a read from the start of the partition finds
// at most half of produced, as a compacted read, and returns that read.
func waitCompacted(t *testing.T, addr, topic string, partition int32, produced []testcompact.KV) []testcompact.OffsetKV {
	t.Helper()
	var got []testcompact.OffsetKV
	testwait.For(t, compactWait, "the cleaner to compact "+topic, func() string {
		got = readFromStart(t, addr, topic, partition, int64(len(produced)))
		if p := testcompact.Problem(produced, got); p != "" {
			return p
		}
		if len(got) > len(produced)/2 {
			return fmt.Sprintf("%d of %d records still there", len(got), len(produced))
		}
		return ""
	})
	return got
}

// produceRounds writes rounds to partition of topic with franz-go, one
// uncompressed batch per round.
func produceRounds(t *testing.T, addr, topic string, partition int32, rounds [][]testcompact.KV) {
	t.Helper()
	cl := testclient.New(t, addr, kgo.RecordPartitioner(kgo.ManualPartitioner()),
		kgo.ProducerBatchCompression(kgo.NoCompression()))
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for i, round := range rounds {
		var rs []*kgo.Record
		for _, r := range round {
			rs = append(rs, &kgo.Record{Topic: topic, Partition: partition, Key: r.Key, Value: r.Value})
		}
		if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
			t.Fatalf("produce round %d to %s[%d]: %v", i, topic, partition, err)
		}
	}
}

// connectTopic is one of Kafka Connect's internal topics as its
// TopicAdmin creates them in distributed mode: compacted, the broker's
// replication factor (-1), and Connect's default partition counts.
type connectTopic struct {
	Name       string `json:"topic"`
	Partitions int32  `json:"numPartitions"`
}

// connectTopics are config.storage.topic, offset.storage.topic and
// status.storage.topic with their default partitions (1, 25, 5).
var connectTopics = []connectTopic{
	{"connect-configs", 1},
	{"connect-offsets", 25},
	{"connect-status", 5},
}

// kafkaTopicConfigs is every topic config of Apache Kafka 4.0 (33), each
// with a value Kafka accepts, most of them other than the default so that
// describing them back shows they were kept.
var kafkaTopicConfigs = map[string]string{
	"cleanup.policy":                          "compact,delete",
	"compression.type":                        "zstd",
	"compression.gzip.level":                  "6",
	"compression.lz4.level":                   "10",
	"compression.zstd.level":                  "5",
	"delete.retention.ms":                     "3600000",
	"file.delete.delay.ms":                    "30000",
	"flush.messages":                          "100000",
	"flush.ms":                                "60000",
	"follower.replication.throttled.replicas": "0:1",
	"index.interval.bytes":                    "8192",
	"leader.replication.throttled.replicas":   "0:1",
	"local.retention.bytes":                   "-2",
	"local.retention.ms":                      "-2",
	"max.compaction.lag.ms":                   "86400000",
	"max.message.bytes":                       "2097152",
	"message.timestamp.after.max.ms":          "60000",
	"message.timestamp.before.max.ms":         "86400000",
	"message.timestamp.type":                  "LogAppendTime",
	"min.cleanable.dirty.ratio":               "0.25",
	"min.compaction.lag.ms":                   "1000",
	"min.insync.replicas":                     "1",
	"preallocate":                             "false",
	"remote.log.copy.disable":                 "false",
	"remote.log.delete.on.disable":            "false",
	"remote.storage.enable":                   "false",
	"retention.bytes":                         "1073741824",
	"retention.ms":                            "86400000",
	"segment.bytes":                           "536870912",
	"segment.index.bytes":                     "5242880",
	"segment.jitter.ms":                       "60000",
	"segment.ms":                              "3600000",
	"unclean.leader.election.enable":          "false",
}

// ptrs turns a config map into the form kadm takes.
func ptrs(m map[string]string) map[string]*string {
	out := make(map[string]*string, len(m))
	for k, v := range m {
		out[k] = &v
	}
	return out
}

// Codec ids in a record batch's attributes (its low three bits).
const (
	codecGzip   int16 = 1
	codecSnappy int16 = 2
	codecLz4    int16 = 3
	codecZstd   int16 = 4
)

// checkCodec fails the test unless the broker stores partition 0 of topic
// as batches compressed with codec holding records records in all.
func checkCodec(t *testing.T, addr, topic string, codec int16, records int) {
	t.Helper()
	batches := rawBatches(t, addr, topic, 0)
	var n int
	for _, bt := range batches {
		if got := bt.Attributes & 7; got != codec {
			t.Fatalf("%s: batch at offset %d stored with codec %d, want %d (compression.type)", topic, bt.FirstOffset, got, codec)
		}
		n += int(bt.NumRecords)
	}
	if n != records {
		t.Fatalf("%s: stored batches hold %d records, want %d", topic, n, records)
	}
}
