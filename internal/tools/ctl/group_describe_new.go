package ctl

// group_describe_new.go reads the descriptions of the groups of the new
// protocols: KIP-848 consumer groups (ConsumerGroupDescribe; their
// committed offsets and lag are computed as a classic group's) and KIP-932
// share groups (ShareGroupDescribe, and per share-partition the start
// offset and lag of DescribeShareGroupOffsets). The requests are sent by
// group_batch.go, for one group or many.

import (
	"context"
	"sort"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// consumerDescription reads one group of a ConsumerGroupDescribe
// response (a KIP-848 consumer group), answered by coordinator coord.
func consumerDescription(ctx context.Context, rg kmsg.ConsumerGroupDescribeResponseGroup, coord string, names *topicNamer) *describing {
	x := &describing{d: GroupDescription{
		Group:           rg.Group,
		Type:            "consumer",
		Coordinator:     coord,
		State:           rg.State,
		ProtocolType:    "consumer",
		Protocol:        rg.AssignorName,
		Epoch:           rg.Epoch,
		AssignmentEpoch: rg.AssignmentEpoch,
	}, set: make(kadm.TopicsSet)}
	if x.d.Err = groupErr("describe", rg.Group, kerr.ErrorForCode(rg.ErrorCode), deref(rg.ErrorMessage)); x.d.Err != nil {
		return x
	}
	for _, m := range rg.Members {
		assigned, target := make(kadm.TopicsSet), make(kadm.TopicsSet)
		for _, tp := range m.Assignment.TopicPartitions {
			assigned.Add(names.name(ctx, tp.Topic, tp.TopicID), tp.Partitions...)
		}
		for _, tp := range m.TargetAssignment.TopicPartitions {
			target.Add(names.name(ctx, tp.Topic, tp.TopicID), tp.Partitions...)
		}
		x.d.Members = append(x.d.Members, GroupMember{
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
		x.set.Merge(assigned)
		x.set.Merge(target)
		x.set.MergeTopics(m.SubscribedTopics)
	}
	sortMembers(x.d.Members)
	return x
}

// shareDescription reads one group of a ShareGroupDescribe response (a
// KIP-932 share group), answered by coordinator coord.
func shareDescription(ctx context.Context, rg kmsg.ShareGroupDescribeResponseGroup, coord string, names *topicNamer) *describing {
	x := &describing{d: GroupDescription{
		Group:           rg.GroupID,
		Type:            "share",
		Coordinator:     coord,
		State:           rg.GroupState,
		ProtocolType:    "share",
		Protocol:        rg.Assignor,
		Epoch:           rg.GroupEpoch,
		AssignmentEpoch: rg.AssignmentEpoch,
	}, set: make(kadm.TopicsSet)}
	if x.d.Err = groupErr("describe", rg.GroupID, kerr.ErrorForCode(rg.ErrorCode), deref(rg.ErrorMessage)); x.d.Err != nil {
		return x
	}
	for _, m := range rg.Members {
		assigned := make(kadm.TopicsSet)
		for _, tp := range m.Assignment.TopicPartitions {
			assigned.Add(names.name(ctx, tp.Topic, tp.TopicID), tp.Partitions...)
		}
		x.d.Members = append(x.d.Members, GroupMember{
			MemberID:   m.MemberID,
			ClientID:   m.ClientID,
			Host:       m.ClientHost,
			Epoch:      m.MemberEpoch,
			Assigned:   partitionsOf(assigned),
			Subscribed: sortedCopy(m.SubscribedTopicNames),
		})
		x.set.Merge(assigned)
	}
	sortMembers(x.d.Members)
	return x
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

// shareState is what DescribeShareGroupOffsets says of one
// share-partition of a group.
type shareState struct {
	start, lag int64
	err        error
}

// shareOffsetsOf returns a share group's share-partitions: those it has
// state for and those assigned to its members, with their end offsets,
// sorted by topic and partition.
func shareOffsetsOf(states map[string]map[int32]shareState, members []GroupMember, ends kadm.ListedOffsets) []ShareOffset {
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
	for t, ps := range states {
		for p, st := range ps {
			s := add(t, p)
			s.Start, s.Lag, s.Err = st.start, st.lag, st.err
		}
	}
	for _, m := range members {
		for t, ps := range m.Assigned {
			for _, p := range ps {
				s := add(t, p)
				s.Members = append(s.Members, m.MemberID)
			}
		}
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
	return out
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
