package broker

// 47_offset_delete.go handles OffsetDelete: offsets of an empty group, or
// of topics no member of a consumer group subscribes to, are deleted
// (durably, before the answer).

import (
	"context"

	"github.com/courier-dev/courier/internal/broker/group"
	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleOffsetDelete(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.OffsetDeleteRequest)
	resp := r.ResponseKind().(*kmsg.OffsetDeleteResponse)
	if !b.allowed(req, opDelete, rtGroup, r.Group) {
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return server.Immediate(resp)
	}
	var (
		parts []group.TopicPartition
		slots []*int16
	)
	resp.Topics = make([]kmsg.OffsetDeleteResponseTopic, len(r.Topics))
	for ti, rt := range r.Topics {
		st := &resp.Topics[ti]
		*st = kmsg.NewOffsetDeleteResponseTopic()
		st.Topic = rt.Topic
		st.Partitions = make([]kmsg.OffsetDeleteResponseTopicPartition, len(rt.Partitions))
		readable := b.allowed(req, opRead, rtTopic, rt.Topic)
		for pi, rp := range rt.Partitions {
			sp := &st.Partitions[pi]
			*sp = kmsg.NewOffsetDeleteResponseTopicPartition()
			sp.Partition = rp.Partition
			if !readable {
				sp.ErrorCode = kerr.TopicAuthorizationFailed.Code
				continue
			}
			if b.lookup(rt.Topic, rp.Partition) == nil {
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
				continue
			}
			parts = append(parts, group.TopicPartition{Topic: rt.Topic, Partition: rp.Partition})
			slots = append(slots, &sp.ErrorCode)
		}
	}
	code, codes, wait := b.groups.DeleteOffsets(r.Group, parts)
	if code != 0 {
		resp.ErrorCode = code
		resp.Topics = nil
		return server.Immediate(resp)
	}
	for i, slot := range slots {
		*slot = codes[i]
	}
	return b.groupReply(resp, wait, "offset deletion not stored", r.Group, func(code int16) kmsg.Response {
		resp.ErrorCode = code
		return resp
	})
}
