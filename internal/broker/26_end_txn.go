package broker

// 26_end_txn.go commits or aborts a producer's transaction: WRITE on the
// TransactionalId, then the coordinator, which logs the decision, writes
// the markers to every partition and group of the transaction and logs it
// complete (KafkaApis handleEndTxnRequest).

import (
	"context"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleEndTxn(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.EndTxnRequest)
	resp := r.ResponseKind().(*kmsg.EndTxnResponse)
	if !b.allowed(req, opWrite, rtTransactionalID, r.TransactionalID) {
		resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
		return server.Immediate(resp)
	}
	return func(ctx context.Context) kmsg.Response {
		code := b.txns.EndTxn(ctx, r.TransactionalID, r.ProducerID, r.ProducerEpoch, r.Commit)
		resp.ErrorCode = fencedCode(code, r.Version, 2)
		return resp
	}
}
