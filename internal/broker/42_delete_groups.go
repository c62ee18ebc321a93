package broker

// 42_delete_groups.go handles DeleteGroups: an empty group is deleted with
// its offsets (durably, before the answer); a group with members gets
// NON_EMPTY_GROUP, an unknown one GROUP_ID_NOT_FOUND (with a message, v3+),
// one whose deletion could not be written NOT_COORDINATOR, as in Kafka
// (group.ErrorCode). A share group is deleted with all its share-partition
// state (package share).

import (
	"context"

	"github.com/courier-dev/courier/internal/broker/group"
	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleDeleteGroups(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.DeleteGroupsRequest)
	resp := r.ResponseKind().(*kmsg.DeleteGroupsResponse)
	waits := map[int]func(context.Context) error{} // index in resp.Groups
	for _, id := range r.Groups {
		g := kmsg.NewDeleteGroupsResponseGroup()
		g.Group = id
		if !b.allowed(req, opDelete, rtGroup, id) {
			g.ErrorCode = kerr.GroupAuthorizationFailed.Code
			resp.Groups = append(resp.Groups, g)
			continue
		}
		deleteGroup := b.groups.DeleteGroup
		if b.ShareGroupExists(id) {
			deleteGroup = b.share.DeleteGroup // with its share-partitions' state
		}
		code, wait := deleteGroup(id)
		g.ErrorCode = code
		if code != 0 {
			g.ErrorMessage = errorMessage(kerr.ErrorForCode(code))
		}
		if wait != nil {
			waits[len(resp.Groups)] = wait
		}
		resp.Groups = append(resp.Groups, g)
	}
	if len(waits) == 0 {
		return server.Immediate(resp)
	}
	return func(ctx context.Context) kmsg.Response {
		for i, wait := range waits {
			if err := wait(ctx); err != nil {
				if ctxDone(ctx) {
					return nil
				}
				b.cfg.Logger.Error("group deletion not stored", "group", resp.Groups[i].Group, "err", err)
				resp.Groups[i].ErrorCode = group.ErrorCode(err)
			}
		}
		return resp
	}
}
