package broker

// 69_consumer_group_describe.go handles ConsumerGroupDescribe (KIP-848,
// v0-1): DESCRIBE on each group (GROUP_AUTHORIZATION_FAILED otherwise);
// a group that does not exist or is not a consumer group answers
// GROUP_ID_NOT_FOUND with Kafka's message; a group whose members'
// assignments name topics the principal may not DESCRIBE answers
// TOPIC_AUTHORIZATION_FAILED, as Kafka 4 does; the authorized operations
// are filled in when asked for.

import (
	"context"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleConsumerGroupDescribe(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.ConsumerGroupDescribeRequest)
	resp := r.ResponseKind().(*kmsg.ConsumerGroupDescribeResponse)
	for _, id := range r.Groups {
		d := kmsg.NewConsumerGroupDescribeResponseGroup()
		d.Group = id
		switch {
		case !b.allowed(req, opDescribe, rtGroup, id):
			d.ErrorCode = kerr.GroupAuthorizationFailed.Code
		case id == "":
			d.ErrorCode = kerr.InvalidGroupID.Code
		default:
			d = b.groups.ConsumerDescribe(id)
			if d.ErrorCode == 0 && !b.describableAssignments(req, d) {
				d = kmsg.NewConsumerGroupDescribeResponseGroup()
				d.Group = id
				d.ErrorCode = kerr.TopicAuthorizationFailed.Code
				msg := "The group has described topic(s) that the client is not authorized to describe."
				d.ErrorMessage = &msg
			}
		}
		if r.IncludeAuthorizedOperations && d.ErrorCode != kerr.GroupAuthorizationFailed.Code {
			d.AuthorizedOperations = b.authorizedOps(req, rtGroup, id)
		}
		resp.Groups = append(resp.Groups, d)
	}
	return server.Immediate(resp)
}

// describableAssignments reports whether req may DESCRIBE every topic in
// the members' current and target assignments.
func (b *Broker) describableAssignments(req *server.Request, d kmsg.ConsumerGroupDescribeResponseGroup) bool {
	seen := map[string]bool{}
	for _, m := range d.Members {
		for _, a := range []kmsg.Assignment{m.Assignment, m.TargetAssignment} {
			for _, t := range a.TopicPartitions {
				if seen[t.Topic] {
					continue
				}
				seen[t.Topic] = true
				if !b.allowed(req, opDescribe, rtTopic, t.Topic) {
					return false
				}
			}
		}
	}
	return true
}
