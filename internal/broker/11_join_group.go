package broker

// 11_join_group.go handles JoinGroup. The join is registered with the
// coordinator in the request's ordered part; the answer, which waits for
// the rebalance's join phase to end, is awaited in the Reply on the
// connection's writer, so the reader is never blocked.

import (
	"context"
	"net"

	"github.com/courier-dev/courier/internal/broker/group"
	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleJoinGroup(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.JoinGroupRequest)
	if !b.allowed(req, opRead, rtGroup, r.Group) {
		resp := r.ResponseKind().(*kmsg.JoinGroupResponse)
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return server.Immediate(resp)
	}
	if b.ShareGroupExists(r.Group) { // one group-id namespace (share_groups.go)
		resp := r.ResponseKind().(*kmsg.JoinGroupResponse)
		resp.ErrorCode = kerr.GroupIDNotFound.Code
		return server.Immediate(resp)
	}
	ch := b.groups.Join(r, groupClient(req))
	return func(ctx context.Context) kmsg.Response { return awaitGroupReply(ctx, ch) }
}

// awaitGroupReply waits for a coordinator's answer; when the connection
// ends first there is nobody to answer.
func awaitGroupReply[T kmsg.Response](ctx context.Context, ch <-chan T) kmsg.Response {
	select {
	case resp := <-ch:
		return resp
	case <-ctx.Done():
		return nil
	}
}

// groupClient describes the requesting client as DescribeGroups shows it.
func groupClient(req *server.Request) group.Client {
	c := group.Client{ID: req.ClientID}
	if req.Conn != nil && req.Conn.Remote != nil {
		host := req.Conn.Remote.String()
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		c.Host = "/" + host
	}
	return c
}
