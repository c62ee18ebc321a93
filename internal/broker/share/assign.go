package share

// assign.go is the share groups' assignor, in the manner of Kafka's
// SimpleAssignor: every partition of a subscribed topic goes to at least
// one of the topic's subscribers, and when there are more subscribers
// than partitions the partitions are shared, each by ceil(S/P) members,
// so that every member gets work (8 members on 2 partitions: 4 per
// partition, one partition each). Each topic is assigned among its own
// subscribers. It is sticky: a member keeps the partitions it has while
// they fit its share, so a join or leave moves few partitions.

import (
	"maps"
	"slices"
)

// assign recomputes every member's assignment from the subscriptions,
// the topics as they are now and the current assignment. It reports
// whether any member's assignment changed.
func assign(g *shareGroup, topics Topics) bool {
	ids := slices.Sorted(maps.Keys(g.members))
	subscribers := map[string][]string{}
	for _, id := range ids {
		for _, t := range g.members[id].subscribed {
			subscribers[t] = append(subscribers[t], id)
		}
	}
	next := make(map[string]map[[16]byte][]int32, len(ids))
	for _, id := range ids {
		next[id] = map[[16]byte][]int32{}
	}
	for _, t := range slices.Sorted(maps.Keys(subscribers)) {
		tid, n, ok := topics.Topic(t)
		if !ok || n <= 0 {
			continue
		}
		for id, parts := range assignTopic(subscribers[t], int(n), func(id string) []int32 { return g.members[id].assignment[tid] }) {
			if len(parts) > 0 {
				next[id][tid] = parts
			}
		}
	}
	changed := false
	for _, id := range ids {
		m := g.members[id]
		if !maps.EqualFunc(m.assignment, next[id], slices.Equal) {
			changed = true
		}
		m.assignment = next[id]
	}
	return changed
}

// assignTopic assigns the n partitions of one topic among subs (sorted
// member ids), starting from each member's current partitions.
func assignTopic(subs []string, n int, current func(id string) []int32) map[string][]int32 {
	s := len(subs)
	sharing := (s + n - 1) / n // members per partition
	slots := n * sharing
	quota := make([]int, s)
	for i := range quota {
		quota[i] = slots / s
		if i < slots%s {
			quota[i]++
		}
	}
	holders := make([]map[int]bool, n) // partition -> member index
	for p := range holders {
		holders[p] = map[int]bool{}
	}
	got := make([][]int32, s)
	give := func(i, p int) {
		holders[p][i] = true
		got[i] = append(got[i], int32(p))
	}
	// Keep what fits.
	for i, id := range subs {
		for _, p := range current(id) {
			if int(p) < n && len(got[i]) < quota[i] && len(holders[p]) < sharing && !holders[p][i] {
				give(i, int(p))
			}
		}
	}
	// Fill each partition's places with the members furthest below
	// their quota.
	for p := range n {
		for len(holders[p]) < sharing {
			best := -1
			for i := range subs {
				if holders[p][i] || len(got[i]) >= quota[i] {
					continue
				}
				if best < 0 || quota[i]-len(got[i]) > quota[best]-len(got[best]) {
					best = i
				}
			}
			if best < 0 {
				break
			}
			give(best, p)
		}
	}
	// No partition is left without a member, whatever the quotas say.
	for p := range n {
		if len(holders[p]) > 0 {
			continue
		}
		best := 0
		for i := range subs {
			if len(got[i]) < len(got[best]) {
				best = i
			}
		}
		give(best, p)
	}
	out := make(map[string][]int32, s)
	for i, id := range subs {
		slices.Sort(got[i])
		out[id] = got[i]
	}
	return out
}
