package group

// consumer_classic.go is where the classic protocol meets a consumer
// group, as in Kafka 4's GroupMetadataManager (classicGroupJoinTo-,
// SyncTo-, HeartbeatTo- and LeaveToConsumerGroup):
//
//   - an empty consumer group becomes a classic group when a classic
//     member joins (its offsets stay);
//   - a classic member joins a consumer group with members as a member of
//     it: the broker assigns its partitions like any member's, JoinGroup
//     answers at once with its member epoch as the generation, SyncGroup
//     hands it its assignment (the consumer protocol's bytes, in the
//     version its subscription used), and Heartbeat tells it
//     REBALANCE_IN_PROGRESS when it must join again to move on: to give up
//     partitions (it reports what it still owns in its subscription), or
//     to take ones that became free;
//   - LeaveGroup removes classic members.
//
// Kafka does this whatever its group.consumer.migration.policy; the
// policy governs converting a whole group with members from one protocol
// to the other (consumer_migrate.go).

import (
	"crypto/rand"
	"encoding/base64"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// consumerProtocolType is the classic protocol type of the consumer
// protocol, the only one a consumer group takes.
const consumerProtocolType = "consumer"

// joinConsumerGroup handles a classic JoinGroup to a consumer group: an
// empty one becomes classic (true: the classic join goes on); one with
// members takes the member in (false: answered here, once durable).
func (g *Group) joinConsumerGroup(now time.Time, req *kmsg.JoinGroupRequest, client Client, respond func(*kmsg.JoinGroupResponse)) bool {
	if len(g.cg.members) > 0 {
		g.classicJoin(now, req, client, respond)
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

// newMemberUUID is a member id as Kafka's coordinator makes one for a
// classic member of a consumer group (Uuid.randomUuid().toString()).
func newMemberUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// supportsClassic is Kafka's ConsumerGroup.supportsClassicProtocols: the
// consumer protocol type, and a protocol every classic member supports.
func (cg *consumerGroup) supportsClassic(protocolType string, ps []kmsg.JoinGroupRequestProtocol) bool {
	if protocolType != consumerProtocolType || len(ps) == 0 {
		return false
	}
	for _, p := range ps {
		all := true
		for _, m := range cg.members {
			if m.classic != nil && !slices.ContainsFunc(m.classic.protocols, func(q kmsg.JoinGroupRequestProtocol) bool { return q.Name == p.Name }) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// classicJoin is a classic member's JoinGroup to a consumer group with
// members.
func (g *Group) classicJoin(now time.Time, req *kmsg.JoinGroupRequest, client Client, respond func(*kmsg.JoinGroupResponse)) {
	cg := g.cg
	fail := func(code int16) { respond(joinError(req.Version, req.MemberID, code)) }
	id, unknown := req.MemberID, req.MemberID == ""
	if unknown {
		id = newMemberUUID()
	}
	switch {
	case len(cg.members) >= g.cfg.consumerMaxSize && cg.members[id] == nil:
		fail(kerr.GroupMaxSizeReached.Code)
		return
	case !cg.supportsClassic(req.ProtocolType, req.Protocols):
		fail(kerr.InconsistentGroupProtocol.Code)
		return
	case unknown && req.InstanceID == nil && req.Version >= 4:
		// KIP-394, as for a classic group: the client comes back with
		// the id (nothing is kept until it does).
		respond(joinError(req.Version, id, kerr.MemberIDRequired.Code))
		return
	}
	var m, replaced *cmember
	if req.InstanceID == nil {
		if m = cg.members[id]; m == nil {
			m = newMember(id)
		}
	} else {
		existing := cg.members[cg.static[*req.InstanceID]]
		switch {
		case unknown && existing == nil:
			m = newMember(id)
		case unknown:
			// A classic member takes a static member's place at once.
			m = &cmember{consumerMemberRec: existing.consumerMemberRec, re: existing.re}
			m.id, m.epoch, m.prevEpoch = id, 0, 0
			m.names = slices.Clone(existing.names)
			replaced = existing
		case existing == nil:
			fail(kerr.UnknownMemberID.Code)
			return
		case existing.id != id:
			fail(kerr.FencedInstanceID.Code)
			return
		default:
			m = existing
		}
	}
	var sub kmsg.ConsumerMemberMetadata
	if err := sub.ReadFrom(req.Protocols[0].Metadata); err != nil {
		g.cfg.logger.Warn("classic member's consumer protocol subscription does not decode", "group", g.id, "member", id, "err", err)
		fail(kerr.UnknownServerError.Code)
		return
	}

	out := len(g.out)
	g.flushDirty()
	groupBefore := cg.recordState()
	before := m.consumerMemberRec
	if replaced != nil {
		g.replaceStatic(now, replaced, m)
	} else if cg.members[m.id] == nil {
		cg.members[m.id] = m
		g.cfg.logger.Info("consumer group classic member joined", "group", g.id, "member", m.id)
	}
	if req.InstanceID != nil {
		inst := *req.InstanceID
		m.instanceID = &inst
		cg.static[inst] = m.id
	}
	if sub.Rack != nil {
		rack := *sub.Rack
		m.rackID = &rack
	}
	m.rebalanceTimeout = ms(req.RebalanceTimeoutMillis)
	if req.Version == 0 || req.RebalanceTimeoutMillis <= 0 {
		m.rebalanceTimeout = ms(req.SessionTimeoutMillis)
	}
	m.clientID, m.clientHost = client.ID, client.Host
	m.classic = &classicMember{sessionTimeout: ms(req.SessionTimeoutMillis), protocols: cloneProtocols(req.Protocols)}
	names := sortedUniqueStrings(sub.Topics)
	bump := !slices.Equal(names, m.names)
	m.names = names

	// A classic member has no regex: the others' are not resolved again
	// here, without a principal to resolve them for.
	if g.refreshSubscription(now, cg, HeartbeatContext{}, false, bump) {
		bump = true
	}
	if bump {
		cg.epoch++
		g.cfg.stats.rebalances.Add(1)
	}
	if cg.epoch > cg.assignmentEpoch {
		g.updateTarget(cg)
	}
	g.reconcile(now, cg, m, g.ownedByName(sub.OwnedPartitions))
	m.joinBy, m.expires, m.syncBy = time.Time{}, now.Add(m.classic.sessionTimeout), now.Add(m.rebalanceTimeout)

	resp := kmsg.NewPtrJoinGroupResponse()
	resp.Version = req.Version
	resp.MemberID, resp.Generation = m.id, m.epoch
	pt, p := consumerProtocolType, m.classic.protocols[0].Name
	resp.ProtocolType, resp.Protocol = &pt, &p
	if replaced != nil && g.maybeDowngrade(now, replaced, false) {
		// The last consumer-protocol member was the one replaced: the
		// group is classic now, at the group epoch.
		resp.Generation, p = g.generation, g.protocol
	} else {
		if !cg.recordState().equal(groupBefore) {
			g.persistConsumerGroup()
		}
		if !m.consumerMemberRec.equal(&before) || replaced != nil {
			g.persistMember(m)
		}
	}
	g.answerWhenDurable(out, func(err error) {
		if err != nil {
			respond(joinError(req.Version, m.id, storageErrorCode))
			return
		}
		respond(resp)
	})
}

// ownedByName is the partitions a classic member reports owning in its
// subscription, by topic id (topics that no longer exist are left out).
func (g *Group) ownedByName(ts []kmsg.ConsumerMemberMetadataOwnedPartition) assignment {
	b := builder{}
	for _, t := range ts {
		info, ok := g.cfg.topics.Topic(t.Topic)
		if !ok {
			continue
		}
		for _, p := range t.Partitions {
			if p >= 0 {
				b.add(info.ID, p)
			}
		}
	}
	return b.build()
}

// answerWhenDurable calls answer once the group's state as it stands is
// durable: after the records produced from index out of g.out on (which
// this call made), or after the group's last batch when it made none,
// as Kafka's coordinator answers a write that appended nothing only once
// the writes before it are committed.
func (g *Group) answerWhenDurable(out int, answer func(error)) {
	if len(g.out) > out {
		last := &g.out[len(g.out)-1]
		prev := last.then
		last.then = func(now time.Time, err error) {
			if prev != nil {
				prev(now, err)
			}
			answer(err)
		}
		return
	}
	g.lastBatch.onDone(answer)
}

// classicMemberOf finds the classic member a SyncGroup or Heartbeat names
// (Kafka's validateConsumerGroupMember and the checks after it).
func (g *Group) classicMemberOf(memberID string, instanceID *string, generation int32) (*cmember, int16) {
	cg := g.cg
	var m *cmember
	if instanceID == nil {
		m = cg.members[memberID]
	} else if m = cg.members[cg.static[*instanceID]]; m != nil && m.id != memberID {
		return nil, kerr.FencedInstanceID.Code
	}
	switch {
	case m == nil, m.classic == nil:
		return nil, kerr.UnknownMemberID.Code
	case generation != m.epoch:
		return nil, kerr.IllegalGeneration.Code
	}
	return m, 0
}

// mustRejoin tells a classic member to join again (REBALANCE_IN_PROGRESS),
// starting its join timeout if it is not running.
func (g *Group) mustRejoin(now time.Time, m *cmember) int16 {
	if m.joinBy.IsZero() {
		m.joinBy = now.Add(m.rebalanceTimeout)
	}
	return kerr.RebalanceInProgress.Code
}

// classicSync is a classic member's SyncGroup to a consumer group: its
// assignment, unless the group moved on and it must join again first.
func (g *Group) classicSync(now time.Time, req *kmsg.SyncGroupRequest, respond func(*kmsg.SyncGroupResponse)) {
	m, code := g.classicMemberOf(req.MemberID, req.InstanceID, req.Generation)
	switch {
	case code != 0:
	case req.ProtocolType != nil && *req.ProtocolType != consumerProtocolType,
		req.Protocol != nil && *req.Protocol != m.classic.protocols[0].Name:
		code = kerr.InconsistentGroupProtocol.Code
	case g.cg.epoch > m.epoch && m.state != memberUnrevoked:
		code = g.mustRejoin(now, m)
	}
	if code != 0 {
		respond(syncError(req.Version, code))
		return
	}
	m.syncBy, m.expires = time.Time{}, now.Add(m.classic.sessionTimeout)
	resp := kmsg.NewPtrSyncGroupResponse()
	resp.Version = req.Version
	resp.ProtocolType, resp.Protocol = req.ProtocolType, req.Protocol
	resp.MemberAssignment = g.classicAssignment(m)
	out := len(g.out)
	g.flushDirty()
	g.answerWhenDurable(out, func(err error) {
		if err != nil {
			respond(syncError(req.Version, storageErrorCode))
			return
		}
		respond(resp)
	})
}

// classicAssignment is m's assigned partitions as the consumer protocol's
// assignment bytes, in the version of its subscription.
func (g *Group) classicAssignment(m *cmember) []byte {
	byID := map[TopicID]string{}
	for _, t := range g.cfg.topics.All() {
		byID[t.ID] = t.Name
	}
	return consumerAssignmentBytes(m.assigned, byID, m.classic.protocols[0].Metadata)
}

// classicHeartbeat is a classic member's Heartbeat to a consumer group:
// REBALANCE_IN_PROGRESS when it must join again to move on (the group
// epoch passed its own, it has partitions to give up, or partitions it
// waited for are free).
func (g *Group) classicHeartbeat(now time.Time, req *kmsg.HeartbeatRequest) int16 {
	m, code := g.classicMemberOf(req.MemberID, req.InstanceID, req.Generation)
	if code != 0 {
		return code
	}
	m.expires = now.Add(m.classic.sessionTimeout)
	if m.epoch < g.cg.epoch || m.state == memberUnrevoked || (m.state == memberUnreleased && !g.cg.waitingOnUnreleased(m)) {
		return g.mustRejoin(now, m)
	}
	return 0
}

// waitingOnUnreleased reports whether a partition of m's target is still
// owned by another member.
func (cg *consumerGroup) waitingOnUnreleased(m *cmember) bool {
	waiting := false
	cg.target[m.id].each(func(id TopicID, p int32) {
		if !m.assigned.has(id, p) {
			if o := cg.ownerOf(id, p); o != "" && o != m.id {
				waiting = true
			}
		}
	})
	return waiting
}

// consumerGroupLeave is LeaveGroup on a consumer group: classic members
// leave (named by member id, or by instance id, an administrator's
// removal when the member id is empty); a member of the consumer protocol
// cannot be removed this way (UNKNOWN_MEMBER_ID), and a wrong member id
// for an instance is FENCED_INSTANCE_ID. The group epoch is bumped once.
func (g *Group) consumerGroupLeave(now time.Time, members []kmsg.LeaveGroupRequestMember) []int16 {
	cg := g.cg
	codes := make([]int16, len(members))
	var leaving []*cmember
	for i, lm := range members {
		var m *cmember
		if lm.InstanceID == nil {
			m = cg.members[lm.MemberID]
		} else if m = cg.members[cg.static[*lm.InstanceID]]; m != nil && lm.MemberID != "" && m.id != lm.MemberID {
			codes[i] = kerr.FencedInstanceID.Code
			continue
		}
		if m == nil || m.classic == nil || slices.Contains(leaving, m) {
			codes[i] = kerr.UnknownMemberID.Code
			continue
		}
		leaving = append(leaving, m)
	}
	if len(leaving) == 0 {
		return codes
	}
	g.flushDirty()
	for _, m := range leaving {
		g.cfg.logger.Info("consumer group classic member left", "group", g.id, "member", m.id)
		g.dropConsumerMember(m, FenceLeave)
	}
	g.bumpAfterRemoval(now)
	return codes
}
