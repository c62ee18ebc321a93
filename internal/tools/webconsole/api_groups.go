package webconsole

// api_groups.go is the console's own JSON API for the consumer groups
// pages, answered as the signed-in user (the cluster's ACLs decide which
// groups they see and what they may do):
//   - GET /api/groups: every group the user may describe, classic, KIP-848
//     consumer and KIP-932 share groups, with type, state, members and
//     total lag in records; described in batches (ctl.DescribeGroups: one
//     request of each kind per coordinator), so that a thousand groups list
//     in well under a second;
//   - GET /api/groups/{group}: members and assignments, committed offsets
//     (a share group's share-partition start offsets) with lag per partition
//     in records and in time (lag.go);
//   - DELETE /api/groups/{group}: Kafka refuses a group with members
//     (NON_EMPTY_GROUP), and the page shows its refusal;
//   - offset resets are in api_reset.go, the lag history in
//     api_laghistory.go.

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/courier-dev/courier/internal/tools/ctl"
	"github.com/twmb/franz-go/pkg/kerr"
)

// groupsTimeout bounds the cluster requests of one groups API call.
const groupsTimeout = 20 * time.Second

// groupRoutes opens the lag history and registers the consumer groups API
// and REST Proxy's consumer-groups resources.
func (s *Server) groupRoutes() {
	s.openLag()
	s.api("GET /api/groups", s.listGroups)
	s.api("GET /api/groups/{group}", s.getGroup)
	s.api("DELETE /api/groups/{group}", s.deleteGroup)
	s.api("POST /api/groups/{group}/offsets:reset", s.resetOffsets)
	s.api("GET /api/groups/{group}/lag-history", s.lagHistoryOf)
	s.restGroupRoutes()
}

// groupRow is one group of GET /api/groups.
type groupRow struct {
	Group        string `json:"group"`
	Type         string `json:"type"`
	ProtocolType string `json:"protocol_type"`
	State        string `json:"state"`
	Members      int    `json:"members"`
	// Lag is the total lag in records; null when the offsets could not be
	// read (Error says why).
	Lag   *int64 `json:"lag"`
	Error string `json:"error,omitempty"`
}

// groupList is GET /api/groups.
type groupList struct {
	Groups []groupRow `json:"groups"`
	// Partial says why the listing may lack groups (a broker that did not
	// answer), or is empty.
	Partial string `json:"partial,omitempty"`
	// TookMS is how long the cluster took to answer, in milliseconds.
	TookMS int64 `json:"took_ms"`
}

// ctlAdmin returns a ctl.Admin on the user's shared client and a context
// bounded by groupsTimeout; cancel it when done.
func (c *call) ctlAdmin() (*ctl.Admin, context.Context, context.CancelFunc, error) {
	cl, err := c.Kafka().Client()
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := context.WithTimeout(c.r.Context(), groupsTimeout)
	return ctl.Over(cl), ctx, cancel, nil
}

// describeAll lists and describes every group the admin's user may
// describe (of the given types; all when none): a group the cluster
// refuses to describe to the user is left out. partial says why the
// listing may be incomplete.
func describeAll(ctx context.Context, a *ctl.Admin, offsets bool, types ...string) (ds []ctl.GroupDescription, partial string, err error) {
	listed, err := a.ListGroups(ctx, ctl.GroupFilter{Types: types})
	if err != nil && listed == nil {
		return nil, "", err
	}
	if err != nil {
		partial = err.Error()
	}
	for _, d := range a.DescribeGroups(ctx, listed, offsets) {
		if !errors.Is(d.Err, kerr.GroupAuthorizationFailed) {
			ds = append(ds, d)
		}
	}
	return ds, partial, nil
}

// listGroups answers GET /api/groups.
func (s *Server) listGroups(c *call) error {
	a, ctx, cancel, err := c.ctlAdmin()
	if err != nil {
		return err
	}
	defer cancel()
	start := time.Now()
	ds, partial, err := describeAll(ctx, a, true)
	if err != nil {
		return ctlError("list groups", err)
	}
	out := groupList{Groups: make([]groupRow, 0, len(ds)), Partial: partial, TookMS: time.Since(start).Milliseconds()}
	for _, d := range ds {
		row := groupRow{Group: d.Group, Type: d.Type, ProtocolType: d.ProtocolType, State: d.State, Members: len(d.Members)}
		switch {
		case d.Err != nil:
			row.Error = d.Err.Error()
		case d.OffsetsErr != nil && len(d.Offsets)+len(d.Shares) == 0:
			row.Error = d.OffsetsErr.Error()
		default:
			lag := d.TotalLag()
			row.Lag = &lag
			if d.OffsetsErr != nil {
				row.Error = d.OffsetsErr.Error()
			}
		}
		out.Groups = append(out.Groups, row)
	}
	s.log.Debug("console listed groups", "user", c.User(), "groups", len(out.Groups), "took", time.Since(start))
	return c.JSON(http.StatusOK, out)
}

