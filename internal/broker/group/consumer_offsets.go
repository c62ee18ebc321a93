package group

// consumer_offsets.go is where a consumer group's members meet the
// committed offsets, as Kafka's ConsumerGroup and OffsetMetadataManager
// check them: OffsetCommit and TxnOffsetCommit by member id and member
// epoch, OffsetFetch's member check (v9+), OffsetDelete of topics no
// member subscribes to, deletion, offsets expiry, and the group's views
// for ConsumerGroupDescribe and ListGroups.

import (
	"math"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// validateConsumerCommit is ConsumerGroup.validateOffsetCommit: an admin
// (or a consumer outside group management) may commit with a negative
// epoch to a group without members; otherwise the member must exist
// (UNKNOWN_MEMBER_ID) and come with its current epoch
// (STALE_MEMBER_EPOCH; a transactional commit gets ILLEGAL_GENERATION, as
// Kafka's TxnOffsetCommit maps it). A plain commit from a member of the
// consumer protocol must be OffsetCommit v9+ (UNSUPPORTED_VERSION).
func (g *Group) validateConsumerCommit(memberID string, epoch int32, version int16, transactional bool) int16 {
	cg := g.cg
	if epoch < 0 && len(cg.members) == 0 {
		return 0
	}
	m := cg.members[memberID]
	switch {
	case m == nil:
		return kerr.UnknownMemberID.Code
	case !transactional && version < 9 && m.classic == nil:
		return kerr.UnsupportedVersion.Code
	case epoch != m.epoch && (transactional || m.classic != nil):
		// A classic member's generation is its member epoch.
		return kerr.IllegalGeneration.Code
	case epoch != m.epoch:
		return kerr.StaleMemberEpoch.Code
	}
	return 0
}

// ValidateFetch is OffsetFetch's member check (v9+): a request naming no
// member (memberID nil) with a negative epoch, an admin's, is always
// accepted; otherwise, for a consumer group, the member must exist
// (UNKNOWN_MEMBER_ID) at that epoch (STALE_MEMBER_EPOCH). A classic group
// does not check members, as in Kafka.
func (g *Group) ValidateFetch(memberID *string, epoch int32) int16 {
	if g.cg == nil || (memberID == nil && epoch < 0) {
		return 0
	}
	id := ""
	if memberID != nil {
		id = *memberID
	}
	m := g.cg.members[id]
	switch {
	case m == nil:
		return kerr.UnknownMemberID.Code
	case epoch != m.epoch && m.classic != nil:
		return kerr.IllegalGeneration.Code
	case epoch != m.epoch:
		return kerr.StaleMemberEpoch.Code
	}
	return 0
}

// consumerSubscribed is every topic name some member subscribes to (by
// name or through its regex): Kafka's isSubscribedToTopic.
func (cg *consumerGroup) consumerSubscribed() map[string]bool {
	out := map[string]bool{}
	for _, m := range cg.members {
		for _, n := range cg.subscribedNames(m) {
			out[n] = true
		}
	}
	return out
}

// expireConsumerOffsets is ExpireOffsets for a consumer group (Kafka's
// ConsumerGroup offset expiration): an offset not committed for the
// retention period expires unless a member subscribes to its topic; the
// group goes once it has no members, no offsets and has been empty that
// long.
func (g *Group) expireConsumerOffsets(now time.Time, retention time.Duration) (expired int, deleting bool) {
	cg := g.cg
	subscribed := cg.consumerSubscribed()
	for tp, o := range g.offsets {
		if g.inflight[tp] > 0 || g.txns.has(tp) || subscribed[tp.Topic] {
			continue
		}
		if now.Sub(o.CommitTime) >= retention {
			g.out = append(g.out, record{kind: kindOffsetDelete, group: g.id, tp: tp})
			expired++
		}
	}
	if len(cg.members) == 0 && expired == len(g.offsets) && len(g.inflight) == 0 && len(g.txns) == 0 && now.Sub(cg.emptySince) >= retention {
		g.out = append(g.out, record{kind: kindGroupDelete, group: g.id})
		deleting = true
	}
	return expired, deleting
}

// ConsumerDescribe is the group's ConsumerGroupDescribe entry: its state,
// epochs, assignor and members with their current and target
// assignments. Topics are named through the coordinator's Topics (a
// deleted topic is left out, as Kafka does).
func (g *Group) ConsumerDescribe() kmsg.ConsumerGroupDescribeResponseGroup {
	cg := g.cg
	d := kmsg.NewConsumerGroupDescribeResponseGroup()
	d.Group = g.id
	d.State = cg.state().String()
	d.Epoch, d.AssignmentEpoch = cg.epoch, cg.assignmentEpoch
	d.AssignorName = g.preferredAssignor(cg)
	d.Members = []kmsg.ConsumerGroupDescribeResponseGroupMember{}
	byID := map[TopicID]string{}
	for _, t := range g.cfg.topics.All() {
		byID[t.ID] = t.Name
	}
	known := func(a assignment) assignment {
		return a.filter(func(id TopicID, _ int32) bool { return byID[id] != "" })
	}
	name := func(id TopicID) string { return byID[id] }
	for _, m := range cg.sortedMembers() {
		dm := kmsg.NewConsumerGroupDescribeResponseGroupMember()
		dm.MemberID, dm.InstanceID, dm.RackID = m.id, m.instanceID, m.rackID
		dm.MemberEpoch = m.epoch
		dm.ClientID, dm.ClientHost = m.clientID, m.clientHost
		dm.SubscribedTopics = append([]string{}, m.names...)
		regex := m.regex
		dm.SubscribedTopicRegex = &regex
		dm.Assignment = known(m.assigned).describeTopics(name)
		dm.TargetAssignment = known(cg.target[m.id]).describeTopics(name)
		dm.MemberType = 1 // the consumer protocol
		if m.classic != nil {
			dm.MemberType = 0
		}
		d.Members = append(d.Members, dm)
	}
	d.AuthorizedOperations = math.MinInt32
	return d
}
