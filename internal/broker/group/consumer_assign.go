package group

// consumer_assign.go computes what a consumer group's members should own
// and moves each member towards it, as Kafka's coordinator does: the
// subscription metadata (the subscribed topics that exist, with regexes
// resolved on the broker), the target assignment (an assignor's answer,
// computed when the group epoch moves past it), and each member's
// reconciliation (Kafka's CurrentAssignmentBuilder): partitions to revoke
// first, and a partition handed to its new owner only once its previous
// owner has reported it released.

import (
	"maps"
	"slices"
	"sort"
	"time"
)

// groupRecordState is what tells whether a change to a consumer group
// needs its group record written again: its epochs. The subscription
// metadata and the target assignment change only with them (a new
// subscription bumps the group epoch, a new target is computed at a new
// assignment epoch), except for a static member's replacement, which
// moves a target to the new member id and writes the record itself.
type groupRecordState struct{ epoch, assignmentEpoch int32 }

func (cg *consumerGroup) recordState() groupRecordState {
	return groupRecordState{cg.epoch, cg.assignmentEpoch}
}

func (s groupRecordState) equal(o groupRecordState) bool { return s == o }

// refreshSubscription brings the group's view of its subscribed topics up
// to date and reports whether it changed in a way that needs a new
// target assignment. Regexes are resolved at once when new to the group,
// and again when the topics changed (rate limited by
// regexRefreshInterval, Kafka's batch interval for the same purpose); the
// subscription metadata is recomputed when the topics or the
// subscriptions changed.
func (g *Group) refreshSubscription(now time.Time, cg *consumerGroup, hc HeartbeatContext, resolve, force bool) bool {
	topics := g.cfg.topics
	version := topics.Version()
	changed := false

	// Regexes: drop those no member uses, resolve new ones, and refresh
	// all when the topics changed since they were resolved.
	used := map[string]bool{}
	for _, m := range cg.members {
		if m.regex != "" {
			used[m.regex] = true
		}
	}
	for re := range cg.regexes {
		if !used[re] {
			delete(cg.regexes, re)
		}
	}
	stale := false
	for re := range used {
		r, ok := cg.regexes[re]
		if !ok {
			stale = true
			break
		}
		if r.version != version && now.Sub(cg.regexAt) >= g.cfg.regexRefresh {
			stale = true
		}
	}
	if stale && resolve {
		all := topics.All()
		for re := range used {
			r := resolveRegex(cg.memberRegex(re), all, hc.AllowTopic, version)
			if old, ok := cg.regexes[re]; !ok || !slices.Equal(old.topics, r.topics) {
				changed = true
			}
			cg.regexes[re] = r
		}
		cg.regexAt = now
	}

	if force || changed || cg.subVersion != version {
		sub := g.computeSubscription(cg, version)
		if !maps.Equal(sub, cg.subscription) {
			changed = true
		}
		cg.subscription = sub
	}
	return changed
}

// memberRegex returns the compiled form of a regex some member uses.
func (cg *consumerGroup) memberRegex(src string) *cmember {
	for _, m := range cg.sortedMembers() {
		if m.regex == src && m.re != nil {
			return m
		}
	}
	return nil
}

// resolveRegex matches m's regex against every topic, internal ones
// included (Kafka resolves a broker-side regex over all topics), keeping
// those the member's principal may DESCRIBE.
func resolveRegex(m *cmember, all []TopicInfo, allow func(string) bool, version uint64) resolvedRegex {
	r := resolvedRegex{version: version, topics: []string{}}
	if m == nil {
		return r
	}
	for _, t := range all {
		if m.re.MatchString(t.Name) && (allow == nil || allow(t.Name)) {
			r.topics = append(r.topics, t.Name)
		}
	}
	sort.Strings(r.topics)
	return r
}

// subscribedNames returns the topic names a member subscribes to: its
// names and what its regex resolved to.
func (cg *consumerGroup) subscribedNames(m *cmember) []string {
	out := slices.Clone(m.names)
	if m.regex != "" {
		out = append(out, cg.regexes[m.regex].topics...)
	}
	return sortedUniqueStrings(out)
}

// computeSubscription is the subscription metadata: every topic some
// member subscribes to that exists, as of the Topics version.
func (g *Group) computeSubscription(cg *consumerGroup, version uint64) map[string]subscribedTopic {
	if version == 0 {
		version = g.cfg.topics.Version()
	}
	out := map[string]subscribedTopic{}
	for _, m := range cg.members {
		for _, name := range cg.subscribedNames(m) {
			if _, done := out[name]; done {
				continue
			}
			if t, ok := g.cfg.topics.Topic(name); ok {
				out[name] = subscribedTopic{name: t.Name, id: t.ID, partitions: t.Partitions}
			}
		}
	}
	cg.subVersion = version
	return out
}

// preferredAssignor is the assignor most members ask for (ties go to the
// earlier name), or the broker's default.
func (g *Group) preferredAssignor(cg *consumerGroup) string {
	votes := map[string]int{}
	for _, m := range cg.members {
		if m.assignor != "" {
			votes[m.assignor]++
		}
	}
	best := ""
	for name, n := range votes {
		if best == "" || n > votes[best] || (n == votes[best] && name < best) {
			best = name
		}
	}
	if best == "" {
		return g.cfg.assignors[0]
	}
	return best
}

