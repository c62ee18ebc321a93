package share

// acknowledge.go is acknowledgement (KIP-932; renewal, KIP-1222): the
// batches of ShareAcknowledge, and those piggybacked on ShareFetch,
// collected by partition (a partition named twice is refused whole) and
// applied partition by partition, each all or none, then persisted as one
// batch; ShareAcknowledge's reply is sent once they are durable.

import (
	"context"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// partAcks is one partition's acknowledgement batches.
type partAcks struct {
	tp      TopicPartition
	batches []AckBatch
	// dup: the request names the partition more than once; none of its
	// batches is applied (INVALID_REQUEST).
	dup bool
}

// ackSet collects a request's acknowledgements by partition.
type ackSet struct {
	acks []partAcks
	at   map[TopicPartition]int
}

// add adds one partition's batches; a partition already added is marked
// a duplicate instead.
func (s *ackSet) add(tp TopicPartition, batches []AckBatch) {
	if s.at == nil {
		s.at = map[TopicPartition]int{}
	}
	if i, ok := s.at[tp]; ok {
		s.acks[i].dup = true
		return
	}
	s.at[tp] = len(s.acks)
	s.acks = append(s.acks, partAcks{tp: tp, batches: batches})
}

// ackResult is one partition's acknowledgement outcome.
type ackResult struct {
	tp   TopicPartition
	code int16
	msg  string
}

// ShareAcknowledge does a ShareAcknowledge's ordered part and returns its
// reply.
func (c *Coordinator) ShareAcknowledge(req *kmsg.ShareAcknowledgeRequest, readable Readable) func(context.Context) *kmsg.ShareAcknowledgeResponse {
	resp := req.ResponseKind().(*kmsg.ShareAcknowledgeResponse)
	groupID, memberID := deref(req.GroupID), deref(req.MemberID)
	resp.AcquisitionLockTimeoutMillis = int32(c.opts.Config(groupID).LockDuration.Milliseconds())
	done := func(code int16) func(context.Context) *kmsg.ShareAcknowledgeResponse {
		resp.ErrorCode = code
		return func(context.Context) *kmsg.ShareAcknowledgeResponse { return resp }
	}
	if code := checkIDs(groupID, memberID); code != 0 {
		return done(code)
	}
	renew := req.Version >= 2 && req.IsRenewAck
	if renew && c.opts.Config(groupID).RenewDisabled {
		return done(kerr.InvalidRequest.Code) // share.renew.acknowledge.enable=false
	}
	var set ackSet
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			batches := make([]kmsg.ShareFetchRequestTopicPartitionAcknowledgementBatch, len(p.AcknowledgementBatches))
			for i, b := range p.AcknowledgementBatches {
				batches[i] = kmsg.ShareFetchRequestTopicPartitionAcknowledgementBatch(b) // the same fields
			}
			set.add(TopicPartition{TopicID: t.TopicID, Partition: p.Partition}, ackBatches(batches))
		}
	}
	acks := set.acks
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	g, code := c.groupLocked(groupID)
	if code != 0 {
		return done(code)
	}
	epoch := req.ShareSessionEpoch
	if epoch == 0 {
		return done(kerr.InvalidShareSessionEpoch.Code) // sessions are opened by ShareFetch
	}
	if epoch == -1 {
		epoch = g.sessionEpoch(memberID)
	}
	s, err := sessionLocked(g, memberID, epoch)
	if err != nil {
		return done(errCode(err))
	}
	results, w := c.acknowledgeLocked(g, memberID, acks, renew, readable, now)
	waiters := []*waiter{w}
	if req.ShareSessionEpoch == -1 {
		waiters = append(waiters, c.releaseMemberLocked(g, memberID, s.parts))
		c.dropSessionLocked(g, memberID)
	} else {
		s.bump()
	}
	return func(ctx context.Context) *kmsg.ShareAcknowledgeResponse {
		storeErr := waitAll(ctx, waiters)
		if ctx.Err() != nil {
			return nil
		}
		idx := map[[16]byte]int{}
		for _, a := range results {
			i, ok := idx[a.tp.TopicID]
			if !ok {
				i = len(resp.Topics)
				idx[a.tp.TopicID] = i
				t := kmsg.NewShareAcknowledgeResponseTopic()
				t.TopicID = a.tp.TopicID
				resp.Topics = append(resp.Topics, t)
			}
			p := kmsg.NewShareAcknowledgeResponseTopicPartition()
			p.Partition, p.ErrorCode = a.tp.Partition, a.code
			if a.msg != "" {
				m := a.msg
				p.ErrorMessage = &m
			}
			if storeErr != nil && p.ErrorCode == 0 {
				p.ErrorCode = kerr.KafkaStorageError.Code
			}
			p.CurrentLeader.LeaderID, p.CurrentLeader.LeaderEpoch = -1, -1
			resp.Topics[i].Partitions = append(resp.Topics[i].Partitions, p)
		}
		return resp
	}
}

