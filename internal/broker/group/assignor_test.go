package group

// assignor_test.go checks the server-side assignors: uniform's balance
// (within one partition when subscriptions are the same, pairwise when
// they differ) and stickiness, range's contiguous ranges, co-partitioning
// and member order, and that both assign every subscribed partition
// exactly once, to a member subscribed to its topic.

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"

	"github.com/courier-dev/courier/internal/testkit/testseed"
)

func tid(n byte) TopicID { return TopicID{15: n} }

// topicSet builds n topics named t0..t{n-1} with the given partition counts.
func topicSet(counts ...int32) map[TopicID]assignorTopic {
	out := map[TopicID]assignorTopic{}
	for i, c := range counts {
		out[tid(byte(i+1))] = assignorTopic{name: fmt.Sprintf("t%d", i), partitions: c}
	}
	return out
}

func allIDs(topics map[TopicID]assignorTopic) []TopicID { return sortedTopicIDs(topics) }

// checkComplete fails unless every partition of a subscribed topic is
// assigned exactly once, to a member subscribed to it.
func checkComplete(t *testing.T, members []assignorMember, topics map[TopicID]assignorTopic, out map[string]assignment) {
	t.Helper()
	subscribed := map[TopicID]bool{}
	subs := map[string]map[TopicID]bool{}
	for _, m := range members {
		subs[m.id] = map[TopicID]bool{}
		for _, id := range m.topics {
			subscribed[id] = true
			subs[m.id][id] = true
		}
	}
	seen := map[tpKey]string{}
	for mid, a := range out {
		a.each(func(id TopicID, p int32) {
			if prev, dup := seen[tpKey{id, p}]; dup {
				t.Fatalf("partition %v-%d assigned to %s and %s", id, p, prev, mid)
			}
			seen[tpKey{id, p}] = mid
			if !subs[mid][id] {
				t.Fatalf("member %s got %v-%d of a topic it does not subscribe to", mid, id, p)
			}
		})
	}
	for id, tp := range topics {
		if !subscribed[id] {
			continue
		}
		for p := int32(0); p < tp.partitions; p++ {
			if _, ok := seen[tpKey{id, p}]; !ok {
				t.Fatalf("partition %s-%d unassigned", tp.name, p)
			}
		}
	}
}

func loads(out map[string]assignment) (lo, hi int) {
	lo = -1
	for _, a := range out {
		n := a.count()
		if lo < 0 || n < lo {
			lo = n
		}
		hi = max(hi, n)
	}
	return lo, hi
}

func TestUniformBalancedAndSticky(t *testing.T) {
	for _, seed := range testseed.Seeds(t, 40) {
		r := rand.New(rand.NewPCG(seed, 1))
		counts := make([]int32, 1+r.IntN(4))
		for i := range counts {
			counts[i] = int32(1 + r.IntN(12))
		}
		topics := topicSet(counts...)
		var members []assignorMember
		var prev map[string]assignment
		// Grow the group one member at a time, then shrink it, carrying
		// the target over as the coordinator does.
		steps := 1 + r.IntN(8)
		for step := 0; step < 2*steps; step++ {
			if step < steps {
				members = append(members, assignorMember{id: fmt.Sprintf("m%02d", r.IntN(100)*100+step), topics: allIDs(topics)})
			} else {
				i := r.IntN(len(members))
				members = append(members[:i], members[i+1:]...)
				if len(members) == 0 {
					break
				}
			}
			for i := range members {
				members[i].current = prev[members[i].id]
			}
			out := assignUniform(members, topics)
			checkComplete(t, members, topics, out)
			if lo, hi := loads(out); hi-lo > 1 {
				t.Fatalf("seed %d step %d: loads %d..%d with the same subscriptions", seed, step, lo, hi)
			}
			// Sticky: a member keeps what it had up to its new load.
			for _, m := range members {
				kept := m.current.count() - m.current.minus(out[m.id]).count()
				if want := min(m.current.count(), out[m.id].count()); kept < want {
					t.Fatalf("seed %d step %d: member %s kept %d of its %d partitions, want at least %d", seed, step, m.id, kept, m.current.count(), want)
				}
			}
			if again := assignUniform(members, topics); !reflect.DeepEqual(again, out) {
				t.Fatalf("seed %d: the same input gave another assignment", seed)
			}
			prev = out
		}
	}
}

