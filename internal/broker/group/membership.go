package group

// membership.go is the rest of the classic rebalance protocol after the
// join (join.go): SyncGroup, Heartbeat, LeaveGroup and removing members,
// following Kafka's GroupCoordinator.

import (
	"bytes"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Sync handles a SyncGroup request; respond is called exactly once, at
// once or when the leader's assignment arrives (or the rebalance restarts).
func (g *Group) Sync(now time.Time, req *kmsg.SyncGroupRequest, respond func(*kmsg.SyncGroupResponse)) {
	if g.cg != nil {
		g.classicSync(now, req, respond)
		return
	}
	fail := func(code int16) { respond(syncError(req.Version, code)) }
	m := g.members[req.MemberID]
	switch {
	case g.state == Dead:
		fail(kerr.CoordinatorNotAvailable.Code)
		return
	case g.fenced(req.InstanceID, req.MemberID):
		fail(kerr.FencedInstanceID.Code)
		return
	case m == nil:
		fail(kerr.UnknownMemberID.Code)
		return
	case req.Generation != g.generation:
		fail(kerr.IllegalGeneration.Code)
		return
	case req.ProtocolType != nil && *req.ProtocolType != g.protocolType,
		req.Protocol != nil && *req.Protocol != g.protocol:
		fail(kerr.InconsistentGroupProtocol.Code)
		return
	}
	switch g.state {
	case PreparingRebalance:
		fail(kerr.RebalanceInProgress.Code)
	case CompletingRebalance:
		if m.onSync != nil {
			m.onSync(syncError(m.syncVersion, kerr.RebalanceInProgress.Code))
		}
		m.onSync, m.syncVersion = respond, req.Version
		m.expires = now.Add(m.sessionTimeout)
		delete(g.pendingSync, m.id)
		if m.id != g.leader || g.assigning {
			return
		}
		given := make(map[string][]byte, len(req.GroupAssignment))
		for _, a := range req.GroupAssignment {
			given[a.MemberID] = a.MemberAssignment
		}
		g.assign(now, given)
	case Stable:
		m.expires = now.Add(m.sessionTimeout)
		delete(g.pendingSync, m.id)
		respond(g.syncResponse(m, req.Version))
	default: // Empty
		fail(kerr.UnknownMemberID.Code)
	}
}

// assign persists the leader's assignment. The group turns Stable and the
// members get their assignments only once it is durable (assigned), as in
// Kafka's storeGroup callback, so that neither DescribeGroups nor a
// restart shows an assignment that was not stored.
func (g *Group) assign(now time.Time, given map[string][]byte) {
	assignments := make(map[string][]byte, len(g.members))
	for id := range g.members {
		a := bytes.Clone(given[id])
		if a == nil {
			a = []byte{}
		}
		assignments[id] = a
	}
	gen := g.generation
	g.assigning = true
	g.persistMeta(now, assignments, func(now time.Time, err error) { g.assigned(now, gen, assignments, err) })
}

// assigned completes assign. A failed write is answered as Kafka's
// resetAndPropagateAssignmentError does, and the group rebalances.
func (g *Group) assigned(now time.Time, gen int32, assignments map[string][]byte, err error) {
	if !g.assigning || g.state != CompletingRebalance || g.generation != gen {
		return // the rebalance restarted meanwhile and answered the syncs
	}
	g.assigning = false
	if err != nil {
		g.cfg.logger.Error("group assignment not stored; rebalancing", "group", g.id, "generation", gen, "err", err)
		for _, m := range g.sortedMembers() {
			if m.onSync != nil {
				m.onSync(syncError(m.syncVersion, storageErrorCode))
				m.onSync = nil
			}
		}
		g.prepareRebalance(now)
		return
	}
	for _, m := range g.members {
		m.assignment = assignments[m.id]
		if m.assignment == nil {
			m.assignment = []byte{}
		}
	}
	g.transition(Stable, now)
	for _, m := range g.sortedMembers() {
		if m.onSync != nil {
			m.onSync(g.syncResponse(m, m.syncVersion))
			m.onSync = nil
		}
	}
}

// syncResponse hands m its assignment.
func (g *Group) syncResponse(m *member, version int16) *kmsg.SyncGroupResponse {
	resp := kmsg.NewPtrSyncGroupResponse()
	resp.Version = version
	pt, p := g.protocolType, g.protocol
	resp.ProtocolType, resp.Protocol = &pt, &p
	resp.MemberAssignment = m.assignment
	return resp
}

// expirePendingSync removes the members that did not sync in time and
// starts a new rebalance without them.
func (g *Group) expirePendingSync(now time.Time) {
	for _, m := range g.sortedMembers() {
		if g.pendingSync[m.id] {
			g.cfg.logger.Info("group member removed: did not sync in time", "group", g.id, "member", m.id)
			g.dropMember(m)
		}
	}
	clear(g.pendingSync)
	g.maybePrepareRebalance(now)
}

// Heartbeat handles a Heartbeat request and returns its error code.
func (g *Group) Heartbeat(now time.Time, req *kmsg.HeartbeatRequest) int16 {
	if g.cg != nil {
		return g.classicHeartbeat(now, req)
	}
	m := g.members[req.MemberID]
	switch {
	case g.state == Dead:
		return kerr.CoordinatorNotAvailable.Code
	case g.fenced(req.InstanceID, req.MemberID):
		return kerr.FencedInstanceID.Code
	case m == nil:
		return kerr.UnknownMemberID.Code
	case req.Generation != g.generation:
		return kerr.IllegalGeneration.Code
	}
	switch g.state {
	case CompletingRebalance, Stable:
		m.expires = now.Add(m.sessionTimeout)
		return 0
	case PreparingRebalance:
		m.expires = now.Add(m.sessionTimeout)
		return kerr.RebalanceInProgress.Code
	default:
		return kerr.UnknownMemberID.Code
	}
}

// Leave handles a LeaveGroup request's members (one for v0-v2) and
// returns an error code per member. A member named only by instance id
// (member id "") is removed by an administrator.
func (g *Group) Leave(now time.Time, members []kmsg.LeaveGroupRequestMember) []int16 {
	if g.cg != nil {
		return g.consumerGroupLeave(now, members)
	}
	codes := make([]int16, len(members))
	for i, lm := range members {
		switch {
		case g.state == Dead:
			codes[i] = kerr.CoordinatorNotAvailable.Code
		case lm.MemberID == "":
			if lm.InstanceID == nil || g.static[*lm.InstanceID] == "" {
				codes[i] = kerr.UnknownMemberID.Code
				continue
			}
			g.removeMember(g.members[g.static[*lm.InstanceID]], now)
		case !g.pending[lm.MemberID].IsZero():
			delete(g.pending, lm.MemberID)
			g.tryCompleteJoin(now)
		case g.fenced(lm.InstanceID, lm.MemberID):
			codes[i] = kerr.FencedInstanceID.Code
		case g.members[lm.MemberID] == nil:
			codes[i] = kerr.UnknownMemberID.Code
		default:
			g.cfg.logger.Info("group member left", "group", g.id, "member", lm.MemberID)
			g.removeMember(g.members[lm.MemberID], now)
		}
	}
	return codes
}

// dropMember forgets a member, answering anything it waits on.
func (g *Group) dropMember(m *member) {
	if m.onJoin != nil {
		m.onJoin(joinError(m.joinVersion, m.id, kerr.UnknownMemberID.Code))
		m.onJoin = nil
	}
	if m.onSync != nil {
		m.onSync(syncError(m.syncVersion, kerr.UnknownMemberID.Code))
		m.onSync = nil
	}
	delete(g.members, m.id)
	delete(g.pendingSync, m.id)
	if m.instanceID != nil && g.static[*m.instanceID] == m.id {
		delete(g.static, *m.instanceID)
	}
	if g.leader == m.id {
		g.leader = ""
		if ms := g.sortedMembers(); len(ms) > 0 {
			g.leader = ms[0].id
		}
	}
}

// removeMember forgets a member and rebalances the rest.
func (g *Group) removeMember(m *member, now time.Time) {
	g.dropMember(m)
	switch g.state {
	case Stable, CompletingRebalance:
		g.prepareRebalance(now)
	case PreparingRebalance:
		g.tryCompleteJoin(now)
	}
}
