package broker

// 16_list_groups.go handles ListGroups, with the states filter (v4+) and
// the types filter (v5+: "classic", "consumer"; case-insensitive, as
// Kafka's; a type it does not know matches no group). Each group shows
// its type (v5+) and its state under its protocol's names: a classic
// group's (Empty, PreparingRebalance, CompletingRebalance, Stable) or a
// consumer group's (Empty, Assigning, Reconciling, Stable). Groups the
// principal may not see are left out.

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
	for _, g := range b.groups.List() {
		if !all && !b.allowed(req, opDescribe, rtGroup, g.Group) {
			continue
		}
		if !matchesAny(r.TypesFilter, g.Type) || !matchesAny(r.StatesFilter, g.State) {
			continue
		}
		lg := kmsg.NewListGroupsResponseGroup()
		lg.Group = g.Group
		lg.ProtocolType = g.ProtocolType
		lg.GroupState = g.State
		lg.GroupType = g.Type
		resp.Groups = append(resp.Groups, lg)
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