// topicParts is a topic's partitions.
type topicParts struct {
	Topic      string  `json:"topic"`
	Partitions []int32 `json:"partitions"`
}

// memberView is a group member on the group page.
type memberView struct {
	MemberID   string       `json:"member_id"`
	InstanceID string       `json:"instance_id,omitempty"`
	ClientID   string       `json:"client_id"`
	Host       string       `json:"host"`
	Epoch      int32        `json:"epoch"`
	Assigned   []topicParts `json:"assigned"`
	Target     []topicParts `json:"target,omitempty"`
	Subscribed []string     `json:"subscribed,omitempty"`
	Regex      string       `json:"regex,omitempty"`
	Classic    bool         `json:"classic,omitempty"`
}

// partitionView is a partition of a group on its page: its committed
// offset (a share group's start offset), end, lag in records and in time.
type partitionView struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	// Committed is the committed offset, -1 when never committed (classic
	// and consumer groups); Start the share-partition start offset, -1
	// when the group has no state for it (share groups).
	Committed *int64 `json:"committed,omitempty"`
	Start     *int64 `json:"start,omitempty"`
	End       int64  `json:"end"`
	Lag       *int64 `json:"lag"`
	// TimeLagMS is the age of the oldest unconsumed record (now minus its
	// timestamp, OldestMS); both null when nothing is left to consume
	// ("–") or it could not be read (TimeLagError says why).
	TimeLagMS    *int64   `json:"time_lag_ms"`
	OldestMS     *int64   `json:"oldest_ms"`
	TimeLagError string   `json:"time_lag_error,omitempty"`
	MemberID     string   `json:"member_id,omitempty"`
	ClientID     string   `json:"client_id,omitempty"`
	Members      []string `json:"members,omitempty"`
	Error        string   `json:"error,omitempty"`
}

// groupDetail is GET /api/groups/{group}.
type groupDetail struct {
	Group           string          `json:"group"`
	Type            string          `json:"type"`
	State           string          `json:"state"`
	ProtocolType    string          `json:"protocol_type"`
	Protocol        string          `json:"protocol"`
	Coordinator     string          `json:"coordinator"`
	Epoch           int32           `json:"epoch"`
	AssignmentEpoch int32           `json:"assignment_epoch"`
	Members         []memberView    `json:"members"`
	Partitions      []partitionView `json:"partitions"`
	TotalLag        int64           `json:"total_lag"`
	MaxTimeLagMS    *int64          `json:"max_time_lag_ms"`
	OffsetsError    string          `json:"offsets_error,omitempty"`
}

// describeGroup describes group as the user.
func (c *call) describeGroup(group string) (ctl.GroupDescription, error) {
	a, ctx, cancel, err := c.ctlAdmin()
	if err != nil {
		return ctl.GroupDescription{}, err
	}
	defer cancel()
	d, err := a.DescribeGroup(ctx, group)
	if err != nil {
		return d, ctlError("describe group "+group, err)
	}
	return d, nil
}

// getGroup answers GET /api/groups/{group}.
func (s *Server) getGroup(c *call) error {
	d, err := c.describeGroup(c.r.PathValue("group"))
	if err != nil {
		return err
	}
	out := groupDetail{
		Group: d.Group, Type: d.Type, State: d.State, ProtocolType: d.ProtocolType, Protocol: d.Protocol,
		Coordinator: d.Coordinator, Epoch: d.Epoch, AssignmentEpoch: d.AssignmentEpoch,
		Members: make([]memberView, 0, len(d.Members)), Partitions: groupPartitionViews(d), TotalLag: d.TotalLag(),
	}
	if d.OffsetsErr != nil {
		out.OffsetsError = d.OffsetsErr.Error()
	}
	for _, m := range d.Members {
		out.Members = append(out.Members, memberView{
			MemberID: m.MemberID, InstanceID: m.InstanceID, ClientID: m.ClientID, Host: m.Host, Epoch: m.Epoch,
			Assigned: memberParts(m.Assigned), Target: memberParts(m.Target), Subscribed: m.Subscribed, Regex: m.Regex, Classic: m.Classic,
		})
	}
	stamps := readStamps(c.r.Context(), c.Kafka().NewClient, stampQuestions(out.Partitions), timeLagDeadline)
	out.MaxTimeLagMS = applyStamps(out.Partitions, stamps, time.Now())
	return c.JSON(http.StatusOK, out)
}

