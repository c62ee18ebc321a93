package ridersdb

// truncate.go holds the dialect-independent part of noticing that the log
// was truncated (KIP-101/KIP-320): after a broker lost its log's tail (a
// power loss with fsync by interval), new records reuse offsets a consumer
// already saw, with a newer leader epoch. A position's record is told by
// (position, leader epoch): the same epoch is the same record delivered
// again, a different one is a different record. The rule the dialects
// implement: rider_locations holds, at each position, the record of the
// newest epoch seen; every other record seen there is in
// rider_locations_truncated. Nothing is overwritten or deleted.
//
// This file reduces a batch to one update per position and summarizes
// where epochs met, for the sink's log.

import (
	"cmp"
	"slices"
)

// position is a record's place in the log, a history row's key.
type position struct {
	topic     string
	partition int32
	offset    int64
}

// posOf returns u's position.
func posOf(u *Update) position { return position{u.Topic, u.Partition, u.Offset} }

// topicPartition names a partition.
type topicPartition struct {
	topic     string
	partition int32
}

// lost is a record lost from the log, noticed at its position: its epoch
// and the newer one kept there.
type lost struct {
	pos                  position
	lostEpoch, keptEpoch int32
	u                    *Update // the lost update, when it came in the batch
}

// splitBatch returns us with one update per position, the one of the
// newest leader epoch (the first of equals), in the batch's order; the
// updates that lost to a newer epoch at their position; and how many
// repeated a kept update's position and epoch. A batch whose offsets
// increase within each partition, the usual case, is returned as it is,
// without building a map.
func splitBatch(us []Update) (keep []Update, stale []lost, dups int) {
	if increasing(us) {
		return us, nil, 0
	}
	type record struct {
		pos   position
		epoch int32
	}
	idx := make(map[position]int, len(us))
	keep = make([]Update, 0, len(us))
	var losers []Update
	lostSeen := make(map[record]bool)
	lose := func(u *Update) {
		r := record{posOf(u), u.LeaderEpoch}
		if lostSeen[r] {
			dups++ // a lost record delivered twice
			return
		}
		lostSeen[r] = true
		losers = append(losers, *u)
	}
	for i := range us {
		u := &us[i]
		p := posOf(u)
		j, ok := idx[p]
		if !ok {
			idx[p] = len(keep)
			keep = append(keep, *u)
			continue
		}
		k := &keep[j]
		switch {
		case u.LeaderEpoch == k.LeaderEpoch:
			dups++
		case u.LeaderEpoch < k.LeaderEpoch:
			lose(u)
		default:
			lose(k)
			*k = *u
		}
	}
	for i := range losers {
		l := &losers[i]
		p := posOf(l)
		stale = append(stale, lost{pos: p, lostEpoch: l.LeaderEpoch, keptEpoch: keep[idx[p]].LeaderEpoch, u: l})
	}
	return keep, stale, dups
}

// increasing reports whether offsets strictly increase within each
// partition of us, so that no position repeats.
func increasing(us []Update) bool {
	var (
		last    map[topicPartition]int64
		cur     topicPartition
		curOff  int64
		started bool
	)
	for i := range us {
		u := &us[i]
		tp := topicPartition{u.Topic, u.Partition}
		if started && tp == cur {
			if u.Offset <= curOff {
				return false
			}
			curOff = u.Offset
			continue
		}
		// Another partition: remember where this one was.
		if last == nil {
			last = make(map[topicPartition]int64, 8)
		}
		if started {
			last[cur] = curOff
		}
		if prev, ok := last[tp]; ok && u.Offset <= prev {
			return false
		}
		cur, curOff, started = tp, u.Offset, true
	}
	return true
}

// summarize groups lost records by partition, in order.
func summarize(ls []lost) []Truncation {
	if len(ls) == 0 {
		return nil
	}
	by := make(map[topicPartition]*Truncation)
	var out []*Truncation
	for _, l := range ls {
		tp := topicPartition{l.pos.topic, l.pos.partition}
		t, ok := by[tp]
		if !ok {
			t = &Truncation{Topic: tp.topic, Partition: tp.partition, FirstOffset: l.pos.offset, LastOffset: l.pos.offset,
				LostEpoch: l.lostEpoch, KeptEpoch: l.keptEpoch}
			by[tp] = t
			out = append(out, t)
		}
		t.Records++
		t.FirstOffset = min(t.FirstOffset, l.pos.offset)
		t.LastOffset = max(t.LastOffset, l.pos.offset)
		t.LostEpoch = min(t.LostEpoch, l.lostEpoch)
		t.KeptEpoch = max(t.KeptEpoch, l.keptEpoch)
	}
	res := make([]Truncation, len(out))
	for i, t := range out {
		res[i] = *t
	}
	slices.SortFunc(res, func(a, b Truncation) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
	return res
}
