package ctl

// group_seek.go moves a consumer group's committed offsets on one topic
// (SeekGroup) or on partitions of several (SeekPartitions) to the start,
// the end, a given offset or a point in time, the way Kafka's
// kafka-consumer-groups --reset-offsets does: only while the group has no
// members, by committing the new offsets from outside the group. A share
// group's start offsets move the same way, with AlterShareGroupOffsets
// (kafka-share-groups --reset-offsets).

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// SeekKind says how a seek picks the new offsets.
type SeekKind int

const (
	SeekEarliest  SeekKind = iota + 1 // SeekEarliest moves to the log start offset.
	SeekLatest                        // SeekLatest moves to the end offset: only new records are read.
	SeekOffset                        // SeekOffset moves to SeekTarget.Value, kept within the log.
	SeekTimestamp                     // SeekTimestamp moves to the first record at or after SeekTarget.Value (Unix ms), or the end.
)

// SeekTarget is where a seek moves a group's offsets.
type SeekTarget struct {
	Kind  SeekKind // Kind says how the offsets are picked.
	Value int64    // Value is the offset (SeekOffset) or the Unix time in milliseconds (SeekTimestamp).
}

// String renders t as ParseSeekTarget reads it.
func (t SeekTarget) String() string {
	switch t.Kind {
	case SeekEarliest:
		return "earliest"
	case SeekLatest:
		return "latest"
	case SeekOffset:
		return "offset:" + strconv.FormatInt(t.Value, 10)
	case SeekTimestamp:
		return "timestamp:" + strconv.FormatInt(t.Value, 10)
	default:
		return fmt.Sprintf("SeekKind(%d)", t.Kind)
	}
}

// ParseSeekTarget reads "earliest", "latest", "offset:N" (N >= 0) or
// "timestamp:T", where T is Unix milliseconds or an RFC 3339 time
// ("2025-06-01T08:00:00Z").
func ParseSeekTarget(s string) (SeekTarget, error) {
	kind, val, hasVal := strings.Cut(strings.TrimSpace(s), ":")
	switch {
	case kind == "earliest" && !hasVal:
		return SeekTarget{Kind: SeekEarliest}, nil
	case kind == "latest" && !hasVal:
		return SeekTarget{Kind: SeekLatest}, nil
	case kind == "offset" && hasVal:
		n, err := strconv.ParseInt(val, 10, 64)
		if err != nil || n < 0 {
			return SeekTarget{}, fmt.Errorf("seek target %q: want offset:N with N a non-negative number", s)
		}
		return SeekTarget{Kind: SeekOffset, Value: n}, nil
	case kind == "timestamp" && hasVal:
		if ms, err := strconv.ParseInt(val, 10, 64); err == nil && ms >= 0 {
			return SeekTarget{Kind: SeekTimestamp, Value: ms}, nil
		}
		if t, err := time.Parse(time.RFC3339Nano, val); err == nil && t.UnixMilli() >= 0 {
			return SeekTarget{Kind: SeekTimestamp, Value: t.UnixMilli()}, nil
		}
		return SeekTarget{}, fmt.Errorf("seek target %q: want timestamp:MS (Unix milliseconds) or timestamp:RFC3339-time", s)
	default:
		return SeekTarget{}, fmt.Errorf("seek target %q: want earliest, latest, offset:N or timestamp:MS", s)
	}
}

// SeekSpec describes a seek.
type SeekSpec struct {
	Group     string     // Group is the consumer group whose offsets move.
	Topic     string     // Topic is the topic whose offsets move.
	Partition int32      // Partition restricts the seek to one partition; -1 moves every partition of Topic.
	To        SeekTarget // To is where the offsets move.
	DryRun    bool       // DryRun computes and returns the offsets without committing them.
}

