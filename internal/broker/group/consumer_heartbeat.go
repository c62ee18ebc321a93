package group

// consumer_heartbeat.go is KIP-848's ConsumerGroupHeartbeat, following
// Kafka's GroupMetadataManager.consumerGroupHeartbeat: a member joins
// (epoch 0; from v1 with an id it made itself), heartbeats (its epoch),
// leaves (-1) or, when static, leaves for now (-2). Each heartbeat may
// update the member's subscription, which bumps the group epoch; a group
// epoch past the target assignment's computes a new target assignment;
// and the member is reconciled towards its target (consumer_assign.go).
// The answer carries the member's epoch and, on a full request or when it
// changed, its assignment.

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// HeartbeatContext is what a ConsumerGroupHeartbeat carries besides the
// request.
type HeartbeatContext struct {
	Client Client
	// AllowTopic reports whether the member's principal may DESCRIBE a
	// topic: a regex subscription resolves only to topics it may, as in
	// Kafka 4. Nil allows every topic.
	AllowTopic func(topic string) bool
}

// hbFail is a heartbeat error answer.
func hbFail(resp *kmsg.ConsumerGroupHeartbeatResponse, e *kerr.Error, format string, args ...any) *kmsg.ConsumerGroupHeartbeatResponse {
	resp.ErrorCode = e.Code
	msg := fmt.Sprintf(format, args...)
	resp.ErrorMessage = &msg
	return resp
}

// blank reports whether a nullable string is set but empty (Kafka's
// throwIfEmptyString: whitespace counts as empty).
func blank(s *string) bool { return s != nil && strings.TrimSpace(*s) == "" }

// ValidateHeartbeat checks a ConsumerGroupHeartbeat as Kafka's coordinator
// service does before it reaches a group, with its messages:
// INVALID_REQUEST for a malformed request, UNSUPPORTED_ASSIGNOR for an
// assignor not in assignors. It returns nil when the request may proceed.
func ValidateHeartbeat(req *kmsg.ConsumerGroupHeartbeatRequest, assignors []string) *kmsg.ConsumerGroupHeartbeatResponse {
	resp := req.ResponseKind().(*kmsg.ConsumerGroupHeartbeatResponse)
	invalid := func(msg string) *kmsg.ConsumerGroupHeartbeatResponse {
		return hbFail(resp, kerr.InvalidRequest, "%s", msg)
	}
	if req.Version >= 1 || req.MemberEpoch > 0 || req.MemberEpoch == epochLeave {
		if strings.TrimSpace(req.MemberID) == "" {
			return invalid("MemberId can't be empty.")
		}
	}
	switch {
	case strings.TrimSpace(req.Group) == "":
		return invalid("GroupId can't be empty.")
	case blank(req.InstanceID):
		return invalid("InstanceId can't be empty.")
	case blank(req.RackID):
		return invalid("RackId can't be empty.")
	}
	switch {
	case req.MemberEpoch == epochJoin:
		switch {
		case req.RebalanceTimeoutMillis == -1:
			return invalid("RebalanceTimeoutMs must be provided in first request.")
		case req.Topics == nil || len(req.Topics) > 0:
			return invalid("TopicPartitions must be empty when (re-)joining.")
		case req.SubscribedTopicNames == nil && req.SubscribedTopicRegex == nil:
			return invalid("Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.")
		}
	case req.MemberEpoch == epochStaticLeave:
		if req.InstanceID == nil {
			return invalid("InstanceId can't be null.")
		}
	case req.MemberEpoch < epochStaticLeave:
		return invalid("MemberEpoch is invalid.")
	}
	if req.ServerAssignor != nil && !slices.Contains(assignors, *req.ServerAssignor) {
		return hbFail(resp, kerr.UnsupportedAssignor, "ServerAssignor %s is not supported. Supported assignors: %s.",
			*req.ServerAssignor, strings.Join(assignors, ", "))
	}
	return nil
}

// compileRegex compiles a subscription regex (RE2, as Kafka's RE2/J)
// matched against whole topic names.
func compileRegex(src string) (*regexp.Regexp, error) {
	if _, err := regexp.Compile(src); err != nil {
		return nil, err
	}
	return regexp.Compile("^(?:" + src + ")$")
}

