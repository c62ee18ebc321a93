package group

// state.go is the durable state the offsets log describes: the latest
// record per key. The coordinator keeps it as the fold of every record the
// journal reported durable, so that the journal can snapshot it (to compact
// or to repair itself) without touching the groups, and never with a
// record that failed.

import (
	"sort"
)

// state is every group's persisted metadata and offsets.
type state struct {
	groups  map[string]*groupMeta
	offsets map[string]map[TopicPartition]Offset
}

func newState() *state {
	return &state{groups: map[string]*groupMeta{}, offsets: map[string]map[TopicPartition]Offset{}}
}

// apply folds one record into the state.
func (s *state) apply(r record) {
	switch r.kind {
	case kindOffset:
		m := s.offsets[r.group]
		if m == nil {
			m = map[TopicPartition]Offset{}
			s.offsets[r.group] = m
		}
		m[r.tp] = r.offset
	case kindOffsetDelete:
		if m := s.offsets[r.group]; m != nil {
			delete(m, r.tp)
			if len(m) == 0 {
				delete(s.offsets, r.group)
			}
		}
	case kindGroup:
		s.groups[r.group] = r.meta
	case kindGroupDelete:
		delete(s.groups, r.group)
		delete(s.offsets, r.group)
	}
}

// groupIDs lists every group with metadata or offsets, sorted.
func (s *state) groupIDs() []string {
	seen := map[string]bool{}
	var ids []string
	for g := range s.groups {
		seen[g] = true
		ids = append(ids, g)
	}
	for g := range s.offsets {
		if !seen[g] {
			ids = append(ids, g)
		}
	}
	sort.Strings(ids)
	return ids
}

// records is a snapshot: the records that rebuild the state, in a
// deterministic order.
func (s *state) records() []record {
	var out []record
	for _, g := range s.groupIDs() {
		if m := s.groups[g]; m != nil {
			out = append(out, record{kind: kindGroup, group: g, meta: m})
		}
		offs := s.offsets[g]
		tps := make([]TopicPartition, 0, len(offs))
		for tp := range offs {
			tps = append(tps, tp)
		}
		sort.Slice(tps, func(i, j int) bool {
			if tps[i].Topic != tps[j].Topic {
				return tps[i].Topic < tps[j].Topic
			}
			return tps[i].Partition < tps[j].Partition
		})
		for _, tp := range tps {
			out = append(out, record{kind: kindOffset, group: g, tp: tp, offset: offs[tp]})
		}
	}
	return out
}
