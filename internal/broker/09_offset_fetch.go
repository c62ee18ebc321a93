package broker

// 09_offset_fetch.go handles OffsetFetch: one group (v0-v7) or several
// (v8+), named partitions or, with null topics (v2+), every committed
// offset. Partitions without a committed offset answer -1. Topics are named
// by id from v10. With RequireStable (v7+), a partition with a pending
// transactional commit (TxnOffsetCommit whose transaction has not ended)
// answers UNSTABLE_OFFSET_COMMIT, which clients retry, as in Kafka. From v9
// a consumer group's (KIP-848) member fetching its offsets names itself
// and its epoch, which are checked.

import (
	"context"
	"sort"

	"github.com/courier-dev/courier/internal/broker/group"
	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// fetchTopic is a requested topic, resolved.
type fetchTopic struct {
	name  string
	id    [16]byte
	known bool // false: a v10 topic id that names no topic
	parts []int32
}

// fetchedPartition is one answer.
type fetchedPartition struct {
	partition int32
	offset    int64
	epoch     int32
	metadata  *string
	code      int16
}

func (b *Broker) handleOffsetFetch(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.OffsetFetchRequest)
	resp := r.ResponseKind().(*kmsg.OffsetFetchResponse)
	if r.Version < 8 {
		if !b.allowed(req, opDescribe, rtGroup, r.Group) {
			resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
			if r.Version < 2 { // no top-level error code: each partition's
				for _, t := range r.Topics {
					rt := kmsg.NewOffsetFetchResponseTopic()
					rt.Topic = t.Topic
					for _, p := range t.Partitions {
						rp := kmsg.NewOffsetFetchResponseTopicPartition()
						rp.Partition, rp.Offset, rp.ErrorCode = p, -1, kerr.GroupAuthorizationFailed.Code
						rt.Partitions = append(rt.Partitions, rp)
					}
					resp.Topics = append(resp.Topics, rt)
				}
			}
			return server.Immediate(resp)
		}
		var topics []fetchTopic
		if r.Topics != nil {
			topics = []fetchTopic{}
			for _, t := range r.Topics {
				topics = append(topics, fetchTopic{name: t.Topic, known: true, parts: t.Partitions})
			}
		}
		code, got := b.fetchGroupOffsets(req, r.Version, r.Group, nil, -1, topics, r.RequireStable)
		if r.Version >= 2 {
			resp.ErrorCode = code
		}
		for _, t := range got {
			rt := kmsg.NewOffsetFetchResponseTopic()
			rt.Topic = t.name
			for _, p := range t.parts {
				rp := kmsg.NewOffsetFetchResponseTopicPartition()
				rp.Partition, rp.Offset, rp.LeaderEpoch, rp.Metadata, rp.ErrorCode = p.partition, p.offset, p.epoch, p.metadata, p.code
				if r.Version < 2 && code != 0 {
					rp.ErrorCode = code // no top-level error code before v2
				}
				rt.Partitions = append(rt.Partitions, rp)
			}
			resp.Topics = append(resp.Topics, rt)
		}
		return server.Immediate(resp)
	}
	for _, rg := range r.Groups {
		if !b.allowed(req, opDescribe, rtGroup, rg.Group) {
			g := kmsg.NewOffsetFetchResponseGroup()
			g.Group = rg.Group
			g.ErrorCode = kerr.GroupAuthorizationFailed.Code
			resp.Groups = append(resp.Groups, g)
			continue
		}
		var topics []fetchTopic
		if rg.Topics != nil {
			topics = []fetchTopic{}
			for _, t := range rg.Topics {
				ft := fetchTopic{name: t.Topic, id: t.TopicID, known: true, parts: t.Partitions}
				if r.Version >= 10 {
					ft.name, ft.known = b.topicName(t.TopicID)
				}
				topics = append(topics, ft)
			}
		}
		code, got := b.fetchGroupOffsets(req, r.Version, rg.Group, rg.MemberID, rg.MemberEpoch, topics, r.RequireStable)
		g := kmsg.NewOffsetFetchResponseGroup()
		g.Group = rg.Group
		g.ErrorCode = code
		for _, t := range got {
			gt := kmsg.NewOffsetFetchResponseGroupTopic()
			gt.Topic, gt.TopicID = t.name, t.id
			for _, p := range t.parts {
				gp := kmsg.NewOffsetFetchResponseGroupTopicPartition()
				gp.Partition, gp.Offset, gp.LeaderEpoch, gp.Metadata, gp.ErrorCode = p.partition, p.offset, p.epoch, p.metadata, p.code
				gt.Partitions = append(gt.Partitions, gp)
			}
			g.Topics = append(g.Topics, gt)
		}
		resp.Groups = append(resp.Groups, g)
	}
	return server.Immediate(resp)
}

