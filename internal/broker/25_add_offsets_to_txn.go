package broker

// 25_add_offsets_to_txn.go adds a consumer group to a producer's
// transaction, so that the offsets the producer then commits for it
// (TxnOffsetCommit) are committed or dropped with the transaction: WRITE
// on the TransactionalId and READ on the group (KafkaApis
// handleAddOffsetsToTxnRequest).

import (
	"context"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleAddOffsetsToTxn(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.AddOffsetsToTxnRequest)
	resp := r.ResponseKind().(*kmsg.AddOffsetsToTxnResponse)
	switch {
	case !b.allowed(req, opWrite, rtTransactionalID, r.TransactionalID):
		resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
		return server.Immediate(resp)
	case !b.allowed(req, opRead, rtGroup, r.Group):
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return server.Immediate(resp)
	case r.Group == "":
		resp.ErrorCode = kerr.InvalidGroupID.Code
		return server.Immediate(resp)
	}
	return func(ctx context.Context) kmsg.Response {
		code := b.txns.AddOffsets(ctx, r.TransactionalID, r.ProducerID, r.ProducerEpoch, r.Group)
		resp.ErrorCode = fencedCode(code, r.Version, 2)
		return resp
	}
}