// ConsumerHeartbeat handles a validated ConsumerGroupHeartbeat (see
// ValidateHeartbeat). The group's records (its new state) must be durable
// before the answer is sent; the coordinator sees to that.
func (g *Group) ConsumerHeartbeat(now time.Time, req *kmsg.ConsumerGroupHeartbeatRequest, hc HeartbeatContext) *kmsg.ConsumerGroupHeartbeatResponse {
	resp := req.ResponseKind().(*kmsg.ConsumerGroupHeartbeatResponse)
	if g.state == Dead {
		resp.ErrorCode = kerr.CoordinatorNotAvailable.Code
		return resp
	}
	cg, upgrade := g.cg, false
	if cg == nil {
		// A classic group becomes a consumer group with its first
		// consumer-protocol member: at once when it is empty, through
		// the migration policy's upgrade when it has members.
		if req.MemberEpoch != epochJoin {
			return hbFail(resp, kerr.GroupIDNotFound, "Group %s is not a consumer group.", g.id)
		}
		if g.state == Empty && len(g.members) == 0 {
			cg = newConsumerGroup(now)
		} else {
			var msg string
			if cg, msg = g.classicToConsumer(now); cg == nil {
				return hbFail(resp, kerr.GroupIDNotFound, "%s", msg)
			}
			upgrade = true
		}
	}
	if req.MemberEpoch < 0 {
		return g.consumerLeave(now, req, resp)
	}
	if len(cg.members) >= g.cfg.consumerMaxSize && cg.members[req.MemberID] == nil {
		return hbFail(resp, kerr.GroupMaxSizeReached, "The consumer group has reached its maximum capacity of %d members.", g.cfg.consumerMaxSize)
	}
	m, replaced, fail := g.heartbeatMember(cg, req, resp)
	if fail != nil {
		return fail
	}
	regex := m.regex
	if req.SubscribedTopicRegex != nil {
		regex = *req.SubscribedTopicRegex
	}
	var re *regexp.Regexp
	if regex != "" {
		re = m.re
		if re == nil || regex != m.regex {
			var err error
			if re, err = compileRegex(regex); err != nil {
				return hbFail(resp, kerr.InvalidRegularExpression, "SubscribedTopicRegex `%s` is not a valid regular expression: %v.", regex, err)
			}
		}
	}

	// Everything is checked: from here the group changes.
	g.flushDirty()
	groupBefore := cg.recordState()
	switch {
	case upgrade:
		g.commitUpgrade(now, cg)
	case g.cg == nil:
		g.becomeConsumer(now, cg)
	}
	before := m.consumerMemberRec
	before.names = slices.Clone(before.names)
	if replaced != nil {
		g.replaceStatic(now, replaced, m)
	} else if cg.members[m.id] == nil {
		cg.members[m.id] = m
		if m.instanceID != nil {
			cg.static[*m.instanceID] = m.id
		}
		g.cfg.logger.Info("consumer group member joined", "group", g.id, "member", m.id, "instance", derefOr(req.InstanceID, ""))
	}
	subChanged := g.updateMember(m, req, hc.Client, regex, re)

	// 1. The group epoch: bumped for a new group, a new subscription, or
	// subscribed topics that changed.
	bump := cg.epoch == 0 || subChanged
	if g.refreshSubscription(now, cg, hc, true, bump) {
		bump = true
	}
	if bump {
		cg.epoch++
		g.cfg.stats.rebalances.Add(1)
		g.cfg.logger.Debug("consumer group epoch bumped", "group", g.id, "epoch", cg.epoch)
	}
	// 2. The target assignment, when the group epoch moved past it.
	if cg.epoch > cg.assignmentEpoch {
		g.updateTarget(cg)
	}
	// 3. The member's assignment, reconciled towards its target.
	prevAssigned := m.assigned
	g.reconcile(now, cg, m, ownedFromRequest(req.Topics))
	session, heartbeat := g.consumerTimeouts()
	m.expires = now.Add(session)
	m.joinBy, m.syncBy = time.Time{}, time.Time{}

	if !cg.recordState().equal(groupBefore) {
		g.persistConsumerGroup()
	}
	if !m.consumerMemberRec.equal(&before) || replaced != nil {
		g.persistMember(m)
	}

	id := m.id
	resp.MemberID = &id
	resp.MemberEpoch = m.epoch
	resp.HeartbeatIntervalMillis = int32(heartbeat / time.Millisecond)
	full := req.MemberEpoch == epochJoin ||
		(req.RebalanceTimeoutMillis != -1 && (req.SubscribedTopicNames != nil || req.SubscribedTopicRegex != nil) && req.Topics != nil)
	if full || !m.assigned.equal(prevAssigned) {
		resp.Assignment = m.assigned.heartbeatTopics()
	}
	return resp
}

func derefOr(s *string, or string) string {
	if s == nil {
		return or
	}
	return *s
}

