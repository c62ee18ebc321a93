package ctl

// acl.go manages a cluster's ACLs (CreateAcls, DescribeAcls, DeleteAcls
// through kadm), named the way kafka-acls.sh's flags name them.

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ACLSpec names ACLs as kafka-acls.sh's flags do: principals allowed or
// denied, the hosts they connect from, operations, and one resource.
type ACLSpec struct {
	// AllowPrincipals and DenyPrincipals are principals such as
	// "User:alice"; "User:" is added to a name without a type.
	AllowPrincipals, DenyPrincipals []string
	// AllowHosts and DenyHosts are the IP addresses the allow and deny
	// principals connect from ("*": any). Empty means any host; without
	// principals (list, remove) they are not used.
	AllowHosts, DenyHosts []string
	// Principals, for ListACLs only, are principals whose ACLs are listed
	// whatever their permission.
	Principals []string
	// Operations are operation names (read, write, create, delete, alter,
	// describe, cluster-action, describe-configs, alter-configs,
	// idempotent-write, all). AddACLs needs at least one; for ListACLs
	// and RemoveACLs none means any.
	Operations []string
	// Topic, Group and TransactionalID name the resource (a name, a
	// prefix with Pattern "prefixed", or "*"); Cluster names the cluster.
	// Exactly one is given, except to ListACLs, where none means all.
	Topic, Group, TransactionalID string
	Cluster                       bool
	// Pattern is the resource pattern type: literal or prefixed, and for
	// ListACLs and RemoveACLs also any or match (every ACL that applies
	// to the named resource). Empty means literal, or any for ListACLs.
	Pattern string
}

// ACL is one ACL as the cluster reports it.
type ACL struct {
	Principal    string                      // Principal is e.g. "User:alice".
	Permission   kmsg.ACLPermissionType      // Permission is ALLOW or DENY.
	Operation    kmsg.ACLOperation           // Operation is e.g. READ.
	Host         string                      // Host is the client address ("*": any).
	ResourceType kmsg.ACLResourceType        // ResourceType is TOPIC, GROUP, CLUSTER or TRANSACTIONAL_ID.
	Pattern      kmsg.ACLResourcePatternType // Pattern is LITERAL or PREFIXED.
	Name         string                      // Name is the resource's name or prefix.
}

// String renders the ACL in one line, e.g. "User:alice ALLOW READ from * on
// TOPIC LITERAL orders".
func (r ACL) String() string {
	return fmt.Sprintf("%s %s %s from %s on %s %s %s", r.Principal, r.Permission, r.Operation, r.Host, r.ResourceType, r.Pattern, r.Name)
}

// aclMode is what an ACLSpec is read for.
type aclMode int

const (
	aclAdd aclMode = iota
	aclList
	aclRemove
)

// errNoResource is the refusal of a spec that names no resource.
var errNoResource = errors.New("name the resource: --topic, --group, --transactional-id or --cluster")

// operationNames is the list of operations a user may give.
const operationNames = "read, write, create, delete, alter, describe, cluster-action, describe-configs, alter-configs, idempotent-write or all"

// resources returns how many resources s names.
func (s ACLSpec) resources() int {
	n := 0
	for _, given := range []bool{s.Topic != "", s.Group != "", s.TransactionalID != "", s.Cluster} {
		if given {
			n++
		}
	}
	return n
}

// builder turns the spec into a kadm ACL builder for mode, refusing what
// the mode does not allow ("add ACLs: --operation is required").
func (s ACLSpec) builder(mode aclMode) (*kadm.ACLBuilder, error) {
	b, err := s.build(mode)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", verbs[mode], err)
	}
	return b, nil
}

// build is builder without the operation's name on its errors.
func (s ACLSpec) build(mode aclMode) (*kadm.ACLBuilder, error) {
	b := kadm.NewACLs()
	switch n := s.resources(); {
	case n > 1:
		return nil, errors.New("name one resource: --topic, --group, --transactional-id or --cluster, not several")
	case s.Topic != "":
		b.Topics(s.Topic)
	case s.Group != "":
		b.Groups(s.Group)
	case s.TransactionalID != "":
		b.TransactionalIDs(s.TransactionalID)
	case s.Cluster:
		b.Clusters()
	case mode == aclList:
		b.AnyResource()
	default:
		return nil, errNoResource
	}
	pattern := s.Pattern
	if pattern == "" {
		pattern = "literal"
		if mode == aclList {
			pattern = "any"
		}
	}
	pt, err := kmsg.ParseACLResourcePatternType(pattern)
	if err != nil {
		return nil, fmt.Errorf("--resource-pattern-type %q: want literal, prefixed, any or match", s.Pattern)
	}
	if mode == aclAdd && pt != kadm.ACLPatternLiteral && pt != kadm.ACLPatternPrefixed {
		return nil, fmt.Errorf("--resource-pattern-type %s: an ACL is literal or prefixed", s.Pattern)
	}
	b.ResourcePatternType(pt)
	ops := make([]kadm.ACLOperation, 0, len(s.Operations))
	for _, name := range s.Operations {
		op, err := kmsg.ParseACLOperation(name)
		if err != nil || op == kadm.OpUnknown || (mode == aclAdd && op == kadm.OpAny) {
			return nil, fmt.Errorf("--operation %q: want %s", name, operationNames)
		}
		ops = append(ops, op)
	}
	if mode == aclAdd && len(ops) == 0 {
		return nil, errors.New("--operation is required (repeat it for several)")
	}
	b.Operations(ops...) // none: any operation (list, remove)

	allow, deny := withUser(s.AllowPrincipals), withUser(s.DenyPrincipals)
	if mode == aclList && len(s.Principals) > 0 {
		allow, deny = append(allow, withUser(s.Principals)...), append(deny, withUser(s.Principals)...)
	}
	if len(allow)+len(deny) == 0 {
		switch mode {
		case aclAdd:
			return nil, errors.New("give --allow-principal or --deny-principal")
		default:
			// No principal named: every principal, both permissions,
			// from any host.
			return b.Allow().Deny().AllowHosts().DenyHosts(), nil
		}
	}
	b.MaybeAllow(allow...).MaybeDeny(deny...)
	if len(s.AllowHosts) == 0 {
		b.AllowHosts()
	} else if len(allow) > 0 {
		b.MaybeAllowHosts(s.AllowHosts...)
	}
	if len(s.DenyHosts) == 0 {
		b.DenyHosts()
	} else if len(deny) > 0 {
		b.MaybeDenyHosts(s.DenyHosts...)
	}
	return b, nil
}

