package ctl

// group_lag.go computes a group's progress per partition, the same way for
// classic and KIP-848 consumer groups, for one group or many
// (group_batch.go): committed offset (OffsetFetch), log start and end
// offsets (ListOffsets), and the lag between them. It follows
// kadm's CalculateGroupLagWithStartOffsets (which only takes a classic
// group's description): every partition of a topic the group is assigned,
// subscribes to or has committed is shown, a never-committed partition
// lags by everything still in its log, and a commit past the end lags 0.

import (
	"context"
	"errors"
	"fmt"

	"github.com/twmb/franz-go/pkg/kadm"
)

// errNotListed is the error of a partition the end-offset listing did not
// mention (kadm says "missing from list offsets").
var errNotListed = errors.New("missing from list offsets")

// offsetsOf computes a group's progress on every partition of set (and of
// every partition the end-offset listing knows of a topic in set) from its
// commits and the listed start and end offsets: the one rule of lag that
// one group's description and a listing of many groups share.
func offsetsOf(set kadm.TopicsSet, commits kadm.OffsetResponses, starts, ends kadm.ListedOffsets, owners map[string]map[int32]GroupMember) []GroupOffset {
	set = copySet(set)
	// Every partition the listing knows of a topic in the set is shown.
	for t := range set {
		for p := range ends[t] {
			set.Add(t, p)
		}
	}
	var out []GroupOffset
	for _, tp := range set.Sorted() {
		for _, p := range tp.Partitions {
			o := GroupOffset{Topic: tp.Topic, Partition: p, Committed: -1, End: -1, Lag: -1}
			var commitErr error
			if c, ok := commits.Lookup(tp.Topic, p); ok {
				commitErr = c.Err
				if c.Err == nil && c.At >= 0 {
					o.Committed = c.At
				}
			}
			end, ok := ends.Lookup(tp.Topic, p)
			switch {
			case !ok:
				o.Err = errNotListed
			case commitErr != nil:
				o.Err = commitErr
			case end.Err != nil:
				o.Err = end.Err
			}
			if ok && end.Err == nil {
				o.End = end.Offset
			}
			if o.Err == nil {
				o.Lag = end.Offset
				if s, ok := starts.Lookup(tp.Topic, p); ok && s.Err == nil {
					o.Lag = end.Offset - s.Offset
				}
				if o.Committed >= 0 {
					o.Lag = end.Offset - o.Committed
				}
				o.Lag = max(o.Lag, 0)
			}
			if m, ok := owners[tp.Topic][p]; ok {
				o.MemberID, o.ClientID = m.MemberID, m.ClientID
			}
			out = append(out, o)
		}
	}
	return out
}

// copySet returns a copy of s that can be added to without changing s.
func copySet(s kadm.TopicsSet) kadm.TopicsSet {
	out := make(kadm.TopicsSet, len(s))
	mergeAll(out, s)
	return out
}

// listStartEnd lists the start and end offsets of every topic in set. A
// failed start listing only loses the lag of never-committed partitions;
// a failed end listing shows as errors per partition, and is returned if
// no broker answered. A topic that no longer exists is listed by kadm as
// partition -1; each partition of set in it gets that error instead.
func (a *Admin) listStartEnd(ctx context.Context, set kadm.TopicsSet) (starts, ends kadm.ListedOffsets, err error) {
	topics := set.Topics()
	if len(topics) == 0 {
		return nil, nil, nil
	}
	starts, _ = a.adm.ListStartOffsets(ctx, topics...)
	ends, lerr := a.adm.ListEndOffsets(ctx, topics...)
	if lerr != nil && !partial(lerr) {
		err = fmt.Errorf("list end offsets: %w", lerr)
	}
	for _, l := range []kadm.ListedOffsets{starts, ends} {
		for t, ps := range l {
			gone, ok := ps[-1]
			if !ok || len(ps) != 1 {
				continue
			}
			delete(ps, -1)
			for p := range set[t] {
				ps[p] = kadm.ListedOffset{Topic: t, Partition: p, Offset: -1, Err: gone.Err}
			}
		}
	}
	return starts, ends, err
}

// ownersOf maps each partition in a member's assignment to that member.
func ownersOf(members []GroupMember) map[string]map[int32]GroupMember {
	owners := make(map[string]map[int32]GroupMember)
	for _, m := range members {
		for t, ps := range m.Assigned {
			if owners[t] == nil {
				owners[t] = make(map[int32]GroupMember)
			}
			for _, p := range ps {
				owners[t][p] = m
			}
		}
	}
	return owners
}

// partitionsOf returns a TopicsSet as sorted partitions by topic, nil if
// it is empty.
func partitionsOf(s kadm.TopicsSet) map[string][]int32 {
	var out map[string][]int32
	for _, tp := range s.Sorted() {
		if len(tp.Partitions) == 0 {
			continue
		}
		if out == nil {
			out = make(map[string][]int32)
		}
		out[tp.Topic] = tp.Partitions
	}
	return out
}
