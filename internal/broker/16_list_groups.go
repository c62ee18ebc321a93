package broker

// 16_list_groups.go handles ListGroups, with the states filter (v4+) and
// the types filter (v5+; every group here is "classic"). Groups the
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
	if len(r.TypesFilter) > 0 {
		classic := false
		for _, t := range r.TypesFilter {
			classic = classic || strings.EqualFold(t, "classic")
		}
		if !classic {
			return server.Immediate(resp)
		}
	}
	// DESCRIBE on the cluster lists every group; otherwise only the groups
	// the principal may DESCRIBE.
	all := b.allowedCluster(req, opDescribe)
	for _, g := range b.groups.List() {
		if !all && !b.allowed(req, opDescribe, rtGroup, g.Group) {
			continue
		}
		if len(r.StatesFilter) > 0 {
			match := false
			for _, s := range r.StatesFilter {
				match = match || strings.EqualFold(s, g.State.String())
			}
			if !match {
				continue
			}
		}
		lg := kmsg.NewListGroupsResponseGroup()
		lg.Group = g.Group
		lg.ProtocolType = g.ProtocolType
		lg.GroupState = g.State.String()
		lg.GroupType = "classic"
		resp.Groups = append(resp.Groups, lg)
	}
	return server.Immediate(resp)
}
