package group

// assignor.go holds KIP-848's server-side assignors, Kafka's
// group.consumer.assignors: "uniform" (the default) and "range". An
// assignor is a pure function from the members' subscriptions, the
// subscribed topics and the previous target assignment to the next one;
// the coordinator (consumer_assign.go) persists the result and reconciles
// each member towards it.

import (
	"bytes"
	"cmp"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// Assignor names (group.consumer.assignors).
const (
	AssignorUniform = "uniform"
	AssignorRange   = "range"
)

// assignorClasses are the Java class names Kafka's group.consumer.assignors
// also accepts for the built-in assignors.
var assignorClasses = map[string]string{
	"org.apache.kafka.coordinator.group.assignor.UniformAssignor": AssignorUniform,
	"org.apache.kafka.coordinator.group.assignor.RangeAssignor":   AssignorRange,
}

// ParseAssignors checks a group.consumer.assignors list: known names (or
// Kafka's class names for them), at least one, no repeats. The first is
// the default for members that name none.
func ParseAssignors(list []string) ([]string, error) {
	var out []string
	for _, a := range list {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		name := strings.ToLower(a)
		if n, ok := assignorClasses[a]; ok {
			name = n
		}
		if name != AssignorUniform && name != AssignorRange {
			return nil, fmt.Errorf("assignor %q: want uniform or range", a)
		}
		if slices.Contains(out, name) {
			return nil, fmt.Errorf("assignor %q listed twice", a)
		}
		out = append(out, name)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no assignor: want uniform, range or both")
	}
	return out, nil
}

// assignorMember is one member as an assignor sees it.
type assignorMember struct {
	id         string
	instanceID *string
	// topics are the subscribed topics that exist, sorted by id.
	topics []TopicID
	// current is the member's previous target assignment.
	current assignment
}

// assignorTopic is one subscribed topic.
type assignorTopic struct {
	name       string
	partitions int32
}

// assign runs the named assignor; an unknown name falls back to uniform
// (names are checked when members send them).
func assign(name string, members []assignorMember, topics map[TopicID]assignorTopic) map[string]assignment {
	if name == AssignorRange {
		return assignRange(members, topics)
	}
	return assignUniform(members, topics)
}

// tpKey is one partition.
type tpKey struct {
	id TopicID
	p  int32
}

// sortedTopicIDs returns the topics in name order (ids break ties), the
// order partitions are handed out in.
func sortedTopicIDs(topics map[TopicID]assignorTopic) []TopicID {
	ids := make([]TopicID, 0, len(topics))
	for id := range topics {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		if a, b := topics[ids[i]].name, topics[ids[j]].name; a != b {
			return a < b
		}
		return bytes.Compare(ids[i][:], ids[j][:]) < 0
	})
	return ids
}

// assignUniform spreads every subscribed partition over the members
// subscribed to its topic so that, when all members subscribe to the same
// topics, no member has more than one partition more than another; and it
// is sticky: a member keeps every partition of its previous target it can
// keep within that balance, so a rebalance moves as few partitions as
// possible (each move costs a revocation round trip under KIP-848's
// incremental protocol). With different subscriptions the same rules hold
// pairwise: no partition can move to a member subscribed to its topic that
// has two or more fewer partitions. Deterministic for a given input.
func assignUniform(members []assignorMember, topics map[TopicID]assignorTopic) map[string]assignment {
	ms := slices.Clone(members)
	slices.SortFunc(ms, func(a, b assignorMember) int { return cmp.Compare(a.id, b.id) })
	subscribed := make(map[string]map[TopicID]bool, len(ms))
	for _, m := range ms {
		set := make(map[TopicID]bool, len(m.topics))
		for _, id := range m.topics {
			if _, ok := topics[id]; ok {
				set[id] = true
			}
		}
		subscribed[m.id] = set
	}
	owner := map[tpKey]string{}
	owned := make(map[string][]tpKey, len(ms))

	// Keep what each member had and may still have.
	for _, m := range ms {
		m.current.each(func(id TopicID, p int32) {
			k := tpKey{id, p}
			if subscribed[m.id][id] && p < topics[id].partitions && owner[k] == "" {
				owner[k] = m.id
				owned[m.id] = append(owned[m.id], k)
			}
		})
	}

	// Hand out the rest, the partitions the fewest members may take
	// first, each to the least loaded member that may take it.
	type free struct {
		k        tpKey
		eligible []string
	}
	var frees []free
	for _, id := range sortedTopicIDs(topics) {
		var eligible []string
		for _, m := range ms {
			if subscribed[m.id][id] {
				eligible = append(eligible, m.id)
			}
		}
		if len(eligible) == 0 {
			continue
		}
		for p := int32(0); p < topics[id].partitions; p++ {
			if k := (tpKey{id, p}); owner[k] == "" {
				frees = append(frees, free{k, eligible})
			}
		}
	}
	sort.SliceStable(frees, func(i, j int) bool { return len(frees[i].eligible) < len(frees[j].eligible) })
	for _, f := range frees {
		best := ""
		for _, id := range f.eligible {
			if best == "" || len(owned[id]) < len(owned[best]) {
				best = id
			}
		}
		owner[f.k] = best
		owned[best] = append(owned[best], f.k)
	}

	// Balance: move partitions from the most loaded members to members
	// subscribed to their topics with two or more fewer, the last ones
	// first, until no such move remains. Each move lowers the sum of the
	// squared loads, so this ends; the bound is a safety net.
	limit := len(owner)*len(ms) + 1
	for moves := 0; moves < limit; moves++ {
		if !moveOne(ms, subscribed, owned) {
			break
		}
	}

	out := make(map[string]assignment, len(ms))
	for _, m := range ms {
		b := builder{}
		for _, k := range owned[m.id] {
			b.add(k.id, k.p)
		}
		out[m.id] = b.build()
	}
	return out
}

