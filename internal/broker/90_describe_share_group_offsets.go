package broker

// 90_describe_share_group_offsets.go handles DescribeShareGroupOffsets
// (KIP-932; v1's lag, KIP-1226): each share-partition's start offset and
// how many records below the high watermark are still to be delivered and
// finished. A group needs DESCRIBE; a topic asked for by name needs
// DESCRIBE (TOPIC_AUTHORIZATION_FAILED per partition), and one the
// principal may not DESCRIBE is left out of an "all topics" answer. A
// partition the group has no state for answers start offset -1.

import (
	"context"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/courier-dev/courier/internal/broker/share"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleDescribeShareGroupOffsets(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.DescribeShareGroupOffsetsRequest)
	resp := r.ResponseKind().(*kmsg.DescribeShareGroupOffsetsResponse)
	for _, rg := range r.Groups {
		resp.Groups = append(resp.Groups, b.describeShareOffsets(req, rg))
	}
	return server.Immediate(resp)
}

func (b *Broker) describeShareOffsets(req *server.Request, rg kmsg.DescribeShareGroupOffsetsRequestGroup) kmsg.DescribeShareGroupOffsetsResponseGroup {
	g := kmsg.NewDescribeShareGroupOffsetsResponseGroup()
	g.GroupID = rg.GroupID
	if !b.allowed(req, opDescribe, rtGroup, rg.GroupID) {
		g.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return g
	}
	offs, ok := b.share.Offsets(rg.GroupID)
	if !ok {
		g.ErrorCode = kerr.GroupIDNotFound.Code
		msg := "Group " + rg.GroupID + " is not a share group."
		g.ErrorMessage = &msg
		return g
	}
	type key struct {
		topic string
		part  int32
	}
	byKey := map[key]share.PartitionOffset{}
	for _, o := range offs {
		byKey[key{o.Topic, o.Partition}] = o
	}
	part := func(o share.PartitionOffset, p int32, known bool) kmsg.DescribeShareGroupOffsetsResponseGroupTopicPartition {
		rp := kmsg.NewDescribeShareGroupOffsetsResponseGroupTopicPartition()
		rp.Partition, rp.StartOffset, rp.Lag, rp.LeaderEpoch = p, -1, -1, b.epoch
		if known {
			rp.StartOffset, rp.Lag = o.StartOffset, o.Lag
		}
		return rp
	}
	if rg.Topics == nil { // every topic the group has state for
		var cur *kmsg.DescribeShareGroupOffsetsResponseGroupTopic
		for _, o := range offs {
			if !b.allowed(req, opDescribe, rtTopic, o.Topic) {
				continue
			}
			if cur == nil || cur.Topic != o.Topic {
				t := kmsg.NewDescribeShareGroupOffsetsResponseGroupTopic()
				t.Topic, t.TopicID = o.Topic, o.TopicID
				g.Topics = append(g.Topics, t)
				cur = &g.Topics[len(g.Topics)-1]
			}
			cur.Partitions = append(cur.Partitions, part(o, o.Partition, true))
		}
		return g
	}
	for _, rt := range rg.Topics {
		t := kmsg.NewDescribeShareGroupOffsetsResponseGroupTopic()
		t.Topic = rt.Topic
		if tp, ok := b.topics.Get(rt.Topic); ok {
			t.TopicID = tp.ID
		}
		denied := !b.allowed(req, opDescribe, rtTopic, rt.Topic)
		for _, p := range rt.Partitions {
			o, known := byKey[key{rt.Topic, p}]
			rp := part(o, p, known)
			if denied {
				rp = part(o, p, false)
				rp.ErrorCode = kerr.TopicAuthorizationFailed.Code
			}
			t.Partitions = append(t.Partitions, rp)
		}
		g.Topics = append(g.Topics, t)
	}
	return g
}
