package group

// consumer_records.go is how a consumer group's state reaches the journal
// (DATA/meta/groups/offsets.log, beside the offsets and classic groups),
// so that members, epochs and assignments survive a restart as in Kafka,
// whose ConsumerGroup* records in __consumer_offsets this follows in fewer
// kinds:
//
//   - kindConsumerGroup: the group epoch, the assignment epoch, the
//     subscription metadata and the whole target assignment. One record,
//     so that a target assignment is never half written. It also makes
//     the group a consumer group: it replaces a classic group's record
//     (kindGroup replaces it back), keeping the offsets.
//   - kindConsumerMember: one member, its subscription, epochs, state and
//     current assignment (an upsert).
//   - kindConsumerMemberDelete: a member that left or was fenced.
//
// A consumer group's live state runs ahead of its records, as a classic
// group's membership does; the heartbeat's answer waits until they are
// durable, so a member is never told what a restart would not show. When
// a batch fails the group is marked dirty and written whole with its next
// change, so that the journal never holds a member's later change without
// an earlier one it depends on (a partition released before it is handed
// on).

import (
	"bytes"
	"encoding/binary"
	"maps"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Record kinds of consumer groups (see record.go for the others).
const (
	kindConsumerGroup        recordKind = 7
	kindConsumerMember       recordKind = 8
	kindConsumerMemberDelete recordKind = 9
)

// consumerGroupRec is kindConsumerGroup's body.
type consumerGroupRec struct {
	epoch, assignmentEpoch int32
	subscription           []subscribedTopic // by name
	target                 map[string]assignment
	// regexes are the members' regexes as resolved (with the
	// principal's ACLs of the time), as Kafka's
	// ConsumerGroupRegularExpression records keep them.
	regexes map[string][]string
}

// persistConsumerGroup records the group's epochs, subscription and
// target assignment.
func (g *Group) persistConsumerGroup() {
	cg := g.cg
	rec := &consumerGroupRec{epoch: cg.epoch, assignmentEpoch: cg.assignmentEpoch, target: maps.Clone(cg.target), regexes: map[string][]string{}}
	for re, r := range cg.regexes {
		rec.regexes[re] = r.topics
	}
	for _, t := range cg.subscription {
		rec.subscription = append(rec.subscription, t)
	}
	sort.Slice(rec.subscription, func(i, j int) bool { return rec.subscription[i].name < rec.subscription[j].name })
	g.out = append(g.out, record{kind: kindConsumerGroup, group: g.id, cgroup: rec})
}

// persistMember records one member.
func (g *Group) persistMember(m *cmember) {
	rec := m.consumerMemberRec
	rec.names = slices.Clone(rec.names)
	g.out = append(g.out, record{kind: kindConsumerMember, group: g.id, cmember: &rec})
}

// deleteMemberRecord records a member's removal.
func (g *Group) deleteMemberRecord(id string) {
	g.out = append(g.out, record{kind: kindConsumerMemberDelete, group: g.id, memberID: id})
}

// persistConsumerAll records the whole group again (after a failed
// write).
func (g *Group) persistConsumerAll() {
	g.persistConsumerGroup()
	for _, m := range g.cg.sortedMembers() {
		g.persistMember(m)
	}
}

// consumerPersisted notes a consumer group record's outcome: a failure
// leaves the journal behind the live state, so the group is written whole
// with its next change (flushDirty).
func (g *Group) consumerPersisted(r record, err error) {
	if err != nil && g.cg != nil {
		g.cg.dirty = true
	}
}

// flushDirty writes the whole group if an earlier write of it failed;
// called before a change produces records.
func (g *Group) flushDirty() {
	if g.cg != nil && g.cg.dirty {
		g.cg.dirty = false
		g.persistConsumerAll()
	}
}

// equal reports whether two member records hold the same state.
func (r *consumerMemberRec) equal(o *consumerMemberRec) bool {
	return r.id == o.id && eqStr(r.instanceID, o.instanceID) && eqStr(r.rackID, o.rackID) &&
		r.clientID == o.clientID && r.clientHost == o.clientHost && r.rebalanceTimeout == o.rebalanceTimeout &&
		slices.Equal(r.names, o.names) && r.regex == o.regex && r.assignor == o.assignor &&
		r.epoch == o.epoch && r.prevEpoch == o.prevEpoch && r.state == o.state &&
		r.assigned.equal(o.assigned) && r.revoking.equal(o.revoking) && r.classic.equal(o.classic)
}

func (c *classicMember) equal(o *classicMember) bool {
	if c == nil || o == nil {
		return c == o
	}
	return c.sessionTimeout == o.sessionTimeout && slices.EqualFunc(c.protocols, o.protocols, func(a, b kmsg.JoinGroupRequestProtocol) bool {
		return a.Name == b.Name && bytes.Equal(a.Metadata, b.Metadata)
	})
}

func eqStr(a, b *string) bool { return (a == nil) == (b == nil) && (a == nil || *a == *b) }

// appendConsumer appends a consumer record's fields.
func appendConsumer(b []byte, r record) []byte {
	switch r.kind {
	case kindConsumerGroup:
		c := r.cgroup
		b = binary.AppendVarint(b, int64(c.epoch))
		b = binary.AppendVarint(b, int64(c.assignmentEpoch))
		b = binary.AppendUvarint(b, uint64(len(c.subscription)))
		for _, t := range c.subscription {
			b = appendString(b, t.name)
			b = append(b, t.id[:]...)
			b = binary.AppendVarint(b, int64(t.partitions))
		}
		ids := slices.Sorted(maps.Keys(c.target))
		b = binary.AppendUvarint(b, uint64(len(ids)))
		for _, id := range ids {
			b = appendString(b, id)
			b = appendAssignment(b, c.target[id])
		}
		res := slices.Sorted(maps.Keys(c.regexes))
		b = binary.AppendUvarint(b, uint64(len(res)))
		for _, re := range res {
			b = appendString(b, re)
			b = appendStrings(b, c.regexes[re])
		}
	case kindConsumerMember:
		m := r.cmember
		b = appendString(b, m.id)
		b = appendNullableString(b, m.instanceID)
		b = appendNullableString(b, m.rackID)
		b = appendString(b, m.clientID)
		b = appendString(b, m.clientHost)
		b = binary.AppendVarint(b, m.rebalanceTimeout.Milliseconds())
		b = appendStrings(b, m.names)
		b = appendString(b, m.regex)
		b = appendString(b, m.assignor)
		b = binary.AppendVarint(b, int64(m.epoch))
		b = binary.AppendVarint(b, int64(m.prevEpoch))
		b = append(b, byte(m.state))
		b = appendAssignment(b, m.assigned)
		b = appendAssignment(b, m.revoking)
		if c := m.classic; c == nil {
			b = append(b, 0)
		} else {
			b = append(b, 1)
			b = binary.AppendVarint(b, c.sessionTimeout.Milliseconds())
			b = binary.AppendUvarint(b, uint64(len(c.protocols)))
			for _, p := range c.protocols {
				b = appendString(b, p.Name)
				b = appendBytes(b, p.Metadata)
			}
		}
	case kindConsumerMemberDelete:
		b = appendString(b, r.memberID)
	}
	return b
}

// appendStrings appends a sorted list of strings.
func appendStrings(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = appendString(b, s)
	}
	return b
}

