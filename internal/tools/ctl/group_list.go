package ctl

// group_list.go lists the groups of a cluster with their type (KIP-1043:
// classic, consumer, share), state and protocol type, filtered by state and
// type. kadm's listing drops the type, so the ListGroups request is sent
// here (kmsg) to every broker, as kadm does.

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// GroupSummary is one line of a group listing.
type GroupSummary struct {
	Group string // Group is the group id.
	// Type is the group's protocol (KIP-1043): "classic" (JoinGroup and
	// SyncGroup), "consumer" (KIP-848's ConsumerGroupHeartbeat), "share"
	// (KIP-932 share groups) or "streams"; "" if the broker does not say
	// (before Kafka 3.8, where every group is classic).
	Type         string
	State        string // State is Empty, Stable, PreparingRebalance, ...; "" if the broker does not report it (before Kafka 2.6).
	ProtocolType string // ProtocolType is "consumer" for consumer groups, "connect" for Kafka Connect, "share" for share groups, "" for groups that only commit offsets.
}

// GroupFilter selects groups in a listing. Empty fields select everything.
type GroupFilter struct {
	// States are group states (case-insensitive: "stable" is Stable); a
	// name that is no group state is an error.
	States []string
	// Types are group types: classic, consumer, share, streams
	// (case-insensitive); anything else is an error.
	Types []string
}

// groupStates are the group states in Kafka's spelling: the classic
// protocol's, then those only KIP-848 consumer groups have (Kafka 4). A
// state filter is matched against them case-insensitively.
var groupStates = []string{"Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead", "Assigning", "Reconciling", "NotReady"}

// GroupTypes are the group types Kafka knows (KIP-1043), as ListGroups and
// `group list --type` name them.
var GroupTypes = []string{"classic", "consumer", "share", "streams"}

// ListGroups returns the cluster's groups sorted by id, those that f
// selects. The filters are sent to the brokers (states from Kafka 2.6,
// types from 3.8) and applied again here, for brokers that ignore them; a
// broker that reports no type (before 3.8) only has classic groups.
//
// With several brokers, one that fails leaves its groups out: the groups of
// the others are returned together with an error saying the listing is
// incomplete.
func (a *Admin) ListGroups(ctx context.Context, f GroupFilter) ([]GroupSummary, error) {
	states, err := canonicalNames("group state", groupStates, groupStates[:4], f.States)
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	types, err := canonicalNames("group type", GroupTypes, GroupTypes, f.Types)
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	req := kmsg.NewPtrListGroupsRequest()
	req.StatesFilter, req.TypesFilter = states, types
	out := []GroupSummary{} // not nil: an empty listing is still a listing
	var failed []error
	shards := a.cl.RequestSharded(ctx, req)
	for _, s := range shards {
		err := s.Err
		if err == nil {
			resp := s.Resp.(*kmsg.ListGroupsResponse)
			if err = kerr.ErrorForCode(resp.ErrorCode); err == nil {
				for _, g := range resp.Groups {
					gs := GroupSummary{Group: g.Group, Type: g.GroupType, State: g.GroupState, ProtocolType: g.ProtocolType}
					if selected(gs, states, types) {
						out = append(out, gs)
					}
				}
				continue
			}
		}
		failed = append(failed, fmt.Errorf("broker %d: %w", s.Meta.NodeID, err))
	}
	if len(failed) > 0 && len(failed) == len(shards) {
		return nil, fmt.Errorf("list groups: %w", errors.Join(failed...))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Group < out[j].Group })
	if len(failed) > 0 {
		return out, fmt.Errorf("list groups: some brokers did not answer, the listing is incomplete: %w", errors.Join(failed...))
	}
	return out, nil
}

// selected reports whether g passes the state and type filters (already
// in Kafka's spelling). A group of unknown type is classic.
func selected(g GroupSummary, states, types []string) bool {
	if len(states) > 0 && g.State != "" && !containsFold(states, g.State) {
		return false
	}
	typ := g.Type
	if typ == "" {
		typ = "classic"
	}
	return len(types) == 0 || containsFold(types, typ)
}

// canonicalNames returns the names in the spelling of known, or an error
// naming what (a group state) and the choices shown for the first name
// that is not known.
func canonicalNames(what string, known, shown, names []string) ([]string, error) {
	out := make([]string, len(names))
	for i, s := range names {
		c, ok := canonicalName(known, s)
		if !ok {
			return nil, fmt.Errorf("unknown %s %q: want one of %s", what, s, strings.Join(shown, ", "))
		}
		out[i] = c
	}
	return out, nil
}

// canonicalName returns s as names spells it (group or transaction states
// in Kafka's spelling), or false if names does not hold s, ignoring case.
func canonicalName(names []string, s string) (string, bool) {
	s = strings.TrimSpace(s)
	for _, k := range names {
		if strings.EqualFold(s, k) {
			return k, true
		}
	}
	return "", false
}

// containsFold reports whether list holds s, ignoring case.
func containsFold(list []string, s string) bool {
	for _, l := range list {
		if strings.EqualFold(l, s) {
			return true
		}
	}
	return false
}