// SeekResult is what a seek did to one partition.
type SeekResult struct {
	Topic     string // Topic is the topic.
	Partition int32  // Partition is the partition number.
	Previous  int64  // Previous is the committed offset before the seek, or -1 if there was none.
	Offset    int64  // Offset is the offset set (or, for a dry run, that would be set), or -1 if Err.
	End       int64  // End is the partition's end offset when the seek was computed (End - Offset is the lag after it), or -1 if unknown.
	Note      string // Note says why Offset differs from what was asked (kept within the log), or "".
	Err       error  // Err is why this partition was not set.
}

// SeekGroup sets spec.Group's committed offsets on spec.Topic (one partition
// or all) to spec.To and returns what it set, by partition. The next member
// of the group starts reading there.
//
// As in Kafka, only a group without members can be moved: a group with
// members is refused with a *GroupError that matches kerr.NonEmptyGroup and
// names its state (a consumer that joins during the seek makes the
// coordinator refuse the commit with UNKNOWN_MEMBER_ID, reported the same
// way). A group that does not exist yet is created with the offsets. An
// offset:N outside the log is moved to its start or end, with a Note.
//
// If some partitions could not be set, the results say which and why and
// the error joins the reasons; the other partitions are set.
func (a *Admin) SeekGroup(ctx context.Context, spec SeekSpec) ([]SeekResult, error) {
	switch {
	case spec.Group == "":
		return nil, errors.New("seek group: empty group id")
	case spec.Topic == "":
		return nil, fmt.Errorf("seek group %s: empty topic name", spec.Group)
	case spec.Partition < -1:
		return nil, fmt.Errorf("seek group %s: invalid partition %d", spec.Group, spec.Partition)
	case spec.To.Kind < SeekEarliest || spec.To.Kind > SeekTimestamp:
		return nil, fmt.Errorf("seek group %s: no seek target", spec.Group)
	}
	share, err := a.checkGroupEmpty(ctx, spec.Group)
	if err != nil {
		return nil, err
	}
	parts, err := a.topicPartitions(ctx, "seek", spec.Topic, spec.Partition)
	if err != nil {
		return nil, err
	}
	return a.seek(ctx, spec.Group, share, map[string][]int32{spec.Topic: parts}, spec.To, spec.DryRun)
}

// SeekPartitions is SeekGroup over partitions of several topics at once
// (by topic), as the console resets a group's offsets: the same checks
// (the group must have no members), one commit for all of them. The
// results are sorted by topic and partition; a partition the topic does
// not have gets its own error from the cluster.
//
// A dry run of a group with members still computes the results, and
// returns them with the *GroupError (kerr.NonEmptyGroup) that applying
// them would meet: a preview can be read before the consumers stop.
func (a *Admin) SeekPartitions(ctx context.Context, group string, parts map[string][]int32, to SeekTarget, dryRun bool) ([]SeekResult, error) {
	switch {
	case group == "":
		return nil, errors.New("seek group: empty group id")
	case len(parts) == 0:
		return nil, fmt.Errorf("seek group %s: no partitions to move", group)
	case to.Kind < SeekEarliest || to.Kind > SeekTimestamp:
		return nil, fmt.Errorf("seek group %s: no seek target", group)
	}
	for t, ps := range parts {
		if t == "" {
			return nil, fmt.Errorf("seek group %s: empty topic name", group)
		}
		for _, p := range ps {
			if p < 0 {
				return nil, fmt.Errorf("seek group %s: invalid partition %d of %s", group, p, t)
			}
		}
	}
	share, err := a.checkGroupEmpty(ctx, group)
	if dryRun && errors.Is(err, kerr.NonEmptyGroup) {
		results, serr := a.seek(ctx, group, a.groupType(ctx, group) == "share", parts, to, true)
		if results == nil {
			return nil, serr
		}
		return results, errors.Join(err, serr)
	}
	if err != nil {
		return nil, err
	}
	return a.seek(ctx, group, share, parts, to, dryRun)
}

