package share

// member.go is share-group membership (ShareGroupHeartbeat, KIP-932):
// members name themselves (a client-generated UUID), join with epoch 0,
// heartbeat with their epoch, leave with -1, and are removed when their
// session times out. Every change of the members, their subscriptions or
// the subscribed topics' partitions bumps the group epoch and recomputes
// the assignment (assign.go) at once; a member takes the group epoch, and
// is sent its assignment, on its next heartbeat, as in Kafka's
// ShareGroupAssignmentBuilder. There is no revocation step: a partition
// may be assigned to several members, and records are locked one by one,
// so a member keeps acknowledging what it holds after losing a partition.

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// member is one member of a share group.
type member struct {
	id, clientID, clientHost string
	rack                     *string
	epoch, prevEpoch         int32
	subscribed               []string // sorted
	// assignment is the member's target assignment: topic id to
	// partitions, sorted.
	assignment map[[16]byte][]int32
	lastSeen   time.Time
}

// Client identifies who sent a request.
type Client struct {
	ID   string
	Host string
}

// Heartbeat handles ShareGroupHeartbeat. The returned wait, when not nil,
// must return before the response is sent: a new group is answered only
// once its existence is durable.
func (c *Coordinator) Heartbeat(req *kmsg.ShareGroupHeartbeatRequest, client Client) (*kmsg.ShareGroupHeartbeatResponse, func(context.Context) error) {
	resp := req.ResponseKind().(*kmsg.ShareGroupHeartbeatResponse)
	fail := func(err *kerr.Error, msg string) (*kmsg.ShareGroupHeartbeatResponse, func(context.Context) error) {
		resp.ErrorCode = err.Code
		if msg != "" {
			resp.ErrorMessage = &msg
		}
		return resp, nil
	}
	switch {
	case strings.TrimSpace(req.GroupID) == "":
		return fail(kerr.InvalidRequest, "GroupId can't be empty.")
	case !utf8.ValidString(req.GroupID):
		// The journal stores ids as JSON, which would replace invalid
		// bytes: the group would come back under another id.
		return fail(kerr.InvalidRequest, "GroupId must be valid UTF-8.")
	case req.MemberID == "" || len(req.MemberID) > 36:
		return fail(kerr.InvalidRequest, "MemberId must be a non-empty id of at most 36 characters.")
	case req.MemberEpoch < -1:
		return fail(kerr.InvalidRequest, "MemberEpoch is invalid.")
	case req.RackID != nil && strings.TrimSpace(*req.RackID) == "":
		return fail(kerr.InvalidRequest, "RackId can't be empty.")
	case req.MemberEpoch == 0 && len(req.SubscribedTopicNames) == 0:
		return fail(kerr.InvalidRequest, "SubscribedTopicNames must be set in first request.")
	}
	if c.opts.OtherGroup(req.GroupID) {
		return fail(kerr.GroupIDNotFound, "Group "+req.GroupID+" is not a share group.")
	}
	now := c.clock.Now()
	cfg := c.opts.Config(req.GroupID)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return fail(kerr.CoordinatorNotAvailable, "")
	}
	resp.HeartbeatIntervalMillis = int32(cfg.HeartbeatInterval.Milliseconds())
	g := c.groups[req.GroupID]
	if req.MemberEpoch == -1 {
		if g == nil || g.members[req.MemberID] == nil {
			return fail(kerr.UnknownMemberID, "")
		}
		c.removeMemberLocked(g, req.MemberID, now)
		resp.MemberID, resp.MemberEpoch = &req.MemberID, -1
		return resp, nil
	}
	var wait *waiter
	if g == nil {
		if req.MemberEpoch != 0 {
			return fail(kerr.GroupIDNotFound, "Group "+req.GroupID+" not found.")
		}
		g = newGroup(req.GroupID)
		c.groups[g.id] = g
		wait = c.persistLocked(g, nil, []record{{kind: kindGroup, group: g.id}}, nil)
	}
	m := g.members[req.MemberID]
	bump := false // the group epoch moves once per heartbeat at most
	switch {
	case req.MemberEpoch == 0 && m == nil:
		if len(g.members) >= c.opts.MaxGroupSize {
			return fail(kerr.GroupMaxSizeReached, "The share group has reached its maximum size of "+strconv.Itoa(c.opts.MaxGroupSize)+" members.")
		}
		m = &member{id: req.MemberID, assignment: map[[16]byte][]int32{}}
		g.members[m.id] = m
		bump = true
	case m == nil:
		return fail(kerr.UnknownMemberID, "")
	case req.MemberEpoch != 0 && req.MemberEpoch != m.epoch && req.MemberEpoch != m.prevEpoch:
		return fail(kerr.FencedMemberEpoch, fmt.Sprintf("The share group member has epoch %d, not %d.", m.epoch, req.MemberEpoch))
	}
	m.lastSeen, m.clientID, m.clientHost = now, client.ID, client.Host
	if req.RackID != nil {
		m.rack = req.RackID
	}
	if req.SubscribedTopicNames != nil {
		subs := slices.Clone(req.SubscribedTopicNames)
		slices.Sort(subs)
		subs = slices.Compact(subs)
		if !slices.Equal(subs, m.subscribed) {
			m.subscribed = subs
			bump = true
		}
	}
	if c.reassignLocked(g) || bump {
		g.epoch++
	}
	before := m.epoch
	if m.epoch != g.epoch {
		m.prevEpoch, m.epoch = m.epoch, g.epoch
	}
	resp.MemberID, resp.MemberEpoch = &req.MemberID, m.epoch
	if req.MemberEpoch == 0 || req.SubscribedTopicNames != nil || m.epoch != before {
		resp.Assignment = m.assignmentResponse()
	}
	if wait == nil {
		return resp, nil
	}
	return resp, wait.wait
}