// sortedStrings reads what appendStrings writes: strictly increasing.
func (d *decoder) sortedStrings(what string) []string {
	var out []string
	n := d.count(what)
	for i := 0; i < n && d.err == nil; i++ {
		s := d.string(what)
		if i > 0 && s <= out[i-1] {
			d.fail(what + " order")
		}
		out = append(out, s)
	}
	return out
}

func appendAssignment(b []byte, a assignment) []byte {
	ids := a.ids()
	b = binary.AppendUvarint(b, uint64(len(ids)))
	for _, id := range ids {
		b = append(b, id[:]...)
		b = binary.AppendUvarint(b, uint64(len(a[id])))
		for _, p := range a[id] {
			b = binary.AppendVarint(b, int64(p))
		}
	}
	return b
}

// decodeConsumer reads a consumer record's fields into r.
func decodeConsumer(d *decoder, r *record) {
	switch r.kind {
	case kindConsumerGroup:
		c := &consumerGroupRec{target: map[string]assignment{}, regexes: map[string][]string{}}
		c.epoch = d.epoch("group epoch", 0)
		c.assignmentEpoch = d.epoch("assignment epoch", 0)
		if c.assignmentEpoch > c.epoch {
			d.fail("assignment epoch past the group epoch")
		}
		n := d.count("subscription count")
		for i := 0; i < n && d.err == nil; i++ {
			t := subscribedTopic{name: d.string("topic")}
			t.id = d.topicID()
			t.partitions = d.int32("partition count")
			if t.partitions < 1 || (i > 0 && t.name <= c.subscription[i-1].name) {
				d.fail("subscribed topic")
			}
			c.subscription = append(c.subscription, t)
		}
		n = d.count("target count")
		prev := ""
		for i := 0; i < n && d.err == nil; i++ {
			id := d.string("member id")
			if i > 0 && id <= prev {
				d.fail("target member order")
			}
			prev = id
			c.target[id] = d.assignment()
		}
		n = d.count("regex count")
		prev = ""
		for i := 0; i < n && d.err == nil; i++ {
			re := d.string("regex")
			if i > 0 && re <= prev {
				d.fail("regex order")
			}
			prev = re
			c.regexes[re] = d.sortedStrings("resolved topics")
		}
		r.cgroup = c
	case kindConsumerMember:
		m := &consumerMemberRec{}
		m.id = d.string("member id")
		m.instanceID = d.nullableString("instance id")
		m.rackID = d.nullableString("rack id")
		m.clientID = d.string("client id")
		m.clientHost = d.string("client host")
		m.rebalanceTimeout = d.millis("rebalance timeout")
		m.names = d.sortedStrings("subscribed names")
		m.regex = d.string("regex")
		m.assignor = d.string("assignor")
		m.epoch = d.epoch("member epoch", epochStaticLeave)
		m.prevEpoch = d.epoch("previous member epoch", epochStaticLeave)
		m.state = memberState(d.byte("member state"))
		if m.state > memberUnreleased {
			d.fail("member state")
		}
		m.assigned = d.assignment()
		m.revoking = d.assignment()
		if d.flag("classic member") {
			c := &classicMember{sessionTimeout: d.millis("session timeout")}
			n := d.count("protocol count")
			for i := 0; i < n && d.err == nil; i++ {
				name := d.string("protocol name")
				c.protocols = append(c.protocols, kmsg.JoinGroupRequestProtocol{Name: name, Metadata: bytes.Clone(d.bytes("protocol metadata"))})
			}
			if len(c.protocols) == 0 {
				d.fail("classic member without protocols")
			}
			m.classic = c
		}
		r.cmember = m
	case kindConsumerMemberDelete:
		r.memberID = d.string("member id")
	}
}

