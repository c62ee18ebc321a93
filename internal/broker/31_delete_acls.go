package broker

// 31_delete_acls.go handles DeleteAcls: every ACL any filter selects is
// removed (durably, before the answer), and each filter's result lists the
// ACLs it selected. It needs ALTER on the cluster, and answers
// SECURITY_DISABLED when the authorizer is off.

import (
	"context"

	"github.com/courier-dev/courier/internal/broker/acl"
	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleDeleteACLs(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.DeleteACLsRequest)
	resp := r.ResponseKind().(*kmsg.DeleteACLsResponse)
	fail := func(code int16, err error) server.Reply {
		for range r.Filters {
			res := kmsg.NewDeleteACLsResponseResult()
			res.ErrorCode = code
			res.ErrorMessage = errorMessage(err)
			resp.Results = append(resp.Results, res)
		}
		return server.Immediate(resp)
	}
	if code := b.aclAPICode(req, opAlter); code != 0 {
		return fail(code, kerr.ErrorForCode(code))
	}
	filters := make([]acl.Filter, len(r.Filters))
	for i, f := range r.Filters {
		filters[i] = acl.Filter{
			ResourceType: f.ResourceType, ResourceName: f.ResourceName, PatternType: f.ResourcePatternType,
			Principal: f.Principal, Host: f.Host, Operation: f.Operation, Permission: f.PermissionType,
		}
		if r.Version == 0 {
			filters[i].PatternType = kmsg.ACLResourcePatternTypeLiteral
		}
	}
	matched, invalid, err := b.acls.Delete(filters)
	if err != nil {
		b.cfg.Logger.Error("delete ACLs", "err", err)
		return fail(kerr.KafkaStorageError.Code, err)
	}
	for i := range filters {
		res := kmsg.NewDeleteACLsResponseResult()
		if invalid[i] != nil {
			res.ErrorCode = aclErrorCode(invalid[i])
			res.ErrorMessage = errorMessage(invalid[i])
		}
		for _, bd := range matched[i] {
			m := kmsg.NewDeleteACLsResponseResultMatchingACL()
			m.ResourceType, m.ResourceName, m.ResourcePatternType = bd.ResourceType, bd.ResourceName, bd.PatternType
			m.Principal, m.Host, m.Operation, m.PermissionType = bd.Principal, bd.Host, bd.Operation, bd.Permission
			res.MatchingACLs = append(res.MatchingACLs, m)
			b.cfg.Logger.Info("ACL deleted", "acl", bd.String())
		}
		resp.Results = append(resp.Results, res)
	}
	return server.Immediate(resp)
}
