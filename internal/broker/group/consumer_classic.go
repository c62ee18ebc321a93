package group

// consumer_classic.go is where the classic protocol meets a consumer
// group. An empty consumer group becomes a classic group when a classic
// member joins (its offsets stay), as in Kafka. Kafka 4 also lets classic
// members into a non-empty consumer group and converts groups with
// members online (group.consumer.migration.policy); Courier does not:
// its policy is "disabled", and such a join is refused with
// INCONSISTENT_GROUP_PROTOCOL (a consumer heartbeat to a non-empty
// classic group gets Kafka's GROUP_ID_NOT_FOUND, "Group ... is not a
// consumer group."). LeaveGroup can still remove a consumer group's
// static member by instance id, as an administrator's removal in Kafka.

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// joinConsumerGroup handles a classic JoinGroup to a consumer group: it
// reports false (and answers) when the join cannot proceed; true after
// turning an empty consumer group into a classic one.
func (g *Group) joinConsumerGroup(now time.Time, req *kmsg.JoinGroupRequest, respond func(*kmsg.JoinGroupResponse)) bool {
	if len(g.cg.members) > 0 {
		g.cfg.logger.Info("classic member refused by a consumer group with members (migration policy disabled)", "group", g.id, "member", req.MemberID)
		respond(joinError(req.Version, req.MemberID, kerr.InconsistentGroupProtocol.Code))
		return false
	}
	g.cfg.logger.Info("empty consumer group becomes a classic group", "group", g.id)
	g.cg = nil
	g.protocolType, g.protocol, g.leader, g.generation = "", "", "", 0
	g.transition(Empty, now)
	// The classic group's record replaces the consumer group's in the
	// journal; the offsets stay.
	g.persistMeta(now, nil, nil)
	return true
}

// consumerGroupLeave is LeaveGroup on a consumer group (Kafka's
// classicGroupLeaveToConsumerGroup): a member named by instance id
// alone (an administrator's removal) is removed; members of the consumer
// protocol named by member id are not the classic protocol's to remove
// (UNKNOWN_MEMBER_ID), and a wrong member id for an instance is
// FENCED_INSTANCE_ID.
func (g *Group) consumerGroupLeave(now time.Time, members []kmsg.LeaveGroupRequestMember) []int16 {
	cg := g.cg
	codes := make([]int16, len(members))
	for i, lm := range members {
		if lm.InstanceID == nil {
			codes[i] = kerr.UnknownMemberID.Code
			continue
		}
		m := cg.members[cg.static[*lm.InstanceID]]
		switch {
		case m == nil:
			codes[i] = kerr.UnknownMemberID.Code
		case lm.MemberID == "":
			g.flushDirty()
			g.cfg.logger.Info("consumer group static member removed by LeaveGroup", "group", g.id, "member", m.id, "instance", *lm.InstanceID)
			g.fenceMember(now, m, FenceLeave)
		case lm.MemberID != m.id:
			codes[i] = kerr.FencedInstanceID.Code
		default:
			codes[i] = kerr.UnknownMemberID.Code
		}
	}
	return codes
}
