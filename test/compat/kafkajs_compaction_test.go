package compat

// kafkajs_compaction_test.go runs kafkajs/configs.js (kafkajs 2.2.4)
// against the broker: Kafka Connect's compacted internal topics created,
// described and altered with kafkajs's admin client, used by its producer
// and read back compacted; a keyless record refused with INVALID_RECORD;
// and a topic whose compression.type makes the broker recompress what
// kafkajs sent uncompressed.

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"

	"github.com/courier-dev/courier/internal/testkit/testclient"
)

// jsAction is one action of configs.js's spec.
type jsAction struct {
	Op          string            `json:"op"`
	Topics      []jsNewTopic      `json:"topics,omitempty"`
	Topic       string            `json:"topic,omitempty"`
	Configs     map[string]string `json:"configs,omitempty"`
	Partition   int32             `json:"partition"`
	Compression string            `json:"compression,omitempty"`
	Batches     [][]kv            `json:"batches,omitempty"`
}

// jsNewTopic is a topic of a create action.
type jsNewTopic struct {
	connectTopic
	ReplicationFactor int16             `json:"replicationFactor"`
	Configs           map[string]string `json:"configs"`
}

// jsConfig is a described config.
type jsConfig struct {
	Value     string `json:"value"`
	Source    int8   `json:"source"`
	IsDefault bool   `json:"isDefault"`
}

// jsRecord is a record configs.js read back.
type jsRecord struct {
	Partition int32  `json:"partition"`
	Offset    string `json:"offset"`
	Key       []byte `json:"key"`
	Value     []byte `json:"value"`
}

// jsResult is the result of one action.
type jsResult struct {
	Op          string              `json:"op"`
	OK          bool                `json:"ok"`
	Error       string              `json:"error"`
	ErrorType   string              `json:"errorType"`
	Created     bool                `json:"created"`
	Configs     map[string]jsConfig `json:"configs"`
	BaseOffsets []string            `json:"baseOffsets"`
	Records     []jsRecord          `json:"records"`
}

// dynamicTopicConfig is DescribeConfigs' source of a config set on the
// topic (DYNAMIC_TOPIC_CONFIG).
const dynamicTopicConfig = 1

// runConfigsJS runs configs.js with actions against addr and returns one
// result per action.
func runConfigsJS(t *testing.T, addr string, actions ...jsAction) []jsResult {
	t.Helper()
	node, dir := requireKafkajs(t)
	in, err := json.Marshal(map[string]any{"brokers": []string{addr}, "actions": actions})
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := run(t, in, nil, node, filepath.Join(dir, "configs.js"))
	if err != nil {
		t.Fatalf("node configs.js: %v\nstdout:\n%s\nstderr:\n%s", err, stdout, stderr)
	}
	var out struct {
		Results []jsResult `json:"results"`
	}
	if err := json.Unmarshal(stdout, &out); err != nil {
		t.Fatalf("configs.js output: %v\n%s", err, stdout)
	}
	if len(out.Results) != len(actions) {
		t.Fatalf("configs.js ran %d of %d actions:\n%s", len(out.Results), len(actions), stdout)
	}
	return out.Results
}

// mustOK fails the test unless the action succeeded.
func mustOK(t *testing.T, r jsResult) jsResult {
	t.Helper()
	if !r.OK {
		t.Fatalf("kafkajs %s: %s (%s)", r.Op, r.ErrorType, r.Error)
	}
	return r
}

// checkDescribed fails the test unless each of want is described with its
// value, set on the topic (DYNAMIC_TOPIC_CONFIG, not a default).
func checkDescribed(t *testing.T, who, topic string, got map[string]jsConfig, want map[string]string) {
	t.Helper()
	for name, v := range want {
		c, ok := got[name]
		if !ok {
			t.Fatalf("%s: DescribeConfigs of %s lacks %s", who, topic, name)
		}
		if c.Value != v || c.Source != dynamicTopicConfig || c.IsDefault {
			t.Fatalf("%s: DescribeConfigs of %s: %s = %+v, want %q set on the topic (source %d)", who, topic, name, c, v, dynamicTopicConfig)
		}
	}
}

