package broker

// 78_share_fetch.go handles ShareFetch (KIP-932; v1's MaxRecords and
// BatchSize, KIP-1206; v2's lock renewal, KIP-1222): records acquired
// for a share group member, read through the partition logs as whole
// batches (the client keeps the acquired offsets), with acknowledgements
// piggybacked. The session and acknowledgements are handled when the
// request is read, the acquisition and its long poll in the reply, which
// is sent once every change it reports is durable (package share). Its
// reads draw from the broker's fetch memory budget, as Fetch's do. It
// needs READ on the group, and READ on each topic.

import (
	"context"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/courier-dev/courier/internal/broker/share"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleShareFetch(ctx context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.ShareFetchRequest)
	if r.GroupID != nil && !b.allowed(req, opRead, rtGroup, *r.GroupID) {
		resp := r.ResponseKind().(*kmsg.ShareFetchResponse)
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return server.Immediate(resp)
	}
	conn := share.Conn{Ctx: ctx}
	if req.Conn != nil {
		conn.ID = req.Conn.ID
	}
	reply := b.share.ShareFetch(r, conn, b.shareReadable(req))
	return func(ctx context.Context) kmsg.Response {
		resp, release := reply(ctx)
		// The records stay in memory, and count against the fetch
		// memory budget, until the server has written them.
		req.OnDone(release)
		if resp == nil {
			return nil
		}
		return resp
	}
}

// shareReadable is the topic READ check of share requests.
func (b *Broker) shareReadable(req *server.Request) share.Readable {
	return func(topic string) bool { return b.allowed(req, opRead, rtTopic, topic) }
}
