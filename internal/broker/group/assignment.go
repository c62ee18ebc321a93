package group

// assignment.go is a set of partitions keyed by topic id, the unit of
// KIP-848's target and current assignments. Values are treated as
// immutable: every operation returns a new set, so that a set handed to a
// record, a response or another member is never changed behind it.

import (
	"bytes"
	"slices"
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// assignment maps a topic id to its partitions, sorted and unique; a
// topic with no partitions is absent.
type assignment map[TopicID][]int32

// count is the number of partitions.
func (a assignment) count() int {
	n := 0
	for _, ps := range a {
		n += len(ps)
	}
	return n
}

// has reports whether a holds partition p of topic id.
func (a assignment) has(id TopicID, p int32) bool {
	_, ok := slices.BinarySearch(a[id], p)
	return ok
}

// equal reports whether a and b hold the same partitions.
func (a assignment) equal(b assignment) bool {
	if len(a) != len(b) {
		return false
	}
	for id, ps := range a {
		if !slices.Equal(ps, b[id]) {
			return false
		}
	}
	return true
}

// ids returns the topic ids, sorted.
func (a assignment) ids() []TopicID {
	out := make([]TopicID, 0, len(a))
	for id := range a {
		out = append(out, id)
	}
	sort.Slice(out, func(i, j int) bool { return bytes.Compare(out[i][:], out[j][:]) < 0 })
	return out
}

// each calls fn for every partition, topics in id order.
func (a assignment) each(fn func(id TopicID, p int32)) {
	for _, id := range a.ids() {
		for _, p := range a[id] {
			fn(id, p)
		}
	}
}

// filter returns the partitions for which keep is true.
func (a assignment) filter(keep func(id TopicID, p int32) bool) assignment {
	out := assignment{}
	for id, ps := range a {
		var kept []int32
		for _, p := range ps {
			if keep(id, p) {
				kept = append(kept, p)
			}
		}
		if len(kept) > 0 {
			out[id] = kept
		}
	}
	return out
}

// minus returns the partitions of a not in b.
func (a assignment) minus(b assignment) assignment {
	return a.filter(func(id TopicID, p int32) bool { return !b.has(id, p) })
}

// union returns the partitions in a or b.
func (a assignment) union(b assignment) assignment {
	out := assignment{}
	for id, ps := range a {
		out[id] = ps
	}
	for id, ps := range b {
		if cur, ok := out[id]; ok {
			out[id] = sortedUnique(append(slices.Clone(cur), ps...))
		} else {
			out[id] = ps
		}
	}
	return out
}

// builder accumulates partitions into an assignment.
type builder map[TopicID][]int32

func (b builder) add(id TopicID, p int32) { b[id] = append(b[id], p) }

// build returns the partitions added, sorted and unique.
func (b builder) build() assignment {
	out := make(assignment, len(b))
	for id, ps := range b {
		if len(ps) > 0 {
			out[id] = sortedUnique(ps)
		}
	}
	return out
}

func sortedUnique(ps []int32) []int32 {
	slices.Sort(ps)
	return slices.Compact(ps)
}

// ownedFromRequest is the partitions a member reports owning in a
// heartbeat; nil when it did not report them (a keepalive heartbeat).
// Duplicates and negative partitions are dropped.
func ownedFromRequest(ts []kmsg.ConsumerGroupHeartbeatRequestTopic) assignment {
	if ts == nil {
		return nil
	}
	b := builder{}
	for _, t := range ts {
		for _, p := range t.Partitions {
			if p >= 0 {
				b.add(t.TopicID, p)
			}
		}
	}
	return b.build()
}

// heartbeatTopics is a as a heartbeat response's assignment.
func (a assignment) heartbeatTopics() *kmsg.ConsumerGroupHeartbeatResponseAssignment {
	out := &kmsg.ConsumerGroupHeartbeatResponseAssignment{Topics: []kmsg.ConsumerGroupHeartbeatResponseAssignmentTopic{}}
	for _, id := range a.ids() {
		t := kmsg.NewConsumerGroupHeartbeatResponseAssignmentTopic()
		t.TopicID, t.Partitions = id, slices.Clone(a[id])
		out.Topics = append(out.Topics, t)
	}
	return out
}

// describeTopics is a as ConsumerGroupDescribe shows it.
func (a assignment) describeTopics(name func(TopicID) string) kmsg.Assignment {
	out := kmsg.NewAssignment()
	out.TopicPartitions = []kmsg.AssignmentTopicPartition{}
	for _, id := range a.ids() {
		t := kmsg.NewAssignmentTopicPartition()
		t.TopicID, t.Topic, t.Partitions = id, name(id), slices.Clone(a[id])
		out.TopicPartitions = append(out.TopicPartitions, t)
	}
	return out
}
