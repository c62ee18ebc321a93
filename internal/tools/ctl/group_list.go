package ctl

// group_list.go lists the consumer groups of a cluster.

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// GroupSummary is one line of a group listing.
type GroupSummary struct {
	Group        string // Group is the group id.
	State        string // State is Empty, Stable, PreparingRebalance, ...; "" if the broker does not report it (before Kafka 2.6).
	ProtocolType string // ProtocolType is "consumer" for consumer groups, "connect" for Kafka Connect, "" for groups that only commit offsets.
}

// groupStates are the group states in Kafka's spelling: the classic
// protocol's, then those only KIP-848 consumer groups have (Kafka 4). A
// state filter is matched against them case-insensitively.
var groupStates = []string{"Empty", "PreparingRebalance", "CompletingRebalance", "Stable", "Dead", "Assigning", "Reconciling", "NotReady"}

// ListGroups returns the cluster's groups sorted by id. With states, only
// groups in one of those states are returned (case-insensitive: "stable"
// is Stable; a name that is no group state is an error). The filter is sent to the brokers (Kafka 2.6+) and applied
// again here, for brokers that ignore it.
//
// With several brokers, one that fails leaves its groups out: the groups of
// the others are returned together with an error saying the listing is
// incomplete.
func (a *Admin) ListGroups(ctx context.Context, states ...string) ([]GroupSummary, error) {
	want := make([]string, len(states))
	for i, s := range states {
		c, ok := canonicalName(groupStates, s)
		if !ok {
			return nil, fmt.Errorf("list groups: unknown group state %q: want one of %s", s, strings.Join(groupStates[:4], ", "))
		}
		want[i] = c
	}
	listed, err := a.adm.ListGroups(ctx, want...)
	if err != nil && !partial(err) {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	out := make([]GroupSummary, 0, len(listed))
	for _, g := range listed {
		if len(want) > 0 && g.State != "" && !containsFold(want, g.State) {
			continue
		}
		out = append(out, GroupSummary{Group: g.Group, State: g.State, ProtocolType: g.ProtocolType})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Group < out[j].Group })
	if err != nil {
		return out, fmt.Errorf("list groups: some brokers did not answer, the listing is incomplete: %w", err)
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