// answeredTopic is one topic of a group's answer.
type answeredTopic struct {
	name  string
	id    [16]byte
	parts []fetchedPartition
}

// fetchGroupOffsets answers one group: the requested partitions, or every
// committed offset when topics is nil. Topics req may not DESCRIBE are
// left out of the latter and answer TOPIC_AUTHORIZATION_FAILED when named.
// A consumer group checks the member the request names (v9+: memberID,
// epoch; nil and -1 for none): an unknown member or a stale epoch is the
// group's error code (UNKNOWN_MEMBER_ID, STALE_MEMBER_EPOCH), as in Kafka.
func (b *Broker) fetchGroupOffsets(req *server.Request, version int16, groupID string, memberID *string, epoch int32, topics []fetchTopic, requireStable bool) (int16, []answeredTopic) {
	if groupID == "" {
		return kerr.InvalidGroupID.Code, nil
	}
	offsets, unstable, code, _ := b.groups.FetchOffsetsFor(groupID, memberID, epoch)
	if code != 0 {
		return code, nil
	}
	if !requireStable {
		unstable = nil
	}
	noMeta := ""
	if topics == nil {
		byTopic := map[string][]fetchedPartition{}
		for tp, o := range offsets {
			fp := fetchedPartition{partition: tp.Partition, offset: o.Offset, epoch: o.LeaderEpoch, metadata: o.Metadata}
			if unstable[tp] {
				fp = fetchedPartition{partition: tp.Partition, offset: -1, epoch: -1, metadata: &noMeta, code: kerr.UnstableOffsetCommit.Code}
			}
			byTopic[tp.Topic] = append(byTopic[tp.Topic], fp)
		}
		var out []answeredTopic
		for name, parts := range byTopic {
			if !b.allowed(req, opDescribe, rtTopic, name) {
				continue
			}
			at := answeredTopic{name: name, parts: parts}
			if version >= 10 {
				t, ok := b.topics.Get(name)
				if !ok {
					continue // committed for a topic deleted since
				}
				at.id = t.ID
			}
			sort.Slice(parts, func(i, j int) bool { return parts[i].partition < parts[j].partition })
			out = append(out, at)
		}
		sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
		return 0, out
	}
	var out []answeredTopic
	for _, t := range topics {
		at := answeredTopic{name: t.name, id: t.id}
		describable := !t.known || b.allowed(req, opDescribe, rtTopic, t.name)
		for _, p := range t.parts {
			fp := fetchedPartition{partition: p, offset: -1, epoch: -1, metadata: &noMeta}
			switch o, ok := offsets[group.TopicPartition{Topic: t.name, Partition: p}]; {
			case !t.known:
				fp.code = kerr.UnknownTopicID.Code
			case !describable:
				fp.code = kerr.TopicAuthorizationFailed.Code
			case unstable[group.TopicPartition{Topic: t.name, Partition: p}]:
				fp.code = kerr.UnstableOffsetCommit.Code
			case ok:
				fp.offset, fp.epoch, fp.metadata = o.Offset, o.LeaderEpoch, o.Metadata
			}
			at.parts = append(at.parts, fp)
		}
		out = append(out, at)
	}
	return 0, out
}
