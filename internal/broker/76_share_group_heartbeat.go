package broker

// 76_share_group_heartbeat.go handles ShareGroupHeartbeat (KIP-932): share
// group membership and assignment, in package share. It needs READ on the
// group and DESCRIBE on every subscribed topic. A heartbeat that creates a
// group is answered once the group's existence is durable.

import (
	"context"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/courier-dev/courier/internal/broker/share"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleShareGroupHeartbeat(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.ShareGroupHeartbeatRequest)
	fail := func(code int16) server.Reply {
		resp := r.ResponseKind().(*kmsg.ShareGroupHeartbeatResponse)
		resp.ErrorCode = code
		return server.Immediate(resp)
	}
	if !b.allowed(req, opRead, rtGroup, r.GroupID) {
		return fail(kerr.GroupAuthorizationFailed.Code)
	}
	for _, t := range r.SubscribedTopicNames {
		if !b.allowed(req, opDescribe, rtTopic, t) {
			return fail(kerr.TopicAuthorizationFailed.Code)
		}
	}
	// The client's host as the group coordinator shows a classic or
	// consumer group member's ("/127.0.0.1", Kafka's InetAddress form).
	gc := groupClient(req)
	client := share.Client{ID: gc.ID, Host: gc.Host}
	resp, wait := b.share.Heartbeat(r, client)
	if wait == nil {
		return server.Immediate(resp)
	}
	return b.afterStored(wait, resp, &resp.ErrorCode, "share group", r.GroupID)
}
