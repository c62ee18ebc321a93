package broker

// 30_create_acls.go handles CreateAcls: each valid binding is stored
// (durably, before the answer); an invalid one gets INVALID_REQUEST. It
// needs ALTER on the cluster, and answers SECURITY_DISABLED when the
// authorizer is off.

import (
	"context"
	"errors"

	"github.com/courier-dev/courier/internal/broker/acl"
	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleCreateACLs(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.CreateACLsRequest)
	resp := r.ResponseKind().(*kmsg.CreateACLsResponse)
	if code := b.aclAPICode(req, opAlter); code != 0 {
		for range r.Creations {
			res := kmsg.NewCreateACLsResponseResult()
			res.ErrorCode = code
			res.ErrorMessage = errorMessage(kerr.ErrorForCode(code))
			resp.Results = append(resp.Results, res)
		}
		return server.Immediate(resp)
	}
	bs := make([]acl.Binding, len(r.Creations))
	for i, c := range r.Creations {
		pt := c.ResourcePatternType
		if r.Version == 0 {
			pt = kmsg.ACLResourcePatternTypeLiteral
		}
		bs[i] = acl.Binding{
			Principal: c.Principal, Host: c.Host, Operation: c.Operation, Permission: c.PermissionType,
			ResourceType: c.ResourceType, ResourceName: c.ResourceName, PatternType: pt,
		}
	}
	for i, err := range b.acls.Create(bs) {
		res := kmsg.NewCreateACLsResponseResult()
		if err != nil {
			res.ErrorCode = aclErrorCode(err)
			res.ErrorMessage = errorMessage(err)
		} else {
			b.cfg.Logger.Info("ACL created", "acl", bs[i].String())
		}
		resp.Results = append(resp.Results, res)
	}
	return server.Immediate(resp)
}

// aclErrorCode maps an ACL store error: INVALID_REQUEST for a bad binding
// or filter, KAFKA_STORAGE_ERROR for a failed write.
func aclErrorCode(err error) int16 {
	if errors.Is(err, acl.ErrInvalid) {
		return kerr.InvalidRequest.Code
	}
	return kerr.KafkaStorageError.Code
}