// withUser adds the "User:" principal type where it is missing.
func withUser(ps []string) []string {
	out := make([]string, 0, len(ps))
	for _, p := range ps {
		if !strings.Contains(p, ":") {
			p = "User:" + p
		}
		out = append(out, p)
	}
	return out
}

// CheckACLSpec reports what AddACLs (add true) or RemoveACLs would refuse
// in s, so that a caller can check its flags before it connects.
func CheckACLSpec(s ACLSpec, add bool) error {
	mode := aclRemove
	if add {
		mode = aclAdd
	}
	_, err := s.builder(mode)
	return err
}

// verbs are the operations as errors name them.
var verbs = map[aclMode]string{aclAdd: "add ACLs", aclList: "list ACLs", aclRemove: "remove ACLs"}

// AddACLs creates every ACL the spec names: each principal × host ×
// operation on the one resource. It returns those created; the error joins
// the ones the cluster refused.
func (a *Admin) AddACLs(ctx context.Context, s ACLSpec) ([]ACL, error) {
	b, err := s.builder(aclAdd)
	if err != nil {
		return nil, err
	}
	res, err := a.adm.CreateACLs(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("add ACLs: %w", err)
	}
	var (
		out  []ACL
		errs []error
	)
	for _, r := range res {
		acl := ACL{r.Principal, r.Permission, r.Operation, r.Host, r.Type, r.Pattern, r.Name}
		if r.Err != nil {
			errs = append(errs, fmt.Errorf("add ACL %s: %w%s", acl, r.Err, Detail(r.Err, r.ErrMessage)))
			continue
		}
		out = append(out, acl)
	}
	return out, errors.Join(errs...)
}

// ListACLs returns the ACLs the spec matches (all of them for an empty
// spec), each once.
func (a *Admin) ListACLs(ctx context.Context, s ACLSpec) ([]ACL, error) {
	b, err := s.builder(aclList)
	if err != nil {
		return nil, err
	}
	res, err := a.adm.DescribeACLs(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("list ACLs: %w", err)
	}
	seen := map[ACL]bool{}
	var out []ACL
	for _, r := range res {
		if r.Err != nil {
			return nil, fmt.Errorf("list ACLs: %w%s", r.Err, Detail(r.Err, r.ErrMessage))
		}
		for _, d := range r.Described {
			acl := ACL{d.Principal, d.Permission, d.Operation, d.Host, d.Type, d.Pattern, d.Name}
			if !seen[acl] {
				seen[acl] = true
				out = append(out, acl)
			}
		}
	}
	return out, nil
}

// RemoveACLs removes the ACLs of the spec's one resource that match its
// principals, hosts and operations: without operations every operation's,
// without principals every principal's, from any host. It returns those
// removed; the error joins the filters the cluster refused.
func (a *Admin) RemoveACLs(ctx context.Context, s ACLSpec) ([]ACL, error) {
	b, err := s.builder(aclRemove)
	if err != nil {
		return nil, err
	}
	res, err := a.adm.DeleteACLs(ctx, b)
	if err != nil {
		return nil, fmt.Errorf("remove ACLs: %w", err)
	}
	var (
		out  []ACL
		errs []error
	)
	for _, r := range res {
		if r.Err != nil {
			errs = append(errs, fmt.Errorf("remove ACLs: %w%s", r.Err, Detail(r.Err, r.ErrMessage)))
		}
		for _, d := range r.Deleted {
			out = append(out, ACL{d.Principal, d.Permission, d.Operation, d.Host, d.Type, d.Pattern, d.Name})
		}
	}
	return out, errors.Join(errs...)
}

// Detail formats a broker's error message for appending to err (": msg"),
// or "" when it says nothing err does not (brokers often repeat the code's
// standard text).
func Detail(err error, msg string) string {
	msg = strings.TrimSpace(msg)
	if msg == "" || standardText(err, msg) {
		return ""
	}
	return ": " + msg
}