// jsOffsetKVs turns records of one partition into the form the compaction
// model checks.
func jsOffsetKVs(t *testing.T, rs []jsRecord, partition int32) []offsetKV {
	t.Helper()
	var out []offsetKV
	for _, r := range rs {
		if r.Partition != partition {
			t.Fatalf("read partition %d, only %d was written", r.Partition, partition)
		}
		o, err := strconv.ParseInt(r.Offset, 10, 64)
		if err != nil {
			t.Fatalf("offset %q: %v", r.Offset, err)
		}
		out = append(out, offsetKV{Offset: o, Key: r.Key, Value: r.Value})
	}
	return out
}

// TestKafkajsConnectInternalTopics creates Kafka Connect's three internal
// topics as Connect's TopicAdmin does, describes them, alters the configs
// topic's cleanup.policy to compact,delete and back with small segments
// (kafkajs's non-incremental alterConfigs), writes several versions of
// each key and tombstones to it, and reads it back compacted once the
// cleaner ran: the newest record of each key at its original offset, with
// gaps. A keyless record is refused with INVALID_RECORD.
func TestKafkajsConnectInternalTopics(t *testing.T) {
	requireKafkajs(t)
	b := startCompactBroker(t)
	var create jsAction
	create.Op = "create"
	for _, ct := range connectTopics {
		create.Topics = append(create.Topics, jsNewTopic{connectTopic: ct, ReplicationFactor: -1, Configs: map[string]string{"cleanup.policy": "compact"}})
	}
	configs := "connect-configs"
	both := map[string]string{"cleanup.policy": "compact,delete", "segment.bytes": smallSegment}
	compact := map[string]string{"cleanup.policy": "compact", "segment.bytes": smallSegment}
	rounds := compactRounds(10, 12)
	produced := flatten(rounds)
	actions := []jsAction{create}
	for _, ct := range connectTopics {
		actions = append(actions, jsAction{Op: "describe", Topic: ct.Name})
	}
	actions = append(actions,
		jsAction{Op: "alter", Topic: configs, Configs: both},
		jsAction{Op: "describe", Topic: configs},
		jsAction{Op: "alter", Topic: configs, Configs: compact},
		jsAction{Op: "describe", Topic: configs},
		jsAction{Op: "produce", Topic: configs, Batches: rounds},
		jsAction{Op: "produce", Topic: "connect-offsets", Partition: 24, Batches: [][]kv{{{Key: []byte(`["my-connector",{"file":"a"}]`), Value: []byte(`{"position":42}`)}}}},
		jsAction{Op: "produce", Topic: "connect-status", Partition: 4, Batches: [][]kv{{{Key: []byte("status-task-my-connector-0"), Value: []byte(`{"state":"RUNNING"}`)}}}},
		jsAction{Op: "produce", Topic: configs, Batches: [][]kv{{{Value: []byte("a record without a key")}}}},
	)
	res := runConfigsJS(t, b.Addr(), actions...)

	if !mustOK(t, res[0]).Created {
		t.Fatalf("createTopics of Connect's topics answered false (already existing)")
	}
	for i, ct := range connectTopics {
		checkDescribed(t, "kafkajs", ct.Name, mustOK(t, res[1+i]).Configs, map[string]string{"cleanup.policy": "compact"})
	}
	i := 1 + len(connectTopics)
	mustOK(t, res[i])
	checkDescribed(t, "kafkajs after alterConfigs", configs, mustOK(t, res[i+1]).Configs, both)
	mustOK(t, res[i+2])
	described := mustOK(t, res[i+3]).Configs
	checkDescribed(t, "kafkajs after the second alterConfigs", configs, described, compact)
	if c := described["retention.ms"]; !c.IsDefault {
		t.Fatalf("retention.ms after alterConfigs that did not name it: %+v, want its default (AlterConfigs replaces every config)", c)
	}
	var wantOffsets []string
	for r := range rounds {
		wantOffsets = append(wantOffsets, strconv.Itoa(r*len(rounds[0])))
	}
	if got := mustOK(t, res[i+4]).BaseOffsets; !reflect.DeepEqual(got, wantOffsets) {
		t.Fatalf("base offsets of the rounds: %v, want %v", got, wantOffsets)
	}
	mustOK(t, res[i+5])
	mustOK(t, res[i+6])
	if r := res[i+7]; r.OK || r.ErrorType != "INVALID_RECORD" {
		t.Fatalf("keyless record on a compacted topic: ok=%v %s (%s), want INVALID_RECORD", r.OK, r.ErrorType, r.Error)
	}

	before := waitCompacted(t, b.Addr(), configs, 0, produced)
	read := runConfigsJS(t, b.Addr(),
		jsAction{Op: "read", Topic: configs},
		jsAction{Op: "read", Topic: "connect-offsets"},
		jsAction{Op: "read", Topic: "connect-status"})
	after := readFromStart(t, b.Addr(), configs, 0, int64(len(produced)))
	for j, want := range []jsRecord{
		{Partition: 24, Offset: "0", Key: []byte(`["my-connector",{"file":"a"}]`), Value: []byte(`{"position":42}`)},
		{Partition: 4, Offset: "0", Key: []byte("status-task-my-connector-0"), Value: []byte(`{"state":"RUNNING"}`)},
	} {
		if got := mustOK(t, read[1+j]).Records; !reflect.DeepEqual(got, []jsRecord{want}) {
			t.Fatalf("read back %s: %+v, want %+v", connectTopics[1+j].Name, got, want)
		}
	}
	if !read[0].OK {
		skipIfOnlyEmptyBatches(t, b.Addr(), configs, read[0].Error)
	}
	checkCompactedRead(t, "kafkajs", produced, before, jsOffsetKVs(t, read[0].Records, 0), after)
}

