package broker

// 92_delete_share_group_offsets.go handles DeleteShareGroupOffsets
// (KIP-932): an empty share group forgets its state of whole topics. The
// group must exist (GROUP_ID_NOT_FOUND) and be empty (NON_EMPTY_GROUP).
// It needs DELETE on the group and READ on each topic, as in Kafka. The
// answer waits until the deletion is durable.

import (
	"context"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleDeleteShareGroupOffsets(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.DeleteShareGroupOffsetsRequest)
	resp := r.ResponseKind().(*kmsg.DeleteShareGroupOffsetsResponse)
	if !b.allowed(req, opDelete, rtGroup, r.GroupID) {
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return server.Immediate(resp)
	}
	var (
		names []string
		slots []int // index in resp.Topics of each of names
	)
	for _, rt := range r.Topics {
		t := kmsg.NewDeleteShareGroupOffsetsResponseTopic()
		t.Topic = rt.Topic
		if tp, ok := b.topics.Get(rt.Topic); ok {
			t.TopicID = tp.ID
		}
		if b.allowed(req, opRead, rtTopic, rt.Topic) {
			names = append(names, rt.Topic)
			slots = append(slots, len(resp.Topics))
		} else {
			t.ErrorCode = kerr.TopicAuthorizationFailed.Code
		}
		resp.Topics = append(resp.Topics, t)
	}
	code, codes, wait := b.share.DeleteOffsets(r.GroupID, names)
	if code != 0 {
		resp.ErrorCode = code
		resp.Topics = nil
		return server.Immediate(resp)
	}
	for i, c := range codes {
		resp.Topics[slots[i]].ErrorCode = c
	}
	return b.afterStored(wait, resp, &resp.ErrorCode, "share group offsets deletion", r.GroupID)
}
