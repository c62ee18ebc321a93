package group

// consumer_migrate.go converts groups with members between the classic
// and the consumer protocol, as Kafka 4's group.consumer.migration.policy
// allows (GroupMetadataManager.convertToConsumerGroup and
// convertToClassicGroup):
//
//   - upgrade: the first consumer-protocol member joining a classic group
//     of the consumer protocol type turns it into a consumer group. Its
//     members stay, as classic members of the consumer group, each with
//     its assignment (the group epoch is the classic generation); the
//     newcomer's join bumps the epoch and the classic members are told to
//     rejoin, and are reconciled like any member.
//   - downgrade: when the last consumer-protocol member leaves (or is
//     fenced) and classic members remain, the group becomes a classic
//     group at the group epoch, each member with its target assignment,
//     and rebalances the classic way. A classic static member replacing
//     the last consumer-protocol one converts it too, without a rebalance.
//
// Either conversion rewrites the group's records (the new kind replaces
// the old in the journal); the offsets stay.

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Migration policies (group.consumer.migration.policy).
const (
	MigrationDisabled      = "disabled"
	MigrationUpgrade       = "upgrade"
	MigrationDowngrade     = "downgrade"
	MigrationBidirectional = "bidirectional"
)

// ParseMigrationPolicy checks a group.consumer.migration.policy value
// (case-insensitive, as Kafka's).
func ParseMigrationPolicy(s string) (string, error) {
	p := strings.ToLower(strings.TrimSpace(s))
	switch p {
	case MigrationDisabled, MigrationUpgrade, MigrationDowngrade, MigrationBidirectional:
		return p, nil
	}
	return "", fmt.Errorf("migration policy %q: want disabled, upgrade, downgrade or bidirectional", s)
}

// MigrationPolicy is group.consumer.migration.policy (see
// ParseMigrationPolicy; default bidirectional, as Kafka's).
func MigrationPolicy(p string) Opt { return func(cfg *config) { cfg.migration = p } }

func (c *config) upgradeEnabled() bool {
	return c.migration == MigrationUpgrade || c.migration == MigrationBidirectional
}

func (c *config) downgradeEnabled() bool {
	return c.migration == MigrationDowngrade || c.migration == MigrationBidirectional
}

// classicToConsumer builds the consumer group a classic group with
// members becomes (Kafka's ConsumerGroup.fromClassicGroup), without
// changing g: the heartbeat that asked for it may still be refused. It
// returns a message (for GROUP_ID_NOT_FOUND) when the group cannot be
// upgraded.
func (g *Group) classicToConsumer(now time.Time) (*consumerGroup, string) {
	switch {
	case !g.cfg.upgradeEnabled():
		return nil, fmt.Sprintf("Group %s is not a consumer group.", g.id)
	case g.protocolType != consumerProtocolType:
		return nil, fmt.Sprintf("Group %s is not a consumer group.", g.id)
	case len(g.members) > g.cfg.consumerMaxSize:
		return nil, fmt.Sprintf("Group %s is not a consumer group.", g.id)
	}
	malformed := fmt.Sprintf("Cannot upgrade the classic group %s to consumer group because the embedded consumer protocol is malformed.", g.id)
	cg := newConsumerGroup(now)
	cg.epoch, cg.assignmentEpoch = g.generation, g.generation
	for _, cm := range g.sortedMembers() {
		var (
			a   kmsg.ConsumerMemberAssignment
			sub kmsg.ConsumerMemberMetadata
		)
		if g.protocol == "" || a.ReadFrom(cm.assignment) != nil || sub.ReadFrom(cm.metadataFor(g.protocol)) != nil {
			g.cfg.logger.Info("classic group not upgraded: a member's assignment or subscription does not decode", "group", g.id, "member", cm.id)
			return nil, malformed
		}
		b := builder{}
		for _, t := range a.Topics {
			if info, ok := g.cfg.topics.Topic(t.Topic); ok {
				for _, p := range t.Partitions {
					if p >= 0 && p < info.Partitions {
						b.add(info.ID, p)
					}
				}
			}
		}
		m := newMember(cm.id)
		m.instanceID, m.clientID, m.clientHost = cm.instanceID, cm.clientID, cm.clientHost
		m.rackID, m.rebalanceTimeout = sub.Rack, cm.rebalanceTimeout
		m.names = sortedUniqueStrings(sub.Topics)
		m.epoch, m.prevEpoch, m.state = g.generation, g.generation, memberStable
		m.assigned = b.build().filter(func(id TopicID, p int32) bool { return cg.ownerOf(id, p) == "" })
		m.classic = &classicMember{sessionTimeout: cm.sessionTimeout, protocols: cloneProtocols(cm.protocols)}
		m.expires = now.Add(cm.sessionTimeout)
		cg.members[m.id] = m
		cg.target[m.id] = m.assigned
		cg.addOwned(m, m.assigned)
		if m.instanceID != nil {
			cg.static[*m.instanceID] = m.id
		}
	}
	cg.subscription = g.computeSubscription(cg, 0)
	return cg, ""
}

