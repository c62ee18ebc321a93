package broker

// 12_heartbeat.go handles Heartbeat: it keeps a member's session alive and
// tells it when to rejoin (REBALANCE_IN_PROGRESS).

import (
	"context"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleHeartbeat(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.HeartbeatRequest)
	resp := r.ResponseKind().(*kmsg.HeartbeatResponse)
	if !b.allowed(req, opRead, rtGroup, r.Group) {
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return server.Immediate(resp)
	}
	resp.ErrorCode = b.groups.Heartbeat(r)
	return server.Immediate(resp)
}
