package webconsole

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// clusterIDOf asks the console for the cluster's id.
func clusterIDOf(t testing.TB, tc *testConsole) string {
	t.Helper()
	var list struct {
		Data []struct {
			ClusterID string `json:"cluster_id"`
		} `json:"data"`
	}
	tc.mustJSON("GET", "/v3/clusters", nil, http.StatusOK, &list)
	if len(list.Data) != 1 {
		t.Fatalf("clusters: %+v", list)
	}
	return list.Data[0].ClusterID
}

// topicFlow runs the REST v3 topic, partition and config endpoints and
// the console's topic endpoints against tc's cluster: create (validated
// first), describe, list, partitions, configs (set, read, reset, batch),
// add partitions, delete, and the errors of each. kfake accepts any
// config name, so strict says whether unknown ones must be refused.
func topicFlow(t *testing.T, tc *testConsole, seeds []string, strict bool) {
	id := clusterIDOf(t, tc)
	base := "/v3/clusters/" + id + "/topics"

	// validate_only creates nothing.
	var created topicResource
	tc.mustJSON("POST", base, map[string]any{"topic_name": "orders", "partitions_count": 3, "replication_factor": 1, "validate_only": true}, http.StatusCreated, &created)
	if created.TopicName != "orders" || created.PartitionsCount != 3 {
		t.Fatalf("validated: %+v", created)
	}
	tc.mustJSON("GET", base+"/orders", nil, http.StatusNotFound, nil)

	tc.mustJSON("POST", base, map[string]any{"topic_name": "orders", "partitions_count": 3, "replication_factor": 1,
		"configs": []map[string]any{{"name": "retention.ms", "value": "3600000"}}}, http.StatusCreated, &created)
	if created.Kind != "KafkaTopic" || created.PartitionsCount != 3 || created.ClusterID != id || !strings.HasSuffix(created.Metadata.Self, base+"/orders") {
		t.Fatalf("created: %+v", created)
	}
	var e apiError
	tc.mustJSON("POST", base, map[string]any{"topic_name": "orders", "partitions_count": 1}, http.StatusBadRequest, &e)
	if !strings.Contains(e.Message, "TOPIC_ALREADY_EXISTS") {
		t.Fatalf("duplicate create: %+v", e)
	}
	for _, bad := range []map[string]any{
		{"topic_name": ""}, {"topic_name": "a/b"}, {"topic_name": "x", "partitions_count": 0},
		{"topic_name": "x", "replication_factor": 0}, {"topic_name": "x", "configs": []map[string]any{{"value": "1"}}},
	} {
		tc.mustJSON("POST", base, bad, http.StatusBadRequest, nil)
	}
	tc.mustJSON("POST", base, `{"topic_name": "x", "bogus": `, http.StatusBadRequest, nil)

	var topic topicResource
	tc.mustJSON("GET", base+"/orders", nil, http.StatusOK, &topic)
	if topic.TopicName != "orders" || topic.PartitionsCount != 3 || topic.ReplicationFactor < 1 || topic.IsInternal {
		t.Fatalf("topic: %+v", topic)
	}
	var list struct {
		Kind string          `json:"kind"`
		Data []topicResource `json:"data"`
	}
	tc.mustJSON("GET", base, nil, http.StatusOK, &list)
	found := false
	for _, tr := range list.Data {
		found = found || tr.TopicName == "orders"
	}
	if list.Kind != "KafkaTopicList" || !found {
		t.Fatalf("list: %+v", list)
	}

	var parts struct {
		Kind string              `json:"kind"`
		Data []partitionResource `json:"data"`
	}
	tc.mustJSON("GET", base+"/orders/partitions", nil, http.StatusOK, &parts)
	if parts.Kind != "KafkaPartitionList" || len(parts.Data) != 3 || parts.Data[2].PartitionID != 2 || parts.Data[0].Leader == nil {
		t.Fatalf("partitions: %+v", parts)
	}
	var part partitionResource
	tc.mustJSON("GET", base+"/orders/partitions/1", nil, http.StatusOK, &part)
	if part.Kind != "KafkaPartition" || part.PartitionID != 1 || part.TopicName != "orders" {
		t.Fatalf("partition: %+v", part)
	}
	tc.mustJSON("GET", base+"/orders/partitions/7", nil, http.StatusNotFound, nil)
	tc.mustJSON("GET", base+"/orders/partitions/x", nil, http.StatusBadRequest, nil)
	tc.mustJSON("GET", base+"/missing/partitions", nil, http.StatusNotFound, nil)

	// Configs: the override from the create, set, reset, batch alter.
	cfg := func(name string) topicConfig {
		t.Helper()
		var c topicConfig
		tc.mustJSON("GET", base+"/orders/configs/"+name, nil, http.StatusOK, &c)
		return c
	}
	if c := cfg("retention.ms"); c.Value == nil || *c.Value != "3600000" || c.IsDefault || c.Source != "DYNAMIC_TOPIC_CONFIG" || c.Kind != "KafkaTopicConfig" {
		t.Fatalf("retention.ms after create: %+v", c)
	}
	var cfgs struct {
		Kind string        `json:"kind"`
		Data []topicConfig `json:"data"`
	}
	tc.mustJSON("GET", base+"/orders/configs", nil, http.StatusOK, &cfgs)
	if cfgs.Kind != "KafkaTopicConfigList" || len(cfgs.Data) < 5 {
		t.Fatalf("configs: %+v", cfgs)
	}
	tc.mustJSON("PUT", base+"/orders/configs/cleanup.policy", map[string]any{"value": "compact"}, http.StatusNoContent, nil)
	if c := cfg("cleanup.policy"); c.Value == nil || *c.Value != "compact" || c.IsDefault {
		t.Fatalf("cleanup.policy after PUT: %+v", c)
	}
	tc.mustJSON("DELETE", base+"/orders/configs/cleanup.policy", nil, http.StatusNoContent, nil)
	if c := cfg("cleanup.policy"); c.Value == nil || *c.Value != "delete" || !c.IsDefault {
		t.Fatalf("cleanup.policy after DELETE: %+v", c)
	}
	tc.mustJSON("PUT", base+"/orders/configs/cleanup.policy", map[string]any{}, http.StatusBadRequest, nil)
	if strict {
		tc.mustJSON("PUT", base+"/orders/configs/no.such.config", map[string]any{"value": "1"}, http.StatusBadRequest, nil)
		tc.mustJSON("GET", base+"/orders/configs/no.such.config", nil, http.StatusNotFound, nil)
	}
	tc.mustJSON("POST", base+"/orders/configs:alter", map[string]any{"data": []map[string]any{
		{"name": "retention.ms", "operation": "DELETE"}, {"name": "max.message.bytes", "value": "200000"},
	}}, http.StatusNoContent, nil)
	if c := cfg("retention.ms"); !c.IsDefault {
		t.Fatalf("retention.ms after batch reset: %+v", c)
	}
	if c := cfg("max.message.bytes"); c.Value == nil || *c.Value != "200000" {
		t.Fatalf("max.message.bytes after batch set: %+v", c)
	}
	tc.mustJSON("POST", base+"/orders/configs:alter", map[string]any{"data": []map[string]any{{"name": "max.message.bytes", "value": "1000"}}, "validate_only": true}, http.StatusNoContent, nil)
	if c := cfg("max.message.bytes"); *c.Value != "200000" {
		t.Fatalf("validate_only changed max.message.bytes: %+v", c)
	}
	for _, bad := range []any{map[string]any{"data": []any{}}, map[string]any{"data": []map[string]any{{"name": "a"}}},
		map[string]any{"data": []map[string]any{{"name": "a", "value": "1", "operation": "APPEND"}}}} {
		tc.mustJSON("POST", base+"/orders/configs:alter", bad, http.StatusBadRequest, nil)
	}
	tc.mustJSON("GET", base+"/missing/configs", nil, http.StatusNotFound, nil)

	// The console's list and page: records and offsets.
	produceTimed(t, seeds, "orders", 1, 25)
	var tl topicList
	tc.mustJSON("GET", "/api/topics", nil, http.StatusOK, &tl)
	var row *topicRow
	for i := range tl.Topics {
		if tl.Topics[i].Name == "orders" {
			row = &tl.Topics[i]
		}
	}
	if row == nil || row.Partitions != 3 || row.Records == nil || *row.Records != 25 || row.Bytes == nil || *row.Bytes == 0 {
		t.Fatalf("topic list row: %+v (list %+v)", row, tl)
	}
	var page topicPage
	tc.mustJSON("GET", "/api/topics/orders", nil, http.StatusOK, &page)
	if len(page.Partitions) != 3 || page.Partitions[1].Bytes == nil || *page.Partitions[1].Bytes == 0 || page.Partitions[1].End == nil || *page.Partitions[1].End != 25 || *page.Partitions[1].Start != 0 {
		t.Fatalf("topic page: %+v", page)
	}
	tc.mustJSON("GET", "/api/topics/missing", nil, http.StatusNotFound, nil)

	// Add partitions; fewer than it has is refused with Kafka's error.
	tc.mustJSON("POST", "/api/topics/orders/partitions", map[string]any{"partitions_count": 5}, http.StatusOK, nil)
	tc.mustJSON("GET", base+"/orders", nil, http.StatusOK, &topic)
	if topic.PartitionsCount != 5 {
		t.Fatalf("after adding partitions: %+v", topic)
	}
	tc.mustJSON("POST", "/api/topics/orders/partitions", map[string]any{"partitions_count": 2}, http.StatusBadRequest, &e)
	if !strings.Contains(e.Message, "INVALID_PARTITIONS") {
		t.Fatalf("shrinking: %+v", e)
	}
	tc.mustJSON("POST", "/api/topics/orders/partitions", map[string]any{"partitions_count": 0}, http.StatusBadRequest, nil)
	tc.mustJSON("POST", "/api/topics/missing/partitions", map[string]any{"partitions_count": 4}, http.StatusNotFound, nil)

	tc.mustJSON("DELETE", base+"/orders", nil, http.StatusNoContent, nil)
	tc.mustJSON("DELETE", base+"/orders", nil, http.StatusNotFound, nil)

	// Every change, done or refused, is in the audit log.
	actions := map[string]int{}
	for _, a := range tc.srv.audit.list() {
		actions[a.Action]++
	}
	if actions["topic.create"] < 2 || actions["topic.delete"] != 2 || actions["topic.configs"] < 3 || actions["topic.partitions"] < 3 {
		t.Fatalf("audit: %v", actions)
	}
}

