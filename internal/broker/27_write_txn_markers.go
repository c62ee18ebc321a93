package broker

// 27_write_txn_markers.go appends transaction markers on request. In Kafka
// the transaction coordinator sends these to partition leaders; Courier's
// coordinator appends its markers directly (transactions.go), so this API
// serves the other user: an administrator ending a hanging transaction
// (`kafka-transactions.sh abort`, `courier txn abort`), which writes an
// ABORT marker with the producer's epoch and coordinator epoch found by
// DescribeProducers. CLUSTER_ACTION on the cluster is required, as in
// Kafka (KafkaApis handleWriteTxnMarkersRequest).

import (
	"context"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/courier-dev/courier/internal/broker/storage"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleWriteTxnMarkers(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.WriteTxnMarkersRequest)
	resp := r.ResponseKind().(*kmsg.WriteTxnMarkersResponse)
	allowed := b.allowedCluster(req, opClusterAction)
	type pending struct {
		sp     *kmsg.WriteTxnMarkersResponseMarkerTopicPartition
		log    *storage.Log
		offset int64
	}
	var waits []pending
	resp.Markers = make([]kmsg.WriteTxnMarkersResponseMarker, len(r.Markers))
	for i, m := range r.Markers {
		rm := &resp.Markers[i]
		*rm = kmsg.NewWriteTxnMarkersResponseMarker()
		rm.ProducerID = m.ProducerID
		rm.Topics = make([]kmsg.WriteTxnMarkersResponseMarkerTopic, len(m.Topics))
		for j, t := range m.Topics {
			rt := &rm.Topics[j]
			*rt = kmsg.NewWriteTxnMarkersResponseMarkerTopic()
			rt.Topic = t.Topic
			rt.Partitions = make([]kmsg.WriteTxnMarkersResponseMarkerTopicPartition, len(t.Partitions))
			for k, p := range t.Partitions {
				sp := &rt.Partitions[k]
				*sp = kmsg.NewWriteTxnMarkersResponseMarkerTopicPartition()
				sp.Partition = p
				if !allowed {
					sp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
					continue
				}
				part := b.lookup(t.Topic, p)
				if part == nil {
					sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
					continue
				}
				off, err := part.log.AppendMarker(storage.Marker{ProducerID: m.ProducerID, ProducerEpoch: m.ProducerEpoch, Commit: m.Committed, CoordinatorEpoch: m.CoordinatorEpoch})
				if err != nil {
					sp.ErrorCode = errorCode(err)
					continue
				}
				if off >= 0 {
					b.cfg.Logger.Info("transaction marker written on request", "topic", t.Topic, "partition", p,
						"producer_id", m.ProducerID, "producer_epoch", m.ProducerEpoch, "commit", m.Committed, "offset", off,
						"principal", principalName(req))
					waits = append(waits, pending{sp, part.log, off})
				}
			}
		}
	}
	if len(waits) == 0 {
		return server.Immediate(resp)
	}
	return func(context.Context) kmsg.Response {
		for _, w := range waits {
			if err := durable(w.log, w.offset, b.cfg.Sync); err != nil {
				w.sp.ErrorCode = kerr.KafkaStorageError.Code
			}
		}
		return resp
	}
}

// principalName is who sent req, for the log.
func principalName(req *server.Request) string {
	p, _ := requester(req)
	return p.String()
}
