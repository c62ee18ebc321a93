package broker

// 02_list_offsets.go answers ListOffsets: earliest (-2), latest (-1), the
// offset of the largest timestamp (-3), or the first offset at or after a
// timestamp.

import (
	"context"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleListOffsets(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.ListOffsetsRequest)
	resp := r.ResponseKind().(*kmsg.ListOffsetsResponse)
	for _, rt := range r.Topics {
		st := kmsg.NewListOffsetsResponseTopic()
		st.Topic = rt.Topic
		describable := b.allowed(req, opDescribe, rtTopic, rt.Topic)
		for _, rp := range rt.Partitions {
			if !describable {
				sp := kmsg.NewListOffsetsResponseTopicPartition()
				sp.Partition, sp.Timestamp, sp.Offset = rp.Partition, -1, -1
				sp.ErrorCode = kerr.TopicAuthorizationFailed.Code
				st.Partitions = append(st.Partitions, sp)
				continue
			}
			st.Partitions = append(st.Partitions, b.listOffset(rt.Topic, rp))
		}
		resp.Topics = append(resp.Topics, st)
	}
	return server.Immediate(resp)
}

// listOffset answers for one partition.
func (b *Broker) listOffset(topic string, rp kmsg.ListOffsetsRequestTopicPartition) kmsg.ListOffsetsResponseTopicPartition {
	sp := kmsg.NewListOffsetsResponseTopicPartition()
	sp.Partition = rp.Partition
	sp.Timestamp = -1
	sp.Offset = -1
	sp.LeaderEpoch = -1
	p := b.lookup(topic, rp.Partition)
	if p == nil {
		sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
		return sp
	}
	if code := b.checkLeaderEpoch(rp.CurrentLeaderEpoch); code != 0 {
		sp.ErrorCode = code
		return sp
	}
	switch ts := rp.Timestamp; {
	case ts == -2:
		sp.Offset = p.log.LogStartOffset()
	case ts == -1:
		sp.Offset = p.log.HighWatermark()
	case ts == -3:
		sp.Offset, sp.Timestamp = p.log.MaxTimestamp()
	case ts < 0:
		sp.ErrorCode = kerr.InvalidRequest.Code
	default:
		off, found, err := p.log.OffsetForTime(ts)
		if err != nil {
			sp.ErrorCode = errorCode(err)
			return sp
		}
		sp.Offset, sp.Timestamp = off, found
	}
	if sp.ErrorCode == 0 && sp.Offset >= 0 {
		// The epoch that wrote the offset, so a consumer can validate its
		// position later (KIP-320).
		sp.LeaderEpoch = p.log.EpochAt(sp.Offset)
	}
	return sp
}
