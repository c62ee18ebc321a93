package broker

// authz_consumer_test.go checks the ACLs of KIP-848 consumer groups, as
// Kafka 4 applies them: READ on the group to heartbeat, DESCRIBE on every
// subscribed topic name, a regex resolved only to the topics the member's
// principal may DESCRIBE, DESCRIBE on the group to describe it, and no
// describing a group whose assignments name a topic the caller may not
// DESCRIBE.

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestAuthzConsumerGroups(t *testing.T) {
	b := openAuthzBroker(t, true)
	heartbeat := func(who, group, member string, names []string, regex *string) *kmsg.ConsumerGroupHeartbeatResponse {
		r := kmsg.NewPtrConsumerGroupHeartbeatRequest()
		r.Version, r.Group, r.MemberID, r.RebalanceTimeoutMillis = 1, group, member, 10000
		r.SubscribedTopicNames, r.SubscribedTopicRegex = names, regex
		r.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{}
		return as[*kmsg.ConsumerGroupHeartbeatResponse](t, b, who, r)
	}
	expect(t, "heartbeat mallory g-1", heartbeat("mallory", "g-1", "m", []string{"m-visible"}, nil).ErrorCode, kerr.GroupAuthorizationFailed)
	expect(t, "heartbeat bob secret", heartbeat("bob", "g-1", "b", []string{"secret"}, nil).ErrorCode, kerr.TopicAuthorizationFailed)

	// bob's regex names three topics; he may DESCRIBE only a-1.
	re := "a-1|secret|m-visible"
	resp := heartbeat("bob", "g-1", "b", nil, &re)
	if resp.ErrorCode != 0 {
		t.Fatalf("bob's regex heartbeat: %v", kerr.ErrorForCode(resp.ErrorCode))
	}
	a1 := topicID(t, b, "a-1")
	if a := resp.Assignment; a == nil || len(a.Topics) != 1 || a.Topics[0].TopicID != a1 {
		t.Fatalf("bob's regex resolved to %+v, want a-1 alone", resp.Assignment)
	}

	describe := func(who, group string) kmsg.ConsumerGroupDescribeResponseGroup {
		r := kmsg.NewPtrConsumerGroupDescribeRequest()
		r.Version, r.Groups, r.IncludeAuthorizedOperations = 1, []string{group}, true
		return as[*kmsg.ConsumerGroupDescribeResponse](t, b, who, r).Groups[0]
	}
	expect(t, "describe mallory g-1", describe("mallory", "g-1").ErrorCode, kerr.GroupAuthorizationFailed)
	if d := describe("bob", "g-1"); d.ErrorCode != 0 || len(d.Members) != 1 || d.AuthorizedOperations == 0 {
		t.Fatalf("describe as bob: %v %+v", kerr.ErrorForCode(d.ErrorCode), d)
	}
	// alice joins with a-grow, which bob may not DESCRIBE: bob can no
	// longer describe the group.
	if resp := heartbeat("alice", "g-1", "a", []string{"a-grow"}, nil); resp.ErrorCode != 0 {
		t.Fatalf("alice's heartbeat: %v", kerr.ErrorForCode(resp.ErrorCode))
	}
	d := describe("bob", "g-1")
	expect(t, "describe bob with a-grow assigned", d.ErrorCode, kerr.TopicAuthorizationFailed)
	if d.ErrorMessage == nil || *d.ErrorMessage != "The group has described topic(s) that the client is not authorized to describe." || len(d.Members) != 0 {
		t.Fatalf("describe bob with a-grow assigned: %+v", d)
	}
	if d := describe("alice", "g-1"); d.ErrorCode != 0 || len(d.Members) != 2 {
		t.Fatalf("describe as alice: %v %+v", kerr.ErrorForCode(d.ErrorCode), d)
	}
}