// acknowledgeLocked applies acknowledgements, partition by partition (each
// all or nothing), and persists them as one batch.
func (c *Coordinator) acknowledgeLocked(g *shareGroup, memberID string, acks []partAcks, renew bool, readable Readable, now time.Time) ([]ackResult, *waiter) {
	if len(acks) == 0 {
		return nil, nil
	}
	lim := c.opts.Config(g.id).limits()
	var (
		results []ackResult
		touched []TopicPartition
		woke    bool
	)
	for _, a := range acks {
		r := ackResult{tp: a.tp}
		name, ok := c.topics.TopicName(a.tp.TopicID)
		sp := g.parts[a.tp]
		switch {
		case a.dup:
			r.code, r.msg = kerr.InvalidRequest.Code, "the partition is named more than once in the request"
		case !ok:
			r.code = kerr.UnknownTopicID.Code
		case !readable(name):
			r.code = kerr.TopicAuthorizationFailed.Code
		case sp == nil && !c.partitionExists(name, a.tp.Partition):
			r.code = kerr.UnknownTopicOrPartition.Code
		case sp == nil:
			r.code, r.msg = kerr.InvalidRecordState.Code, "nothing of this partition was delivered to the group"
		default:
			spso := sp.p.SPSO()
			n, err := sp.p.Acknowledge(memberID, a.batches, renew, now, lim)
			if err != nil {
				r.code, r.msg = errCode(err), err.Error()
				break
			}
			c.stats.accepted.Add(uint64(n.Accepted))
			c.stats.released.Add(uint64(n.Released))
			c.stats.rejected.Add(uint64(n.Rejected))
			c.stats.gaps.Add(uint64(n.Gaps))
			c.stats.renewed.Add(uint64(n.Renewed))
			c.stats.archivedAtLimit.Add(uint64(n.ArchivedAtLimit))
			// Records released are available again; a start offset that
			// moved makes room in a window that may have been full
			// (share.partition.max.record.locks): either way a waiting
			// fetch may now acquire.
			woke = woke || n.Released > n.ArchivedAtLimit || sp.p.SPSO() != spso
			touched = append(touched, a.tp)
		}
		results = append(results, r)
	}
	if woke {
		g.wakeFetches()
	}
	return results, c.persistLocked(g, touched, nil, nil)
}

// partitionExists reports whether topic has partition p.
func (c *Coordinator) partitionExists(topic string, p int32) bool {
	_, n, ok := c.topics.Topic(topic)
	return ok && p >= 0 && p < n
}

// ackBatches converts a request's acknowledgement batches.
func ackBatches(in []kmsg.ShareFetchRequestTopicPartitionAcknowledgementBatch) []AckBatch {
	out := make([]AckBatch, len(in))
	for i, b := range in {
		out[i] = AckBatch{First: b.FirstOffset, Last: b.LastOffset, Types: b.AcknowledgeTypes}
	}
	return out
}
