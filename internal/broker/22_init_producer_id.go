package broker

// 22_init_producer_id.go hands out idempotent producer ids. Transactional
// ids need a transaction coordinator, which Courier does not have yet, so
// they are refused with a clear error instead of half-working.

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
	if r.TransactionalID != nil {
		resp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
		b.cfg.Logger.Warn("transactional producer refused: transactions are not supported", "transactional_id", *r.TransactionalID)
		return server.Immediate(resp)
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
