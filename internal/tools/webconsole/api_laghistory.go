package webconsole

// api_laghistory.go answers GET /api/groups/{group}/lag-history: the
// group's samples of the last 24 hours (lag in records and in time), for
// the chart of the group page. The history is sampled with the console's
// own identity, so it is shown only to a user who may describe the group:
// a DescribeGroups as the user first, and GROUP_AUTHORIZATION_FAILED is
// refused as the cluster refuses it. The history must not tell a user of
// groups they cannot see.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// lagPoint is one sample of GET /api/groups/{group}/lag-history.
type lagPoint struct {
	T         int64  `json:"t"`           // T is the sample's time, Unix milliseconds.
	Lag       *int64 `json:"lag"`         // Lag is the total lag in records, null if unknown.
	TimeLagMS *int64 `json:"time_lag_ms"` // TimeLagMS is the lag in time (the largest of the partitions'), null if unknown.
}

// lagHistoryView is GET /api/groups/{group}/lag-history.
type lagHistoryView struct {
	Group string `json:"group"`
	// Available is false when the console samples no history (no identity
	// of its own); Reason then says why.
	Available bool   `json:"available"`
	Reason    string `json:"reason,omitempty"`
	// Note says what else the user should know: the history is kept in
	// memory only (and why), the group is not tracked (the limit).
	Note       string     `json:"note,omitempty"`
	Tracked    bool       `json:"tracked"`
	IntervalMS int64      `json:"interval_ms"`
	FromMS     int64      `json:"from_ms"` // FromMS is the start of the window shown: 24 h before now.
	NowMS      int64      `json:"now_ms"`
	Samples    []lagPoint `json:"samples"`
}

// mayDescribe asks the cluster, as the user, whether they may describe the
// group: DescribeGroups, whose GROUP_AUTHORIZATION_FAILED comes before any
// lookup (a KIP-848 or share group, which it does not describe, answers
// GROUP_ID_NOT_FOUND to a user who may).
func (c *call) mayDescribe(ctx context.Context, group string) error {
	cl, err := c.Kafka().Client()
	if err != nil {
		return err
	}
	req := kmsg.NewPtrDescribeGroupsRequest()
	req.Groups = []string{group}
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return kafkaError("describe group "+group, err)
	}
	for _, g := range resp.Groups {
		if g.Group == group || len(resp.Groups) == 1 {
			if err := kerr.ErrorForCode(g.ErrorCode); errors.Is(err, kerr.GroupAuthorizationFailed) {
				return kafkaError("lag history of group "+group, err)
			}
			return nil
		}
	}
	return kafkaError("describe group "+group, errors.New("the cluster's response did not mention the group"))
}

// lagHistoryOf answers GET /api/groups/{group}/lag-history.
func (s *Server) lagHistoryOf(c *call) error {
	group := c.r.PathValue("group")
	ctx, cancel := context.WithTimeout(c.r.Context(), groupsTimeout)
	defer cancel()
	if err := c.mayDescribe(ctx, group); err != nil {
		return err
	}
	now := time.Now()
	out := lagHistoryView{Group: group, IntervalMS: s.lagInterval().Milliseconds(), FromMS: now.Add(-lagKeep).UnixMilli(), NowMS: now.UnixMilli(), Samples: []lagPoint{}}
	if s.cfg.Access.Service == nil {
		out.Reason = "The console has no identity of its own on this cluster (no service credentials), so it samples no lag history: a history sampled as one user would show what that user may see."
		return c.JSON(http.StatusOK, out)
	}
	out.Available = true
	why, untracked, _ := s.lag.status()
	samples, tracked := s.lag.samples(group, now)
	out.Tracked = tracked
	switch {
	case !tracked && untracked > 0:
		out.Note = fmt.Sprintf("This group is not tracked: the console keeps the history of at most %d groups (--console-lag-max-groups).", s.lag.maxGroups)
	case why != "":
		out.Note = why
	}
	for _, sm := range samples {
		p := lagPoint{T: int64(sm.At) * 1000}
		if sm.Records >= 0 {
			p.Lag = ptrTo(sm.Records)
		}
		if sm.TimeLag != lagNoTime {
			p.TimeLagMS = ptrTo(int64(sm.TimeLag) * 1000)
		}
		out.Samples = append(out.Samples, p)
	}
	return c.JSON(http.StatusOK, out)
}
