package broker_test

// consumer_group_configs_test.go checks that a KIP-848 consumer group's
// own configs (consumer.heartbeat.interval.ms, consumer.session.timeout.ms,
// the GROUP config resource) reach its members, and that other groups keep
// the broker's defaults.

import (
	"context"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestConsumerGroupConfigsReachMembers(t *testing.T) {
	b := testbroker.Start(t)
	testclient.CreateTopic(t, b.Addr, "cfg", 1, nil)
	cl := testclient.New(t, b.Addr)
	setGroupConfigs(t, cl, "tuned", "consumer.heartbeat.interval.ms", "7000", "consumer.session.timeout.ms", "50000")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	interval := func(group string) int32 {
		t.Helper()
		hb := kmsg.NewPtrConsumerGroupHeartbeatRequest()
		hb.Group, hb.MemberID, hb.MemberEpoch, hb.RebalanceTimeoutMillis = group, "member-of-"+group+"-000000", 0, 10000
		hb.SubscribedTopicNames, hb.Topics = []string{"cfg"}, []kmsg.ConsumerGroupHeartbeatRequestTopic{}
		resp, err := hb.RequestWith(ctx, cl)
		if err == nil {
			err = kerr.ErrorForCode(resp.ErrorCode)
		}
		if err != nil {
			t.Fatalf("heartbeat to %s: %v", group, err)
		}
		return resp.HeartbeatIntervalMillis
	}
	if got := interval("tuned"); got != 7000 {
		t.Errorf("group with consumer.heartbeat.interval.ms=7000 told to heartbeat every %d ms", got)
	}
	if got := interval("plain"); got != 1000 {
		t.Errorf("group without configs told to heartbeat every %d ms, want the broker's 1000", got)
	}
}
