package broker

// 21_delete_records.go advances partitions' log start offsets.

import (
	"context"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleDeleteRecords(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.DeleteRecordsRequest)
	resp := r.ResponseKind().(*kmsg.DeleteRecordsResponse)
	for _, rt := range r.Topics {
		st := kmsg.NewDeleteRecordsResponseTopic()
		st.Topic = rt.Topic
		deletable := b.allowed(req, opDelete, rtTopic, rt.Topic)
		for _, rp := range rt.Partitions {
			sp := kmsg.NewDeleteRecordsResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.LowWatermark = -1
			p := b.lookup(rt.Topic, rp.Partition)
			switch {
			case !deletable:
				sp.ErrorCode = kerr.TopicAuthorizationFailed.Code
			case p == nil:
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			case !p.log.Config().Policy.Deletes():
				// As Kafka's Partition.deleteRecordsOnLeader: records of a
				// topic whose policy does not delete cannot be deleted.
				sp.ErrorCode = kerr.PolicyViolation.Code
			default:
				before := rp.Offset
				if before == -1 { // -1 means "up to the high watermark"
					before = p.log.HighWatermark()
				}
				if before < 0 || before > p.log.HighWatermark() {
					sp.ErrorCode = kerr.OffsetOutOfRange.Code
					break
				}
				low, err := p.log.DeleteRecords(before)
				sp.ErrorCode = errorCode(err)
				if err == nil {
					sp.LowWatermark = low
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return server.Immediate(resp)
}
