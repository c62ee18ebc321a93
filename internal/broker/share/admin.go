package share

// admin.go is what administrators and the other group APIs ask of share
// groups: ShareGroupDescribe, ListGroups, the share-group offsets
// (DescribeShareGroupOffsets, AlterShareGroupOffsets,
// DeleteShareGroupOffsets), DeleteGroups, and the figures /metrics shows.

import (
	"context"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Exists reports whether a share group of that id exists. The group
// coordinator asks it before creating a classic or consumer group: group
// ids are one namespace.
func (c *Coordinator) Exists(group string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.groups[group] != nil
}

// Describe returns a group's ShareGroupDescribe entry and the topics its
// members are assigned (for the caller's DESCRIBE checks); ok is false
// when there is no such share group.
func (c *Coordinator) Describe(groupID string) (d kmsg.ShareGroupDescribeResponseGroup, topics []string, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.groups[groupID]
	d = kmsg.NewShareGroupDescribeResponseGroup()
	d.GroupID = groupID
	if g == nil {
		return d, nil, false
	}
	d.GroupState = g.state()
	d.GroupEpoch, d.AssignmentEpoch, d.Assignor = g.epoch, g.epoch, "simple"
	seen := map[string]bool{}
	for _, id := range slices.Sorted(maps.Keys(g.members)) {
		m := g.members[id]
		dm := kmsg.NewShareGroupDescribeResponseGroupMember()
		dm.MemberID, dm.RackID, dm.MemberEpoch = m.id, m.rack, m.epoch
		dm.ClientID, dm.ClientHost = m.clientID, m.clientHost
		dm.SubscribedTopicNames = slices.Clone(m.subscribed)
		for tid, parts := range m.assignment {
			tp := kmsg.NewShareGroupDescribeResponseGroupMemberAssignmentTopicPartition()
			tp.TopicID, tp.Partitions = tid, slices.Clone(parts)
			tp.Topic, _ = c.topics.TopicName(tid)
			dm.Assignment.TopicPartitions = append(dm.Assignment.TopicPartitions, tp)
			if !seen[tp.Topic] && tp.Topic != "" {
				seen[tp.Topic] = true
				topics = append(topics, tp.Topic)
			}
		}
		d.Members = append(d.Members, dm)
	}
	return d, topics, true
}

// state is the group's state as Kafka names it.
func (g *shareGroup) state() string {
	if len(g.members) == 0 {
		return "Empty"
	}
	return "Stable"
}

// Listing is a share group as ListGroups shows it.
type Listing struct {
	Group string
	State string
}

// List returns every share group, sorted by id.
func (c *Coordinator) List() []Listing {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]Listing, 0, len(c.groups))
	for _, id := range slices.Sorted(maps.Keys(c.groups)) {
		out = append(out, Listing{Group: id, State: c.groups[id].state()})
	}
	return out
}

// PartitionOffset is one share-partition's start offset and lag.
type PartitionOffset struct {
	Topic     string
	TopicID   [16]byte
	Partition int32
	// StartOffset is the SPSO.
	StartOffset int64
	// Lag is the records below the high watermark still to be
	// delivered and finished (-1 when the partition's log is gone).
	Lag int64
	// InFlight counts the window's offsets by state.
	Available, Acquired, Finished int
}

// Offsets returns the start offsets and lags of a group's
// share-partitions, sorted by topic and partition; ok is false when there
// is no such share group.
func (c *Coordinator) Offsets(groupID string) (out []PartitionOffset, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.groups[groupID]
	if g == nil {
		return nil, false
	}
	for tp, sp := range g.parts {
		po := PartitionOffset{Topic: sp.topic, TopicID: tp.TopicID, Partition: tp.Partition, StartOffset: sp.p.SPSO(), Lag: -1}
		if l := c.topics.Log(sp.topic, tp.Partition); l != nil {
			po.Lag = sp.p.Lag(l.HighWatermark())
		}
		po.Available, po.Acquired, po.Finished = sp.p.Counts()
		out = append(out, po)
	}
	slices.SortFunc(out, func(a, b PartitionOffset) int {
		if c := strings.Compare(a.Topic, b.Topic); c != 0 {
			return c
		}
		return int(a.Partition - b.Partition)
	})
	return out, true
}

// AlterPartition is one partition's new start offset.
type AlterPartition struct {
	Topic       string
	Partition   int32
	StartOffset int64
}

