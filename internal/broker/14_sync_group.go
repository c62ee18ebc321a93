package broker

// 14_sync_group.go handles SyncGroup: the leader hands in the assignment,
// relayed to every member byte for byte; a follower's answer waits for it
// in the Reply, off the connection's reader.

import (
	"context"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleSyncGroup(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.SyncGroupRequest)
	if !b.allowed(req, opRead, rtGroup, r.Group) {
		resp := r.ResponseKind().(*kmsg.SyncGroupResponse)
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return server.Immediate(resp)
	}
	ch := b.groups.Sync(r)
	return func(ctx context.Context) kmsg.Response { return awaitGroupReply(ctx, ch) }
}