// groupPartitionViews lists a group's partitions for its page.
func groupPartitionViews(d ctl.GroupDescription) []partitionView {
	out := make([]partitionView, 0, len(d.Offsets)+len(d.Shares))
	for _, o := range d.Offsets {
		v := partitionView{Topic: o.Topic, Partition: o.Partition, Committed: ptrTo(o.Committed), End: o.End,
			MemberID: o.MemberID, ClientID: o.ClientID}
		if o.Lag >= 0 {
			v.Lag = ptrTo(o.Lag)
		}
		if o.Err != nil {
			v.Error = o.Err.Error()
		}
		out = append(out, v)
	}
	for _, sh := range d.Shares {
		v := partitionView{Topic: sh.Topic, Partition: sh.Partition, Start: ptrTo(sh.Start), End: sh.End, Members: sh.Members}
		if sh.Lag >= 0 {
			v.Lag = ptrTo(sh.Lag)
		}
		if sh.Err != nil {
			v.Error = sh.Err.Error()
		}
		out = append(out, v)
	}
	return out
}

// from is where a partition's oldest unconsumed record is: its committed
// offset (share groups: start offset), -1 for the log start.
func (v partitionView) from() int64 {
	switch {
	case v.Committed != nil:
		return *v.Committed
	case v.Start != nil:
		return *v.Start
	}
	return -1
}

// stampQuestions asks for the oldest unconsumed record of every partition
// that lags.
func stampQuestions(ps []partitionView) []recordAt {
	var qs []recordAt
	for _, v := range ps {
		if v.Lag != nil && *v.Lag > 0 {
			qs = append(qs, recordAt{Topic: v.Topic, Partition: v.Partition, From: v.from(), End: v.End})
		}
	}
	return qs
}

// applyStamps fills in the lag in time of every lagging partition and
// returns the largest, or nil if none is known.
func applyStamps(ps []partitionView, stamps map[recordAt]stamp, now time.Time) *int64 {
	var most *int64
	for i := range ps {
		v := &ps[i]
		if v.Lag == nil || *v.Lag == 0 {
			continue
		}
		st, ok := stamps[recordAt{Topic: v.Topic, Partition: v.Partition, From: v.from(), End: v.End}]
		if !ok {
			continue
		}
		if st.err != nil {
			v.TimeLagError = st.err.Error()
			continue
		}
		if v.TimeLagMS = st.timeLag(now); v.TimeLagMS != nil {
			v.OldestMS = ptrTo(st.ms)
			if most == nil || *v.TimeLagMS > *most {
				most = v.TimeLagMS
			}
		}
	}
	return most
}

// memberParts returns a member's partitions by topic, sorted by topic.
func memberParts(m map[string][]int32) []topicParts {
	out := make([]topicParts, 0, len(m))
	for t, ps := range m {
		out = append(out, topicParts{Topic: t, Partitions: slices.Clone(ps)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Topic < out[j].Topic })
	return out
}

// deleteGroup answers DELETE /api/groups/{group}.
func (s *Server) deleteGroup(c *call) error {
	group := c.r.PathValue("group")
	a, ctx, cancel, err := c.ctlAdmin()
	if err != nil {
		return err
	}
	defer cancel()
	var outcome error
	ds, err := a.DeleteGroups(ctx, group)
	switch {
	case len(ds) == 1:
		outcome = ds[0].Err
	case err != nil:
		outcome = err
	default:
		outcome = errors.New("the cluster's response did not mention the group")
	}
	c.Audit("group.delete", group, outcome)
	if outcome != nil {
		return ctlError("delete group "+group, outcome)
	}
	return c.JSON(http.StatusOK, map[string]string{"deleted": group})
}

// ctlError is kafkaError for the errors of package ctl, whose messages
// already name the group and say what happened in words: it puts Kafka's
// error name in front (NON_EMPTY_GROUP: cannot delete group g: ...), so
// that the page shows the cluster's refusal by name; what describes other
// errors.
func ctlError(what string, err error) error {
	if code := kafkaCode(err); code != "" {
		return kafkaError(code, err)
	}
	return kafkaError(what, err)
}

// kafkaCode is the name of the Kafka error code in err's chain
// (NON_EMPTY_GROUP), or "".
func kafkaCode(err error) string {
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Message
	}
	return ""
}

// withCode is err's message with the name of its Kafka error code in
// front, as ctlError puts it.
func withCode(err error) string {
	if code := kafkaCode(err); code != "" {
		return code + ": " + err.Error()
	}
	return err.Error()
}

// ptrTo returns a pointer to v.
func ptrTo[T any](v T) *T { return &v }
