package broker

// 22_init_producer_id.go hands out producer ids: to idempotent producers
// directly, and to transactional producers through the transaction
// coordinator, which fences the id's previous producer (KafkaApis
// handleInitProducerIdRequest).

import (
	"context"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleInitProducerID(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.InitProducerIDRequest)
	resp := r.ResponseKind().(*kmsg.InitProducerIDResponse)
	resp.ProducerID = -1
	resp.ProducerEpoch = -1
	if (r.ProducerID < 0) != (r.ProducerEpoch < 0) {
		resp.ErrorCode = kerr.InvalidRequest.Code // one of the two without the other
		return server.Immediate(resp)
	}
	if r.TransactionalID != nil {
		return b.initTransactionalProducer(req, r, resp)
	}
	// KIP-679: IDEMPOTENT_WRITE on the cluster, or WRITE on any topic.
	if !b.allowedCluster(req, opIdempotentWrite) && !b.allowedAnyTopic(req, opWrite) {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		return server.Immediate(resp)
	}
	// An idempotent producer re-initializing (KIP-360) keeps its id with a
	// bumped epoch, which resets its sequence numbers.
	if r.ProducerID >= 0 && r.ProducerEpoch >= 0 && r.ProducerEpoch < 32767 {
		resp.ProducerID = r.ProducerID
		resp.ProducerEpoch = r.ProducerEpoch + 1
		return server.Immediate(resp)
	}
	id, err := b.pids.allocate()
	if err != nil {
		b.cfg.Logger.Error("allocate producer id", "err", err)
		resp.ErrorCode = kerr.KafkaStorageError.Code
		return server.Immediate(resp)
	}
	resp.ProducerID = id
	resp.ProducerEpoch = 0
	return server.Immediate(resp)
}

// initTransactionalProducer answers InitProducerId for a transactional id:
// WRITE on the TransactionalId resource, then the coordinator's answer
// (which may wait for the id's ongoing transaction to be aborted).
func (b *Broker) initTransactionalProducer(req *server.Request, r *kmsg.InitProducerIDRequest, resp *kmsg.InitProducerIDResponse) server.Reply {
	id := *r.TransactionalID
	if !b.allowed(req, opWrite, rtTransactionalID, id) {
		resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
		return server.Immediate(resp)
	}
	if id == "" {
		resp.ErrorCode = kerr.InvalidRequest.Code
		return server.Immediate(resp)
	}
	return func(ctx context.Context) kmsg.Response {
		pid, epoch, code := b.txns.InitProducerID(ctx, id, r.TransactionTimeoutMillis, r.ProducerID, r.ProducerEpoch)
		resp.ErrorCode = fencedCode(code, r.Version, 4)
		if code == 0 {
			resp.ProducerID, resp.ProducerEpoch = pid, epoch
		}
		return resp
	}
}