// commitUpgrade makes g the consumer group classicToConsumer built:
// classic joins and syncs still waiting are told to rejoin, and the whole
// group is recorded (replacing the classic group in the journal).
func (g *Group) commitUpgrade(now time.Time, cg *consumerGroup) {
	g.cfg.logger.Info("classic group upgraded to a consumer group", "group", g.id, "members", len(cg.members), "epoch", cg.epoch)
	for _, m := range g.sortedMembers() {
		if m.onJoin != nil {
			m.onJoin(joinError(m.joinVersion, m.id, kerr.RebalanceInProgress.Code))
		}
		if m.onSync != nil {
			m.onSync(syncError(m.syncVersion, kerr.RebalanceInProgress.Code))
		}
	}
	clear(g.members)
	clear(g.static)
	clear(g.pending)
	clear(g.pendingSync)
	g.leader, g.protocol, g.assigning = "", "", false
	g.cg = cg
	g.transition(Empty, now)
	g.persistConsumerAll()
	g.cfg.stats.migrations.Add(1)
}

// maybeDowngrade converts the consumer group to a classic group when
// leaving, a consumer-protocol member, is its last one and the others
// are classic members, if the policy allows it: leaving is about to be
// removed (it left or was fenced: then the classic group rebalances), or
// was just replaced by a classic static member (no rebalance). The
// members keep their target assignments. It reports whether it
// converted; the caller must then not touch the consumer group again.
func (g *Group) maybeDowngrade(now time.Time, leaving *cmember, rebalance bool) bool {
	cg := g.cg
	remaining := 0
	for _, m := range cg.members {
		if m == leaving {
			continue
		}
		if m.classic == nil {
			return false
		}
		remaining++
	}
	if !g.cfg.downgradeEnabled() || leaving.classic != nil || remaining == 0 || remaining > g.cfg.maxGroupSize {
		return false
	}
	g.cfg.logger.Info("consumer group downgraded to a classic group: its last consumer-protocol member is gone", "group", g.id, "member", leaving.id, "epoch", cg.epoch)
	g.cg = nil
	g.protocolType, g.generation = consumerProtocolType, cg.epoch
	for _, m := range cg.sortedMembers() {
		if m != leaving {
			g.addClassicFrom(now, m)
		}
	}
	g.leader = g.sortedMembers()[0].id
	g.protocol = g.selectProtocol()
	byID := map[TopicID]string{}
	for _, t := range g.cfg.topics.All() {
		byID[t.ID] = t.Name
	}
	for id, m := range g.members {
		m.assignment = consumerAssignmentBytes(cg.target[id], byID, m.metadataFor(g.protocol))
	}
	g.transition(Stable, now)
	g.persistMeta(now, nil, nil)
	g.cfg.stats.migrations.Add(1)
	if rebalance {
		g.prepareRebalance(now)
	}
	return true
}

// addClassicFrom adds a classic member to g from a consumer group's
// classic member.
func (g *Group) addClassicFrom(now time.Time, m *cmember) {
	id := m.id
	c := &member{
		id: id, instanceID: m.instanceID, clientID: m.clientID, clientHost: m.clientHost,
		sessionTimeout: m.classic.sessionTimeout, rebalanceTimeout: m.rebalanceTimeout,
		protocols: cloneProtocols(m.classic.protocols),
		expires:   now.Add(m.classic.sessionTimeout),
	}
	g.members[id] = c
	if c.instanceID != nil {
		g.static[*c.instanceID] = id
	}
}

// consumerAssignmentBytes encodes a as the consumer protocol's assignment
// in the version of the member's subscription metadata.
func consumerAssignmentBytes(a assignment, byID map[TopicID]string, metadata []byte) []byte {
	var sub kmsg.ConsumerMemberMetadata
	_ = sub.ReadFrom(metadata) // a version the client sent, or 0
	out := kmsg.NewConsumerMemberAssignment()
	out.Version = min(max(sub.Version, 0), 3)
	for _, id := range a.ids() {
		if name := byID[id]; name != "" {
			t := kmsg.NewConsumerMemberAssignmentTopic()
			t.Topic, t.Partitions = name, slices.Clone(a[id])
			out.Topics = append(out.Topics, t)
		}
	}
	return out.AppendTo(nil)
}