// assignmentResponse is the member's assignment as the heartbeat gives it.
func (m *member) assignmentResponse() *kmsg.ShareGroupHeartbeatResponseAssignment {
	a := new(kmsg.ShareGroupHeartbeatResponseAssignment)
	for _, id := range slices.SortedFunc(maps.Keys(m.assignment), func(a, b [16]byte) int { return strings.Compare(string(a[:]), string(b[:])) }) {
		tp := kmsg.NewShareGroupHeartbeatResponseAssignmentTopicPartition()
		tp.TopicID, tp.Partitions = id, slices.Clone(m.assignment[id])
		a.TopicPartitions = append(a.TopicPartitions, tp)
	}
	return a
}

// reassignLocked recomputes the assignment from the members, their
// subscriptions and the subscribed topics as they are now (created,
// deleted, grown: no rejoin needed); the members learn it on their next
// heartbeats. It reports whether the group epoch must move: the
// assignment or the topics changed.
func (c *Coordinator) reassignLocked(g *shareGroup) bool {
	meta := c.metadataLocked(g)
	changed := assign(g, c.topics) || meta != g.meta
	g.meta = meta
	return changed
}

// metadataLocked fingerprints the subscribed topics: names, ids and
// partition counts.
func (c *Coordinator) metadataLocked(g *shareGroup) string {
	topics := map[string]bool{}
	for _, m := range g.members {
		for _, t := range m.subscribed {
			topics[t] = true
		}
	}
	var b strings.Builder
	for _, t := range slices.Sorted(maps.Keys(topics)) {
		id, n, ok := c.topics.Topic(t)
		if !ok {
			continue
		}
		fmt.Fprintf(&b, "%s:%x:%d;", t, id, n)
	}
	return b.String()
}

// removeMemberLocked removes a member (it left or timed out): its share
// sessions end and its records are released; the others are reassigned.
func (c *Coordinator) removeMemberLocked(g *shareGroup, id string, now time.Time) {
	delete(g.members, id)
	if s := g.sessions[id]; s != nil {
		c.dropSessionLocked(g, id)
	}
	c.releaseMemberLocked(g, id, nil)
	c.reassignLocked(g)
	g.epoch++
}

// releaseMemberLocked releases what member holds in the partitions tps
// (nil: all of the group's), persisting and waking fetches.
func (c *Coordinator) releaseMemberLocked(g *shareGroup, id string, tps []TopicPartition) *waiter {
	lim := c.opts.Config(g.id).limits()
	return c.releaseLocked(g, tps, &c.stats.released, func(p *Partition) (int, int) { return p.ReleaseMember(id, lim) })
}

// releaseLocked runs release on g's partitions tps (nil: all), counts
// what it released in counter and what it archived at the delivery
// limit, wakes waiting fetches if records became available, and persists.
func (c *Coordinator) releaseLocked(g *shareGroup, tps []TopicPartition, counter *atomic.Uint64, release func(*Partition) (released, archived int)) *waiter {
	if tps == nil {
		tps = slices.Collect(maps.Keys(g.parts))
	}
	var touched []TopicPartition
	woke := false
	for _, tp := range tps {
		sp := g.parts[tp]
		if sp == nil {
			continue
		}
		spso := sp.p.SPSO()
		released, archived := release(sp.p)
		if released > 0 {
			counter.Add(uint64(released))
			c.stats.archivedAtLimit.Add(uint64(archived))
			touched = append(touched, tp)
			// Available again, or archived at the window's front, which
			// makes room in it (see acknowledgeLocked).
			woke = woke || released > archived || sp.p.SPSO() != spso
		}
	}
	if woke {
		g.wakeFetches()
	}
	return c.persistLocked(g, touched, nil, nil)
}
