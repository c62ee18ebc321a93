package ctl

// group_seek.go moves a consumer group's committed offsets on one topic to
// the start, the end, a given offset or a point in time, the way Kafka's
// kafka-consumer-groups --reset-offsets does: only while the group has no
// members, by committing the new offsets from outside the group. A share
// group's start offsets move the same way, with AlterShareGroupOffsets
// (kafka-share-groups --reset-offsets).

import (
	"context"
	"errors"
	"fmt"
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
	results, err := a.seekOffsets(ctx, spec, parts)
	if err != nil {
		return nil, fmt.Errorf("seek group %s: %w", spec.Group, err)
	}
	previous, err := a.currentOffsets(ctx, spec.Group, spec.Topic, share)
	if err != nil {
		return nil, err
	}
	set := make(kadm.Offsets)
	for i := range results {
		r := &results[i]
		r.Previous = -1
		if o, ok := previous[r.Partition]; ok {
			r.Previous = o
		}
		if r.Err == nil {
			// No leader epoch: the new position is not tied to a leader's
			// log, so the consumer must not validate it as one.
			set.Add(kadm.Offset{Topic: r.Topic, Partition: r.Partition, At: r.Offset, LeaderEpoch: -1})
		}
	}
	if !spec.DryRun && len(set) > 0 {
		outcome, err := a.setOffsets(ctx, spec.Group, share, set)
		if err != nil {
			return nil, groupErr("seek", spec.Group, firstShardErr(err), "")
		}
		for i := range results {
			r := &results[i]
			if r.Err != nil {
				continue
			}
			if perr, ok := outcome(r.Topic, r.Partition); !ok {
				r.Err = groupErr("seek", spec.Group, errors.New("the cluster's response did not mention the partition"), "")
			} else if perr != nil {
				r.Err = groupErr("seek", spec.Group, perr, "")
			}
			if r.Err != nil {
				r.Offset = -1
			}
		}
	}
	return results, seekErrors(results)
}

// currentOffsets returns the group's offsets on topic by partition: the
// committed offsets, or a share group's start offsets.
func (a *Admin) currentOffsets(ctx context.Context, group, topic string, share bool) (map[int32]int64, error) {
	out := make(map[int32]int64)
	if share {
		described, err := a.adm.DescribeShareGroupOffsets(ctx, group)
		if err == nil {
			err = described[group].Err
		}
		if err != nil && !errors.Is(err, kerr.GroupIDNotFound) {
			return nil, groupErr("seek", group, fmt.Errorf("describe share-group offsets: %w", firstShardErr(err)), "")
		}
		described[group].Offsets.Each(func(o kadm.ShareOffset) {
			if o.Topic == topic && o.Err == nil && o.StartOffset >= 0 {
				out[o.Partition] = o.StartOffset
			}
		})
		return out, nil
	}
	committed, err := a.adm.FetchOffsets(ctx, group)
	if err != nil {
		return nil, groupErr("seek", group, fmt.Errorf("fetch committed offsets: %w", firstShardErr(err)), "")
	}
	committed.Each(func(o kadm.OffsetResponse) {
		if o.Topic == topic && o.Err == nil && o.At >= 0 {
			out[o.Partition] = o.At
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

// seekOffsets lists the offsets spec.To means for each of parts. A
// partition whose offset cannot be listed gets an Err.
func (a *Admin) seekOffsets(ctx context.Context, spec SeekSpec, parts []int32) ([]SeekResult, error) {
	var (
		starts, ends, at kadm.ListedOffsets
		err              error
	)
	switch spec.To.Kind {
	case SeekEarliest:
		at, err = a.adm.ListStartOffsets(ctx, spec.Topic)
	case SeekLatest:
		at, err = a.adm.ListEndOffsets(ctx, spec.Topic)
	case SeekTimestamp:
		at, err = a.adm.ListOffsetsAfterMilli(ctx, spec.To.Value, spec.Topic)
	case SeekOffset:
		if starts, err = a.adm.ListStartOffsets(ctx, spec.Topic); err == nil || partial(err) {
			ends, err = a.adm.ListEndOffsets(ctx, spec.Topic)
		}
	}
	// A partial failure leaves the partitions of the brokers that did not
	// answer out of the listing; lookup below reports them.
	if err != nil && !partial(err) {
		return nil, fmt.Errorf("list offsets of %s: %w", spec.Topic, err)
	}
	out := make([]SeekResult, 0, len(parts))
	for _, p := range parts {
		r := SeekResult{Topic: spec.Topic, Partition: p, Offset: -1}
		lookup := func(l kadm.ListedOffsets) (kadm.ListedOffset, bool) {
			o, ok := l.Lookup(spec.Topic, p)
			switch {
			case !ok:
				r.Err = fmt.Errorf("partition %d: no offset listed (its leader did not answer)", p)
			case o.Err != nil:
				r.Err = fmt.Errorf("partition %d: list offsets: %w", p, o.Err)
			}
			return o, r.Err == nil
		}
		if spec.To.Kind == SeekOffset {
			start, ok1 := lookup(starts)
			end, ok2 := lookup(ends)
			switch {
			case !ok1 || !ok2:
			case spec.To.Value < start.Offset:
				r.Offset, r.Note = start.Offset, fmt.Sprintf("offset %d is before the log start", spec.To.Value)
			case spec.To.Value > end.Offset:
				r.Offset, r.Note = end.Offset, fmt.Sprintf("offset %d is past the end", spec.To.Value)
			default:
				r.Offset = spec.To.Value
			}
		} else if o, ok := lookup(at); ok {
			r.Offset = o.Offset
			if spec.To.Kind == SeekTimestamp && o.Timestamp < 0 {
				r.Note = "no record at or after the time: the end"
			}
		}
		out = append(out, r)
	}
	return out, nil
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
