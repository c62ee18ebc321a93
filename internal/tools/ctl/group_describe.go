package ctl

// group_describe.go gathers everything known about one consumer group: its
// state and assignor, its members and what they were assigned, and per
// partition the committed offset, the end offset and the lag between them.
// It is kadm's lag recipe (DescribeGroups, FetchOffsets, ListStartOffsets,
// ListEndOffsets, CalculateGroupLagWithStartOffsets) done step by step so
// that a failed step is reported precisely.

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
)

// GroupDescription is what DescribeGroup learns about a group.
type GroupDescription struct {
	Group        string        // Group is the group id.
	Coordinator  string        // Coordinator is the coordinator broker, "ID (host:port)".
	State        string        // State is Empty, Stable, PreparingRebalance or CompletingRebalance.
	ProtocolType string        // ProtocolType is "consumer" for consumer groups; "" for groups that only commit offsets.
	Protocol     string        // Protocol is the assignor chosen in the last rebalance (range, cooperative-sticky, ...); "" when Empty.
	Members      []GroupMember // Members are sorted by instance id, then member id.
	Offsets      []GroupOffset // Offsets are sorted by topic, then partition.
	OffsetsErr   error         // OffsetsErr is why Offsets is missing or incomplete, if it is.
}

// GroupMember is one member of a group.
type GroupMember struct {
	MemberID   string             // MemberID is the id the coordinator gave the member.
	InstanceID string             // InstanceID is the static member id (group.instance.id), or "".
	ClientID   string             // ClientID is the client id the member connected with.
	Host       string             // Host is the address the member connected from, as the broker saw it.
	Assigned   map[string][]int32 // Assigned are the member's partitions by topic, sorted; nil if it has none or is not a consumer.
}

// GroupOffset is the progress of a group on one partition. A partition
// appears if it is assigned to a member, belongs to a topic a member
// subscribes to, or has a committed offset.
type GroupOffset struct {
	Topic     string // Topic is the topic.
	Partition int32  // Partition is the partition number.
	Committed int64  // Committed is the group's committed offset (the next record to read), or -1 if none.
	End       int64  // End is the partition's end offset (high watermark), or -1 if unknown.
	// Lag is End minus Committed, or, with no commit, End minus the log
	// start offset (everything still there is unread); never negative; -1
	// if unknown.
	Lag      int64
	MemberID string // MemberID is the member assigned the partition, or "".
	ClientID string // ClientID is that member's client id, or "".
	Err      error  // Err is why Committed, End or Lag is unknown.
}

// TotalLag is the sum of the known lags.
func (d GroupDescription) TotalLag() int64 {
	var n int64
	for _, o := range d.Offsets {
		if o.Lag > 0 {
			n += o.Lag
		}
	}
	return n
}

// DescribeGroup describes the named group. A group that does not exist
// fails with a *GroupError ("unknown group X") that matches
// kerr.GroupIDNotFound. If the offsets cannot be fetched, the members are
// still returned and OffsetsErr says why.
func (a *Admin) DescribeGroup(ctx context.Context, group string) (GroupDescription, error) {
	if group == "" {
		return GroupDescription{}, fmt.Errorf("describe group: empty group id")
	}
	g, err := a.describeGroup(ctx, "describe", group)
	if err != nil {
		return GroupDescription{}, err
	}
	if g.State == "Dead" {
		// Brokers before KIP-1043 answer an unknown group with Dead.
		return GroupDescription{}, groupErr("describe", group, kerr.GroupIDNotFound, "")
	}
	d := GroupDescription{
		Group:        group,
		Coordinator:  fmt.Sprintf("%d (%s:%d)", g.Coordinator.NodeID, g.Coordinator.Host, g.Coordinator.Port),
		State:        g.State,
		ProtocolType: g.ProtocolType,
		Protocol:     g.Protocol,
	}
	for _, m := range g.Members {
		gm := GroupMember{MemberID: m.MemberID, ClientID: m.ClientID, Host: m.ClientHost}
		if m.InstanceID != nil {
			gm.InstanceID = *m.InstanceID
		}
		if c, ok := m.Assigned.AsConsumer(); ok {
			for _, t := range c.Topics {
				if len(t.Partitions) == 0 {
					continue
				}
				if gm.Assigned == nil {
					gm.Assigned = make(map[string][]int32)
				}
				ps := append(gm.Assigned[t.Topic], t.Partitions...)
				sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
				gm.Assigned[t.Topic] = ps
			}
		}
		d.Members = append(d.Members, gm)
	}
	d.Offsets, d.OffsetsErr = a.groupOffsets(ctx, g)
	if err := ctx.Err(); err != nil {
		return GroupDescription{}, fmt.Errorf("describe group %s: %w", group, err)
	}
	return d, nil
}

// describeGroup runs DescribeGroups for one group and returns its answer,
// or a *GroupError if the coordinator refused it. A Dead state is left to
// the caller.
func (a *Admin) describeGroup(ctx context.Context, op, group string) (kadm.DescribedGroup, error) {
	described, err := a.adm.DescribeGroups(ctx, group)
	if err != nil {
		return kadm.DescribedGroup{}, groupErr(op, group, firstShardErr(err), "")
	}
	g, ok := described[group]
	if !ok {
		return kadm.DescribedGroup{}, fmt.Errorf("%s group %s: the cluster's response did not mention the group", op, group)
	}
	return g, groupErr(op, group, g.Err, g.ErrMessage)
}

// groupOffsets returns the group's committed offset, end offset and lag
// for every partition it is assigned, subscribes to or has committed.
func (a *Admin) groupOffsets(ctx context.Context, g kadm.DescribedGroup) ([]GroupOffset, error) {
	commits, err := a.adm.FetchOffsets(ctx, g.Group)
	if err != nil {
		return nil, fmt.Errorf("fetch committed offsets: %w", err)
	}
	set := g.AssignedPartitions()
	set.MergeTopics(g.JoinTopics())
	set.Merge(commits.Partitions())
	var starts, ends kadm.ListedOffsets
	var listErr error
	if topics := set.Topics(); len(topics) > 0 {
		// A failed start listing only loses the lag of never-committed
		// partitions; a failed end listing shows as errors per partition.
		starts, _ = a.adm.ListStartOffsets(ctx, topics...)
		ends, err = a.adm.ListEndOffsets(ctx, topics...)
		if err != nil && !partial(err) {
			listErr = fmt.Errorf("list end offsets: %w", err)
		}
		// A topic that no longer exists is listed as partition -1; give
		// each of its committed partitions that error instead.
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
	}
	lag := kadm.CalculateGroupLagWithStartOffsets(g, commits, starts, ends)
	out := make([]GroupOffset, 0, len(lag))
	for _, l := range lag.Sorted() {
		o := GroupOffset{Topic: l.Topic, Partition: l.Partition, Committed: l.Commit.At, End: -1, Lag: l.Lag, Err: l.Err}
		if l.End.Err == nil {
			o.End = l.End.Offset
		}
		if o.Committed < 0 {
			o.Committed = -1
		}
		if l.Member != nil {
			o.MemberID, o.ClientID = l.Member.MemberID, l.Member.ClientID
		}
		out = append(out, o)
	}
	return out, listErr
}

// firstShardErr returns the first broker's error of a kadm sharded failure
// (a request to one group's coordinator is one shard), else err.
func firstShardErr(err error) error {
	var se *kadm.ShardErrors
	if errors.As(err, &se) && len(se.Errs) > 0 {
		return se.Errs[0].Err
	}
	return err
}