// AlterOffsets sets share-partitions' start offsets, forgetting what
// was in flight (AlterShareGroupOffsets). The group must be empty
// (NON_EMPTY_GROUP); it is created if it does not exist. codes has one
// code per partition; wait returns once the change is durable.
func (c *Coordinator) AlterOffsets(groupID string, parts []AlterPartition) (code int16, codes []int16, wait func(context.Context) error) {
	if groupID == "" || !utf8.ValidString(groupID) {
		// The journal stores ids as JSON, which would replace invalid
		// bytes: the group would come back under another id.
		return kerr.InvalidGroupID.Code, nil, nil
	}
	if c.opts.OtherGroup(groupID) {
		return kerr.GroupIDNotFound.Code, nil, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return kerr.CoordinatorNotAvailable.Code, nil, nil
	}
	g := c.groups[groupID]
	var pre []record
	if g == nil {
		g = newGroup(groupID)
		c.groups[groupID] = g
		pre = append(pre, record{kind: kindGroup, group: groupID})
	}
	if len(g.members) > 0 {
		return kerr.NonEmptyGroup.Code, nil, nil
	}
	var touched []TopicPartition
	for _, ap := range parts {
		id, n, ok := c.topics.Topic(ap.Topic)
		switch {
		case !ok || ap.Partition < 0 || ap.Partition >= n:
			codes = append(codes, kerr.UnknownTopicOrPartition.Code)
			continue
		case ap.StartOffset < 0:
			codes = append(codes, kerr.InvalidRequest.Code)
			continue
		}
		tp := TopicPartition{TopicID: id, Partition: ap.Partition}
		if sp := g.parts[tp]; sp != nil {
			sp.p.Reset(ap.StartOffset)
		} else {
			g.parts[tp] = &sharePart{topic: ap.Topic, p: NewPartition(ap.StartOffset)}
		}
		touched = append(touched, tp)
		codes = append(codes, 0)
	}
	g.wakeFetches()
	c.log.Info("share group offsets altered", "group", groupID, "partitions", len(touched))
	return 0, codes, c.persistLocked(g, touched, pre, nil).wait
}

// DeleteOffsets forgets the share-partitions of topics
// (DeleteShareGroupOffsets). The group must exist (GROUP_ID_NOT_FOUND)
// and be empty (NON_EMPTY_GROUP). codes has one code per topic.
func (c *Coordinator) DeleteOffsets(groupID string, topics []string) (code int16, codes []int16, wait func(context.Context) error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.groups[groupID]
	switch {
	case c.closed:
		return kerr.CoordinatorNotAvailable.Code, nil, nil
	case g == nil:
		return kerr.GroupIDNotFound.Code, nil, nil
	case len(g.members) > 0:
		return kerr.NonEmptyGroup.Code, nil, nil
	}
	ids := map[[16]byte]bool{} // one pass over the partitions, however many names
	for _, t := range topics {
		id, _, ok := c.topics.Topic(t)
		if !ok {
			codes = append(codes, kerr.UnknownTopicOrPartition.Code)
			continue
		}
		ids[id] = true
		codes = append(codes, 0)
	}
	var gone []record
	for tp := range g.parts {
		if ids[tp.TopicID] {
			delete(g.parts, tp)
			gone = append(gone, record{kind: kindPartitionDelete, group: groupID, tp: tp})
		}
	}
	return 0, codes, c.persistLocked(g, nil, nil, gone).wait
}

// DeleteGroup deletes an empty share group and all its state
// (DeleteGroups): GROUP_ID_NOT_FOUND if there is none, NON_EMPTY_GROUP if
// it has members. wait returns once the deletion is durable.
func (c *Coordinator) DeleteGroup(groupID string) (code int16, wait func(context.Context) error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	g := c.groups[groupID]
	switch {
	case c.closed:
		return kerr.CoordinatorNotAvailable.Code, nil
	case g == nil:
		return kerr.GroupIDNotFound.Code, nil
	case len(g.members) > 0:
		return kerr.NonEmptyGroup.Code, nil
	}
	for id := range g.sessions {
		c.dropSessionLocked(g, id)
	}
	delete(c.groups, groupID)
	g.wakeFetches()
	c.log.Info("share group deleted", "group", groupID, "share_partitions", len(g.parts))
	return 0, c.persistLocked(g, nil, nil, []record{{kind: kindGroupDelete, group: groupID}}).wait
}

// Stats are the coordinator's figures for /metrics.
type Stats struct {
	Groups, Members, Sessions, SharePartitions int
	// Acquired and Available count the offsets in flight by state.
	Acquired, Available int
	// Totals since start.
	RecordsAcquired                               uint64
	Accepted, Released, Rejected, Gaps, Renewed   uint64
	ArchivedAtLimit, LockExpiries, MemberExpiries uint64
	WriteFailures                                 uint64
}

// Stats returns the current figures.
func (c *Coordinator) Stats() Stats {
	c.mu.Lock()
	s := Stats{Groups: len(c.groups), Sessions: c.sessions}
	for _, g := range c.groups {
		s.Members += len(g.members)
		s.SharePartitions += len(g.parts)
		for _, sp := range g.parts {
			av, acq, _ := sp.p.Counts()
			s.Available += av
			s.Acquired += acq
		}
	}
	c.mu.Unlock()
	s.RecordsAcquired = c.stats.acquired.Load()
	s.Accepted, s.Released, s.Rejected = c.stats.accepted.Load(), c.stats.released.Load(), c.stats.rejected.Load()
	s.Gaps, s.Renewed = c.stats.gaps.Load(), c.stats.renewed.Load()
	s.ArchivedAtLimit, s.LockExpiries, s.MemberExpiries = c.stats.archivedAtLimit.Load(), c.stats.lockExpiries.Load(), c.stats.memberExpiries.Load()
	s.WriteFailures = c.stats.writeFailures.Load()
	return s
}
