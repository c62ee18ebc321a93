package sarama_test

// compaction_test.go drives log compaction and list configs with sarama:
// Kafka Connect's compacted internal topics created with
// ClusterAdmin.CreateTopic, described with DescribeConfig, altered with
// IncrementalAlterConfig (SET, and APPEND and SUBTRACT on cleanup.policy),
// used by a SyncProducer and read back compacted by a partition consumer;
// a keyless record refused with ErrInvalidRecord.

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/courier-dev/courier/internal/broker/run"
	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testcompact"
)

// fastCleaner makes the cleaner look for work every 50ms instead of
// Kafka's 15s.
func fastCleaner(c *run.Config) { c.Broker.Cleaner.Backoff = 50 * time.Millisecond }

// describeTopic returns a topic's configs by name, as DescribeConfigs
// answers.
func describeTopic(t *testing.T, admin sarama.ClusterAdmin, topic string) map[string]sarama.ConfigEntry {
	t.Helper()
	res, err := admin.DescribeConfigs([]*sarama.ConfigResource{{Type: sarama.TopicResource, Name: topic}}, sarama.DescribeConfigsOptions{})
	if err == nil && len(res) != 1 {
		err = fmt.Errorf("%d resources described", len(res))
	}
	if err == nil && res[0].ErrorCode != sarama.ErrNoError {
		err = fmt.Errorf("%w: %s", res[0].ErrorCode, res[0].ErrorMsg)
	}
	if err != nil {
		t.Fatalf("DescribeConfigs %s: %v", topic, err)
	}
	out := map[string]sarama.ConfigEntry{}
	for _, e := range res[0].Configs {
		out[e.Name] = e
	}
	return out
}

// checkSet fails the test unless each of want is described with its
// value, set on the topic.
func checkSet(t *testing.T, admin sarama.ClusterAdmin, topic string, want map[string]string) {
	t.Helper()
	got := describeTopic(t, admin, topic)
	for name, v := range want {
		e, ok := got[name]
		if !ok || e.Value != v || e.Source != sarama.SourceTopic || e.Default {
			t.Fatalf("DescribeConfig %s: %s = %+v (present %v), want %q set on the topic", topic, name, e, ok, v)
		}
	}
}

// incremental applies one IncrementalAlterConfig operation to topic.
func incremental(t *testing.T, admin sarama.ClusterAdmin, topic, name string, op sarama.IncrementalAlterConfigsOperation, value string) {
	t.Helper()
	err := admin.IncrementalAlterConfig(sarama.TopicResource, topic, map[string]sarama.IncrementalAlterConfigsEntry{
		name: {Operation: op, Value: &value},
	}, false)
	if err != nil {
		t.Fatalf("IncrementalAlterConfig %s %v %s=%s: %v", topic, op, name, value, err)
	}
}

// readPartition reads partition 0 of topic from the oldest offset to end
// (the offset after the last record produced) with a sarama consumer.
func readPartition(t *testing.T, addr, topic string, end int64) []testcompact.OffsetKV {
	t.Helper()
	c, err := sarama.NewConsumer([]string{addr}, baseConfig("reader"))
	if err != nil {
		t.Fatalf("sarama.NewConsumer: %v", err)
	}
	defer c.Close()
	pc, err := c.ConsumePartition(topic, 0, sarama.OffsetOldest)
	if err != nil {
		t.Fatalf("ConsumePartition %s: %v", topic, err)
	}
	defer pc.Close()
	var out []testcompact.OffsetKV
	timeout := time.After(10 * time.Second)
	for {
		select {
		case m := <-pc.Messages():
			out = append(out, testcompact.OffsetKV{Offset: m.Offset, Key: m.Key, Value: m.Value})
			if m.Offset >= end-1 {
				return out
			}
		case err := <-pc.Errors():
			t.Fatalf("consume %s: %v", topic, err)
		case <-timeout:
			t.Fatalf("read %d records of %s without reaching offset %d", len(out), topic, end)
		}
	}
}

