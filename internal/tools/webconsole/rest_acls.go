package webconsole

// rest_acls.go is Confluent REST Proxy v3's ACL resource, with its paths
// and shapes: GET /v3/clusters/{cluster_id}/acls lists the ACLs matching
// the query's filters (resource_type, resource_name, pattern_type,
// principal, host, operation, permission; each absent one matches
// anything), POST creates one ACL (201), DELETE deletes those matching the
// filters and answers them ({"data": [...]}). The cluster's answers are
// the user's: without DESCRIBE (list) or ALTER (create, delete) on the
// cluster, its CLUSTER_AUTHORIZATION_FAILED is what the user sees.

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/courier-dev/courier/internal/tools/ctl"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// aclData is REST Proxy's KafkaAcl.
type aclData struct {
	Kind         string       `json:"kind"`
	Metadata     resourceMeta `json:"metadata"`
	ClusterID    string       `json:"cluster_id"`
	ResourceType string       `json:"resource_type"`
	ResourceName string       `json:"resource_name"`
	PatternType  string       `json:"pattern_type"`
	Principal    string       `json:"principal"`
	Host         string       `json:"host"`
	Operation    string       `json:"operation"`
	Permission   string       `json:"permission"`
}

// aclFilter is a parsed filter (or, for a creation, an ACL: then nothing
// is ANY and every string is set).
type aclFilter struct {
	ResourceType kmsg.ACLResourceType
	ResourceName *string
	PatternType  kmsg.ACLResourcePatternType
	Principal    *string
	Host         *string
	Operation    kmsg.ACLOperation
	Permission   kmsg.ACLPermissionType
}

// String describes the filter for the audit log.
func (f aclFilter) String() string {
	str := func(p *string) string {
		if p == nil {
			return "*any*"
		}
		return *p
	}
	return fmt.Sprintf("%s %s %s on %s %s %s from %s", str(f.Principal), f.Permission, f.Operation,
		f.ResourceType, f.PatternType, str(f.ResourceName), str(f.Host))
}

// parseACLEnum parses one of the enumerations, naming the parameter in
// errors; "" is ANY.
func parseACLEnum[T ~int8](name, v string, parse func(string) (T, error), any T, valid func(T) bool) (T, error) {
	if v == "" {
		return any, nil
	}
	t, err := parse(v)
	if err != nil || !valid(t) {
		return any, badRequest("%s %q is not valid", name, v)
	}
	return t, nil
}

// aclFilterOf reads a filter from the query (GET and DELETE).
func aclFilterOf(q url.Values) (aclFilter, error) {
	var f aclFilter
	var err error
	known := func(v kmsg.ACLResourceType) bool { return v != kmsg.ACLResourceTypeUnknown }
	if f.ResourceType, err = parseACLEnum("resource_type", q.Get("resource_type"), kmsg.ParseACLResourceType, kmsg.ACLResourceTypeAny, known); err != nil {
		return f, err
	}
	if f.PatternType, err = parseACLEnum("pattern_type", q.Get("pattern_type"), kmsg.ParseACLResourcePatternType, kmsg.ACLResourcePatternTypeAny,
		func(v kmsg.ACLResourcePatternType) bool { return v != kmsg.ACLResourcePatternTypeUnknown }); err != nil {
		return f, err
	}
	if f.Operation, err = parseACLEnum("operation", q.Get("operation"), kmsg.ParseACLOperation, kmsg.ACLOperationAny,
		func(v kmsg.ACLOperation) bool { return v != kmsg.ACLOperationUnknown }); err != nil {
		return f, err
	}
	if f.Permission, err = parseACLEnum("permission", q.Get("permission"), kmsg.ParseACLPermissionType, kmsg.ACLPermissionTypeAny,
		func(v kmsg.ACLPermissionType) bool { return v != kmsg.ACLPermissionTypeUnknown }); err != nil {
		return f, err
	}
	for name, p := range map[string]**string{"resource_name": &f.ResourceName, "principal": &f.Principal, "host": &f.Host} {
		if q.Has(name) {
			v := q.Get(name)
			*p = &v
		}
	}
	return f, nil
}

// aclCreateRequest is REST Proxy's CreateAclRequest.
type aclCreateRequest struct {
	ResourceType string `json:"resource_type"`
	ResourceName string `json:"resource_name"`
	PatternType  string `json:"pattern_type"`
	Principal    string `json:"principal"`
	Host         string `json:"host"`
	Operation    string `json:"operation"`
	Permission   string `json:"permission"`
}

