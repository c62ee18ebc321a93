package group

// join.go is the join half of the classic rebalance protocol: JoinGroup
// (new, known and static members), the rebalance it starts, the join
// deadlines and protocol selection, following Kafka's GroupCoordinator.
// The sync half, heartbeats and leaving are in membership.go.

import (
	"bytes"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Client identifies the connection a request came from.
type Client struct {
	ID   string // the request header's client id
	Host string // the client's address as Kafka shows it, e.g. "/127.0.0.1"
}

func ms(n int32) time.Duration { return time.Duration(n) * time.Millisecond }

// joinError is a JoinGroup answer carrying only an error.
func joinError(version int16, memberID string, code int16) *kmsg.JoinGroupResponse {
	resp := kmsg.NewPtrJoinGroupResponse()
	resp.Version = version
	resp.ErrorCode = code
	resp.Generation = -1
	resp.MemberID = memberID
	return resp
}

// syncError is a SyncGroup answer carrying only an error.
func syncError(version int16, code int16) *kmsg.SyncGroupResponse {
	resp := kmsg.NewPtrSyncGroupResponse()
	resp.Version = version
	resp.ErrorCode = code
	return resp
}

// cloneProtocols copies protocols out of the request's buffer.
func cloneProtocols(ps []kmsg.JoinGroupRequestProtocol) []kmsg.JoinGroupRequestProtocol {
	out := make([]kmsg.JoinGroupRequestProtocol, len(ps))
	for i, p := range ps {
		out[i] = kmsg.JoinGroupRequestProtocol{Name: p.Name, Metadata: bytes.Clone(p.Metadata)}
	}
	return out
}

// Join handles a JoinGroup request. respond is called exactly once: at
// once, or when the join phase ends (or the member is removed or fenced).
func (g *Group) Join(now time.Time, req *kmsg.JoinGroupRequest, client Client, respond func(*kmsg.JoinGroupResponse)) {
	fail := func(code int16) { respond(joinError(req.Version, req.MemberID, code)) }
	if g.state == Dead {
		fail(kerr.CoordinatorNotAvailable.Code)
		return
	}
	session := ms(req.SessionTimeoutMillis)
	if session < g.cfg.minSession || session > g.cfg.maxSession {
		fail(kerr.InvalidSessionTimeout.Code)
		return
	}
	rebalance := ms(req.RebalanceTimeoutMillis)
	if req.Version == 0 || rebalance <= 0 {
		rebalance = session
	}
	if g.cg != nil && !g.joinConsumerGroup(now, req, client, respond) {
		return
	}
	if !g.supportsProtocols(req.ProtocolType, req.Protocols) {
		fail(kerr.InconsistentGroupProtocol.Code)
		return
	}
	j := joiner{req: req, client: client, session: session, rebalance: rebalance, respond: respond}
	if req.MemberID == "" {
		g.joinNew(now, j)
	} else {
		g.joinKnown(now, j)
	}
}

// joiner is a JoinGroup being handled.
type joiner struct {
	req       *kmsg.JoinGroupRequest
	client    Client
	session   time.Duration
	rebalance time.Duration
	respond   func(*kmsg.JoinGroupResponse)
}

// update refreshes a member from its join.
func (j joiner) update(m *member) {
	m.clientID, m.clientHost = j.client.ID, j.client.Host
	m.sessionTimeout, m.rebalanceTimeout = j.session, j.rebalance
	m.protocols = cloneProtocols(j.req.Protocols)
}

// supportsProtocols reports whether a member with these protocols may
// join: an empty group takes any non-empty set; otherwise the type must
// match and one protocol must be supported by every current member.
func (g *Group) supportsProtocols(protocolType string, ps []kmsg.JoinGroupRequestProtocol) bool {
	if len(g.members) == 0 {
		return protocolType != "" && len(ps) > 0
	}
	if protocolType != g.protocolType {
		return false
	}
	for _, p := range ps {
		all := true
		for _, m := range g.members {
			if !hasProtocol(m, p.Name) {
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

func hasProtocol(m *member, name string) bool {
	for _, p := range m.protocols {
		if p.Name == name {
			return true
		}
	}
	return false
}

// joinNew handles a join without a member id.
func (g *Group) joinNew(now time.Time, j joiner) {
	if inst := j.req.InstanceID; inst != nil {
		if old, ok := g.static[*inst]; ok {
			g.rejoinStatic(now, j, old)
			return
		}
	}
	if len(g.members)+len(g.pending) >= g.cfg.maxGroupSize {
		j.respond(joinError(j.req.Version, "", kerr.GroupMaxSizeReached.Code))
		return
	}
	id := g.cfg.newMemberID(j.client.ID)
	if j.req.InstanceID == nil && j.req.Version >= 4 {
		// KIP-394: hand out the id and let the client come back with it,
		// so that a client that never gets this answer leaves no member.
		g.pending[id] = now.Add(j.session)
		j.respond(joinError(j.req.Version, id, kerr.MemberIDRequired.Code))
		return
	}
	g.addMember(now, j, id)
}

// joinKnown handles a join with a member id.
func (g *Group) joinKnown(now time.Time, j joiner) {
	id := j.req.MemberID
	if _, ok := g.pending[id]; ok && j.req.InstanceID == nil {
		delete(g.pending, id)
		g.addMember(now, j, id)
		return
	}
	if g.fenced(j.req.InstanceID, id) {
		j.respond(joinError(j.req.Version, id, kerr.FencedInstanceID.Code))
		return
	}
	m := g.members[id]
	if m == nil || (j.req.InstanceID != nil && g.static[*j.req.InstanceID] == "") {
		j.respond(joinError(j.req.Version, id, kerr.UnknownMemberID.Code))
		return
	}
	switch g.state {
	case PreparingRebalance:
		g.awaitJoin(m, j)
		j.update(m)
		g.tryCompleteJoin(now)
	case CompletingRebalance:
		if m.sameProtocols(j.req.Protocols) {
			// It lost the join answer; give it again.
			j.respond(g.joinResponse(m, j.req.Version))
			return
		}
		j.update(m)
		g.awaitJoin(m, j)
		g.prepareRebalance(now)
	case Stable:
		if m.id == g.leader || !m.sameProtocols(j.req.Protocols) {
			j.update(m)
			g.awaitJoin(m, j)
			g.prepareRebalance(now)
			return
		}
		// A follower with nothing new: it may go on to sync.
		m.expires = now.Add(m.sessionTimeout)
		j.respond(g.joinResponse(m, j.req.Version))
	default: // Empty has no members
		j.respond(joinError(j.req.Version, id, kerr.UnknownMemberID.Code))
	}
}

// awaitJoin parks a member's join, answering an older parked one.
func (g *Group) awaitJoin(m *member, j joiner) {
	if m.onJoin != nil {
		m.onJoin(joinError(m.joinVersion, m.id, kerr.RebalanceInProgress.Code))
	}
	m.onJoin, m.joinVersion = j.respond, j.req.Version
}

// addMember adds a new member, whose join waits for the rebalance.
func (g *Group) addMember(now time.Time, j joiner, id string) {
	m := &member{id: id, instanceID: j.req.InstanceID}
	j.update(m)
	m.onJoin, m.joinVersion = j.respond, j.req.Version
	m.expires = now.Add(m.sessionTimeout)
	if len(g.members) == 0 {
		g.protocolType = j.req.ProtocolType
	}
	g.members[id] = m
	if m.instanceID != nil {
		g.static[*m.instanceID] = id
	}
	if g.leader == "" {
		g.leader = id
	}
	if g.state == PreparingRebalance && g.initialJoin {
		g.newJoiner = true
	}
	g.maybePrepareRebalance(now)
	if g.state == PreparingRebalance {
		g.tryCompleteJoin(now)
	}
}

// rejoinStatic replaces a static member that joins again without its
// member id (a restarted client): the new id takes over the old one's
// place and assignment, and the old id is fenced.
func (g *Group) rejoinStatic(now time.Time, j joiner, oldID string) {
	m := g.members[oldID]
	if m.onJoin != nil {
		m.onJoin(joinError(m.joinVersion, oldID, kerr.FencedInstanceID.Code))
		m.onJoin = nil
	}
	if m.onSync != nil {
		m.onSync(syncError(m.syncVersion, kerr.FencedInstanceID.Code))
		m.onSync = nil
	}
	oldLeader := g.leader
	newID := g.cfg.newMemberID(j.client.ID)
	delete(g.members, oldID)
	m.id = newID
	g.members[newID] = m
	g.static[*m.instanceID] = newID
	if g.leader == oldID {
		g.leader = newID
	}
	if g.pendingSync[oldID] {
		delete(g.pendingSync, oldID)
		g.pendingSync[newID] = true
	}
	m.expires = now.Add(j.session)
	j.update(m)
	switch g.state {
	case Stable:
		if g.selectProtocol() == g.protocol {
			// Nothing changes for the group: answer with the current
			// generation. The member then syncs and gets its old
			// assignment. Before v9 it is told the old leader id so it
			// does not act as leader; v9+ (KIP-814) tells it it leads
			// but must skip the assignment. The answer waits until the
			// new member id is stored, as in Kafka; if it cannot be, the
			// member is told to retry (the group keeps the new id).
			resp := g.joinResponse(m, j.req.Version)
			resp.Members = nil
			resp.LeaderID = oldLeader
			if oldLeader == oldID && j.req.Version >= 9 {
				resp.LeaderID = newID
				resp.SkipAssignment = true
				resp.Members = g.joinMembers()
			}
			respond, version := j.respond, j.req.Version
			g.persistMeta(now, nil, func(_ time.Time, err error) {
				if err != nil {
					respond(joinError(version, newID, storageErrorCode))
					return
				}
				respond(resp)
			})
			return
		}
		m.onJoin, m.joinVersion = j.respond, j.req.Version
		g.prepareRebalance(now)
	case CompletingRebalance:
		m.onJoin, m.joinVersion = j.respond, j.req.Version
		g.prepareRebalance(now)
	default: // PreparingRebalance: it joins this rebalance
		m.onJoin, m.joinVersion = j.respond, j.req.Version
		g.tryCompleteJoin(now)
	}
}

// fenced reports whether instance is held by a member other than id.
func (g *Group) fenced(instance *string, id string) bool {
	if instance == nil {
		return false
	}
	cur, ok := g.static[*instance]
	return ok && cur != id
}

// rebalanceTimeout is the largest of the members' rebalance timeouts.
func (g *Group) rebalanceTimeout() time.Duration {
	var d time.Duration
	for _, m := range g.members {
		d = max(d, m.rebalanceTimeout)
	}
	return d
}

// maybePrepareRebalance starts a rebalance unless one is under way.
func (g *Group) maybePrepareRebalance(now time.Time) {
	switch g.state {
	case Empty, Stable, CompletingRebalance:
		g.prepareRebalance(now)
	}
}

// prepareRebalance enters PreparingRebalance: syncs waiting for an
// assignment are told to rejoin, and the join phase starts (with the
// initial delay when the group was empty).
func (g *Group) prepareRebalance(now time.Time) {
	if g.state == CompletingRebalance {
		g.assigning = false // an assignment being stored is obsolete
		for _, m := range g.sortedMembers() {
			m.assignment = nil
			if m.onSync != nil {
				m.onSync(syncError(m.syncVersion, kerr.RebalanceInProgress.Code))
				m.onSync = nil
			}
		}
	}
	clear(g.pendingSync)
	g.initialJoin = false
	if g.state == Empty && g.cfg.initialDelay > 0 {
		g.initialJoin, g.newJoiner = true, false
		g.joinDeadline = now.Add(g.cfg.initialDelay)
		g.joinLimit = now.Add(max(g.rebalanceTimeout(), g.cfg.initialDelay))
	} else {
		g.joinDeadline = now.Add(g.rebalanceTimeout())
	}
	g.cfg.logger.Debug("group preparing rebalance", "group", g.id, "generation", g.generation, "members", len(g.members))
	g.transition(PreparingRebalance, now)
	g.tryCompleteJoin(now)
}

// allJoined reports whether every member has rejoined and no handed-out
// member id is still expected.
func (g *Group) allJoined() bool {
	if len(g.pending) > 0 {
		return false
	}
	for _, m := range g.members {
		if m.onJoin == nil {
			return false
		}
	}
	return true
}

// tryCompleteJoin ends the join phase early when everyone is in (never
// during the initial delay, which is purely time-based).
func (g *Group) tryCompleteJoin(now time.Time) {
	if g.state == PreparingRebalance && !g.initialJoin && g.allJoined() {
		g.completeJoin(now)
	}
}

// joinPhaseTimedOut handles the join deadline: the initial delay is
// extended while members keep arriving; otherwise the phase ends.
func (g *Group) joinPhaseTimedOut(now time.Time) {
	if g.initialJoin && g.newJoiner && g.joinDeadline.Before(g.joinLimit) {
		g.newJoiner = false
		g.joinDeadline = minTime(g.joinDeadline.Add(g.cfg.initialDelay), g.joinLimit)
		return
	}
	g.initialJoin = false
	g.completeJoin(now)
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// completeJoin ends the join phase: dynamic members that did not rejoin
// are removed, a leader is chosen among those that did, the generation
// advances and every joined member gets its answer (the leader with the
// member list).
func (g *Group) completeJoin(now time.Time) {
	for _, m := range g.sortedMembers() {
		if m.onJoin == nil && m.instanceID == nil {
			g.cfg.logger.Info("group member removed: did not rejoin in time", "group", g.id, "member", m.id)
			g.dropMember(m)
		}
	}
	joined := 0
	for _, m := range g.members {
		if m.onJoin != nil {
			joined++
		}
	}
	if joined == 0 && len(g.members) > 0 {
		// Only static members that have not rejoined: wait for them to
		// rejoin or for their sessions to end.
		g.joinDeadline = now.Add(g.rebalanceTimeout())
		return
	}
	if l := g.members[g.leader]; l == nil || l.onJoin == nil {
		g.leader = ""
		for _, m := range g.sortedMembers() {
			if m.onJoin != nil {
				g.leader = m.id
				break
			}
		}
	}
	g.generation++
	if len(g.members) == 0 {
		g.protocol, g.leader = "", ""
		g.transition(Empty, now)
		g.persistMeta(now, nil, nil)
		return
	}
	g.protocol = g.selectProtocol()
	g.transition(CompletingRebalance, now)
	g.cfg.logger.Info("group rebalanced", "group", g.id, "generation", g.generation, "protocol", g.protocol, "members", len(g.members), "leader", g.leader)
	for _, m := range g.sortedMembers() {
		if m.onJoin != nil {
			resp := g.joinResponse(m, m.joinVersion)
			m.onJoin(resp)
			m.onJoin = nil
		}
		m.expires = now.Add(m.sessionTimeout)
		g.pendingSync[m.id] = true
	}
	g.syncDeadline = now.Add(g.rebalanceTimeout())
}

// selectProtocol picks, among the protocols every member supports, the
// one most members list first (ties go to the earlier one in the leader's
// preference).
func (g *Group) selectProtocol() string {
	var candidates []string
	if l := g.members[g.leader]; l != nil {
		for _, p := range l.protocols {
			candidates = append(candidates, p.Name)
		}
	}
	for _, m := range g.sortedMembers() {
		for _, p := range m.protocols {
			candidates = append(candidates, p.Name)
		}
	}
	supported := func(name string) bool {
		for _, m := range g.members {
			if !hasProtocol(m, name) {
				return false
			}
		}
		return true
	}
	votes := map[string]int{}
	for _, m := range g.members {
		for _, p := range m.protocols {
			if supported(p.Name) {
				votes[p.Name]++
				break
			}
		}
	}
	best, bestVotes := "", -1
	for _, c := range candidates {
		if supported(c) && votes[c] > bestVotes {
			best, bestVotes = c, votes[c]
		}
	}
	return best
}

// joinResponse is a successful JoinGroup answer for m in this generation.
func (g *Group) joinResponse(m *member, version int16) *kmsg.JoinGroupResponse {
	resp := kmsg.NewPtrJoinGroupResponse()
	resp.Version = version
	resp.Generation = g.generation
	pt, p := g.protocolType, g.protocol
	resp.ProtocolType, resp.Protocol = &pt, &p
	resp.LeaderID = g.leader
	resp.MemberID = m.id
	if m.id == g.leader {
		resp.Members = g.joinMembers()
	}
	return resp
}

// joinMembers is the member list the leader assigns from.
func (g *Group) joinMembers() []kmsg.JoinGroupResponseMember {
	var out []kmsg.JoinGroupResponseMember
	for _, m := range g.sortedMembers() {
		jm := kmsg.NewJoinGroupResponseMember()
		jm.MemberID = m.id
		jm.InstanceID = m.instanceID
		jm.ProtocolMetadata = m.metadataFor(g.protocol)
		out = append(out, jm)
	}
	return out
}
