package compat

// kafkajs_compaction_test.go runs kafkajs/configs.js (kafkajs 2.2.4)
// against the broker: Kafka Connect's compacted internal topics created,
// described and altered with kafkajs's admin client, used by its producer
// and read back compacted; a keyless record refused with INVALID_RECORD;
// and a topic whose compression.type makes the broker recompress what
// kafkajs sent uncompressed.

import (
	"fmt"
	"path/filepath"
	"reflect"
	"strconv"
	"testing"

	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/courier-dev/courier/internal/testkit/testcompact"
)

// runConfigsJS runs configs.js with actions against addr and returns one
// result per action.
func runConfigsJS(t *testing.T, addr string, actions ...configAction) []configResult {
	t.Helper()
	node, dir := requireKafkajs(t)
	spec := map[string]any{"brokers": []string{addr}, "actions": actions}
	return runActions(t, "node configs.js", spec, len(actions), node, filepath.Join(dir, "configs.js"))
}

// TestKafkajsConnectInternalTopics runs checkConnectTopics with kafkajs:
// kafkajs 2.2.4 alters configs with AlterConfigs only.
func TestKafkajsConnectInternalTopics(t *testing.T) {
	requireKafkajs(t)
	b := startCompactBroker(t)
	checkConnectTopics(t, "kafkajs", b.Addr(), func(actions ...configAction) []configResult {
		return runConfigsJS(t, b.Addr(), actions...)
	})
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
	// kafkajs reports a refusal as INVALID_CONFIG alone: ask with franz-go
	// first, for the broker's message.
	if err := testclient.ValidateCreate(t, b.Addr(), topic, 1, ptrs(gzip)); err != nil {
		t.Fatalf("compression.type=gzip: %v", err)
	}
	var batches [][]testcompact.KV
	var want []configRecord
	for i := range 5 {
		var batch []testcompact.KV
		for j := range 4 {
			k, v := fmt.Sprintf("key-%d-%d", i, j), fmt.Sprintf("value %d.%d, sent uncompressed and stored as gzip", i, j)
			batch = append(batch, testcompact.KV{Key: []byte(k), Value: []byte(v)})
			want = append(want, configRecord{Offset: strconv.Itoa(len(want)), Key: []byte(k), Value: []byte(v)})
		}
		batches = append(batches, batch)
	}
	res := runConfigsJS(t, b.Addr(),
		configAction{Op: "create", Topics: []newTopic{{connectTopic: connectTopic{topic, 1}, ReplicationFactor: -1, Configs: gzip}}},
		configAction{Op: "describe", Topic: topic},
		configAction{Op: "produce", Topic: topic, Compression: "none", Batches: batches},
		configAction{Op: "read", Topic: topic})
	mustOK(t, res[0])
	checkDescribed(t, "kafkajs", topic, mustOK(t, res[1]).Configs, gzip)
	mustOK(t, res[2])
	checkCodec(t, b.Addr(), topic, codecGzip, len(want))
	if got := mustOK(t, res[3]).Records; !reflect.DeepEqual(got, want) {
		t.Fatalf("kafkajs read back %d records:\n got %+v\nwant %+v", len(got), got, want)
	}
}