// TestSaramaConnectInternalTopics creates Kafka Connect's three internal
// topics as Connect's TopicAdmin does (compacted, the broker's replication
// factor), describes them, shrinks the configs topic's segments and lowers
// min.cleanable.dirty.ratio with incremental SETs, writes several versions of each key and tombstones to
// it, reads it back compacted once the cleaner ran, and has a keyless
// record refused with ErrInvalidRecord. Then cleanup.policy is altered as
// a list: APPEND delete (compact,delete), SUBTRACT compact (delete).
func TestSaramaConnectInternalTopics(t *testing.T) {
	b := testbroker.Start(t, fastCleaner)
	admin := newAdmin(t, b.Addr)
	compact := "compact"
	for _, ct := range []struct {
		name       string
		partitions int32
	}{{"connect-configs", 1}, {"connect-offsets", 25}, {"connect-status", 5}} {
		err := admin.CreateTopic(ct.name, &sarama.TopicDetail{
			NumPartitions: ct.partitions, ReplicationFactor: -1,
			ConfigEntries: map[string]*string{"cleanup.policy": &compact},
		}, false)
		if err != nil {
			t.Fatalf("CreateTopic %s: %v", ct.name, err)
		}
		checkSet(t, admin, ct.name, map[string]string{"cleanup.policy": "compact"})
	}
	const topic = "connect-configs"
	// Kafka 4 refuses a segment.bytes under 1 MiB; its tests, and these,
	// set internal.segment.bytes (an internal config, not described).
	incremental(t, admin, topic, "internal.segment.bytes", sarama.IncrementalAlterConfigsOperationSet, "4096")
	incremental(t, admin, topic, "min.cleanable.dirty.ratio", sarama.IncrementalAlterConfigsOperationSet, "0.01")
	checkSet(t, admin, topic, map[string]string{"cleanup.policy": "compact", "min.cleanable.dirty.ratio": "0.01"})

	rounds := testcompact.Rounds(10, 12)
	produced := testcompact.Flatten(rounds)
	sp := newSyncProducer(t, b.Addr, topic, nil)
	for i, round := range rounds {
		var msgs []*sarama.ProducerMessage
		for _, r := range round {
			m := &sarama.ProducerMessage{Topic: topic, Partition: 0, Key: sarama.ByteEncoder(r.Key)}
			if r.Value != nil {
				m.Value = sarama.ByteEncoder(r.Value)
			}
			msgs = append(msgs, m)
		}
		if err := sp.SendMessages(msgs); err != nil {
			t.Fatalf("SendMessages round %d: %v", i, err)
		}
		if want := int64(i * len(round)); msgs[0].Offset != want {
			t.Fatalf("round %d written at offset %d, want %d", i, msgs[0].Offset, want)
		}
	}
	_, _, err := sp.SendMessage(&sarama.ProducerMessage{Topic: topic, Partition: 0, Value: sarama.StringEncoder("no key")})
	if !errors.Is(err, sarama.ErrInvalidRecord) {
		t.Fatalf("keyless record on a compacted topic: %v, want %v", err, sarama.ErrInvalidRecord)
	}

	var got []testcompact.OffsetKV
	waitFor(t, 30*time.Second, "the cleaner to compact "+topic, func() string {
		got = readPartition(t, b.Addr, topic, int64(len(produced)))
		if p := testcompact.Problem(produced, got); p != "" {
			return p
		}
		if len(got) > len(produced)/2 {
			return fmt.Sprintf("%d of %d records still there", len(got), len(produced))
		}
		return ""
	})

	// cleanup.policy as a list (KIP-339): APPEND and SUBTRACT.
	incremental(t, admin, topic, "cleanup.policy", sarama.IncrementalAlterConfigsOperationAppend, "delete")
	checkSet(t, admin, topic, map[string]string{"cleanup.policy": "compact,delete", "min.cleanable.dirty.ratio": "0.01"})
	incremental(t, admin, topic, "cleanup.policy", sarama.IncrementalAlterConfigsOperationSubtract, "compact")
	checkSet(t, admin, topic, map[string]string{"cleanup.policy": "delete", "min.cleanable.dirty.ratio": "0.01"})
	// Appending what the list holds leaves it as it is, as in Kafka.
	incremental(t, admin, topic, "cleanup.policy", sarama.IncrementalAlterConfigsOperationAppend, "delete")
	checkSet(t, admin, topic, map[string]string{"cleanup.policy": "delete"})
}