// seek lists the offsets to means on parts and, unless dryRun, sets them
// as the group's (a group checked to be empty; share says whether it is a
// share group).
func (a *Admin) seek(ctx context.Context, group string, share bool, parts map[string][]int32, to SeekTarget, dryRun bool) ([]SeekResult, error) {
	results, err := a.seekOffsets(ctx, to, parts)
	if err != nil {
		return nil, fmt.Errorf("seek group %s: %w", group, err)
	}
	previous, err := a.currentOffsets(ctx, group, share)
	if err != nil {
		return nil, err
	}
	set := make(kadm.Offsets)
	for i := range results {
		r := &results[i]
		r.Previous = -1
		if o, ok := previous[r.Topic][r.Partition]; ok {
			r.Previous = o
		}
		if r.Err == nil {
			// No leader epoch: the new position is not tied to a leader's
			// log, so the consumer must not validate it as one.
			set.Add(kadm.Offset{Topic: r.Topic, Partition: r.Partition, At: r.Offset, LeaderEpoch: -1})
		}
	}
	if !dryRun && len(set) > 0 {
		outcome, err := a.setOffsets(ctx, group, share, set)
		if err != nil {
			return nil, groupErr("seek", group, firstShardErr(err), "")
		}
		for i := range results {
			r := &results[i]
			if r.Err != nil {
				continue
			}
			if perr, ok := outcome(r.Topic, r.Partition); !ok {
				r.Err = groupErr("seek", group, errors.New("the cluster's response did not mention the partition"), "")
			} else if perr != nil {
				r.Err = groupErr("seek", group, perr, "")
			}
			if r.Err != nil {
				r.Offset = -1
			}
		}
	}
	return results, seekErrors(results)
}

// currentOffsets returns the group's offsets by topic and partition: the
// committed offsets, or a share group's start offsets.
func (a *Admin) currentOffsets(ctx context.Context, group string, share bool) (map[string]map[int32]int64, error) {
	out := make(map[string]map[int32]int64)
	add := func(t string, p int32, o int64) {
		if out[t] == nil {
			out[t] = make(map[int32]int64)
		}
		out[t][p] = o
	}
	if share {
		described, err := a.adm.DescribeShareGroupOffsets(ctx, group)
		if err == nil {
			err = described[group].Err
		}
		if err != nil && !errors.Is(err, kerr.GroupIDNotFound) {
			return nil, groupErr("seek", group, fmt.Errorf("describe share-group offsets: %w", firstShardErr(err)), "")
		}
		described[group].Offsets.Each(func(o kadm.ShareOffset) {
			if o.Err == nil && o.StartOffset >= 0 {
				add(o.Topic, o.Partition, o.StartOffset)
			}
		})
		return out, nil
	}
	committed, err := a.adm.FetchOffsets(ctx, group)
	if err != nil {
		return nil, groupErr("seek", group, fmt.Errorf("fetch committed offsets: %w", firstShardErr(err)), "")
	}
	committed.Each(func(o kadm.OffsetResponse) {
		if o.Err == nil && o.At >= 0 {
			add(o.Topic, o.Partition, o.At)
		}
	})
	return out, nil
}

// setOffsets commits set for the group (or, for a share group, sets its
// start offsets) and returns a lookup of each partition's outcome.
func (a *Admin) setOffsets(ctx context.Context, group string, share bool, set kadm.Offsets) (func(string, int32) (error, bool), error) {
	if share {
		resps, err := a.adm.AlterShareGroupOffsets(ctx, group, set)
		return resps.Lookup, err
	}
	resps, err := a.adm.CommitOffsets(ctx, group, set)
	return func(t string, p int32) (error, bool) {
		c, ok := resps.Lookup(t, p)
		return c.Err, ok
	}, err
}

