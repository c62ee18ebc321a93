package compat

// configs_helpers_test.go: what the client scripts that create, describe
// and alter topics and produce and read them (kafkajs/configs.js,
// confluent/configs.py) share on the Go side: their actions and results,
// running one, and checking what they described and read.

import (
	"encoding/json"
	"reflect"
	"strconv"
	"testing"

	"github.com/courier-dev/courier/internal/testkit/testcompact"
)

// configAction is one action of configs.js's spec.
type configAction struct {
	Op          string             `json:"op"`
	Topics      []newTopic         `json:"topics,omitempty"`
	Topic       string             `json:"topic,omitempty"`
	Configs     map[string]string  `json:"configs,omitempty"`
	Partition   int32              `json:"partition"`
	Compression string             `json:"compression,omitempty"`
	Batches     [][]testcompact.KV `json:"batches,omitempty"`
}

// newTopic is a topic of a create action.
type newTopic struct {
	connectTopic
	ReplicationFactor int16             `json:"replicationFactor"`
	Configs           map[string]string `json:"configs"`
}

// describedConfig is a described config.
type describedConfig struct {
	Value     string `json:"value"`
	Source    int8   `json:"source"`
	IsDefault bool   `json:"isDefault"`
}

// configRecord is a record configs.js read back.
type configRecord struct {
	Partition int32  `json:"partition"`
	Offset    string `json:"offset"`
	Key       []byte `json:"key"`
	Value     []byte `json:"value"`
}

// configResult is the result of one action.
type configResult struct {
	Op          string                     `json:"op"`
	OK          bool                       `json:"ok"`
	Error       string                     `json:"error"`
	ErrorType   string                     `json:"errorType"`
	Created     bool                       `json:"created"`
	Configs     map[string]describedConfig `json:"configs"`
	BaseOffsets []string                   `json:"baseOffsets"`
	Records     []configRecord             `json:"records"`
	End         int64                      `json:"end"`
}

// dynamicTopicConfig is DescribeConfigs' source of a config set on the
// topic (DYNAMIC_TOPIC_CONFIG).
const dynamicTopicConfig = 1

// runActions runs a client script (bin args...) with spec on stdin and
// returns one result per action, failing the test unless the script ran
// them all.
func runActions(t *testing.T, who string, spec any, actions int, bin string, args ...string) []configResult {
	t.Helper()
	in, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	stdout, stderr, err := run(t, in, nil, bin, args...)
	if err != nil {
		t.Fatalf("%s: %v\nstdout:\n%s\nstderr:\n%s", who, err, stdout, stderr)
	}
	var out struct {
		Results []configResult `json:"results"`
	}
	if err := json.Unmarshal(stdout, &out); err != nil {
		t.Fatalf("%s output: %v\n%s", who, err, stdout)
	}
	if len(out.Results) != actions {
		t.Fatalf("%s ran %d of %d actions:\n%s\nstderr:\n%s", who, len(out.Results), actions, stdout, stderr)
	}
	return out.Results
}

// mustOK fails the test unless the action succeeded.
func mustOK(t *testing.T, r configResult) configResult {
	t.Helper()
	if !r.OK {
		t.Fatalf("%s: %s (%s)", r.Op, r.ErrorType, r.Error)
	}
	return r
}

