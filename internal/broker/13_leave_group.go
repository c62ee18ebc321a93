package broker

// 13_leave_group.go handles LeaveGroup: one member (v0-v2) or a batch of
// members, possibly named only by group.instance.id (v3+). In a KIP-848
// consumer group only its classic members can leave this way.

import (
	"context"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleLeaveGroup(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.LeaveGroupRequest)
	resp := r.ResponseKind().(*kmsg.LeaveGroupResponse)
	if !b.allowed(req, opRead, rtGroup, r.Group) {
		resp.ErrorCode = kerr.GroupAuthorizationFailed.Code
		return server.Immediate(resp)
	}
	members := r.Members
	if r.Version < 3 {
		members = []kmsg.LeaveGroupRequestMember{{MemberID: r.MemberID}}
	}
	code, codes, wait := b.groups.Leave(r.Group, members)
	resp.ErrorCode = code
	if code != 0 {
		return server.Immediate(resp)
	}
	if r.Version < 3 {
		resp.ErrorCode = codes[0]
	} else {
		for i, m := range members {
			rm := kmsg.NewLeaveGroupResponseMember()
			rm.MemberID = m.MemberID
			rm.InstanceID = m.InstanceID
			rm.ErrorCode = codes[i]
			resp.Members = append(resp.Members, rm)
		}
	}
	// A consumer group's members leaving change its durable state: the
	// answer waits for it.
	return b.groupReply(resp, wait, "group leave not stored", r.Group, func(code int16) kmsg.Response {
		resp.ErrorCode = code
		return resp
	})
}
