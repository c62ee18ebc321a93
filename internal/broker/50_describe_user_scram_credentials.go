package broker

// 50_describe_user_scram_credentials.go handles DescribeUserScramCredentials
// (KIP-554): the mechanisms and iteration counts of the named users (all
// users if none is named), never a salt or key. It needs DESCRIBE on the
// cluster. A user named twice gets DUPLICATE_RESOURCE, an unknown one
// RESOURCE_NOT_FOUND.

import (
	"context"
	"fmt"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/courier-dev/courier/internal/broker/users"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleDescribeUserSCRAMCredentials(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.DescribeUserSCRAMCredentialsRequest)
	resp := r.ResponseKind().(*kmsg.DescribeUserSCRAMCredentialsResponse)
	if !b.allowed(req, kmsg.ACLOperationDescribe, kmsg.ACLResourceTypeCluster, "kafka-cluster") {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		resp.ErrorMessage = errorMessage(kerr.ClusterAuthorizationFailed)
		for _, u := range r.Users {
			res := kmsg.NewDescribeUserSCRAMCredentialsResponseResult()
			res.User = u.Name
			res.ErrorCode, res.ErrorMessage = resp.ErrorCode, resp.ErrorMessage
			resp.Results = append(resp.Results, res)
		}
		return server.Immediate(resp)
	}
	if len(r.Users) == 0 {
		for _, u := range b.users.List() {
			resp.Results = append(resp.Results, describedUser(u))
		}
		return server.Immediate(resp)
	}
	count := make(map[string]int, len(r.Users))
	for _, u := range r.Users {
		count[u.Name]++
	}
	for _, ru := range r.Users {
		switch n := count[ru.Name]; {
		case n == 0: // a duplicate, answered once already
			continue
		case n > 1:
			count[ru.Name] = 0
			resp.Results = append(resp.Results, userError(ru.Name, kerr.DuplicateResource,
				"cannot describe SCRAM credentials for the same user twice in a single request"))
			continue
		}
		u, ok := b.users.Get(ru.Name)
		if !ok {
			resp.Results = append(resp.Results, userError(ru.Name, kerr.ResourceNotFound,
				fmt.Sprintf("attempt to describe a user credential that does not exist: %s", ru.Name)))
			continue
		}
		resp.Results = append(resp.Results, describedUser(u))
	}
	return server.Immediate(resp)
}

// describedUser is a user's result: its mechanisms and iterations.
func describedUser(u users.User) kmsg.DescribeUserSCRAMCredentialsResponseResult {
	res := kmsg.NewDescribeUserSCRAMCredentialsResponseResult()
	res.User = u.Name
	for _, c := range u.Credentials {
		ci := kmsg.NewDescribeUserSCRAMCredentialsResponseResultCredentialInfo()
		ci.Mechanism = scramCode(c.Mechanism)
		ci.Iterations = int32(c.Iterations)
		res.CredentialInfos = append(res.CredentialInfos, ci)
	}
	return res
}

// userError is a failed user's describe result.
func userError(user string, err *kerr.Error, msg string) kmsg.DescribeUserSCRAMCredentialsResponseResult {
	res := kmsg.NewDescribeUserSCRAMCredentialsResponseResult()
	res.User = user
	res.ErrorCode = err.Code
	res.ErrorMessage = &msg
	return res
}