// acl checks a creation request and returns the ACL it names.
func (r aclCreateRequest) acl() (aclFilter, error) {
	q := url.Values{}
	for k, v := range map[string]string{"resource_type": r.ResourceType, "pattern_type": r.PatternType, "operation": r.Operation, "permission": r.Permission} {
		if v == "" {
			return aclFilter{}, badRequest("%s is required", k)
		}
		q.Set(k, v)
	}
	f, err := aclFilterOf(q)
	if err != nil {
		return f, err
	}
	switch {
	case f.ResourceType == kmsg.ACLResourceTypeAny:
		return f, badRequest("resource_type ANY names no resource: TOPIC, GROUP, CLUSTER, TRANSACTIONAL_ID or DELEGATION_TOKEN")
	case f.PatternType != kmsg.ACLResourcePatternTypeLiteral && f.PatternType != kmsg.ACLResourcePatternTypePrefixed:
		return f, badRequest("pattern_type %s: an ACL is LITERAL or PREFIXED", f.PatternType)
	case f.Operation == kmsg.ACLOperationAny:
		return f, badRequest("operation ANY is a filter, not an operation")
	case f.Permission == kmsg.ACLPermissionTypeAny:
		return f, badRequest("permission is ALLOW or DENY")
	case r.ResourceName == "":
		return f, badRequest("resource_name is required (kafka-cluster for CLUSTER, * for every resource)")
	case !strings.Contains(r.Principal, ":") || strings.HasPrefix(r.Principal, ":") || strings.HasSuffix(r.Principal, ":"):
		return f, badRequest("principal %q: want Type:name, e.g. User:alice", r.Principal)
	}
	host := r.Host
	if host == "" {
		host = "*"
	}
	f.ResourceName, f.Principal, f.Host = &r.ResourceName, &r.Principal, &host
	return f, nil
}

// aclOf renders a described or deleted ACL as REST Proxy does.
func (c *call) aclOf(cluster string, rt kmsg.ACLResourceType, name string, pt kmsg.ACLResourcePatternType, principal, host string, op kmsg.ACLOperation, perm kmsg.ACLPermissionType) aclData {
	a := aclData{Kind: "KafkaAcl", ClusterID: cluster, ResourceType: rt.String(), ResourceName: name, PatternType: pt.String(),
		Principal: principal, Host: host, Operation: op.String(), Permission: perm.String()}
	q := url.Values{}
	q.Set("resource_type", a.ResourceType)
	q.Set("resource_name", name)
	q.Set("pattern_type", a.PatternType)
	q.Set("principal", principal)
	q.Set("host", host)
	q.Set("operation", a.Operation)
	q.Set("permission", a.Permission)
	a.Metadata.Self = c.Self("/v3/clusters/"+url.PathEscape(cluster)+"/acls") + "?" + q.Encode()
	return a
}

// restACLRoutes registers the ACL endpoints.
func (s *Server) restACLRoutes() {
	s.api("GET /v3/clusters/{cluster_id}/acls", (*call).listACLs)
	s.api("POST /v3/clusters/{cluster_id}/acls", (*call).createACL)
	s.api("DELETE /v3/clusters/{cluster_id}/acls", (*call).deleteACLs)
}

// aclCall is what an ACL request works with.
type aclCall struct {
	cluster string
	f       aclFilter
	cl      kmsg.Requestor
	ctx     context.Context
	cancel  context.CancelFunc
}

// aclStart reads the query's filter (a delete must name at least one, so
// that a bare DELETE never removes every ACL by accident:
// resource_type=ANY says it on purpose), checks the cluster id and gets
// the user's client.
func (c *call) aclStart(del bool) (*aclCall, error) {
	f, err := aclFilterOf(c.r.URL.Query())
	if err != nil {
		return nil, err
	}
	if del && len(c.r.URL.Query()) == 0 {
		return nil, badRequest("a DELETE of ACLs needs at least one filter (resource_type=ANY to delete every ACL)")
	}
	cluster, err := c.Cluster()
	if err != nil {
		return nil, err
	}
	cl, err := c.Kafka().Client()
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(c.r.Context(), 15*time.Second)
	return &aclCall{cluster: cluster, f: f, cl: cl, ctx: ctx, cancel: cancel}, nil
}