// moveOne moves one partition from a member to a less loaded one
// subscribed to its topic, if it can: it reports whether it did.
func moveOne(ms []assignorMember, subscribed map[string]map[TopicID]bool, owned map[string][]tpKey) bool {
	order := make([]string, len(ms))
	for i, m := range ms {
		order[i] = m.id
	}
	sort.SliceStable(order, func(i, j int) bool { return len(owned[order[i]]) > len(owned[order[j]]) })
	for _, from := range order {
		have := owned[from]
		for i := len(have) - 1; i >= 0; i-- {
			k := have[i]
			to := ""
			for _, m := range ms { // id order: ties go to the smallest id
				if subscribed[m.id][k.id] && len(owned[m.id]) < len(have)-1 && (to == "" || len(owned[m.id]) < len(owned[to])) {
					to = m.id
				}
			}
			if to == "" {
				continue
			}
			owned[from] = slices.Delete(slices.Clone(have), i, i+1)
			owned[to] = append(owned[to], k)
			return true
		}
	}
	return false
}

// assignRange gives each member a contiguous range of each topic it
// subscribes to, as Kafka's server-side RangeAssignor: the members
// subscribed to a topic, static members first in instance id order and
// then the others in member id order, take partitions in turn, the first
// ones one more when the count does not divide evenly. When every member
// subscribes to the same topics and they have as many partitions, member
// i gets the same partition numbers of every topic (co-partitioning).
// Not sticky: the order decides.
func assignRange(members []assignorMember, topics map[TopicID]assignorTopic) map[string]assignment {
	ms := slices.Clone(members)
	slices.SortFunc(ms, func(a, b assignorMember) int {
		switch {
		case a.instanceID != nil && b.instanceID != nil:
			return cmp.Or(cmp.Compare(*a.instanceID, *b.instanceID), cmp.Compare(a.id, b.id))
		case a.instanceID != nil:
			return -1
		case b.instanceID != nil:
			return 1
		}
		return cmp.Compare(a.id, b.id)
	})
	builders := make(map[string]builder, len(ms))
	for _, m := range ms {
		builders[m.id] = builder{}
	}
	for _, id := range sortedTopicIDs(topics) {
		var subs []string
		for _, m := range ms {
			if slices.Contains(m.topics, id) {
				subs = append(subs, m.id)
			}
		}
		if len(subs) == 0 {
			continue
		}
		n := int(topics[id].partitions)
		quota, extra := n/len(subs), n%len(subs)
		next := 0
		for _, mid := range subs {
			q := quota
			if extra > 0 {
				q++
				extra--
			}
			for p := next; p < next+q; p++ {
				builders[mid].add(id, int32(p))
			}
			next += q
		}
	}
	out := make(map[string]assignment, len(ms))
	for id, b := range builders {
		out[id] = b.build()
	}
	return out
}
