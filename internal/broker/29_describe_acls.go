package broker

// 29_describe_acls.go handles DescribeAcls: the ACLs a filter selects,
// grouped by resource. It needs DESCRIBE on the cluster, and answers
// SECURITY_DISABLED when the authorizer is off (Config.AuthorizerEnabled),
// as Kafka does without an authorizer.

import (
	"context"

	"github.com/courier-dev/courier/internal/broker/acl"
	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleDescribeACLs(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.DescribeACLsRequest)
	resp := r.ResponseKind().(*kmsg.DescribeACLsResponse)
	if code := b.aclAPICode(req, opDescribe); code != 0 {
		resp.ErrorCode = code
		resp.ErrorMessage = errorMessage(kerr.ErrorForCode(code))
		return server.Immediate(resp)
	}
	f := acl.Filter{
		ResourceType: r.ResourceType, ResourceName: r.ResourceName, PatternType: r.ResourcePatternType,
		Principal: r.Principal, Host: r.Host, Operation: r.Operation, Permission: r.PermissionType,
	}
	if r.Version == 0 {
		f.PatternType = kmsg.ACLResourcePatternTypeLiteral
	}
	if err := f.Validate(); err != nil {
		resp.ErrorCode = kerr.InvalidRequest.Code
		resp.ErrorMessage = errorMessage(err)
		return server.Immediate(resp)
	}
	for _, bd := range b.acls.Describe(f) {
		n := len(resp.Resources)
		if n == 0 || resp.Resources[n-1].ResourceType != bd.ResourceType || resp.Resources[n-1].ResourceName != bd.ResourceName ||
			resp.Resources[n-1].ResourcePatternType != bd.PatternType {
			res := kmsg.NewDescribeACLsResponseResource()
			res.ResourceType, res.ResourceName, res.ResourcePatternType = bd.ResourceType, bd.ResourceName, bd.PatternType
			resp.Resources = append(resp.Resources, res)
			n++
		}
		a := kmsg.NewDescribeACLsResponseResourceACL()
		a.Principal, a.Host, a.Operation, a.PermissionType = bd.Principal, bd.Host, bd.Operation, bd.Permission
		resp.Resources[n-1].ACLs = append(resp.Resources[n-1].ACLs, a)
	}
	return server.Immediate(resp)
}

// aclAPICode is the error of an ACL API request: SECURITY_DISABLED when
// the authorizer is off, CLUSTER_AUTHORIZATION_FAILED without op on the
// cluster, else 0.
func (b *Broker) aclAPICode(req *server.Request, op kmsg.ACLOperation) int16 {
	switch {
	case !b.cfg.AuthorizerEnabled:
		return kerr.SecurityDisabled.Code
	case !b.allowedCluster(req, op):
		return kerr.ClusterAuthorizationFailed.Code
	}
	return 0
}
