package broker

// group_reply.go is the deferred answer of the group coordinator's
// requests that change durable state (commits, offset deletions,
// consumer group heartbeats): the answer waits, on the connection's
// writer, until the coordinator's records are durable.

import (
	"context"

	"github.com/courier-dev/courier/internal/broker/group"
	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// groupReply answers resp once wait returns (at once when wait is nil).
// When the records could not be stored the answer is failed's, given the
// code to answer with (group.ErrorCode: NOT_COORDINATOR, which clients
// retry); when the connection ends first nothing is answered.
func (b *Broker) groupReply(resp kmsg.Response, wait func(context.Context) error, what, groupID string, failed func(code int16) kmsg.Response) server.Reply {
	if wait == nil {
		return server.Immediate(resp)
	}
	return func(ctx context.Context) kmsg.Response {
		if err := wait(ctx); err != nil {
			if ctxDone(ctx) {
				return nil
			}
			b.cfg.Logger.Error(what, "group", groupID, "err", err)
			return failed(group.ErrorCode(err))
		}
		return resp
	}
}
