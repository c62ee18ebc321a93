package broker

// 91_alter_share_group_offsets.go handles AlterShareGroupOffsets
// (KIP-932): an empty share group's start offsets are set (what was in
// flight is forgotten), creating the group if needed; a group with
// members gets NON_EMPTY_GROUP. It needs READ on the group and on each
// topic, as in Kafka. The answer waits until the change is durable.

import (
	"context"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/courier-dev/courier/internal/broker/share"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleAlterShareGroupOffsets(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.AlterShareGroupOffsetsRequest)
	resp := r.ResponseKind().(*kmsg.AlterShareGroupOffsetsResponse)
	if !b.allowed(req, opRead, rtGroup, r.GroupID) {
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return server.Immediate(resp)
	}
	var (
		parts []share.AlterPartition
		slots []*int16 // where each of parts' codes goes
	)
	for _, rt := range r.Topics {
		t := kmsg.NewAlterShareGroupOffsetsResponseTopic()
		t.Topic = rt.Topic
		if tp, ok := b.topics.Get(rt.Topic); ok {
			t.TopicID = tp.ID
		}
		denied := !b.allowed(req, opRead, rtTopic, rt.Topic)
		for _, rp := range rt.Partitions {
			p := kmsg.NewAlterShareGroupOffsetsResponseTopicPartition()
			p.Partition = rp.Partition
			if denied {
				p.ErrorCode = kerr.TopicAuthorizationFailed.Code
			} else {
				parts = append(parts, share.AlterPartition{Topic: rt.Topic, Partition: rp.Partition, StartOffset: rp.StartOffset})
			}
			t.Partitions = append(t.Partitions, p)
		}
		resp.Topics = append(resp.Topics, t)
	}
	// The slots are taken once resp.Topics no longer grows.
	for ti := range resp.Topics {
		for pi := range resp.Topics[ti].Partitions {
			if resp.Topics[ti].Partitions[pi].ErrorCode == 0 {
				slots = append(slots, &resp.Topics[ti].Partitions[pi].ErrorCode)
			}
		}
	}
	code, codes, wait := b.share.AlterOffsets(r.GroupID, parts)
	if code != 0 {
		resp.ErrorCode = code
		resp.Topics = nil
		return server.Immediate(resp)
	}
	for i, c := range codes {
		*slots[i] = c
	}
	return b.afterStored(wait, resp, &resp.ErrorCode, "share group offsets", r.GroupID)
}
