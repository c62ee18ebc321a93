package group

// state.go is the durable state the offsets log describes: the latest
// record per key, and the transactional offsets still waiting for their
// marker. The coordinator keeps it as the fold of every record the journal
// reported durable, so that the journal can snapshot it (to compact or to
// repair itself) without touching the groups, and never with a record
// that failed.

import (
	"cmp"
	"slices"
	"sort"
)

// state is every group's persisted metadata and offsets.
type state struct {
	groups map[string]*groupMeta
	// consumers are the consumer groups (consumer_records.go); a group
	// is in groups or in consumers, never both.
	consumers map[string]*consumerDurable
	offsets   map[string]map[TopicPartition]Offset
	txns      map[string]txnSet
	// seq numbers the offset records (Offset.seq) in the order they were
	// folded, which is the log's.
	seq uint64
}

func newState() *state {
	return &state{
		groups:    map[string]*groupMeta{},
		consumers: map[string]*consumerDurable{},
		offsets:   map[string]map[TopicPartition]Offset{},
		txns:      map[string]txnSet{},
	}
}

// txnOutcome is what folding a record did: for a marker, how many pending
// offsets it applied and how many a later commit of their partition
// superseded; orphan is set for a consumer member record of a group the
// log last said was classic (skipped).
type txnOutcome struct {
	applied, superseded int
	orphan              bool
}

// apply folds one record into the state.
func (s *state) apply(r record) txnOutcome {
	switch r.kind {
	case kindOffset:
		m := s.offsets[r.group]
		if m == nil {
			m = map[TopicPartition]Offset{}
			s.offsets[r.group] = m
		}
		s.seq++
		o := r.offset
		o.seq = s.seq
		m[r.tp] = o
	case kindOffsetDelete:
		if m := s.offsets[r.group]; m != nil {
			delete(m, r.tp)
			if len(m) == 0 {
				delete(s.offsets, r.group)
			}
		}
		if ts := s.txns[r.group]; ts != nil {
			ts.drop(r.tp)
			if len(ts) == 0 {
				delete(s.txns, r.group)
			}
		}
	case kindTxnOffset:
		ts := s.txns[r.group]
		if ts == nil {
			ts = txnSet{}
			s.txns[r.group] = ts
		}
		s.seq++
		ts.add(r, s.seq)
	case kindTxnMarker:
		ts := s.txns[r.group]
		if ts == nil {
			return txnOutcome{}
		}
		m := s.offsets[r.group]
		if m == nil {
			m = map[TopicPartition]Offset{}
		}
		applied, superseded := ts.complete(r.pid, r.commit, m)
		if len(m) > 0 {
			s.offsets[r.group] = m
		}
		if len(ts) == 0 {
			delete(s.txns, r.group)
		}
		return txnOutcome{applied: applied, superseded: len(superseded)}
	case kindGroup:
		s.groups[r.group] = r.meta
		delete(s.consumers, r.group)
	case kindConsumerGroup, kindConsumerMember, kindConsumerMemberDelete:
		return txnOutcome{orphan: !s.applyConsumer(r)}
	case kindGroupDelete:
		delete(s.groups, r.group)
		delete(s.consumers, r.group)
		delete(s.offsets, r.group)
		delete(s.txns, r.group)
	}
	return txnOutcome{}
}

// groupIDs lists every group with metadata, offsets or pending
// transactional offsets, sorted.
func (s *state) groupIDs() []string {
	seen := map[string]bool{}
	var ids []string
	add := func(g string) {
		if !seen[g] {
			seen[g] = true
			ids = append(ids, g)
		}
	}
	for g := range s.groups {
		add(g)
	}
	for g := range s.consumers {
		add(g)
	}
	for g := range s.offsets {
		add(g)
	}
	for g := range s.txns {
		add(g)
	}
	sort.Strings(ids)
	return ids
}

// records is a snapshot: the records that rebuild the state, in a
// deterministic order. A partition's commit and pending transactional
// offsets are written in the order of their records in the log, so that
// the snapshot's replay numbers them in the same order and a committing
// transaction then resolves them as it would have.
func (s *state) records() []record {
	var out []record
	for _, g := range s.groupIDs() {
		if m := s.groups[g]; m != nil {
			out = append(out, record{kind: kindGroup, group: g, meta: m})
		}
		if cd := s.consumers[g]; cd != nil {
			out = append(out, cd.records(g)...)
		}
		byTP := map[TopicPartition][]record{}
		for tp, o := range s.offsets[g] {
			byTP[tp] = append(byTP[tp], record{kind: kindOffset, group: g, tp: tp, offset: o})
		}
		for pid, t := range s.txns[g] {
			for tp, o := range t.offsets {
				byTP[tp] = append(byTP[tp], record{kind: kindTxnOffset, group: g, tp: tp, offset: o, pid: pid, epoch: t.epoch})
			}
		}
		tps := make([]TopicPartition, 0, len(byTP))
		for tp := range byTP {
			tps = append(tps, tp)
		}
		sort.Slice(tps, func(i, j int) bool {
			if tps[i].Topic != tps[j].Topic {
				return tps[i].Topic < tps[j].Topic
			}
			return tps[i].Partition < tps[j].Partition
		})
		for _, tp := range tps {
			recs := byTP[tp]
			// Record numbers are unique, so this order is total.
			slices.SortFunc(recs, func(a, b record) int { return cmp.Compare(a.offset.seq, b.offset.seq) })
			out = append(out, recs...)
		}
	}
	return out
}