// heartbeatMember finds (or makes, for a join) the heartbeat's member,
// with Kafka's checks: the member epoch (FENCED_MEMBER_EPOCH), a static
// member's instance (UNRELEASED_INSTANCE_ID, FENCED_INSTANCE_ID), an
// unknown member (UNKNOWN_MEMBER_ID). A new member is not added to the
// group yet; replaced is the static member it takes over from.
func (g *Group) heartbeatMember(cg *consumerGroup, req *kmsg.ConsumerGroupHeartbeatRequest, resp *kmsg.ConsumerGroupHeartbeatResponse) (m, replaced *cmember, fail *kmsg.ConsumerGroupHeartbeatResponse) {
	join := req.MemberEpoch == epochJoin
	owned := ownedFromRequest(req.Topics)
	if req.InstanceID == nil {
		m = cg.members[req.MemberID]
		switch {
		case m == nil && !join:
			return nil, nil, hbFail(resp, kerr.UnknownMemberID, "Member %s is not a member of group %s.", req.MemberID, g.id)
		case m == nil:
			return newMember(req.MemberID), nil, nil
		}
		if f := checkMemberEpoch(resp, m, req.MemberEpoch, owned); f != nil {
			return nil, nil, f
		}
		return m, nil, nil
	}
	inst := *req.InstanceID
	existing := cg.members[cg.static[inst]]
	if join {
		if existing == nil {
			if m = cg.members[req.MemberID]; m != nil {
				return m, nil, nil // a dynamic member becoming static
			}
			return newMember(req.MemberID), nil, nil
		}
		if !existing.staticLeft() && existing.classic == nil {
			// Two processes of the consumer protocol: the second must
			// wait for the first to leave (a classic one is replaced).
			return nil, nil, hbFail(resp, kerr.UnreleasedInstanceID,
				"Static member %s with instance id %s cannot join the group because the instance id is owned by %s member.", req.MemberID, inst, existing.id)
		}
		// The new member takes the static member's place, assignment
		// and target (Kafka copies the member under its new id).
		m = &cmember{consumerMemberRec: existing.consumerMemberRec, re: existing.re}
		m.id, m.epoch, m.prevEpoch = req.MemberID, 0, 0
		m.names = slices.Clone(existing.names)
		return m, existing, nil
	}
	switch {
	case existing == nil:
		return nil, nil, hbFail(resp, kerr.UnknownMemberID, "Instance id %s is unknown.", inst)
	case existing.id != req.MemberID:
		return nil, nil, hbFail(resp, kerr.FencedInstanceID, "Static member %s with instance id %s was fenced by member %s.", req.MemberID, inst, existing.id)
	}
	if f := checkMemberEpoch(resp, existing, req.MemberEpoch, owned); f != nil {
		return nil, nil, f
	}
	return existing, nil, nil
}

func newMember(id string) *cmember {
	return &cmember{consumerMemberRec: consumerMemberRec{id: id, assigned: assignment{}, revoking: assignment{}}}
}

// checkMemberEpoch is Kafka's throwIfConsumerGroupMemberEpochIsInvalid: a
// member may come with its epoch, or with its previous one when it owns no
// more than it is assigned (the answer bumping its epoch was lost).
func checkMemberEpoch(resp *kmsg.ConsumerGroupHeartbeatResponse, m *cmember, epoch int32, owned assignment) *kmsg.ConsumerGroupHeartbeatResponse {
	switch {
	case epoch > m.epoch:
		return hbFail(resp, kerr.FencedMemberEpoch, "The consumer group member has a greater member epoch (%d) than the one known by the group coordinator (%d). The member must abandon all its partitions and rejoin.", epoch, m.epoch)
	case epoch < m.epoch && (epoch != m.prevEpoch || owned == nil || owned.minus(m.assigned).count() > 0):
		return hbFail(resp, kerr.FencedMemberEpoch, "The consumer group member has a smaller member epoch (%d) than the one known by the group coordinator (%d). The member must abandon all its partitions and rejoin.", epoch, m.epoch)
	}
	return nil
}

// updateMember applies the request's member fields (the optional ones
// only when set, as Kafka's maybeUpdate*) and reports whether the
// subscription changed.
func (g *Group) updateMember(m *cmember, req *kmsg.ConsumerGroupHeartbeatRequest, client Client, regex string, re *regexp.Regexp) bool {
	changed := false
	if req.InstanceID != nil {
		inst := *req.InstanceID
		m.instanceID = &inst
		g.cg.static[inst] = m.id
	}
	if req.RackID != nil {
		rack := *req.RackID
		m.rackID = &rack
	}
	if req.RebalanceTimeoutMillis != -1 {
		m.rebalanceTimeout = ms(req.RebalanceTimeoutMillis)
	}
	if req.ServerAssignor != nil {
		m.assignor = *req.ServerAssignor
	}
	if req.SubscribedTopicNames != nil {
		names := sortedUniqueStrings(req.SubscribedTopicNames)
		if !slices.Equal(names, m.names) {
			m.names, changed = names, true
		}
	}
	if regex != m.regex {
		changed = true
	}
	m.regex, m.re = regex, re
	m.clientID, m.clientHost = client.ID, client.Host
	m.classic = nil // it speaks the consumer protocol now
	return changed
}

