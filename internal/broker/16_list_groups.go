package broker

// 16_list_groups.go handles ListGroups, with the states filter (v4+) and
// the types filter (v5+: "classic", and "share" for share groups, whose
// protocol type is "share" as in Kafka). Groups the principal may not see
// are left out.

import (
	"context"
	"slices"
	"strings"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleListGroups(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.ListGroupsRequest)
	resp := r.ResponseKind().(*kmsg.ListGroupsResponse)
	wantType := func(typ string) bool {
		if len(r.TypesFilter) == 0 {
			return true
		}
		for _, t := range r.TypesFilter {
			if strings.EqualFold(t, typ) {
				return true
			}
		}
		return false
	}
	// DESCRIBE on the cluster lists every group; otherwise only the groups
	// the principal may DESCRIBE.
	all := b.allowedCluster(req, opDescribe)
	defer b.listShareGroups(req, r, resp, all, wantType("share"))
	if !wantType("classic") {
		return server.Immediate(resp)
	}
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

// listShareGroups adds the share groups to a ListGroups answer.
func (b *Broker) listShareGroups(req *server.Request, r *kmsg.ListGroupsRequest, resp *kmsg.ListGroupsResponse, all, want bool) {
	if !want || !b.cfg.groupProtocolEnabled(GroupProtocolShare) {
		return
	}
	for _, g := range b.share.List() {
		if !all && !b.allowed(req, opDescribe, rtGroup, g.Group) {
			continue
		}
		if len(r.StatesFilter) > 0 && !slices.ContainsFunc(r.StatesFilter, func(s string) bool { return strings.EqualFold(s, g.State) }) {
			continue
		}
		lg := kmsg.NewListGroupsResponseGroup()
		lg.Group, lg.ProtocolType, lg.GroupState, lg.GroupType = g.Group, "share", g.State, "share"
		resp.Groups = append(resp.Groups, lg)
	}
}