func TestUniformLeavingMemberMovesOnlyItsPartitions(t *testing.T) {
	topics := topicSet(6)
	members := []assignorMember{{id: "a", topics: allIDs(topics)}, {id: "b", topics: allIDs(topics)}, {id: "c", topics: allIDs(topics)}}
	first := assignUniform(members, topics)
	members = []assignorMember{{id: "a", topics: allIDs(topics), current: first["a"]}, {id: "b", topics: allIDs(topics), current: first["b"]}}
	second := assignUniform(members, topics)
	for _, id := range []string{"a", "b"} {
		if got := first[id].minus(second[id]).count(); got != 0 {
			t.Fatalf("member %s lost %d partitions when c left: %v -> %v", id, got, first[id], second[id])
		}
		if second[id].count() != 3 {
			t.Fatalf("member %s has %d partitions, want 3", id, second[id].count())
		}
	}
}

func TestUniformDifferentSubscriptions(t *testing.T) {
	for _, seed := range testseed.Seeds(t, 40) {
		r := rand.New(rand.NewPCG(seed, 2))
		topics := topicSet(int32(1+r.IntN(8)), int32(1+r.IntN(8)), int32(1+r.IntN(8)))
		ids := allIDs(topics)
		var members []assignorMember
		for i := range 2 + r.IntN(5) {
			var sub []TopicID
			for _, id := range ids {
				if r.IntN(2) == 0 {
					sub = append(sub, id)
				}
			}
			members = append(members, assignorMember{id: fmt.Sprintf("m%d", i), topics: sub})
		}
		out := assignUniform(members, topics)
		checkComplete(t, members, topics, out)
		// Pairwise balance: no partition could move to a member subscribed
		// to its topic that has two or more fewer.
		for from, a := range out {
			a.each(func(id TopicID, p int32) {
				for _, m := range members {
					if m.id != from && containsID(m.topics, id) && out[m.id].count() < a.count()-1 {
						t.Fatalf("seed %d: %v-%d of %s (%d) could move to %s (%d)", seed, id, p, from, a.count(), m.id, out[m.id].count())
					}
				}
			})
		}
	}
}

func containsID(ids []TopicID, id TopicID) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

func TestRangeAssignor(t *testing.T) {
	two := topicSet(3, 3)
	ids := allIDs(two)
	s := func(v string) *string { return &v }
	for _, tc := range []struct {
		name    string
		topics  map[TopicID]assignorTopic
		members []assignorMember
		want    map[string]assignment
	}{
		{
			// Kafka's RangeAssignor doc: M0 [T1P0, T1P1, T2P0, T2P1], M1 [T1P2, T2P2].
			name:    "co-partitioned",
			topics:  two,
			members: []assignorMember{{id: "m1", topics: ids}, {id: "m0", topics: ids}},
			want: map[string]assignment{
				"m0": {ids[0]: {0, 1}, ids[1]: {0, 1}},
				"m1": {ids[0]: {2}, ids[1]: {2}},
			},
		},
		{
			name:    "static members first, by instance id",
			topics:  topicSet(4),
			members: []assignorMember{{id: "a", topics: []TopicID{tid(1)}}, {id: "z", instanceID: s("i1"), topics: []TopicID{tid(1)}}, {id: "y", instanceID: s("i0"), topics: []TopicID{tid(1)}}},
			want: map[string]assignment{
				"y": {tid(1): {0, 1}},
				"z": {tid(1): {2}},
				"a": {tid(1): {3}},
			},
		},
		{
			name:    "more members than partitions",
			topics:  topicSet(2),
			members: []assignorMember{{id: "a", topics: []TopicID{tid(1)}}, {id: "b", topics: []TopicID{tid(1)}}, {id: "c", topics: []TopicID{tid(1)}}},
			want: map[string]assignment{
				"a": {tid(1): {0}},
				"b": {tid(1): {1}},
				"c": {},
			},
		},
		{
			name:    "different subscriptions",
			topics:  two,
			members: []assignorMember{{id: "a", topics: ids[:1]}, {id: "b", topics: ids}},
			want: map[string]assignment{
				"a": {ids[0]: {0, 1}},
				"b": {ids[0]: {2}, ids[1]: {0, 1, 2}},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := assignRange(tc.members, tc.topics)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			checkComplete(t, tc.members, tc.topics, got)
		})
	}
}

func TestParseAssignors(t *testing.T) {
	for _, tc := range []struct {
		in   []string
		want []string
		err  bool
	}{
		{in: []string{"uniform", "range"}, want: []string{"uniform", "range"}},
		{in: []string{" Range "}, want: []string{"range"}},
		{in: []string{"org.apache.kafka.coordinator.group.assignor.UniformAssignor"}, want: []string{"uniform"}},
		{in: []string{"sticky"}, err: true},
		{in: []string{"range", "range"}, err: true},
		{in: []string{""}, err: true},
	} {
		got, err := ParseAssignors(tc.in)
		if (err != nil) != tc.err || (!tc.err && !reflect.DeepEqual(got, tc.want)) {
			t.Errorf("ParseAssignors(%q) = %v, %v", tc.in, got, err)
		}
	}
}
