package broker

// 79_share_acknowledge.go handles ShareAcknowledge (KIP-932; v2's lock
// renewal, KIP-1222): acknowledgements sent alone, in the member's share
// session (epoch -1 closes it, releasing what the member still holds).
// The answer waits until the acknowledgements are durable (package
// share). It needs READ on the group, and READ on each topic.

import (
	"context"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleShareAcknowledge(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.ShareAcknowledgeRequest)
	if r.GroupID != nil && !b.allowed(req, opRead, rtGroup, *r.GroupID) {
		resp := r.ResponseKind().(*kmsg.ShareAcknowledgeResponse)
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return server.Immediate(resp)
	}
	reply := b.share.ShareAcknowledge(r, b.shareReadable(req))
	return func(ctx context.Context) kmsg.Response {
		if resp := reply(ctx); resp != nil {
			return resp
		}
		return nil
	}
}
