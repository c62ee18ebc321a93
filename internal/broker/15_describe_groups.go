package broker

// 15_describe_groups.go handles DescribeGroups. An unknown group, and a
// KIP-848 consumer group (this API describes classic groups), is reported
// Dead (v0-v5) or GROUP_ID_NOT_FOUND (v6+, KIP-1043), as Kafka 4 does. Each group needs DESCRIBE (GROUP_AUTHORIZATION_FAILED otherwise,
// whether it exists or not).

import (
	"context"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleDescribeGroups(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.DescribeGroupsRequest)
	resp := r.ResponseKind().(*kmsg.DescribeGroupsResponse)
	for _, id := range r.Groups {
		if !b.allowed(req, opDescribe, rtGroup, id) {
			d := kmsg.NewDescribeGroupsResponseGroup()
			d.Group = id
			d.ErrorCode = kerr.GroupAuthorizationFailed.Code
			resp.Groups = append(resp.Groups, d)
			continue
		}
		d, ok := b.groups.Describe(id)
		switch {
		case id == "":
			d = kmsg.NewDescribeGroupsResponseGroup()
			d.ErrorCode = kerr.InvalidGroupID.Code
		case !ok:
			d = kmsg.NewDescribeGroupsResponseGroup()
			d.State = "Dead"
			if r.Version >= 6 {
				d.ErrorCode = kerr.GroupIDNotFound.Code
				msg := "group " + id + " not found"
				if b.ShareGroupExists(id) { // as Kafka: classic groups only
					msg = "Group " + id + " is not a classic group."
				}
				d.ErrorMessage = &msg
			}
		case d.ErrorCode != 0:
			// A consumer group: Kafka 4 describes only classic groups
			// here; before v6 the answer is Dead without an error.
			if r.Version < 6 {
				d.ErrorCode, d.ErrorMessage = 0, nil
			}
		case r.IncludeAuthorizedOperations:
			d.AuthorizedOperations = b.authorizedOps(req, rtGroup, id)
		}
		d.Group = id
		resp.Groups = append(resp.Groups, d)
	}
	return server.Immediate(resp)
}