// TestKafkajsReadsRecompressedTopic creates a topic with
// compression.type=gzip through kafkajs, produces to it uncompressed, and
// checks that the broker stored gzip batches (kafkajs's only built-in
// codec) and that kafkajs reads every record back.
func TestKafkajsReadsRecompressedTopic(t *testing.T) {
	requireKafkajs(t)
	b := startCompactBroker(t)
	const topic = "gzip-by-the-broker"
	gzip := map[string]string{"compression.type": "gzip"}
	testclient.SkipIfPending(t, "compression.type=gzip", testclient.ValidateCreate(t, b.Addr(), topic, 1, ptrs(gzip)))
	var batches [][]kv
	var want []jsRecord
	for i := range 5 {
		var batch []kv
		for j := range 4 {
			k, v := fmt.Sprintf("key-%d-%d", i, j), fmt.Sprintf("value %d.%d, sent uncompressed and stored as gzip", i, j)
			batch = append(batch, kv{Key: []byte(k), Value: []byte(v)})
			want = append(want, jsRecord{Offset: strconv.Itoa(len(want)), Key: []byte(k), Value: []byte(v)})
		}
		batches = append(batches, batch)
	}
	res := runConfigsJS(t, b.Addr(),
		jsAction{Op: "create", Topics: []jsNewTopic{{connectTopic: connectTopic{topic, 1}, ReplicationFactor: -1, Configs: gzip}}},
		jsAction{Op: "describe", Topic: topic},
		jsAction{Op: "produce", Topic: topic, Compression: "none", Batches: batches},
		jsAction{Op: "read", Topic: topic})
	mustOK(t, res[0])
	checkDescribed(t, "kafkajs", topic, mustOK(t, res[1]).Configs, gzip)
	mustOK(t, res[2])
	checkCodec(t, b.Addr(), topic, codecGzip, len(want))
	if got := mustOK(t, res[3]).Records; !reflect.DeepEqual(got, want) {
		t.Fatalf("kafkajs read back %d records:\n got %+v\nwant %+v", len(got), got, want)
	}
}
