package group

// offsets.go is a group's committed offsets: commit (with Kafka's
// generation fencing), deletion, expiry of an empty group's offsets, group
// deletion, and the group's view for DescribeGroups and ListGroups. Each
// of these only produces records; the offsets change when the records are
// durable (durable.go).

import (
	"maps"
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
	// Version is the OffsetCommit version (a consumer group's members
	// must use v9+).
	Version    int16
	Generation int32 // -1 for a commit outside group management; the member epoch for a consumer group
	MemberID   string
	InstanceID *string
	Offsets    []Commit
}

// Commit produces the records of a commit. It returns an error code for
// the whole request (non-zero: nothing will be stored) and one per offset.
// The offsets become visible (Offsets) when their records are durable.
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
		g.inflight[c.TopicPartition]++
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
	if g.cg != nil {
		return g.validateConsumerCommit(req.MemberID, req.Generation, req.Version, false)
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

// Offsets returns a copy of the committed offsets that are durable.
func (g *Group) Offsets() map[TopicPartition]Offset {
	out := make(map[TopicPartition]Offset, len(g.offsets))
	for tp, o := range g.offsets {
		out[tp] = o
	}
	return out
}

// DeleteOffsets handles OffsetDelete: an empty group's offsets may be
// deleted, and a consumer group's offsets of topics no member subscribes
// to. It returns a group-level code and one per partition; the offsets go
// when the deletions are durable.
func (g *Group) DeleteOffsets(now time.Time, parts []TopicPartition) (int16, []int16) {
	if g.state == Dead {
		return kerr.GroupIDNotFound.Code, nil
	}
	var subscribed map[string]bool // nil: subscribed to everything
	switch {
	case g.cg != nil:
		// A consumer group's offsets of topics no member subscribes to
		// may go while it has members (Kafka's isSubscribedToTopic).
		subscribed = g.cg.consumerSubscribed()
	case len(g.members) > 0:
		if g.protocolType != "consumer" {
			return kerr.NonEmptyGroup.Code, nil
		}
		subscribed = g.subscribedTopics()
	}
	codes := make([]int16, len(parts))
	for i, tp := range parts {
		if (len(g.members) > 0 || g.cg != nil) && (subscribed == nil || subscribed[tp.Topic]) {
			codes[i] = kerr.GroupSubscribedToTopic.Code
			continue
		}
		if _, ok := g.offsets[tp]; ok || g.inflight[tp] > 0 || g.txns.has(tp) {
			g.out = append(g.out, record{kind: kindOffsetDelete, group: g.id, tp: tp})
		}
	}
	return 0, codes
}

// DeleteOffsetsWhere deletes the offsets committed for any partition of a
// topic for which drop is true, as Kafka does when a topic is deleted,
// whatever the group's state. An empty group left without offsets is
// deleted with them, as Kafka does. It returns how many offsets it
// deletes (once the records are durable).
func (g *Group) DeleteOffsetsWhere(now time.Time, drop func(topic string) bool) int {
	if g.state == Dead {
		return 0
	}
	all := g.committedOrInflight()
	n := 0
	for tp := range all {
		if drop(tp.Topic) {
			g.out = append(g.out, record{kind: kindOffsetDelete, group: g.id, tp: tp})
			n++
		}
	}
	if n > 0 && n == len(all) && g.state == Empty && len(g.pending) == 0 && (g.cg == nil || len(g.cg.members) == 0) {
		g.out = append(g.out, record{kind: kindGroupDelete, group: g.id})
	}
	return n
}

// committedOrInflight is every partition with a durable commit, a commit
// on its way or a pending transactional offset.
func (g *Group) committedOrInflight() map[TopicPartition]bool {
	out := make(map[TopicPartition]bool, len(g.offsets)+len(g.inflight))
	for tp := range g.offsets {
		out[tp] = true
	}
	for tp := range g.inflight {
		out[tp] = true
	}
	for _, t := range g.txns {
		for tp := range t.offsets {
			out[tp] = true
		}
	}
	return out
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
// neither committed nor used by a member for retention, and the group
// once it has nothing left (deleting). It returns how many offsets it
// deletes; they go, and the group dies, when the records are durable. As
// in Kafka, a partition with a pending transactional offset keeps its
// offset, and a group with an open transaction stays: the transaction's
// marker is still to come.
func (g *Group) ExpireOffsets(now time.Time, retention time.Duration) (expired int, deleting bool) {
	if g.cg != nil {
		return g.expireConsumerOffsets(now, retention)
	}
	if g.state != Empty || len(g.pending) > 0 {
		return 0, false
	}
	for tp, o := range g.offsets {
		if g.inflight[tp] > 0 || g.txns.has(tp) {
			continue // a commit on its way is fresh; a transaction's is to come
		}
		base := o.CommitTime
		if g.stateSince.After(base) {
			base = g.stateSince
		}
		if now.Sub(base) >= retention {
			g.out = append(g.out, record{kind: kindOffsetDelete, group: g.id, tp: tp})
			expired++
		}
	}
	if expired == len(g.offsets) && len(g.inflight) == 0 && len(g.txns) == 0 && now.Sub(g.stateSince) >= retention {
		g.out = append(g.out, record{kind: kindGroupDelete, group: g.id})
		deleting = true
	}
	return expired, deleting
}

// Delete handles DeleteGroups: only an empty group may be deleted, with
// its offsets, the pending transactional ones too (as Kafka does: its
// DeleteGroups checks the state alone, and writes tombstones for the
// partitions of open transactions). The group dies when the deletion is
// durable.
func (g *Group) Delete(now time.Time) int16 {
	switch {
	case g.state == Dead:
		return kerr.GroupIDNotFound.Code
	case g.cg != nil && len(g.cg.members) > 0:
		return kerr.NonEmptyGroup.Code
	case g.state == Empty:
		g.out = append(g.out, record{kind: kindGroupDelete, group: g.id})
		return 0
	default:
		return kerr.NonEmptyGroup.Code
	}
}

// disposable reports whether the group holds nothing worth keeping: it
// was created by a request that failed or never got a member.
func (g *Group) disposable() bool {
	return (g.cg == nil || g.cg.epoch == 0) && g.state == Empty && g.generation == 0 && len(g.members) == 0 && len(g.pending) == 0 &&
		len(g.offsets) == 0 && len(g.inflight) == 0 && len(g.txns) == 0
}

// Describe is the group's DescribeGroups entry. Member metadata and
// assignments are shown only when Stable, as Kafka does.
func (g *Group) Describe() kmsg.DescribeGroupsResponseGroup {
	d := kmsg.NewDescribeGroupsResponseGroup()
	d.Group = g.id
	if g.cg != nil {
		// Kafka 4's DescribeGroups describes classic groups only: a
		// consumer group is Dead, and (v6+) GROUP_ID_NOT_FOUND.
		d.State = Dead.String()
		d.ErrorCode = kerr.GroupIDNotFound.Code
		msg := "Group " + g.id + " is not a classic group."
		d.ErrorMessage = &msg
		return d
	}
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

// persistMeta records the group's membership and generation, with the
// members' assignments taken from assignments when it is not nil; then,
// if not nil, is told the record's outcome.
func (g *Group) persistMeta(now time.Time, assignments map[string][]byte, then func(time.Time, error)) {
	meta := &groupMeta{
		protocolType: g.protocolType,
		protocol:     g.protocol,
		generation:   g.generation,
		leader:       g.leader,
		stateTime:    now,
	}
	for _, m := range g.sortedMembers() {
		a := m.assignment
		if assignments != nil {
			a = assignments[m.id]
		}
		meta.members = append(meta.members, memberMeta{
			id: m.id, instanceID: m.instanceID, clientID: m.clientID, clientHost: m.clientHost,
			sessionTimeout: m.sessionTimeout, rebalanceTimeout: m.rebalanceTimeout,
			protocols: m.protocols, assignment: a,
		})
	}
	g.out = append(g.out, record{kind: kindGroup, group: g.id, meta: meta, then: then})
}

// restore rebuilds a group from its replayed state: members of a stable
// group get a fresh session, as after a coordinator failover in Kafka;
// transactional offsets stay pending, for the transaction coordinator to
// complete.
func (g *Group) restore(meta *groupMeta, offsets map[TopicPartition]Offset, txns txnSet, now time.Time) {
	for tp, o := range offsets {
		g.offsets[tp] = o
		g.seq = max(g.seq, o.seq)
	}
	for pid, t := range txns {
		mine := g.txns.get(pid)
		mine.epoch = t.epoch
		maps.Copy(mine.offsets, t.offsets)
	}
	g.seq = max(g.seq, txns.maxSeq())
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
