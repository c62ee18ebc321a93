package broker

// 23_offset_for_leader_epoch.go answers OffsetForLeaderEpoch. Courier's
// leader epoch never changes (one node, epoch 0), so the end offset of
// epoch 0 is the high watermark and there is never a truncation to detect.

import (
	"context"

	"github.com/courier-dev/courier/internal/server"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleOffsetForLeaderEpoch(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.OffsetForLeaderEpochRequest)
	resp := r.ResponseKind().(*kmsg.OffsetForLeaderEpochResponse)
	for _, rt := range r.Topics {
		st := kmsg.NewOffsetForLeaderEpochResponseTopic()
		st.Topic = rt.Topic
		describable := b.allowed(req, opDescribe, rtTopic, rt.Topic)
		for _, rp := range rt.Partitions {
			sp := kmsg.NewOffsetForLeaderEpochResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.LeaderEpoch = -1
			sp.EndOffset = -1
			p := b.lookup(rt.Topic, rp.Partition)
			switch {
			case !describable:
				sp.ErrorCode = kerr.TopicAuthorizationFailed.Code
			case p == nil:
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			case rp.CurrentLeaderEpoch > 0:
				sp.ErrorCode = kerr.UnknownLeaderEpoch.Code
			case rp.LeaderEpoch > 0:
				// An epoch this node never had: undefined, as Kafka answers.
			default:
				sp.LeaderEpoch = 0
				sp.EndOffset = p.log.HighWatermark()
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return server.Immediate(resp)
}
