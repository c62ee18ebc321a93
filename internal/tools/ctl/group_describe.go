package ctl

// group_describe.go gathers everything known about one group, whichever
// protocol it runs (KIP-1043's group types):
//   - classic (JoinGroup/SyncGroup): state, assignor, members and what the
//     leader assigned them (DescribeGroups);
//   - consumer (KIP-848): group epoch, target assignment epoch, and per
//     member its epoch, subscription, current and target assignment
//     (ConsumerGroupDescribe);
//   - share (KIP-932): members and their assignments (ShareGroupDescribe),
//     and per share-partition its start offset and lag
//     (DescribeShareGroupOffsets).
//
// Classic and consumer groups commit offsets, so both get the committed
// offset, end offset and lag per partition (group_lag.go). The type comes
// from ListGroups (v5); a group the listing does not show is described as
// a classic group, which is how an unknown group is reported.

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/twmb/franz-go/pkg/kadm"
)

// GroupDescription is what DescribeGroup learns about a group.
type GroupDescription struct {
	Group       string // Group is the group id.
	Type        string // Type is "classic", "consumer" or "share" (GroupSummary.Type).
	Coordinator string // Coordinator is the coordinator broker, "ID (host:port)".
	// State is Empty, Stable, PreparingRebalance or CompletingRebalance
	// (classic); Empty, Assigning, Reconciling or Stable (consumer); Empty
	// or Stable (share).
	State        string
	ProtocolType string // ProtocolType is "consumer" for classic consumer groups; "" for groups that only commit offsets.
	// Protocol is the assignor: of the last rebalance (range,
	// cooperative-sticky, ...; "" when Empty) for a classic group, the
	// broker's (uniform, range, simple) for the others.
	Protocol string
	// Epoch is the group epoch of a consumer or share group (it grows with
	// every change of members or subscriptions), and AssignmentEpoch the
	// epoch of its target assignment: the two are equal once the target
	// assignment is computed. Both are -1 for a classic group.
	Epoch, AssignmentEpoch int32
	Members                []GroupMember // Members are sorted by instance id, then member id.
	Offsets                []GroupOffset // Offsets (classic and consumer groups) are sorted by topic, then partition.
	Shares                 []ShareOffset // Shares (share groups) are the share-partitions, sorted by topic, then partition.
	OffsetsErr             error         // OffsetsErr is why Offsets or Shares is missing or incomplete, if it is.
	// Err is why the group could not be described, in a description of
	// many groups (DescribeGroups): then only Group and Type are set.
	// DescribeGroup returns it as its error instead.
	Err error
}

// GroupMember is one member of a group.
type GroupMember struct {
	MemberID   string             // MemberID is the id the coordinator (classic) or the member itself (consumer, share) chose.
	InstanceID string             // InstanceID is the static member id (group.instance.id), or "".
	ClientID   string             // ClientID is the client id the member connected with.
	Host       string             // Host is the address the member connected from, as the broker saw it.
	Assigned   map[string][]int32 // Assigned are the member's current partitions by topic, sorted; nil if it has none or is not a consumer.
	// Epoch is the member's epoch (consumer and share groups): the group
	// epoch of the assignment it last acknowledged; -1 for classic groups.
	Epoch int32
	// Target is a consumer group member's target assignment, by topic:
	// what the broker's assignor wants it to own. It differs from Assigned
	// while the member reconciles (revoking before it is given more).
	Target     map[string][]int32
	Subscribed []string // Subscribed are the topics the member subscribed to by name (consumer and share groups).
	Regex      string   // Regex is a consumer group member's topic regular expression (RE2, resolved by the broker), or "".
	// Classic is true for a member of a consumer group that still speaks
	// the classic protocol (KIP-848's online upgrade).
	Classic bool
}

// GroupOffset is the progress of a classic or consumer group on one
// partition. A partition appears if it is assigned to a member, belongs
// to a topic a member subscribes to, or has a committed offset.
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

// ShareOffset is a share group's state on one share-partition.
type ShareOffset struct {
	Topic     string // Topic is the topic.
	Partition int32  // Partition is the partition number.
	// Start is the share-partition start offset: every record before it
	// was acknowledged or archived; records from it on are available,
	// acquired by a member, or already acknowledged out of order. -1 if
	// the group has no state for the partition yet (no member fetched it).
	Start int64
	End   int64 // End is the partition's end offset (high watermark), or -1 if unknown.
	// Lag is the broker's count of records from Start to End not yet
	// acknowledged or archived (KIP-1226), or -1 if it does not say.
	Lag int64
	// Members are the members assigned the partition: in a share group a
	// partition is shared by several members.
	Members []string
	Err     error // Err is why Start or Lag is unknown.
}

// TotalLag is the sum of the known lags.
func (d GroupDescription) TotalLag() int64 {
	var n int64
	for _, o := range d.Offsets {
		if o.Lag > 0 {
			n += o.Lag
		}
	}
	for _, s := range d.Shares {
		if s.Lag > 0 {
			n += s.Lag
		}
	}
	return n
}

// DescribeGroup describes the named group. A group that does not exist
// fails with a *GroupError ("unknown group X") that matches
// kerr.GroupIDNotFound. If the offsets cannot be fetched, the members are
// still returned and OffsetsErr says why. It is DescribeGroups with one
// group, whose type it first asks the cluster.
func (a *Admin) DescribeGroup(ctx context.Context, group string) (GroupDescription, error) {
	if group == "" {
		return GroupDescription{}, fmt.Errorf("describe group: empty group id")
	}
	d := a.DescribeGroups(ctx, []GroupSummary{{Group: group, Type: a.groupType(ctx, group)}}, true)[0]
	if d.Err != nil {
		return GroupDescription{}, d.Err
	}
	if err := ctx.Err(); err != nil {
		return GroupDescription{}, fmt.Errorf("describe group %s: %w", group, err)
	}
	return d, nil
}

// groupType returns the group's type as the cluster lists it, or "" if
// the listing fails or does not show the group (it may not exist; the
// classic describe says so).
func (a *Admin) groupType(ctx context.Context, group string) string {
	gs, _ := a.ListGroups(ctx, GroupFilter{})
	for _, g := range gs {
		if g.Group == group {
			return g.Type
		}
	}
	return ""
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

// coordinator renders a coordinator broker as "ID (host:port)".
func coordinator(b kadm.BrokerDetail) string {
	return fmt.Sprintf("%d (%s:%d)", b.NodeID, b.Host, b.Port)
}

// sortMembers sorts members by instance id (static members first), then
// member id, as kadm sorts a classic group's.
func sortMembers(ms []GroupMember) {
	sort.Slice(ms, func(i, j int) bool {
		a, b := ms[i], ms[j]
		if (a.InstanceID != "") != (b.InstanceID != "") {
			return a.InstanceID != ""
		}
		if a.InstanceID != b.InstanceID {
			return a.InstanceID < b.InstanceID
		}
		return a.MemberID < b.MemberID
	})
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