// epoch reads an epoch no smaller than least.
func (d *decoder) epoch(what string, least int32) int32 {
	v := d.int32(what)
	if v < least {
		d.fail(what)
	}
	return v
}

func (d *decoder) byte(what string) byte {
	if len(d.b) == 0 {
		d.fail(what)
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) topicID() TopicID {
	var id TopicID
	if len(d.b) < len(id) {
		d.fail("topic id")
		return id
	}
	copy(id[:], d.b)
	d.b = d.b[len(id):]
	return id
}

// assignment reads what appendAssignment writes: topics in id order,
// each with partitions increasing, none negative.
func (d *decoder) assignment() assignment {
	a := assignment{}
	n := d.count("assignment topics")
	var prev TopicID
	for i := 0; i < n && d.err == nil; i++ {
		id := d.topicID()
		if i > 0 && bytes.Compare(id[:], prev[:]) <= 0 {
			d.fail("assignment topic order")
		}
		prev = id
		np := d.count("assignment partitions")
		if np == 0 {
			d.fail("assignment of no partitions")
		}
		ps := make([]int32, 0, np)
		for j := 0; j < np && d.err == nil; j++ {
			p := d.int32("partition")
			if p < 0 || p == math.MaxInt32 || (j > 0 && p <= ps[j-1]) {
				d.fail("partition")
			}
			ps = append(ps, p)
		}
		a[id] = ps
	}
	return a
}

// consumerDurable is a consumer group in the durable state: its group
// record and its members.
type consumerDurable struct {
	group   *consumerGroupRec
	members map[string]*consumerMemberRec
}

// applyConsumer folds a consumer record into s; it reports false for a
// member record of a group the journal last said was classic (damage or
// a bug: skipped, and the caller says so).
func (s *state) applyConsumer(r record) bool {
	cd := s.consumers[r.group]
	switch r.kind {
	case kindConsumerGroup:
		delete(s.groups, r.group)
		if cd == nil {
			cd = &consumerDurable{members: map[string]*consumerMemberRec{}}
			s.consumers[r.group] = cd
		}
		cd.group = r.cgroup
	case kindConsumerMember:
		if cd == nil {
			if s.groups[r.group] != nil {
				return false
			}
			cd = &consumerDurable{members: map[string]*consumerMemberRec{}}
			s.consumers[r.group] = cd
		}
		cd.members[r.cmember.id] = r.cmember
	case kindConsumerMemberDelete:
		if cd != nil {
			delete(cd.members, r.memberID)
			if cd.group == nil && len(cd.members) == 0 {
				delete(s.consumers, r.group) // nothing of it is left
			}
		}
	}
	return true
}

// consumerRecords is the snapshot of a consumer group: its group record,
// then its members in id order.
func (cd *consumerDurable) records(group string) []record {
	var out []record
	if cd.group != nil {
		out = append(out, record{kind: kindConsumerGroup, group: group, cgroup: cd.group})
	}
	for _, id := range slices.Sorted(maps.Keys(cd.members)) {
		out = append(out, record{kind: kindConsumerMember, group: group, cmember: cd.members[id]})
	}
	return out
}

// restoreConsumer rebuilds a consumer group from the journal. Every
// member gets a fresh session (and, if it was revoking, a fresh rebalance
// timeout), as after a coordinator failover in Kafka. State the records
// cannot explain (a partition owned by two members, two members with one
// instance id, a target naming a partition twice) is logged and repaired
// the safe way: the later member is removed (its client is told
// UNKNOWN_MEMBER_ID and rejoins) and the group epoch is bumped, so that
// the next heartbeat computes a new target; the repair is written back.
func (g *Group) restoreConsumer(cd *consumerDurable, now time.Time) {
	cg := newConsumerGroup(now)
	g.cg, g.protocolType = cg, "consumer"
	if cd.group != nil {
		cg.epoch, cg.assignmentEpoch = cd.group.epoch, cd.group.assignmentEpoch
		for _, t := range cd.group.subscription {
			cg.subscription[t.name] = t
		}
		cg.target = maps.Clone(cd.group.target)
		// Resolved at version 0: the next heartbeat resolves them again
		// (the topics may have changed while the broker was down).
		for re, topics := range cd.group.regexes {
			cg.regexes[re] = resolvedRegex{topics: topics}
		}
	}
	repaired := false
	drop := func(rec *consumerMemberRec, why string) {
		g.cfg.logger.Error("consumer group member not restored: "+why, "group", g.id, "member", rec.id)
		repaired = true
	}
	for _, id := range slices.Sorted(maps.Keys(cd.members)) {
		rec := *cd.members[id]
		m := &cmember{consumerMemberRec: rec}
		if rec.regex != "" {
			re, err := compileRegex(rec.regex)
			if err != nil {
				g.cfg.logger.Error("consumer group member's regex no longer compiles; it resolves to nothing", "group", g.id, "member", id, "regex", rec.regex, "err", err)
			}
			m.re = re
		}
		if rec.instanceID != nil && cg.static[*rec.instanceID] != "" {
			drop(&rec, "its instance id is another member's")
			continue
		}
		conflict := false
		m.owns().each(func(tid TopicID, p int32) { conflict = conflict || cg.ownerOf(tid, p) != "" })
		if conflict {
			drop(&rec, "it owns a partition another member owns")
			continue
		}
		cg.members[id] = m
		cg.addOwned(m, m.owns())
		if m.instanceID != nil {
			cg.static[*m.instanceID] = id
		}
		session, _ := g.consumerTimeouts()
		m.expires = now.Add(m.sessionTimeout(session))
		if m.state == memberUnrevoked && m.classic == nil {
			m.revokeBy, m.revokeEpoch = now.Add(m.rebalanceTimeout), m.epoch
		}
		if m.epoch > cg.assignmentEpoch {
			g.cfg.logger.Error("consumer group member is ahead of the target assignment", "group", g.id, "member", id, "epoch", m.epoch, "assignment_epoch", cg.assignmentEpoch)
			cg.epoch = max(cg.epoch, m.epoch)
			repaired = true
		}
	}
	seen := map[tpKey]bool{}
	for _, id := range slices.Sorted(maps.Keys(cg.target)) {
		if cg.members[id] == nil {
			// Its member's record is missing (a batch cut short, or a
			// member dropped above): its partitions need a new target.
			delete(cg.target, id)
			repaired = true
			continue
		}
		cg.target[id].each(func(tid TopicID, p int32) {
			if seen[tpKey{tid, p}] {
				repaired = true
			}
			seen[tpKey{tid, p}] = true
		})
	}
	if repaired {
		cg.epoch++
		g.cfg.logger.Warn("consumer group repaired at load; the next heartbeat computes a new target assignment", "group", g.id, "epoch", cg.epoch)
		g.persistConsumerGroup()
		for _, id := range slices.Sorted(maps.Keys(cd.members)) {
			if cg.members[id] == nil {
				g.deleteMemberRecord(id)
			}
		}
	}
}
