package webconsole

// api_reset.go resets a group's offsets: POST
// /api/groups/{group}/offsets:reset with
//
//	{"mode": "earliest"|"latest"|"timestamp"|"offset",
//	 "timestamp": Unix ms or an RFC 3339 time, "offset": N,
//	 "topics": [...], "partitions": [{"topic", "partition"}],
//	 "preview": true}
//
// moves the group's committed offsets (a share group's start offsets) on
// the partitions named (by default every partition the group has) to the
// log start, the end, the first record at or after a time, or an offset
// (kept within the log). A preview computes, per partition, the current
// and the new offset and the lag after, and changes nothing (of a group
// with members too, saying that applying it would be refused); without it
// the reset is applied, as Kafka allows only on a group without members
// (NON_EMPTY_GROUP otherwise, or the coordinator's own refusal of the
// commit if a member joined meanwhile), and written to the audit log.
// Package ctl does the work (SeekPartitions), as for `courier group seek`.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/courier-dev/courier/internal/tools/ctl"
	"github.com/twmb/franz-go/pkg/kerr"
)

// resetRequest is the body of an offset reset.
type resetRequest struct {
	Mode string `json:"mode"`
	// Timestamp is Unix milliseconds (a number) or an RFC 3339 time (a
	// string), for mode timestamp.
	Timestamp  json.RawMessage `json:"timestamp,omitempty"`
	Offset     *int64          `json:"offset,omitempty"`
	Topics     []string        `json:"topics,omitempty"`
	Partitions []struct {
		Topic     string `json:"topic"`
		Partition int32  `json:"partition"`
	} `json:"partitions,omitempty"`
	Preview bool `json:"preview"`
}

// resetRow is what a reset does to one partition.
type resetRow struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	// Current is the offset before (-1: none), New the offset after (-1
	// when this partition could not be moved: Error says why), End the
	// partition's end offset, LagAfter the lag in records after the reset.
	Current  int64  `json:"current"`
	New      int64  `json:"new"`
	End      int64  `json:"end"`
	LagAfter *int64 `json:"lag_after"`
	Note     string `json:"note,omitempty"`
	Error    string `json:"error,omitempty"`
}

// resetResult is the answer of an offset reset.
type resetResult struct {
	Group      string     `json:"group"`
	To         string     `json:"to"` // the target as `courier group seek --to` reads it
	Applied    bool       `json:"applied"`
	Partitions []resetRow `json:"partitions"`
	// Error joins the partitions' errors when some could not be moved;
	// for a preview of a group with members, it says that applying it
	// would be refused (NON_EMPTY_GROUP).
	Error string `json:"error,omitempty"`
}

// target reads the request's mode and its value.
func (r resetRequest) target() (ctl.SeekTarget, error) {
	switch r.Mode {
	case "earliest", "latest":
		return ctl.ParseSeekTarget(r.Mode)
	case "offset":
		if r.Offset == nil {
			return ctl.SeekTarget{}, errors.New(`mode "offset" needs "offset": a number`)
		}
		return ctl.ParseSeekTarget("offset:" + strconv.FormatInt(*r.Offset, 10))
	case "timestamp":
		var v string
		switch {
		case len(r.Timestamp) == 0:
			return ctl.SeekTarget{}, errors.New(`mode "timestamp" needs "timestamp": Unix milliseconds or an RFC 3339 time`)
		case r.Timestamp[0] == '"':
			if err := json.Unmarshal(r.Timestamp, &v); err != nil {
				return ctl.SeekTarget{}, fmt.Errorf("timestamp: %w", err)
			}
		default:
			v = string(bytes.TrimSpace(r.Timestamp))
		}
		return ctl.ParseSeekTarget("timestamp:" + v)
	}
	return ctl.SeekTarget{}, fmt.Errorf(`unknown mode %q: want "earliest", "latest", "timestamp" or "offset"`, r.Mode)
}

// resetOffsets answers POST /api/groups/{group}/offsets:reset.
func (s *Server) resetOffsets(c *call) error {
	group := c.r.PathValue("group")
	var req resetRequest
	if err := c.Decode(&req); err != nil {
		return err
	}
	to, err := req.target()
	if err != nil {
		return badRequest("reset offsets of group %s: %v", group, err)
	}
	a, ctx, cancel, err := c.ctlAdmin()
	if err != nil {
		return err
	}
	defer cancel()
	parts, err := resetPartitions(ctx, c, a, group, req)
	if err != nil {
		return err
	}
	results, err := a.SeekPartitions(ctx, group, parts, to, req.Preview)
	if !req.Preview {
		c.Audit("group.offsets.reset", group, err, "to", to.String(), "partitions", len(results))
	}
	if results == nil {
		return ctlError("reset offsets of group "+group, err)
	}
	out := resetResult{Group: group, To: to.String(), Applied: !req.Preview, Partitions: make([]resetRow, 0, len(results))}
	if err != nil {
		out.Error = withCode(err)
	}
	for _, r := range results {
		row := resetRow{Topic: r.Topic, Partition: r.Partition, Current: r.Previous, New: r.Offset, End: r.End, Note: r.Note}
		if r.Offset >= 0 && r.End >= 0 {
			row.LagAfter = ptrTo(max(r.End-r.Offset, 0))
		}
		if r.Err != nil {
			row.Error = withCode(r.Err)
		}
		out.Partitions = append(out.Partitions, row)
	}
	return c.JSON(http.StatusOK, out)
}

// resetPartitions are the partitions a reset moves, by topic: those named,
// all partitions of the topics named, or by default every partition the
// group has (committed, assigned, or a share group's share-partitions).
func resetPartitions(ctx context.Context, c *call, a *ctl.Admin, group string, req resetRequest) (map[string][]int32, error) {
	parts := make(map[string][]int32)
	for _, p := range req.Partitions {
		if p.Topic == "" || p.Partition < 0 {
			return nil, badRequest("reset offsets of group %s: invalid partition %d of topic %q", group, p.Partition, p.Topic)
		}
		parts[p.Topic] = append(parts[p.Topic], p.Partition)
	}
	if len(req.Topics) > 0 {
		adm, err := c.Kafka().Admin()
		if err != nil {
			return nil, err
		}
		tds, err := adm.ListTopics(ctx, req.Topics...)
		if err != nil {
			return nil, kafkaError("reset offsets of group "+group+": list topics", err)
		}
		for _, t := range req.Topics {
			td, ok := tds[t]
			if !ok || td.Err != nil {
				err := td.Err
				if !ok {
					err = kerr.UnknownTopicOrPartition
				}
				return nil, ctlError("reset offsets of group "+group, fmt.Errorf("reset offsets of group %s: topic %s: %w", group, t, err))
			}
			parts[t] = append(parts[t], td.Partitions.Numbers()...)
		}
	}
	if len(parts) > 0 {
		return parts, nil
	}
	d, err := c.describeGroup(group)
	if err != nil {
		return nil, err
	}
	for _, o := range d.Offsets {
		parts[o.Topic] = append(parts[o.Topic], o.Partition)
	}
	for _, sh := range d.Shares {
		parts[sh.Topic] = append(parts[sh.Topic], sh.Partition)
	}
	if len(parts) == 0 {
		return nil, badRequest("reset offsets of group %s: the group has no partitions (no commits, no assignment): name the topics to reset", group)
	}
	return parts, nil
}
