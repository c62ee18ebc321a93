package group

// consumer_coordinator.go is the coordinator's side of KIP-848 consumer
// groups: ConsumerGroupHeartbeat and ConsumerGroupDescribe, OffsetFetch's
// member check, and the figures /metrics shows.

import (
	"context"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ConsumerHeartbeat handles a ConsumerGroupHeartbeat: it validates the
// request (ValidateHeartbeat), runs it on the group (creating the group
// for a join), and returns the answer with a wait that returns once the
// group's new state is durable; until then the answer must not be sent
// (a member must never be told an assignment a restart would not show).
// When wait fails the caller answers ErrorCode(err) instead, with the
// same member id (the client retries with its previous epoch).
func (c *Coordinator) ConsumerHeartbeat(req *kmsg.ConsumerGroupHeartbeatRequest, hc HeartbeatContext) (*kmsg.ConsumerGroupHeartbeatResponse, func(context.Context) error) {
	if resp := ValidateHeartbeat(req, c.cfg.assignors); resp != nil {
		return resp, nil
	}
	if req.MemberID == "" {
		// Version 0: the coordinator names a joining member (from v1 the
		// client does, KIP-1082).
		req.MemberID = newMemberUUID()
	}
	var (
		resp *kmsg.ConsumerGroupHeartbeatResponse
		last *pending
	)
	join := req.MemberEpoch == epochJoin
	found, p, err := c.do(req.Group, join, func(g *Group, now time.Time) {
		last = g.lastBatch
		resp = g.ConsumerHeartbeat(now, req, hc)
	})
	switch {
	case err != nil:
		resp = req.ResponseKind().(*kmsg.ConsumerGroupHeartbeatResponse)
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return resp, nil
	case !found:
		resp = req.ResponseKind().(*kmsg.ConsumerGroupHeartbeatResponse)
		format := "Consumer group %s not found."
		if req.MemberEpoch < 0 {
			format = "Group %s not found."
		}
		return hbFail(resp, kerr.GroupIDNotFound, format, req.Group), nil
	case resp.ErrorCode != 0:
		return resp, nil
	case p == nil:
		// The heartbeat changed nothing, but the state it shows may
		// come from records another request (or a timer) produced and
		// that are still being written: the answer waits for them too
		// (batches become durable in order). A failed one would have
		// left the group dirty, and this heartbeat would have written
		// it again itself.
		p = last
	}
	return resp, p.wait
}

// ConsumerDescribe returns a group's ConsumerGroupDescribe entry, with
// GROUP_ID_NOT_FOUND (and Kafka's message) for a group that does not
// exist or is not a consumer group.
func (c *Coordinator) ConsumerDescribe(group string) kmsg.ConsumerGroupDescribeResponseGroup {
	var (
		d        kmsg.ConsumerGroupDescribeResponseGroup
		consumer bool
	)
	found, _, _ := c.do(group, false, func(g *Group, _ time.Time) {
		if consumer = g.cg != nil; consumer {
			d = g.ConsumerDescribe()
		}
	})
	if found && consumer {
		return d
	}
	d = kmsg.NewConsumerGroupDescribeResponseGroup()
	d.Group = group
	d.ErrorCode = kerr.GroupIDNotFound.Code
	msg := fmt.Sprintf("Group %s not found.", group)
	if found {
		msg = fmt.Sprintf("Group %s is not a consumer group.", group)
	}
	d.ErrorMessage = &msg
	return d
}

// FetchOffsetsFor is FetchOffsetsStable for an OffsetFetch v9+ naming a
// member (memberID, epoch; nil and -1 for none): a consumer group answers
// the group-level code of Group.ValidateFetch instead of its offsets
// when the member does not check out. ok is false when the group does
// not exist (its offsets are then none, as in Kafka).
func (c *Coordinator) FetchOffsetsFor(group string, memberID *string, epoch int32) (offsets map[TopicPartition]Offset, unstable map[TopicPartition]bool, code int16, ok bool) {
	found, _, _ := c.do(group, false, func(g *Group, _ time.Time) {
		if code = g.ValidateFetch(memberID, epoch); code == 0 {
			offsets, unstable = g.Offsets(), g.Unstable()
		}
	})
	return offsets, unstable, code, found
}

// ConsumerStats returns the consumer groups' counters since Open.
func (c *Coordinator) ConsumerStats() ConsumerStats { return c.cfg.stats.snapshot() }

// GroupCount is how many groups of a type are in a state.
type GroupCount struct {
	Type, State string
	Groups      int
}

// GroupCounts counts the groups by type and state, for /metrics.
func (c *Coordinator) GroupCounts() []GroupCount {
	counts := map[[2]string]int{}
	for _, l := range c.List() {
		counts[[2]string{l.Type, l.State}]++
	}
	out := make([]GroupCount, 0, len(counts))
	for k, n := range counts {
		out = append(out, GroupCount{Type: k[0], State: k[1], Groups: n})
	}
	return out
}