// updateTarget computes a new target assignment at the group epoch.
func (g *Group) updateTarget(cg *consumerGroup) {
	topics := make(map[TopicID]assignorTopic, len(cg.subscription))
	for _, t := range cg.subscription {
		topics[t.id] = assignorTopic{name: t.name, partitions: t.partitions}
	}
	members := make([]assignorMember, 0, len(cg.members))
	for _, m := range cg.sortedMembers() {
		am := assignorMember{id: m.id, instanceID: m.instanceID, current: cg.target[m.id]}
		for _, name := range cg.subscribedNames(m) {
			if t, ok := cg.subscription[name]; ok {
				am.topics = append(am.topics, t.id)
			}
		}
		members = append(members, am)
	}
	name := g.preferredAssignor(cg)
	cg.target = assign(name, members, topics)
	cg.assignmentEpoch = cg.epoch
	g.cfg.stats.assignments.Add(1)
	g.cfg.logger.Info("consumer group target assignment computed", "group", g.id, "epoch", cg.epoch, "assignor", name, "members", len(members), "partitions", len(cg.owners))
}

// reconcile moves m towards its target assignment (Kafka's
// CurrentAssignmentBuilder.build), given the partitions it reports owning
// (nil when the heartbeat did not say). A change to what m owns updates
// the partition owners and the rebalance timeout.
func (g *Group) reconcile(now time.Time, cg *consumerGroup, m *cmember, owned assignment) {
	if m.reconciledTo(cg.assignmentEpoch) {
		return
	}
	switch m.state {
	case memberStable:
		if m.epoch == cg.assignmentEpoch {
			return
		}
	case memberUnrevoked:
		if ownsAny(owned, m.revoking) {
			return // it has not given them up yet
		}
	}
	oldOwns, oldState, oldEpoch := m.owns(), m.state, m.epoch
	target := cg.target[m.id]
	var (
		keep, revoke = builder{}, builder{}
		add          = builder{}
		unreleased   bool
	)
	for _, id := range m.assigned.union(target).ids() {
		for _, p := range m.assigned[id] {
			if target.has(id, p) {
				keep.add(id, p)
			} else {
				revoke.add(id, p)
			}
		}
		for _, p := range target[id] {
			if m.assigned.has(id, p) {
				continue
			}
			// A partition still owned by another member waits; one this
			// member was revoking is its own to keep.
			if owner := cg.ownerOf(id, p); owner != "" && owner != m.id {
				unreleased = true
				continue
			}
			add.add(id, p)
		}
	}
	kept, revoking, adding := keep.build(), revoke.build(), add.build()
	switch {
	case revoking.count() > 0 && (owned == nil || ownsAny(owned, revoking)):
		// Revoke first: the member stays at its epoch until it reports
		// them gone.
		m.setEpoch(m.epoch)
		m.state, m.assigned, m.revoking = memberUnrevoked, kept, revoking
	case adding.count() > 0:
		m.setEpoch(cg.assignmentEpoch)
		m.state = memberStable
		if unreleased {
			m.state = memberUnreleased
		}
		m.assigned, m.revoking = kept.union(adding), assignment{}
	default:
		m.setEpoch(cg.assignmentEpoch)
		m.state = memberStable
		if unreleased {
			m.state = memberUnreleased
		}
		m.assigned, m.revoking = kept, assignment{}
	}
	if newOwns := m.owns(); !newOwns.equal(oldOwns) {
		cg.removeOwned(m, oldOwns.minus(newOwns))
		g.claim(cg, m, newOwns.minus(oldOwns))
	}
	// The rebalance timeout runs for members of the consumer protocol; a
	// classic member has its join and sync timeouts instead.
	if m.classic == nil && (m.state != oldState || m.epoch != oldEpoch || m.state == memberUnrevoked) {
		if m.state == memberUnrevoked {
			m.revokeBy, m.revokeEpoch = now.Add(m.rebalanceTimeout), m.epoch
		} else {
			m.revokeBy = time.Time{}
		}
	}
}

// claim records m as the owner of a; a partition another member owns is
// never taken (reconcile never asks for one: this guards the invariant).
func (g *Group) claim(cg *consumerGroup, m *cmember, a assignment) {
	a.each(func(id TopicID, p int32) {
		k := tpKey{id, p}
		if o := cg.owners[k]; o != "" && o != m.id {
			g.cfg.logger.Error("consumer group partition claimed twice; keeping its owner", "group", g.id, "partition", p, "owner", o, "claimant", m.id)
			return
		}
		cg.owners[k] = m.id
	})
}

// setEpoch moves the member to epoch, remembering the one it leaves (as
// Kafka's updateMemberEpoch, even when they are equal).
func (m *cmember) setEpoch(epoch int32) { m.prevEpoch, m.epoch = m.epoch, epoch }

// ownsAny reports whether owned holds any partition of a; nil owned (the
// member did not say) counts as owning them all.
func ownsAny(owned, a assignment) bool {
	if owned == nil {
		return a.count() > 0
	}
	found := false
	a.each(func(id TopicID, p int32) { found = found || owned.has(id, p) })
	return found
}
