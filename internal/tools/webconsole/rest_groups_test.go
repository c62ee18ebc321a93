package webconsole

// rest_groups_test.go checks REST Proxy v3's consumer groups resources:
// paths, kinds and the fields REST Proxy clients read, against a real
// broker and a kfake cluster.

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
)

// checkRESTGroups walks the consumer-groups resources of a lagWorld.
func checkRESTGroups(t *testing.T, tc *testConsole) {
	id := clusterIDOf(t, tc)
	base := "/v3/clusters/" + id + "/consumer-groups"
	var groups struct {
		Kind string      `json:"kind"`
		Data []restGroup `json:"data"`
	}
	tc.mustJSON("GET", base, nil, http.StatusOK, &groups)
	got := map[string]restGroup{}
	for _, g := range groups.Data {
		got[g.ConsumerGroupID] = g
	}
	if groups.Kind != "KafkaConsumerGroupList" || len(got) != 3 || got["queue"].Kind != "" {
		t.Fatalf("consumer groups (the share group is not one): %+v", groups)
	}
	live := got["live"]
	if live.Kind != "KafkaConsumerGroup" || live.ClusterID != id || live.State != "STABLE" || live.Type != "CLASSIC" || live.IsSimple ||
		live.PartitionAssignor == "" || !strings.HasSuffix(live.Consumers.Related, base+"/live/consumers") ||
		!strings.Contains(live.Coordinator.Related, "/v3/clusters/"+id+"/brokers/") || live.Metadata.ResourceName != "crn:///kafka="+id+"/consumer-group=live" {
		t.Errorf("live = %+v", live)
	}
	if k := got["k848"]; k.Type != "CONSUMER" || k.State != "STABLE" {
		t.Errorf("k848 = %+v", k)
	}
	if idle := got["idle"]; idle.State != "EMPTY" || !idle.IsSimple {
		t.Errorf("idle = %+v", idle)
	}
	var one restGroup
	tc.mustJSON("GET", base+"/live", nil, http.StatusOK, &one)
	if one.ConsumerGroupID != "live" || one.State != "STABLE" {
		t.Errorf("live = %+v", one)
	}
	tc.mustJSON("GET", base+"/nope", nil, http.StatusNotFound, nil)
	tc.mustJSON("GET", "/v3/clusters/other/consumer-groups", nil, http.StatusNotFound, nil)

	var consumers struct {
		Kind string         `json:"kind"`
		Data []restConsumer `json:"data"`
	}
	tc.mustJSON("GET", base+"/live/consumers", nil, http.StatusOK, &consumers)
	if consumers.Kind != "KafkaConsumerList" || len(consumers.Data) != 1 || consumers.Data[0].ClientID != "live-app" || consumers.Data[0].InstanceID != nil {
		t.Fatalf("consumers = %+v", consumers)
	}
	c := consumers.Data[0]
	var consumer restConsumer
	tc.mustJSON("GET", base+"/live/consumers/"+c.ConsumerID, nil, http.StatusOK, &consumer)
	if consumer.Kind != "KafkaConsumer" || consumer.ConsumerID != c.ConsumerID || !strings.HasSuffix(consumer.Assignments.Related, "/assignments") {
		t.Errorf("consumer = %+v", consumer)
	}
	tc.mustJSON("GET", base+"/live/consumers/nobody", nil, http.StatusNotFound, nil)
	var assignments struct {
		Kind string           `json:"kind"`
		Data []restAssignment `json:"data"`
	}
	tc.mustJSON("GET", base+"/live/consumers/"+c.ConsumerID+"/assignments", nil, http.StatusOK, &assignments)
	if assignments.Kind != "KafkaConsumerAssignmentList" || len(assignments.Data) != 2 || assignments.Data[1].TopicName != "orders" || assignments.Data[1].PartitionID != 1 {
		t.Errorf("assignments = %+v", assignments)
	}

	// The lags are those of the committed partitions.
	var lags struct {
		Kind string    `json:"kind"`
		Data []restLag `json:"data"`
	}
	tc.mustJSON("GET", base+"/idle/lags", nil, http.StatusOK, &lags)
	if lags.Kind != "KafkaConsumerLagList" || len(lags.Data) != 2 {
		t.Fatalf("lags = %+v", lags)
	}
	if l := lags.Data[0]; l.Kind != "KafkaConsumerLag" || l.TopicName != "orders" || l.PartitionID != 0 || l.CurrentOffset != 2 || l.LogEndOffset != 5 || l.Lag != 3 || l.ConsumerID != "" {
		t.Errorf("lag 0 = %+v", l)
	}
	var lag restLag
	tc.mustJSON("GET", base+"/idle/lags/orders/partitions/1", nil, http.StatusOK, &lag)
	if lag.CurrentOffset != 3 || lag.Lag != 0 {
		t.Errorf("lag 1 = %+v", lag)
	}
	tc.mustJSON("GET", base+"/idle/lags/orders/partitions/7", nil, http.StatusNotFound, nil)
	tc.mustJSON("GET", base+"/idle/lags/orders/partitions/x", nil, http.StatusBadRequest, nil)
	var sum restLagSummary
	tc.mustJSON("GET", base+"/idle/lag-summary", nil, http.StatusOK, &sum)
	if sum.Kind != "KafkaConsumerGroupLagSummary" || sum.MaxLag != 3 || sum.TotalLag != 3 || sum.MaxLagTopicName != "orders" || sum.MaxLagPartitionID != 0 ||
		!strings.HasSuffix(sum.MaxLagPartition.Related, "/topics/orders/partitions/0") {
		t.Errorf("lag summary = %+v", sum)
	}
	// A group without commits: no lags, a summary of zeros.
	tc.mustJSON("GET", base+"/live/lag-summary", nil, http.StatusOK, &sum)
	if fmt.Sprint(sum.MaxLag, sum.TotalLag) != "0 0" {
		t.Errorf("live's lag summary = %+v", sum)
	}
}

func TestRESTConsumerGroups(t *testing.T) {
	tc := startConsole(t, Config{})
	newLagWorld(t, tc, []string{tc.broker.Addr}, true)
	checkRESTGroups(t, tc)
	// A share group is no consumer group here.
	tc.mustJSON("GET", "/v3/clusters/"+clusterIDOf(t, tc)+"/consumer-groups/queue", nil, http.StatusNotFound, nil)
}

func TestRESTConsumerGroupsKfake(t *testing.T) {
	tc, c := startConsoleKfake(t, Config{})
	newLagWorld(t, tc, c.ListenAddrs(), false)
	checkRESTGroups(t, tc)
}
