package group

// consumer.go is the state of a KIP-848 consumer group (Kafka's
// ConsumerGroup and ConsumerGroupMember): the group epoch, the target
// assignment and its epoch, and per member its subscription, epochs,
// reconciliation state and current assignment. A Group is classic or
// consumer (g.cg != nil); both kinds share the committed offsets, the
// coordinator and the journal. The heartbeat is in consumer_heartbeat.go,
// the assignment and reconciliation in consumer_assign.go, the records in
// consumer_records.go.
//
// Invariants, checked by the model test (consumer_model_test.go):
//   - a partition is owned (assigned, or pending revocation) by at most one
//     member: owners maps it to that member;
//   - the group epoch, the assignment epoch and every member's epoch never
//     go back; assignmentEpoch <= epoch;
//   - a member gets a partition only once no other member owns it, and a
//     partition it keeps in its target is never taken from it;
//   - when every member is Stable at the assignment epoch, the members own
//     exactly the target assignment.

import (
	"regexp"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// memberState is a consumer group member's reconciliation state (Kafka's
// MemberState).
type memberState int8

const (
	// memberStable: the member owns its assignment at its epoch.
	memberStable memberState = iota
	// memberUnrevoked: it must give up partitions (revoking) before it
	// moves on; the rebalance timeout runs.
	memberUnrevoked
	// memberUnreleased: it waits for partitions other members still own.
	memberUnreleased
)

// String is Kafka's name for the state.
func (s memberState) String() string {
	switch s {
	case memberStable:
		return "STABLE"
	case memberUnrevoked:
		return "UNREVOKED_PARTITIONS"
	case memberUnreleased:
		return "UNRELEASED_PARTITIONS"
	}
	return "UNKNOWN"
}

// Member epochs with a meaning of their own (ConsumerGroupHeartbeat).
const (
	epochJoin        = 0  // a member (re)joining
	epochLeave       = -1 // a member leaving
	epochStaticLeave = -2 // a static member leaving for now, to come back
)

// cmember is one consumer group member: what is persisted
// (consumerMemberRec) and its timers.
type cmember struct {
	consumerMemberRec

	// re is the compiled subscription regex (nil without one).
	re *regexp.Regexp
	// expires ends the member's session unless it heartbeats.
	expires time.Time
	// revokeBy is when a member with partitions to revoke is fenced
	// unless it has moved on from revokeEpoch (the rebalance timeout);
	// zero when nothing is to be revoked.
	revokeBy    time.Time
	revokeEpoch int32
	// joinBy and syncBy are a classic member's deadlines: to join again
	// after being told REBALANCE_IN_PROGRESS, and to sync after joining
	// (both its rebalance timeout). Zero when not waited for.
	joinBy, syncBy time.Time
}

// consumerMemberRec is the persisted part of a member
// (kindConsumerMember).
type consumerMemberRec struct {
	id         string
	instanceID *string
	rackID     *string
	clientID   string
	clientHost string
	// rebalanceTimeout bounds how long it may take to revoke.
	rebalanceTimeout time.Duration
	// names and regex are the subscription; assignor is the server
	// assignor the member asked for ("" for the group's default).
	names    []string
	regex    string // "" for none
	assignor string

	epoch, prevEpoch int32
	state            memberState
	// assigned are the partitions it owns and may consume; revoking the
	// ones it must give up (it still owns them until it reports so).
	assigned assignment
	revoking assignment
	// classic is set for a member of the classic protocol (JoinGroup,
	// SyncGroup, Heartbeat) in a consumer group (consumer_classic.go).
	classic *classicMember
}

// classicMember is what a classic member's JoinGroup told: its session
// timeout and the protocols it supports, with their metadata.
type classicMember struct {
	sessionTimeout time.Duration
	protocols      []kmsg.JoinGroupRequestProtocol
}

// sessionTimeout is the member's session timeout: its own for a classic
// member, else the group coordinator's.
func (m *cmember) sessionTimeout(consumerSession time.Duration) time.Duration {
	if m.classic != nil {
		return m.classic.sessionTimeout
	}
	return consumerSession
}

// consumerTimeouts are the group's member session timeout and heartbeat
// interval: its own group configs where set, else the coordinator's.
func (g *Group) consumerTimeouts() (session, heartbeat time.Duration) {
	session, heartbeat = g.cfg.consumerSession, g.cfg.consumerHeartbeat
	if g.cfg.groupTimeouts != nil {
		s, h := g.cfg.groupTimeouts(g.id)
		if s > 0 {
			session = s
		}
		if h > 0 {
			heartbeat = h
		}
	}
	return session, heartbeat
}

// staticLeft reports whether a static member has left for now (epoch
// -2): it keeps its partitions, and its place, until its session ends.
func (m *cmember) staticLeft() bool { return m.epoch == epochStaticLeave }

// reconciledTo reports whether the member owns its target at epoch.
func (m *cmember) reconciledTo(epoch int32) bool {
	return m.state == memberStable && m.epoch == epoch
}

// owns is every partition the member owns: assigned and revoking.
func (m *cmember) owns() assignment { return m.assigned.union(m.revoking) }

// subscribedTopic is one topic of the group's subscription metadata.
type subscribedTopic struct {
	name       string
	id         TopicID
	partitions int32
}

// resolvedRegex is a subscription regex resolved against the topics.
type resolvedRegex struct {
	topics  []string // sorted
	version uint64   // the Topics version resolved at
}

// consumerGroup is a consumer group's state.
type consumerGroup struct {
	// epoch is the group epoch: bumped when the members or their
	// subscriptions, or the subscribed topics, change. assignmentEpoch
	// is the epoch the target assignment was computed at.
	epoch, assignmentEpoch int32
	members                map[string]*cmember
	static                 map[string]string // instance id -> member id
	// target is the target assignment, per member.
	target map[string]assignment
	// subscription is the subscribed topics that exist, by name, as of
	// the Topics version subVersion (0: not computed since load).
	subscription map[string]subscribedTopic
	subVersion   uint64
	// regexes are the members' regexes resolved, by regex; regexAt is
	// when they were last resolved (a refresh is rate limited).
	regexes map[string]resolvedRegex
	regexAt time.Time
	// owners maps each owned partition to its member.
	owners map[tpKey]string
	// emptySince is when the group last became empty, for offsets expiry.
	emptySince time.Time
	// dirty is set when records of the group failed to be written: the
	// whole group is written again before anything else, so that the
	// journal never holds a later change without an earlier one.
	dirty bool
}

func newConsumerGroup(now time.Time) *consumerGroup {
	return &consumerGroup{
		members:      map[string]*cmember{},
		static:       map[string]string{},
		target:       map[string]assignment{},
		subscription: map[string]subscribedTopic{},
		regexes:      map[string]resolvedRegex{},
		owners:       map[tpKey]string{},
		emptySince:   now,
	}
}

// ConsumerState is a consumer group's state, as Kafka names them.
type ConsumerState int8

const (
	// ConsumerEmpty: no members.
	ConsumerEmpty ConsumerState = iota
	// ConsumerAssigning: the group epoch moved past the target
	// assignment's; the next heartbeat computes a new one.
	ConsumerAssigning
	// ConsumerReconciling: members are moving to the target assignment.
	ConsumerReconciling
	// ConsumerStable: every member owns its target assignment.
	ConsumerStable
)

// String is Kafka's name for the state (ConsumerGroupDescribe,
// ListGroups).
func (s ConsumerState) String() string {
	switch s {
	case ConsumerEmpty:
		return "Empty"
	case ConsumerAssigning:
		return "Assigning"
	case ConsumerReconciling:
		return "Reconciling"
	}
	return "Stable"
}

// state computes the group's state as Kafka's
// ConsumerGroup.maybeUpdateGroupState does.
func (cg *consumerGroup) state() ConsumerState {
	switch {
	case len(cg.members) == 0:
		return ConsumerEmpty
	case cg.epoch > cg.assignmentEpoch:
		return ConsumerAssigning
	}
	for _, m := range cg.members {
		if !m.reconciledTo(cg.assignmentEpoch) {
			return ConsumerReconciling
		}
	}
	return ConsumerStable
}

// sortedMembers returns the members in id order.
func (cg *consumerGroup) sortedMembers() []*cmember {
	ms := make([]*cmember, 0, len(cg.members))
	for _, m := range cg.members {
		ms = append(ms, m)
	}
	sortMembers(ms)
	return ms
}

// sortMembers orders members by id.
func sortMembers(ms []*cmember) {
	sort.Slice(ms, func(i, j int) bool { return ms[i].id < ms[j].id })
}

// addOwned records that m owns a; removeOwned that it no longer owns a
// (partitions another member owns are left alone).
func (cg *consumerGroup) addOwned(m *cmember, a assignment) {
	a.each(func(id TopicID, p int32) { cg.owners[tpKey{id, p}] = m.id })
}

func (cg *consumerGroup) removeOwned(m *cmember, a assignment) {
	a.each(func(id TopicID, p int32) {
		if k := (tpKey{id, p}); cg.owners[k] == m.id {
			delete(cg.owners, k)
		}
	})
}

// ownerOf returns the member owning a partition, "" when it is free.
func (cg *consumerGroup) ownerOf(id TopicID, p int32) string { return cg.owners[tpKey{id, p}] }

// consumerNextDeadline folds the members' deadlines into next.
func (cg *consumerGroup) nextDeadline(consider func(time.Time)) {
	for _, m := range cg.members {
		consider(m.expires)
		consider(m.revokeBy)
		consider(m.joinBy)
		consider(m.syncBy)
	}
}

// tickConsumer fences the members whose session ended or who did not
// revoke within their rebalance timeout.
func (g *Group) tickConsumer(now time.Time) {
	cg := g.cg
	for _, m := range cg.sortedMembers() {
		if g.cg != cg {
			return // downgraded to a classic group by a fence
		}
		switch {
		case !m.expires.After(now):
			g.cfg.logger.Info("consumer group member fenced: session expired", "group", g.id, "member", m.id, "epoch", m.epoch)
			g.fenceMember(now, m, FenceSession)
		case !m.revokeBy.IsZero() && !m.revokeBy.After(now) && m.epoch == m.revokeEpoch && m.state == memberUnrevoked:
			g.cfg.logger.Info("consumer group member fenced: did not revoke within its rebalance timeout",
				"group", g.id, "member", m.id, "epoch", m.epoch, "rebalance_timeout", m.rebalanceTimeout)
			g.fenceMember(now, m, FenceRebalance)
		case !m.joinBy.IsZero() && !m.joinBy.After(now):
			g.cfg.logger.Info("consumer group classic member fenced: did not join again within its rebalance timeout", "group", g.id, "member", m.id)
			g.fenceMember(now, m, FenceRebalance)
		case !m.syncBy.IsZero() && !m.syncBy.After(now):
			g.cfg.logger.Info("consumer group classic member fenced: did not sync within its rebalance timeout", "group", g.id, "member", m.id)
			g.fenceMember(now, m, FenceRebalance)
		}
	}
}
