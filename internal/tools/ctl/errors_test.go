package ctl

// errors_test.go checks the wording of Kafka errors and that they still
// unwrap to the Kafka error code.

import (
	"errors"
	"fmt"
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
)

func TestTopicErrorMessages(t *testing.T) {
	for _, tc := range []struct {
		op, detail string
		err        error
		want       string
	}{
		{"create", "Topic 'rider-updates' already exists.", kerr.TopicAlreadyExists, "topic rider-updates already exists"},
		{"describe", "", kerr.UnknownTopicOrPartition, "unknown topic rider-updates"},
		{"delete", "", kerr.UnknownTopicID, "unknown topic rider-updates"},
		{"add partitions to", "Topic currently has 3 partitions, which is higher than the requested 2.", kerr.InvalidPartitions,
			"add partitions to topic rider-updates: invalid partition count: Topic currently has 3 partitions, which is higher than the requested 2."},
		{"create", "", kerr.InvalidReplicationFactor,
			"create topic rider-updates: invalid replication factor (it must be at least 1 and at most the number of brokers)"},
		{"create", "Unknown topic config name: nope", kerr.InvalidConfig, "create topic rider-updates: invalid config: Unknown topic config name: nope"},
		{"delete", "", kerr.TopicDeletionDisabled, "delete topic rider-updates: topic deletion is disabled on the cluster (delete.topic.enable=false)"},
		{"create", "", kerr.InvalidTopicException, `create topic: invalid topic name "rider-updates"`},
		{"create", "", kerr.NotController, "create topic rider-updates: NOT_CONTROLLER: This is not the correct controller for this cluster."},
		{"create", "", errors.New("dial tcp: refused"), "create topic rider-updates: dial tcp: refused"},
	} {
		err := topicErr(tc.op, "rider-updates", tc.err, tc.detail)
		if got := err.Error(); got != tc.want {
			t.Errorf("%v:\n got %q\nwant %q", tc.err, got, tc.want)
		}
		if !errors.Is(err, tc.err) {
			t.Errorf("%v: errors.Is lost the cause", tc.err)
		}
		if !errors.Is(fmt.Errorf("wrapped: %w", err), tc.err) {
			t.Errorf("%v: errors.Is lost the cause through a wrap", tc.err)
		}
	}
	if topicErr("create", "x", nil, "detail") != nil {
		t.Error("topicErr(nil) != nil")
	}
}
