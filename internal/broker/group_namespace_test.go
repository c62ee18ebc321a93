package broker_test

// group_namespace_test.go checks that classic, consumer (KIP-848) and
// share groups share one group-id namespace, as in Kafka: an id taken by a
// group of one type is refused to the APIs of the others with
// GROUP_ID_NOT_FOUND, and nothing of the other type is created under it.

import (
	"context"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestGroupNamespaceSharedByEveryType(t *testing.T) {
	b := testbroker.Start(t)
	testclient.CreateTopic(t, b.Addr, "ns", 1, nil)
	cl := testclient.New(t, b.Addr)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// request sends req and fails the test on a transport error.
	request := func(req kmsg.Request) kmsg.Response {
		t.Helper()
		resp, err := cl.Request(ctx, req)
		if err != nil {
			t.Fatalf("%T: %v", req, err)
		}
		return resp
	}
	expect := func(what string, got int16, want *kerr.Error) {
		t.Helper()
		if got != want.Code {
			t.Errorf("%s: %v, want %v", what, kerr.ErrorForCode(got), want)
		}
	}

	// A share group takes the id "queue".
	sh := kmsg.NewPtrShareGroupHeartbeatRequest()
	sh.GroupID, sh.MemberID, sh.MemberEpoch, sh.SubscribedTopicNames = "queue", "m-share-000000000000", 0, []string{"ns"}
	expect("share group join", request(sh).(*kmsg.ShareGroupHeartbeatResponse).ErrorCode, nil2ok())

	join := kmsg.NewPtrJoinGroupRequest()
	join.Version, join.Group, join.ProtocolType, join.SessionTimeoutMillis, join.RebalanceTimeoutMillis = 9, "queue", "consumer", 10000, 10000
	join.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range"}}
	expect("JoinGroup to a share group", request(join).(*kmsg.JoinGroupResponse).ErrorCode, kerr.GroupIDNotFound)

	hb := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	hb.Group, hb.MemberID, hb.MemberEpoch, hb.RebalanceTimeoutMillis = "queue", "m-consumer-0000000000", 0, 10000
	hb.SubscribedTopicNames = []string{"ns"}
	hb.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{} // a first heartbeat owns nothing
	expect("ConsumerGroupHeartbeat to a share group", request(hb).(*kmsg.ConsumerGroupHeartbeatResponse).ErrorCode, kerr.GroupIDNotFound)

	commit := kmsg.NewPtrOffsetCommitRequest()
	commit.Version, commit.Group, commit.Generation = 8, "queue", -1
	ct := kmsg.NewOffsetCommitRequestTopic()
	ct.Topic = "ns"
	cp := kmsg.NewOffsetCommitRequestTopicPartition()
	cp.Offset = 1
	ct.Partitions = append(ct.Partitions, cp)
	commit.Topics = append(commit.Topics, ct)
	expect("OffsetCommit to a share group", request(commit).(*kmsg.OffsetCommitResponse).Topics[0].Partitions[0].ErrorCode, kerr.GroupIDNotFound)

	// A consumer group takes "stream": share heartbeats are refused.
	hb.Group = "stream"
	expect("consumer group join", request(hb).(*kmsg.ConsumerGroupHeartbeatResponse).ErrorCode, nil2ok())
	sh.GroupID = "stream"
	expect("ShareGroupHeartbeat to a consumer group", request(sh).(*kmsg.ShareGroupHeartbeatResponse).ErrorCode, kerr.GroupIDNotFound)

	// ListGroups shows each under its own type.
	lg := kmsg.NewPtrListGroupsRequest()
	types := map[string]string{}
	for _, g := range request(lg).(*kmsg.ListGroupsResponse).Groups {
		types[g.Group] = g.GroupType
	}
	if types["queue"] != "share" || types["stream"] != "consumer" {
		t.Errorf("ListGroups types: %v, want queue=share stream=consumer", types)
	}
}

// nil2ok is "no error": kerr has no *Error for code 0.
func nil2ok() *kerr.Error { return &kerr.Error{Message: "NONE", Code: 0} }
