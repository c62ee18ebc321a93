package broker

// 08_offset_commit.go handles OffsetCommit: partitions that do not exist
// are refused (UNKNOWN_TOPIC_OR_PARTITION, or UNKNOWN_TOPIC_ID for v10's
// topic ids); the rest go to the group coordinator, which checks the
// member and generation and stores them. The answer waits, in the Reply,
// until the commit is fsynced and visible to OffsetFetch; a commit that
// could not be written gets NOT_COORDINATOR (group.ErrorCode: what Kafka's
// coordinator answers for a KAFKA_STORAGE_ERROR from its log, so clients
// retry) and leaves the previous offset. The per-request
// RetentionTimeMillis of v2-v4 and the commit Timestamp of v1 are ignored:
// retention is the coordinator's (offsets.retention.minutes) and commit
// times are its clock.

import (
	"context"

	"github.com/courier-dev/courier/internal/broker/group"
	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleOffsetCommit(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.OffsetCommitRequest)
	resp := r.ResponseKind().(*kmsg.OffsetCommitResponse)
	var (
		commits []group.Commit
		slots   []*int16 // error code of each commit's partition in resp
	)
	// READ on the group, then on each topic.
	groupOK := b.allowed(req, opRead, rtGroup, r.Group)
	// One group-id namespace: a share group has no committed offsets
	// (share_groups.go).
	shareGroup := groupOK && b.ShareGroupExists(r.Group)
	resp.Topics = make([]kmsg.OffsetCommitResponseTopic, len(r.Topics))
	for ti, rt := range r.Topics {
		st := &resp.Topics[ti]
		*st = kmsg.NewOffsetCommitResponseTopic()
		st.Topic, st.TopicID = rt.Topic, rt.TopicID
		name, known := rt.Topic, true
		if r.Version >= 10 {
			name, known = b.topicName(rt.TopicID)
		}
		topicOK := groupOK && known && b.allowed(req, opRead, rtTopic, name)
		st.Partitions = make([]kmsg.OffsetCommitResponseTopicPartition, len(rt.Partitions))
		for pi, rp := range rt.Partitions {
			sp := &st.Partitions[pi]
			*sp = kmsg.NewOffsetCommitResponseTopicPartition()
			sp.Partition = rp.Partition
			switch {
			case !groupOK:
				sp.ErrorCode = kerr.GroupAuthorizationFailed.Code
			case shareGroup:
				sp.ErrorCode = kerr.GroupIDNotFound.Code
			case !known:
				sp.ErrorCode = kerr.UnknownTopicID.Code
			case !topicOK:
				sp.ErrorCode = kerr.TopicAuthorizationFailed.Code
			case b.lookup(name, rp.Partition) == nil:
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			default:
				epoch := rp.LeaderEpoch
				if r.Version < 6 {
					epoch = -1
				}
				commits = append(commits, group.Commit{
					TopicPartition: group.TopicPartition{Topic: name, Partition: rp.Partition},
					Offset:         rp.Offset, LeaderEpoch: epoch, Metadata: rp.Metadata,
				})
				slots = append(slots, &sp.ErrorCode)
			}
		}
	}
	if len(commits) == 0 {
		return server.Immediate(resp)
	}
	code, codes, wait := b.groups.CommitOffsets(r.Version, r.Group, group.CommitRequest{
		Generation: r.Generation, MemberID: r.MemberID, InstanceID: r.InstanceID, Offsets: commits,
	})
	return b.commitReply(resp, slots, code, codes, wait, "offset commit not durable", r.Group)
}

// commitReply answers a commit (OffsetCommit, TxnOffsetCommit) the group
// coordinator took: each commit's slot gets the request's code, or its
// own; when records were produced the reply waits until they are
// durable, and a failure becomes group.ErrorCode in every slot still 0.
func (b *Broker) commitReply(resp kmsg.Response, slots []*int16, code int16, codes []int16, wait func(context.Context) error, failure, groupID string) server.Reply {
	for i, slot := range slots {
		if code != 0 {
			*slot = code
		} else {
			*slot = codes[i]
		}
	}
	return b.groupReply(resp, wait, failure, groupID, func(code int16) kmsg.Response {
		for _, slot := range slots {
			if *slot == 0 {
				*slot = code
			}
		}
		return resp
	})
}