// checkGroupEmpty returns nil if group has no members (it is Empty, or
// does not exist and will be created), else a *GroupError saying so; and
// whether it is a share group.
func (a *Admin) checkGroupEmpty(ctx context.Context, group string) (share bool, err error) {
	switch typ := a.groupType(ctx, group); typ {
	case "consumer", "share":
		d, err := a.DescribeGroup(ctx, group)
		switch {
		case err != nil:
			return false, err
		case len(d.Members) > 0:
			return false, &GroupError{Op: "seek", Group: group, Err: kerr.NonEmptyGroup, State: d.State}
		}
		return typ == "share", nil
	}
	g, err := a.describeGroup(ctx, "seek", group)
	switch {
	case errors.Is(err, kerr.GroupIDNotFound):
		return false, nil
	case err != nil:
		return false, err
	case g.State == "Empty", g.State == "Dead":
		return false, nil
	}
	return false, &GroupError{Op: "seek", Group: group, Err: kerr.NonEmptyGroup, State: g.State}
}

// seekOffsets lists the offsets to means for each of parts (by topic), and
// their end offsets, sorted by topic and partition. A partition whose
// offsets cannot be listed gets an Err.
func (a *Admin) seekOffsets(ctx context.Context, to SeekTarget, parts map[string][]int32) ([]SeekResult, error) {
	topics := make([]string, 0, len(parts))
	for t := range parts {
		topics = append(topics, t)
	}
	sort.Strings(topics)
	var (
		starts, ends, at kadm.ListedOffsets
		err              error
	)
	switch to.Kind {
	case SeekEarliest, SeekOffset:
		starts, err = a.adm.ListStartOffsets(ctx, topics...)
		at = starts
	case SeekTimestamp:
		at, err = a.adm.ListOffsetsAfterMilli(ctx, to.Value, topics...)
	}
	if err == nil || partial(err) {
		ends, err = a.adm.ListEndOffsets(ctx, topics...)
	}
	if to.Kind == SeekLatest {
		at = ends
	}
	// A partial failure leaves the partitions of the brokers that did not
	// answer out of the listing; lookup below reports them.
	if err != nil && !partial(err) {
		return nil, fmt.Errorf("list offsets of %s: %w", strings.Join(topics, ", "), err)
	}
	var out []SeekResult
	for _, t := range topics {
		ps := append([]int32(nil), parts[t]...)
		slices.Sort(ps)
		for _, p := range slices.Compact(ps) {
			out = append(out, seekResult(to, t, p, starts, ends, at))
		}
	}
	return out, nil
}

// seekResult is where to moves partition p of topic t, given the listed
// start and end offsets and those to asked for (at).
func seekResult(to SeekTarget, t string, p int32, starts, ends, at kadm.ListedOffsets) SeekResult {
	r := SeekResult{Topic: t, Partition: p, Offset: -1, End: -1}
	lookup := func(l kadm.ListedOffsets) (kadm.ListedOffset, bool) {
		o, ok := l.Lookup(t, p)
		switch {
		case !ok:
			r.Err = fmt.Errorf("partition %d of %s: no offset listed (no such partition, or its leader did not answer)", p, t)
		case o.Err != nil:
			r.Err = fmt.Errorf("partition %d of %s: list offsets: %w", p, t, o.Err)
		}
		return o, r.Err == nil
	}
	end, ok := lookup(ends)
	if !ok {
		return r
	}
	r.End = end.Offset
	if to.Kind == SeekOffset {
		if start, ok := lookup(starts); ok {
			switch {
			case to.Value < start.Offset:
				r.Offset, r.Note = start.Offset, fmt.Sprintf("offset %d is before the log start", to.Value)
			case to.Value > end.Offset:
				r.Offset, r.Note = end.Offset, fmt.Sprintf("offset %d is past the end", to.Value)
			default:
				r.Offset = to.Value
			}
		}
	} else if o, ok := lookup(at); ok {
		r.Offset = o.Offset
		if to.Kind == SeekTimestamp && o.Timestamp < 0 {
			r.Note = "no record at or after the time: the end"
		}
	}
	return r
}

// seekErrors joins the distinct errors of results, or returns nil.
func seekErrors(results []SeekResult) error {
	var errs []error
	seen := make(map[string]bool)
	for _, r := range results {
		if r.Err != nil && !seen[r.Err.Error()] {
			seen[r.Err.Error()] = true
			errs = append(errs, r.Err)
		}
	}
	return errors.Join(errs...)
}
