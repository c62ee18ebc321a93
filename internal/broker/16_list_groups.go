package broker

// 16_list_groups.go answers ListGroups: every group, filtered by state and
// by type (v5+: "classic", "consumer", "share"; case-insensitive, as
// Kafka's; a type it does not know matches no group). Each group shows its
// type (v5+) and its state under its protocol's names: a classic group's
// (Empty, PreparingRebalance, CompletingRebalance, Stable), a consumer
// group's (Empty, Assigning, Reconciling, Stable) or a share group's
// (Empty, Stable); a share group's protocol type is "share", as in Kafka.
// Groups the principal may not see are left out.

import (
	"context"
	"strings"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleListGroups(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.ListGroupsRequest)
	resp := r.ResponseKind().(*kmsg.ListGroupsResponse)
	// DESCRIBE on the cluster lists every group; otherwise only the groups
	// the principal may DESCRIBE.
	all := b.allowedCluster(req, opDescribe)
	add := func(group, protocolType, state, typ string) {
		if !all && !b.allowed(req, opDescribe, rtGroup, group) {
			return
		}
		if !matchesAny(r.TypesFilter, typ) || !matchesAny(r.StatesFilter, state) {
			return
		}
		lg := kmsg.NewListGroupsResponseGroup()
		lg.Group, lg.ProtocolType, lg.GroupState, lg.GroupType = group, protocolType, state, typ
		resp.Groups = append(resp.Groups, lg)
	}
	for _, g := range b.groups.List() {
		add(g.Group, g.ProtocolType, g.State, g.Type)
	}
	if b.cfg.groupProtocolEnabled(GroupProtocolShare) {
		for _, g := range b.share.List() {
			add(g.Group, "share", g.State, "share")
		}
	}
	return server.Immediate(resp)
}

// matchesAny reports whether v is in filter, ignoring case; an empty
// filter matches everything.
func matchesAny(filter []string, v string) bool {
	if len(filter) == 0 {
		return true
	}
	for _, f := range filter {
		if strings.EqualFold(f, v) {
			return true
		}
	}
	return false
}
