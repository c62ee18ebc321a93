package group

// offsets.go is a group's committed offsets: commit (with Kafka's
// generation fencing), deletion, expiry of an empty group's offsets, group
// deletion, and the group's view for DescribeGroups and ListGroups.

import (
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Commit is one partition's offset to commit.
type Commit struct {
	TopicPartition
	Offset      int64
	LeaderEpoch int32
	Metadata    *string
}

// CommitRequest is an OffsetCommit for one group.
type CommitRequest struct {
	Generation int32 // -1 for a commit outside group management
	MemberID   string
	InstanceID *string
	Offsets    []Commit
}

// Commit stores offsets. It returns an error code for the whole request
// (non-zero: nothing was stored) and one per offset.
func (g *Group) Commit(now time.Time, req CommitRequest) (int16, []int16) {
	if code := g.validateCommit(now, req); code != 0 {
		return code, nil
	}
	codes := make([]int16, len(req.Offsets))
	for i, c := range req.Offsets {
		if c.Metadata != nil && len(*c.Metadata) > g.cfg.maxMetadataBytes {
			codes[i] = kerr.OffsetMetadataTooLarge.Code
			continue
		}
		o := Offset{Offset: c.Offset, LeaderEpoch: c.LeaderEpoch, Metadata: c.Metadata, CommitTime: now}
		g.offsets[c.TopicPartition] = o
		g.out = append(g.out, record{kind: kindOffset, group: g.id, tp: c.TopicPartition, offset: o})
	}
	return 0, codes
}

// validateCommit is Kafka's check of who may commit: anyone to an empty
// group with generation -1; otherwise a current member of this
// generation, and not while the group waits for its assignment.
func (g *Group) validateCommit(now time.Time, req CommitRequest) int16 {
	if g.state == Dead {
		return kerr.CoordinatorNotAvailable.Code
	}
	if req.Generation < 0 && g.state == Empty {
		return 0
	}
	if req.Generation >= 0 || req.MemberID != "" || req.InstanceID != nil {
		m := g.members[req.MemberID]
		switch {
		case g.fenced(req.InstanceID, req.MemberID):
			return kerr.FencedInstanceID.Code
		case m == nil:
			return kerr.UnknownMemberID.Code
		case req.Generation != g.generation:
			return kerr.IllegalGeneration.Code
		}
		m.expires = now.Add(m.sessionTimeout) // a commit is a sign of life
	} else if g.state != Empty {
		return kerr.UnknownMemberID.Code
	}
	if g.state == CompletingRebalance {
		return kerr.RebalanceInProgress.Code
	}
	return 0
}

// Offsets returns a copy of the committed offsets.
func (g *Group) Offsets() map[TopicPartition]Offset {
	out := make(map[TopicPartition]Offset, len(g.offsets))
	for tp, o := range g.offsets {
		out[tp] = o
	}
	return out
}

// DeleteOffsets handles OffsetDelete: an empty group's offsets may be
// deleted, and a consumer group's offsets of topics no member subscribes
// to. It returns a group-level code and one per partition.
func (g *Group) DeleteOffsets(now time.Time, parts []TopicPartition) (int16, []int16) {
	if g.state == Dead {
		return kerr.GroupIDNotFound.Code, nil
	}
	var subscribed map[string]bool // nil: subscribed to everything
	if len(g.members) > 0 {
		if g.protocolType != "consumer" {
			return kerr.NonEmptyGroup.Code, nil
		}
		subscribed = g.subscribedTopics()
	}
	codes := make([]int16, len(parts))
	for i, tp := range parts {
		if len(g.members) > 0 && (subscribed == nil || subscribed[tp.Topic]) {
			codes[i] = kerr.GroupSubscribedToTopic.Code
			continue
		}
		if _, ok := g.offsets[tp]; ok {
			delete(g.offsets, tp)
			g.out = append(g.out, record{kind: kindOffsetDelete, group: g.id, tp: tp})
		}
	}
	return 0, codes
}

// DeleteOffsetsWhere deletes the offsets committed for any partition of a
// topic for which drop is true, as Kafka does when a topic is deleted,
// whatever the group's state. An empty group left without offsets is
// deleted with them, as Kafka does. It returns how many offsets were
// deleted.
func (g *Group) DeleteOffsetsWhere(now time.Time, drop func(topic string) bool) int {
	if g.state == Dead {
		return 0
	}
	n := 0
	for tp := range g.offsets {
		if drop(tp.Topic) {
			delete(g.offsets, tp)
			g.out = append(g.out, record{kind: kindOffsetDelete, group: g.id, tp: tp})
			n++
		}
	}
	if n > 0 && g.state == Empty && len(g.offsets) == 0 && len(g.pending) == 0 {
		g.transition(Dead, now)
		g.out = append(g.out, record{kind: kindGroupDelete, group: g.id})
	}
	return n
}

// subscribedTopics decodes the members' consumer protocol subscriptions;
// nil when one cannot be read (then every topic counts as subscribed).
func (g *Group) subscribedTopics() map[string]bool {
	out := map[string]bool{}
	for _, m := range g.members {
		proto := g.protocol
		if proto == "" && len(m.protocols) > 0 {
			proto = m.protocols[0].Name
		}
		var meta kmsg.ConsumerMemberMetadata
		if err := meta.ReadFrom(m.metadataFor(proto)); err != nil {
			return nil
		}
		for _, t := range meta.Topics {
			out[t] = true
		}
	}
	return out
}

// ExpireOffsets deletes the offsets of an empty group that have been
// neither committed nor used by a member for retention, and marks the
// group Dead once it has nothing left. It returns how many were deleted.
func (g *Group) ExpireOffsets(now time.Time, retention time.Duration) int {
	if g.state != Empty || len(g.pending) > 0 {
		return 0
	}
	n := 0
	for tp, o := range g.offsets {
		base := o.CommitTime
		if g.stateSince.After(base) {
			base = g.stateSince
		}
		if now.Sub(base) >= retention {
			delete(g.offsets, tp)
			g.out = append(g.out, record{kind: kindOffsetDelete, group: g.id, tp: tp})
			n++
		}
	}
	if len(g.offsets) == 0 && now.Sub(g.stateSince) >= retention {
		g.transition(Dead, now)
		g.out = append(g.out, record{kind: kindGroupDelete, group: g.id})
	}
	return n
}

// Delete handles DeleteGroups: only an empty group may be deleted, with
// its offsets.
func (g *Group) Delete(now time.Time) int16 {
	switch g.state {
	case Dead:
		return kerr.GroupIDNotFound.Code
	case Empty:
		clear(g.pending)
		clear(g.offsets)
		g.transition(Dead, now)
		g.out = append(g.out, record{kind: kindGroupDelete, group: g.id})
		return 0
	default:
		return kerr.NonEmptyGroup.Code
	}
}

// disposable reports whether the group holds nothing worth keeping: it
// was created by a request that failed or never got a member.
func (g *Group) disposable() bool {
	return g.state == Empty && g.generation == 0 && len(g.members) == 0 && len(g.pending) == 0 && len(g.offsets) == 0
}

// Describe is the group's DescribeGroups entry. Member metadata and
// assignments are shown only when Stable, as Kafka does.
func (g *Group) Describe() kmsg.DescribeGroupsResponseGroup {
	d := kmsg.NewDescribeGroupsResponseGroup()
	d.Group = g.id
	d.State = g.state.String()
	d.ProtocolType = g.protocolType
	if g.state == Stable {
		d.Protocol = g.protocol
	}
	for _, m := range g.sortedMembers() {
		dm := kmsg.NewDescribeGroupsResponseGroupMember()
		dm.MemberID = m.id
		dm.InstanceID = m.instanceID
		dm.ClientID = m.clientID
		dm.ClientHost = m.clientHost
		if g.state == Stable {
			dm.ProtocolMetadata = m.metadataFor(g.protocol)
			dm.MemberAssignment = m.assignment
		}
		d.Members = append(d.Members, dm)
	}
	return d
}

// persistMeta records the group's membership and generation.
func (g *Group) persistMeta(now time.Time) {
	meta := &groupMeta{
		protocolType: g.protocolType,
		protocol:     g.protocol,
		generation:   g.generation,
		leader:       g.leader,
		stateTime:    now,
	}
	for _, m := range g.sortedMembers() {
		meta.members = append(meta.members, memberMeta{
			id: m.id, instanceID: m.instanceID, clientID: m.clientID, clientHost: m.clientHost,
			sessionTimeout: m.sessionTimeout, rebalanceTimeout: m.rebalanceTimeout,
			protocols: m.protocols, assignment: m.assignment,
		})
	}
	g.out = append(g.out, record{kind: kindGroup, group: g.id, meta: meta})
}

// restore rebuilds a group from its replayed state: members of a stable
// group get a fresh session, as after a coordinator failover in Kafka.
func (g *Group) restore(meta *groupMeta, offsets map[TopicPartition]Offset, now time.Time) {
	for tp, o := range offsets {
		g.offsets[tp] = o
	}
	if meta == nil {
		return
	}
	g.protocolType, g.protocol = meta.protocolType, meta.protocol
	g.generation, g.leader = meta.generation, meta.leader
	g.stateSince = meta.stateTime
	for _, mm := range meta.members {
		m := &member{
			id: mm.id, instanceID: mm.instanceID, clientID: mm.clientID, clientHost: mm.clientHost,
			sessionTimeout: mm.sessionTimeout, rebalanceTimeout: mm.rebalanceTimeout,
			protocols: mm.protocols, assignment: mm.assignment,
			expires: now.Add(mm.sessionTimeout),
		}
		g.members[m.id] = m
		if m.instanceID != nil {
			g.static[*m.instanceID] = m.id
		}
	}
	if len(g.members) > 0 {
		g.state = Stable
		if g.members[g.leader] == nil {
			g.leader = g.sortedMembers()[0].id
		}
	}
}
