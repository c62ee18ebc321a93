package broker

// 68_consumer_group_heartbeat.go handles ConsumerGroupHeartbeat (KIP-848,
// v0-1): READ on the group; subscribed topic names the principal may not
// DESCRIBE refuse the heartbeat (TOPIC_AUTHORIZATION_FAILED), and a
// subscription regex resolves only to topics it may DESCRIBE, as in Kafka
// 4. The group coordinator joins, heartbeats or removes the member and
// reconciles its assignment; the answer waits, in the Reply, until the
// group's new state is durable, and is NOT_COORDINATOR (retriable) when it
// could not be stored.

import (
	"context"

	"github.com/courier-dev/courier/internal/broker/group"
	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleConsumerGroupHeartbeat(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.ConsumerGroupHeartbeatRequest)
	if !b.allowed(req, opRead, rtGroup, r.Group) {
		resp := r.ResponseKind().(*kmsg.ConsumerGroupHeartbeatResponse)
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return server.Immediate(resp)
	}
	if b.ShareGroupExists(r.Group) { // one group-id namespace (share_groups.go)
		resp := r.ResponseKind().(*kmsg.ConsumerGroupHeartbeatResponse)
		resp.ErrorCode = kerr.GroupIDNotFound.Code
		resp.ErrorMessage = kmsg.StringPtr("Group " + r.Group + " is not a consumer group.")
		return server.Immediate(resp)
	}
	for _, t := range r.SubscribedTopicNames {
		if !b.allowed(req, opDescribe, rtTopic, t) {
			resp := r.ResponseKind().(*kmsg.ConsumerGroupHeartbeatResponse)
			resp.ErrorCode = kerr.TopicAuthorizationFailed.Code
			return server.Immediate(resp)
		}
	}
	hc := group.HeartbeatContext{
		Client:     groupClient(req),
		AllowTopic: func(topic string) bool { return b.allowed(req, opDescribe, rtTopic, topic) },
	}
	resp, wait := b.groups.ConsumerHeartbeat(r, hc)
	return b.groupReply(resp, wait, "consumer group heartbeat not stored", r.Group, func(code int16) kmsg.Response {
		failed := r.ResponseKind().(*kmsg.ConsumerGroupHeartbeatResponse)
		failed.ErrorCode = code
		return failed
	})
}