// TestTopicsAPI runs the topic endpoints against the real broker.
func TestTopicsAPI(t *testing.T) {
	tc := startConsole(t, Config{})
	topicFlow(t, tc, []string{tc.broker.Addr}, true)
}

// TestTopicsAPIKfake runs them against a three-broker kfake cluster.
func TestTopicsAPIKfake(t *testing.T) {
	tc, c := startConsoleKfake(t, Config{})
	topicFlow(t, tc, c.ListenAddrs(), false)
}

// TestTopicsAPICSRF: a change without the session's CSRF token is refused
// and changes nothing.
func TestTopicsAPICSRF(t *testing.T) {
	tc := startConsole(t, Config{})
	id := clusterIDOf(t, tc)
	tc.csrf = "forged"
	tc.mustJSON("POST", "/v3/clusters/"+id+"/topics", map[string]any{"topic_name": "forged"}, http.StatusForbidden, nil)
	tc.refreshSession()
	tc.mustJSON("GET", "/v3/clusters/"+id+"/topics/forged", nil, http.StatusNotFound, nil)
	tc.mustJSON("GET", "/v3/clusters/other/topics", nil, http.StatusNotFound, nil)
}

// TestRateSampler: no rate from one sample, rates between samples at least
// rateMinGap apart, none across a recreated topic or a shrinking size, and
// the tracked topics are bounded and forgotten.
func TestRateSampler(t *testing.T) {
	rs := newRateSampler()
	t0 := time.Unix(1000, 0)
	if r := rs.observe(t0, map[string]topicSample{"a": {Records: 100, Bytes: 1000}}); r["a"].RecordsPerSec != nil {
		t.Fatalf("rate from one sample: %+v", r)
	}
	r := rs.observe(t0.Add(2*time.Second), map[string]topicSample{"a": {Records: 300, Bytes: 5000}})
	if r["a"].RecordsPerSec == nil || *r["a"].RecordsPerSec != 100 || *r["a"].BytesPerSec != 2000 {
		t.Fatalf("rates: %+v", r["a"])
	}
	// Too soon: the same rate, the sample not taken.
	r = rs.observe(t0.Add(2500*time.Millisecond), map[string]topicSample{"a": {Records: 900, Bytes: 6000}})
	if *r["a"].RecordsPerSec != 100 {
		t.Fatalf("rate within min gap: %v", *r["a"].RecordsPerSec)
	}
	r = rs.observe(t0.Add(4*time.Second), map[string]topicSample{"a": {Records: 10, Bytes: 100}})
	if r["a"].RecordsPerSec != nil || r["a"].BytesPerSec != nil {
		t.Fatalf("rate across a recreated topic: %+v", r["a"])
	}
	r = rs.observe(t0.Add(6*time.Second), map[string]topicSample{"a": {Records: 20, Bytes: -1}})
	if *r["a"].RecordsPerSec != 5 || r["a"].BytesPerSec != nil {
		t.Fatalf("rate with unknown size: %+v", r["a"])
	}
	rs.observe(t0.Add(3*time.Hour), map[string]topicSample{"b": {}})
	if _, ok := rs.topics["a"]; ok {
		t.Fatal("topic a not forgotten after rateForget")
	}
	many := make(map[string]topicSample, rateMaxTopics+10)
	for i := range rateMaxTopics + 10 {
		many[fmt.Sprint("t", i)] = topicSample{}
	}
	rs.observe(t0.Add(4*time.Hour), many)
	if len(rs.topics) > rateMaxTopics {
		t.Fatalf("tracked %d topics, bound %d", len(rs.topics), rateMaxTopics)
	}
}
