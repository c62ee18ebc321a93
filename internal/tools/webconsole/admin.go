package webconsole

// admin.go decides who is an admin of the console: the cluster does, as
// for everything else. A user is an admin when the cluster lets them
// describe ACLs (DescribeAcls needs DESCRIBE on the cluster); a cluster
// without an authorizer answers SECURITY_DISABLED, and there everyone is.
// The answer is kept in the session for adminTTL, so that the pages can
// ask often without asking the cluster each time.

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// adminTTL is how long a session remembers whether its user is an admin.
const adminTTL = 30 * time.Second

// adminState is a session's remembered answer.
type adminState struct {
	admin bool
	at    time.Time
}

// errNotAdmin refuses an admin page to a user the cluster does not let
// describe ACLs.
var errNotAdmin = &apiError{Status: http.StatusForbidden, Code: 40303,
	Message: "for admins only: users the cluster lets describe ACLs (DescribeAcls answered CLUSTER_AUTHORIZATION_FAILED)"}

// isAdmin asks the cluster (or the session's memory) whether the user is
// an admin.
func (c *call) isAdmin(ctx context.Context) (bool, error) {
	ses, now := c.ses, c.s.now()
	ses.mu.Lock()
	st := ses.admin
	ses.mu.Unlock()
	if !st.at.IsZero() && now.Sub(st.at) < adminTTL {
		return st.admin, nil
	}
	admin, err := askAdmin(ctx, c.Kafka())
	if err != nil {
		return false, err
	}
	ses.mu.Lock()
	ses.admin = adminState{admin: admin, at: now}
	ses.mu.Unlock()
	return admin, nil
}

// askAdmin sends a DescribeAcls that matches almost nothing (ACLs of a
// topic no one names) and reads the refusal, if any.
func askAdmin(ctx context.Context, k *KafkaSession) (bool, error) {
	cl, err := k.Client()
	if err != nil {
		return false, err
	}
	req := kmsg.NewPtrDescribeACLsRequest()
	req.ResourceType = kmsg.ACLResourceTypeTopic
	req.ResourceName = kmsg.StringPtr("\x00courier-console-admin-check")
	req.ResourcePatternType = kmsg.ACLResourcePatternTypeLiteral
	req.Operation = kmsg.ACLOperationAny
	req.PermissionType = kmsg.ACLPermissionTypeAny
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return false, kafkaError("ask the cluster whether you may describe ACLs", err)
	}
	switch err := kerr.ErrorForCode(resp.ErrorCode); {
	case err == nil, errors.Is(err, kerr.SecurityDisabled):
		return true, nil
	case errors.Is(err, kerr.ClusterAuthorizationFailed):
		return false, nil
	default:
		return false, kafkaError("ask the cluster whether you may describe ACLs", err)
	}
}

// requireAdmin refuses a user who is not an admin with 403.
func (c *call) requireAdmin() error {
	ctx, cancel := context.WithTimeout(c.r.Context(), 15*time.Second)
	defer cancel()
	admin, err := c.isAdmin(ctx)
	if err != nil {
		return err
	}
	if !admin {
		return errNotAdmin
	}
	return nil
}
