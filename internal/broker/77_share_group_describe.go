package broker

// 77_share_group_describe.go handles ShareGroupDescribe (KIP-932): each
// group's state, epochs, members and assignments. A group needs DESCRIBE
// (GROUP_AUTHORIZATION_FAILED otherwise); as in Kafka, a principal that
// may not DESCRIBE one of the assigned topics gets only
// TOPIC_AUTHORIZATION_FAILED for the whole group.

import (
	"context"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleShareGroupDescribe(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.ShareGroupDescribeRequest)
	resp := r.ResponseKind().(*kmsg.ShareGroupDescribeResponse)
	for _, id := range r.GroupIDs {
		resp.Groups = append(resp.Groups, b.describeShareGroup(req, id, r.IncludeAuthorizedOperations))
	}
	return server.Immediate(resp)
}

// describeShareGroup is one group's ShareGroupDescribe entry.
func (b *Broker) describeShareGroup(req *server.Request, id string, withOps bool) kmsg.ShareGroupDescribeResponseGroup {
	fail := func(code *kerr.Error, msg string) kmsg.ShareGroupDescribeResponseGroup {
		d := kmsg.NewShareGroupDescribeResponseGroup()
		d.GroupID, d.ErrorCode = id, code.Code
		if msg != "" {
			d.ErrorMessage = &msg
		}
		return d
	}
	if !b.allowed(req, opDescribe, rtGroup, id) {
		return fail(kerr.GroupAuthorizationFailed, "")
	}
	d, topics, ok := b.share.Describe(id)
	if !ok {
		msg := "Group " + id + " not found."
		if b.ShareGroupExists(id) || b.otherGroupExists(id) {
			msg = "Group " + id + " is not a share group."
		}
		return fail(kerr.GroupIDNotFound, msg)
	}
	for _, t := range topics {
		if !b.allowed(req, opDescribe, rtTopic, t) {
			return fail(kerr.TopicAuthorizationFailed, "")
		}
	}
	if withOps {
		d.AuthorizedOperations = b.authorizedOps(req, rtGroup, id)
	}
	return d
}

// otherGroupExists reports whether a classic or consumer group has id.
func (b *Broker) otherGroupExists(id string) bool {
	_, ok := b.groups.Describe(id)
	return ok
}
