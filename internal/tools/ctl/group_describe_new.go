package ctl

// group_describe_new.go describes the groups of the new protocols:
// KIP-848 consumer groups (ConsumerGroupDescribe, plus the committed
// offsets and lag classic groups get) and KIP-932 share groups
// (ShareGroupDescribe and DescribeShareGroupOffsets).

import (
	"context"
	"fmt"
	"sort"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// describeConsumerGroup describes a KIP-848 consumer group.
func (a *Admin) describeConsumerGroup(ctx context.Context, group string) (GroupDescription, error) {
	req := kmsg.NewPtrConsumerGroupDescribeRequest()
	req.Groups = []string{group}
	resp, err := req.RequestWith(ctx, a.cl)
	if err := describedOne(group, "ConsumerGroupDescribe", err, func() (string, int16, *string, bool) {
		if len(resp.Groups) != 1 {
			return "", 0, nil, false
		}
		g := resp.Groups[0]
		return g.Group, g.ErrorCode, g.ErrorMessage, true
	}); err != nil {
		return GroupDescription{}, err
	}
	g := resp.Groups[0]
	d := GroupDescription{
		Group:           group,
		Type:            "consumer",
		Coordinator:     a.coordinatorOf(ctx, group),
		State:           g.State,
		ProtocolType:    "consumer",
		Protocol:        g.AssignorName,
		Epoch:           g.Epoch,
		AssignmentEpoch: g.AssignmentEpoch,
	}
	names := topicNamer{a: a}
	set := make(kadm.TopicsSet)
	for _, m := range g.Members {
		assigned, target := make(kadm.TopicsSet), make(kadm.TopicsSet)
		for _, tp := range m.Assignment.TopicPartitions {
			assigned.Add(names.name(ctx, tp.Topic, tp.TopicID), tp.Partitions...)
		}
		for _, tp := range m.TargetAssignment.TopicPartitions {
			target.Add(names.name(ctx, tp.Topic, tp.TopicID), tp.Partitions...)
		}
		d.Members = append(d.Members, GroupMember{
			MemberID:   m.MemberID,
			InstanceID: deref(m.InstanceID),
			ClientID:   m.ClientID,
			Host:       m.ClientHost,
			Epoch:      m.MemberEpoch,
			Assigned:   partitionsOf(assigned),
			Target:     partitionsOf(target),
			Subscribed: sortedCopy(m.SubscribedTopics),
			Regex:      deref(m.SubscribedTopicRegex),
			Classic:    m.MemberType == 0,
		})
		set.Merge(assigned)
		set.Merge(target)
		set.MergeTopics(m.SubscribedTopics)
	}
	sortMembers(d.Members)
	d.Offsets, d.OffsetsErr = a.groupOffsets(ctx, group, set, ownersOf(d.Members))
	return d, nil
}

// describeShareGroup describes a KIP-932 share group: its members, and
// per share-partition (those the group has state for, and those assigned)
// its start offset, end offset and lag.
func (a *Admin) describeShareGroup(ctx context.Context, group string) (GroupDescription, error) {
	req := kmsg.NewPtrShareGroupDescribeRequest()
	req.GroupIDs = []string{group}
	resp, err := req.RequestWith(ctx, a.cl)
	if err := describedOne(group, "ShareGroupDescribe", err, func() (string, int16, *string, bool) {
		if len(resp.Groups) != 1 {
			return "", 0, nil, false
		}
		g := resp.Groups[0]
		return g.GroupID, g.ErrorCode, g.ErrorMessage, true
	}); err != nil {
		return GroupDescription{}, err
	}
	g := resp.Groups[0]
	d := GroupDescription{
		Group:           group,
		Type:            "share",
		Coordinator:     a.coordinatorOf(ctx, group),
		State:           g.GroupState,
		ProtocolType:    "share",
		Protocol:        g.Assignor,
		Epoch:           g.GroupEpoch,
		AssignmentEpoch: g.AssignmentEpoch,
	}
	names := topicNamer{a: a}
	for _, m := range g.Members {
		assigned := make(kadm.TopicsSet)
		for _, tp := range m.Assignment.TopicPartitions {
			assigned.Add(names.name(ctx, tp.Topic, tp.TopicID), tp.Partitions...)
		}
		d.Members = append(d.Members, GroupMember{
			MemberID:   m.MemberID,
			ClientID:   m.ClientID,
			Host:       m.ClientHost,
			Epoch:      m.MemberEpoch,
			Assigned:   partitionsOf(assigned),
			Subscribed: sortedCopy(m.SubscribedTopicNames),
		})
	}
	sortMembers(d.Members)
	d.Shares, d.OffsetsErr = a.shareOffsets(ctx, group, d.Members)
	return d, nil
}

// describedOne checks the answer to a describe request (api) for one
// group: the request's error, then the one group answered (what returns
// its id, error code and message, false if there is not exactly one).
func describedOne(group, api string, err error, what func() (id string, code int16, msg *string, ok bool)) error {
	if err != nil {
		return groupErr("describe", group, optionalErr(api, err), "")
	}
	id, code, msg, ok := what()
	if !ok || id != group {
		return fmt.Errorf("describe group %s: the cluster's response did not mention the group", group)
	}
	return groupErr("describe", group, kerr.ErrorForCode(code), deref(msg))
}

// coordinatorOf returns the group's coordinator as "ID (host:port)", or ""
// if FindCoordinator fails (the description does without it).
func (a *Admin) coordinatorOf(ctx context.Context, group string) string {
	c := a.adm.FindGroupCoordinators(ctx, group)[group]
	if c.Err != nil {
		return ""
	}
	return coordinator(kadm.BrokerDetail{NodeID: c.NodeID, Host: c.Host, Port: c.Port})
}

// topicNamer names topics by ID for responses that carry only the ID
// (KIP-848 and KIP-932 assignments may leave the name empty), listing the
// cluster's topics once, on first need.
type topicNamer struct {
	a     *Admin
	byID  map[kadm.TopicID]string
	ready bool
}

// name returns name if set, else the name of the topic with id, else the
// ID itself (a topic deleted meanwhile).
func (n *topicNamer) name(ctx context.Context, name string, id [16]byte) string {
	if name != "" {
		return name
	}
	if !n.ready {
		n.ready = true
		n.byID = make(map[kadm.TopicID]string)
		if tds, err := n.a.adm.ListTopicsWithInternal(ctx); err == nil {
			for _, td := range tds {
				n.byID[td.ID] = td.Topic
			}
		}
	}
	if t, ok := n.byID[kadm.TopicID(id)]; ok {
		return t
	}
	return kadm.TopicID(id).String()
}

// deref returns *s, or "" if s is nil.
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// shareOffsets returns the share-partitions of the group: those it has
// state for (DescribeShareGroupOffsets) and those assigned to its members,
// with their end offsets.
func (a *Admin) shareOffsets(ctx context.Context, group string, members []GroupMember) ([]ShareOffset, error) {
	byTP := make(map[string]map[int32]*ShareOffset)
	add := func(t string, p int32) *ShareOffset {
		if byTP[t] == nil {
			byTP[t] = make(map[int32]*ShareOffset)
		}
		s := byTP[t][p]
		if s == nil {
			s = &ShareOffset{Topic: t, Partition: p, Start: -1, End: -1, Lag: -1}
			byTP[t][p] = s
		}
		return s
	}
	var errs []error
	described, err := a.adm.DescribeShareGroupOffsets(ctx, group)
	if err == nil {
		err = described[group].Err
	}
	if err != nil {
		errs = append(errs, fmt.Errorf("describe share-group offsets: %w", optionalErr("DescribeShareGroupOffsets", firstShardErr(err))))
	}
	described[group].Offsets.Each(func(o kadm.ShareOffset) {
		s := add(o.Topic, o.Partition)
		s.Start, s.Lag, s.Err = o.StartOffset, o.Lag, o.Err
	})
	set := make(kadm.TopicsSet)
	for _, m := range members {
		for t, ps := range m.Assigned {
			set.Add(t, ps...)
			for _, p := range ps {
				s := add(t, p)
				s.Members = append(s.Members, m.MemberID)
			}
		}
	}
	for t, ps := range byTP {
		for p := range ps {
			set.Add(t, p)
		}
	}
	_, ends, lerr := a.listStartEnd(ctx, set)
	if lerr != nil {
		errs = append(errs, lerr)
	}
	var out []ShareOffset
	for t, ps := range byTP {
		for p, s := range ps {
			if e, ok := ends.Lookup(t, p); ok && e.Err == nil {
				s.End = e.Offset
			} else if ok && s.Err == nil {
				s.Err = e.Err
			}
			out = append(out, *s)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Topic != out[j].Topic {
			return out[i].Topic < out[j].Topic
		}
		return out[i].Partition < out[j].Partition
	})
	switch len(errs) {
	case 0:
		return out, nil
	case 1:
		return out, errs[0]
	default:
		return out, fmt.Errorf("%w; %w", errs[0], errs[1])
	}
}

// sortedCopy returns a sorted copy of ss, nil if it is empty.
func sortedCopy(ss []string) []string {
	if len(ss) == 0 {
		return nil
	}
	out := append([]string(nil), ss...)
	sort.Strings(out)
	return out
}
