package broker

// 28_txn_offset_commit.go commits a consumer group's offsets inside a
// transaction (KafkaApis handleTxnOffsetCommitRequest): WRITE on the
// TransactionalId, READ on the group and on each topic. The transaction
// coordinator must have the group in the producer's ongoing transaction
// (AddOffsetsToTxn; the KIP-890 check, which also fences a stale epoch);
// then the group coordinator keeps the offsets pending, with its member
// and generation checks (KIP-447), until the transaction's end commits or
// drops them. The answer waits until the pending offsets are durable.

import (
	"context"

	"github.com/courier-dev/courier/internal/broker/group"
	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleTxnOffsetCommit(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.TxnOffsetCommitRequest)
	resp := r.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
	var (
		commits []group.Commit
		slots   []*int16
	)
	var all int16 // the code of every partition when the request is refused whole
	switch {
	case !b.allowed(req, opWrite, rtTransactionalID, r.TransactionalID):
		all = kerr.TransactionalIDAuthorizationFailed.Code
	case !b.allowed(req, opRead, rtGroup, r.Group):
		all = kerr.GroupAuthorizationFailed.Code
	case b.ShareGroupExists(r.Group): // one group-id namespace (share_groups.go)
		all = kerr.GroupIDNotFound.Code
	}
	resp.Topics = make([]kmsg.TxnOffsetCommitResponseTopic, len(r.Topics))
	for ti, rt := range r.Topics {
		st := &resp.Topics[ti]
		*st = kmsg.NewTxnOffsetCommitResponseTopic()
		st.Topic = rt.Topic
		topicOK := all == 0 && b.allowed(req, opRead, rtTopic, rt.Topic)
		st.Partitions = make([]kmsg.TxnOffsetCommitResponseTopicPartition, len(rt.Partitions))
		for pi, rp := range rt.Partitions {
			sp := &st.Partitions[pi]
			*sp = kmsg.NewTxnOffsetCommitResponseTopicPartition()
			sp.Partition = rp.Partition
			switch {
			case all != 0:
				sp.ErrorCode = all
			case !topicOK:
				sp.ErrorCode = kerr.TopicAuthorizationFailed.Code
			case b.lookup(rt.Topic, rp.Partition) == nil:
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			default:
				epoch := rp.LeaderEpoch
				if r.Version < 2 {
					epoch = -1
				}
				commits = append(commits, group.Commit{
					TopicPartition: group.TopicPartition{Topic: rt.Topic, Partition: rp.Partition},
					Offset:         rp.Offset, LeaderEpoch: epoch, Metadata: rp.Metadata,
				})
				slots = append(slots, &sp.ErrorCode)
			}
		}
	}
	if len(commits) == 0 {
		return server.Immediate(resp)
	}
	setAll := func(code int16) {
		for _, slot := range slots {
			*slot = fencedCode(code, r.Version, 3)
		}
	}
	if code := b.txns.VerifyGroup(r.TransactionalID, r.ProducerID, r.ProducerEpoch, r.Group); code != 0 {
		setAll(code)
		return server.Immediate(resp)
	}
	generation, member := r.Generation, r.MemberID
	if r.Version < 3 {
		generation, member = -1, "" // before KIP-447 the producer sends no membership
	}
	code, codes, wait := b.groups.TxnCommitOffsets(r.Group, group.TxnCommitRequest{
		ProducerID: r.ProducerID, ProducerEpoch: r.ProducerEpoch,
		Generation: generation, MemberID: member, InstanceID: r.InstanceID, Offsets: commits,
	})
	return b.commitReply(resp, slots, code, codes, wait, "transactional offset commit not durable", r.Group)
}
