package broker

// 23_offset_for_leader_epoch.go answers OffsetForLeaderEpoch (KIP-101,
// KIP-320): where a leader epoch ended in a partition's log. A consumer
// whose last record came from epoch E asks after the epoch changed; an end
// offset below its position means the log was truncated under it (a crash
// lost records it had read), and it must reset rather than skip the
// offsets that were written again.

import (
	"context"

	"github.com/courier-dev/courier/internal/broker/server"
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
			default:
				if sp.ErrorCode = b.checkLeaderEpoch(rp.CurrentLeaderEpoch); sp.ErrorCode == 0 {
					sp.LeaderEpoch, sp.EndOffset = p.log.EndOffsetForEpoch(rp.LeaderEpoch)
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return server.Immediate(resp)
}