// listACLs answers GET: the ACLs matching the filter.
func (c *call) listACLs() error {
	a, err := c.aclStart(false)
	if err != nil {
		return err
	}
	defer a.cancel()
	f := a.f
	req := kmsg.NewPtrDescribeACLsRequest()
	req.ResourceType, req.ResourceName, req.ResourcePatternType = f.ResourceType, f.ResourceName, f.PatternType
	req.Principal, req.Host, req.Operation, req.PermissionType = f.Principal, f.Host, f.Operation, f.Permission
	resp, err := req.RequestWith(a.ctx, a.cl)
	if err == nil {
		err = kerrMessage(resp.ErrorCode, resp.ErrorMessage)
	}
	if err != nil {
		return kafkaError("list ACLs", err)
	}
	out := []aclData{}
	for _, r := range resp.Resources {
		for _, acl := range r.ACLs {
			out = append(out, c.aclOf(a.cluster, r.ResourceType, r.ResourceName, r.ResourcePatternType, acl.Principal, acl.Host, acl.Operation, acl.PermissionType))
		}
	}
	return c.List("KafkaAclList", out)
}

// createACL answers POST: one ACL created (201, no body).
func (c *call) createACL() error {
	var body aclCreateRequest
	if err := c.Decode(&body); err != nil {
		return err
	}
	f, err := body.acl()
	if err != nil {
		return err
	}
	a, err := c.aclStart(false)
	if err != nil {
		return err
	}
	defer a.cancel()
	req := kmsg.NewPtrCreateACLsRequest()
	cr := kmsg.NewCreateACLsRequestCreation()
	cr.ResourceType, cr.ResourceName, cr.ResourcePatternType = f.ResourceType, *f.ResourceName, f.PatternType
	cr.Principal, cr.Host, cr.Operation, cr.PermissionType = *f.Principal, *f.Host, f.Operation, f.Permission
	req.Creations = append(req.Creations, cr)
	resp, err := req.RequestWith(a.ctx, a.cl)
	if err = single(err, resp, func(r *kmsg.CreateACLsResponse) int { return len(r.Results) }); err == nil {
		err = kerrMessage(resp.Results[0].ErrorCode, resp.Results[0].ErrorMessage)
	}
	c.Audit("acl.create", f.String(), err)
	if err != nil {
		return kafkaError("create ACL "+f.String(), err)
	}
	c.w.Header().Set("Cache-Control", "no-store")
	c.w.WriteHeader(http.StatusCreated)
	return nil
}

// deleteACLs answers DELETE: the ACLs deleted ({"data": [...]}).
func (c *call) deleteACLs() error {
	a, err := c.aclStart(true)
	if err != nil {
		return err
	}
	defer a.cancel()
	f := a.f
	req := kmsg.NewPtrDeleteACLsRequest()
	df := kmsg.NewDeleteACLsRequestFilter()
	df.ResourceType, df.ResourceName, df.ResourcePatternType = f.ResourceType, f.ResourceName, f.PatternType
	df.Principal, df.Host, df.Operation, df.PermissionType = f.Principal, f.Host, f.Operation, f.Permission
	req.Filters = append(req.Filters, df)
	resp, err := req.RequestWith(a.ctx, a.cl)
	if err = single(err, resp, func(r *kmsg.DeleteACLsResponse) int { return len(r.Results) }); err == nil {
		err = kerrMessage(resp.Results[0].ErrorCode, resp.Results[0].ErrorMessage)
	}
	out := []aclData{}
	if err == nil {
		for _, m := range resp.Results[0].MatchingACLs {
			if m.ErrorCode != 0 {
				err = kerrMessage(m.ErrorCode, m.ErrorMessage)
				continue
			}
			out = append(out, c.aclOf(a.cluster, m.ResourceType, m.ResourceName, m.ResourcePatternType, m.Principal, m.Host, m.Operation, m.PermissionType))
		}
	}
	c.Audit("acl.delete", f.String(), err, "deleted", len(out))
	if err != nil {
		return kafkaError("delete ACLs "+f.String(), err)
	}
	return c.JSON(http.StatusOK, map[string]any{"data": out})
}

// single is the error of a request sent for one item: its own, or a
// response without exactly one result.
func single[R any](err error, resp R, results func(R) int) error {
	if err != nil {
		return err
	}
	if n := results(resp); n != 1 {
		return fmt.Errorf("the cluster answered %d results for one", n)
	}
	return nil
}

// kerrMessage is the error of a response's code, with the broker's message
// when it says more than the code's standard text.
func kerrMessage(code int16, msg *string) error {
	err := kerr.ErrorForCode(code)
	if err == nil || msg == nil {
		return err
	}
	return fmt.Errorf("%w%s", err, ctl.Detail(err, *msg))
}