// checkDescribed fails the test unless each of want is described with its
// value, set on the topic (DYNAMIC_TOPIC_CONFIG, not a default).
func checkDescribed(t *testing.T, who, topic string, got map[string]describedConfig, want map[string]string) {
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

// recordsAsKVs turns records of one partition into the form the compaction
// model checks.
func recordsAsKVs(t *testing.T, rs []configRecord, partition int32) []testcompact.OffsetKV {
	t.Helper()
	var out []testcompact.OffsetKV
	for _, r := range rs {
		if r.Partition != partition {
			t.Fatalf("read partition %d, only %d was written", r.Partition, partition)
		}
		o, err := strconv.ParseInt(r.Offset, 10, 64)
		if err != nil {
			t.Fatalf("offset %q: %v", r.Offset, err)
		}
		out = append(out, testcompact.OffsetKV{Offset: o, Key: r.Key, Value: r.Value})
	}
	return out
}

// checkConnectTopics has a client (who, through run) create Kafka
// Connect's three internal topics as Connect's TopicAdmin does, describe
// them, alter the configs topic's cleanup.policy to compact,delete and
// back with small segments (AlterConfigs, which replaces every config),
// write several versions of each key and tombstones to it, and read it
// back compacted once the cleaner ran: the newest record of each key at
// its original offset, with gaps. A keyless record is refused with
// INVALID_RECORD. The other two topics take a record each and give it
// back.
func checkConnectTopics(t *testing.T, who, addr string, run func(...configAction) []configResult) {
	t.Helper()
	var create configAction
	create.Op = "create"
	for _, ct := range connectTopics {
		create.Topics = append(create.Topics, newTopic{connectTopic: ct, ReplicationFactor: -1, Configs: map[string]string{"cleanup.policy": "compact"}})
	}
	configs := "connect-configs"
	both := map[string]string{"cleanup.policy": "compact,delete", segmentBytes: smallSegment}
	compact := map[string]string{"cleanup.policy": "compact", segmentBytes: smallSegment}
	rounds := testcompact.Rounds(10, 12)
	produced := testcompact.Flatten(rounds)
	actions := []configAction{create}
	for _, ct := range connectTopics {
		actions = append(actions, configAction{Op: "describe", Topic: ct.Name})
	}
	actions = append(actions,
		configAction{Op: "alter", Topic: configs, Configs: both},
		configAction{Op: "describe", Topic: configs},
		configAction{Op: "alter", Topic: configs, Configs: compact},
		configAction{Op: "describe", Topic: configs},
		configAction{Op: "produce", Topic: configs, Batches: rounds},
		configAction{Op: "produce", Topic: "connect-offsets", Partition: 24, Batches: [][]testcompact.KV{{{Key: []byte(`["my-connector",{"file":"a"}]`), Value: []byte(`{"position":42}`)}}}},
		configAction{Op: "produce", Topic: "connect-status", Partition: 4, Batches: [][]testcompact.KV{{{Key: []byte("status-task-my-connector-0"), Value: []byte(`{"state":"RUNNING"}`)}}}},
		configAction{Op: "produce", Topic: configs, Batches: [][]testcompact.KV{{{Value: []byte("a record without a key")}}}},
	)
	res := run(actions...)

	if !mustOK(t, res[0]).Created {
		t.Fatalf("createTopics of Connect's topics answered false (already existing)")
	}
	for i, ct := range connectTopics {
		checkDescribed(t, who, ct.Name, mustOK(t, res[1+i]).Configs, map[string]string{"cleanup.policy": "compact"})
	}
	i := 1 + len(connectTopics)
	mustOK(t, res[i])
	checkDescribed(t, who+" after alterConfigs", configs, mustOK(t, res[i+1]).Configs, map[string]string{"cleanup.policy": "compact,delete"})
	mustOK(t, res[i+2])
	described := mustOK(t, res[i+3]).Configs
	checkDescribed(t, who+" after the second alterConfigs", configs, described, map[string]string{"cleanup.policy": "compact"})
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

	before := waitCompacted(t, addr, configs, 0, produced)
	read := run(
		configAction{Op: "read", Topic: configs},
		configAction{Op: "read", Topic: "connect-offsets", Partition: 24},
		configAction{Op: "read", Topic: "connect-status", Partition: 4})
	after := readFromStart(t, addr, configs, 0, int64(len(produced)))
	for j, want := range []configRecord{
		{Partition: 24, Offset: "0", Key: []byte(`["my-connector",{"file":"a"}]`), Value: []byte(`{"position":42}`)},
		{Partition: 4, Offset: "0", Key: []byte("status-task-my-connector-0"), Value: []byte(`{"state":"RUNNING"}`)},
	} {
		if got := mustOK(t, read[1+j]).Records; !reflect.DeepEqual(got, []configRecord{want}) {
			t.Fatalf("read back %s: %+v, want %+v", connectTopics[1+j].Name, got, want)
		}
	}
	checkCompactedRead(t, who, produced, before, recordsAsKVs(t, mustOK(t, read[0]).Records, 0), after)
}