func sortedUniqueStrings(ss []string) []string {
	out := slices.Clone(ss)
	slices.Sort(out)
	return slices.Compact(out)
}

// becomeConsumer turns an empty classic group into a consumer group; its
// committed offsets stay (the group record written with the first
// heartbeat replaces the classic one in the journal).
func (g *Group) becomeConsumer(now time.Time, cg *consumerGroup) {
	if g.generation > 0 || len(g.offsets) > 0 {
		g.cfg.logger.Info("empty classic group becomes a consumer group", "group", g.id)
	}
	g.cg = cg
	g.protocolType, g.protocol, g.leader = "consumer", "", ""
	clear(g.pending)
	g.transition(Empty, now)
}

// replaceStatic puts m, a static member rejoining under a new member id,
// in the place of old, which had left for now (epoch -2): m takes its
// partitions and target without a rebalance.
func (g *Group) replaceStatic(now time.Time, old, m *cmember) {
	cg := g.cg
	cg.removeOwned(old, old.owns())
	delete(cg.members, old.id)
	if t, ok := cg.target[old.id]; ok {
		delete(cg.target, old.id)
		cg.target[m.id] = t
	}
	cg.members[m.id] = m
	cg.addOwned(m, m.owns())
	g.deleteMemberRecord(old.id)
	g.persistConsumerGroup() // the target moved to the new member id
	g.cfg.logger.Info("consumer group static member rejoined", "group", g.id, "member", m.id, "replaces", old.id, "instance", derefOr(m.instanceID, ""))
	_ = now
}

// consumerLeave handles epochs -1 (leave) and -2 (a static member leaving
// for now: it keeps its place and partitions until its session ends, so a
// restart within the session timeout causes no rebalance).
func (g *Group) consumerLeave(now time.Time, req *kmsg.ConsumerGroupHeartbeatRequest, resp *kmsg.ConsumerGroupHeartbeatResponse) *kmsg.ConsumerGroupHeartbeatResponse {
	cg := g.cg
	if cg == nil {
		return hbFail(resp, kerr.GroupIDNotFound, "Group %s is not a consumer group.", g.id)
	}
	g.flushDirty()
	id := req.MemberID
	resp.MemberID, resp.MemberEpoch = &id, req.MemberEpoch
	var m *cmember
	if req.InstanceID == nil {
		if m = cg.members[req.MemberID]; m == nil {
			return hbFail(resp, kerr.UnknownMemberID, "Member %s is not a member of group %s.", req.MemberID, g.id)
		}
	} else {
		inst := *req.InstanceID
		switch m = cg.members[cg.static[inst]]; {
		case m == nil:
			return hbFail(resp, kerr.UnknownMemberID, "Instance id %s is unknown.", inst)
		case m.id != req.MemberID:
			return hbFail(resp, kerr.FencedInstanceID, "Static member %s with instance id %s was fenced by member %s.", req.MemberID, inst, m.id)
		}
		if req.MemberEpoch == epochStaticLeave {
			g.cfg.logger.Info("consumer group static member left for now", "group", g.id, "member", m.id, "instance", inst)
			cg.removeOwned(m, m.revoking)
			m.epoch, m.revoking = epochStaticLeave, assignment{}
			m.revokeBy = time.Time{}
			g.persistMember(m)
			return resp
		}
	}
	g.cfg.logger.Info("consumer group member left", "group", g.id, "member", m.id)
	g.fenceMember(now, m, FenceLeave)
	return resp
}

// fenceMember removes a member (it left, or its session or rebalance
// timeout passed): its partitions are free for the others, and the group
// epoch is bumped so that the next heartbeat computes a new target.
func (g *Group) fenceMember(now time.Time, m *cmember, why FenceReason) {
	if g.maybeDowngrade(now, m, true) {
		g.cfg.stats.fence(why)
		return
	}
	g.dropConsumerMember(m, why)
	g.bumpAfterRemoval(now)
}

// dropConsumerMember forgets a member and frees its partitions.
func (g *Group) dropConsumerMember(m *cmember, why FenceReason) {
	cg := g.cg
	cg.removeOwned(m, m.owns())
	delete(cg.members, m.id)
	delete(cg.target, m.id)
	if m.instanceID != nil && cg.static[*m.instanceID] == m.id {
		delete(cg.static, *m.instanceID)
	}
	g.cfg.stats.fence(why)
	g.deleteMemberRecord(m.id)
}

// bumpAfterRemoval bumps the group epoch after members were removed, with
// the subscription metadata without them.
func (g *Group) bumpAfterRemoval(now time.Time) {
	cg := g.cg
	cg.subscription = g.computeSubscription(cg, 0)
	cg.epoch++
	if len(cg.members) == 0 {
		cg.emptySince = now
	}
	g.cfg.stats.rebalances.Add(1)
	g.persistConsumerGroup()
}
