package acl

// binding.go is the model: a Binding (one ACL), its validation, and the
// Filter that DescribeAcls and DeleteAcls select bindings with.

import (
	"errors"
	"fmt"
	"strings"

	"github.com/courier-dev/courier/internal/broker/auth"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ClusterName is the only name of the cluster resource, as in Kafka.
const ClusterName = "kafka-cluster"

// Wildcard is the resource name (of a literal binding) and the host that
// match every name and every host.
const Wildcard = "*"

// WildcardPrincipal is the principal that matches every User principal.
const WildcardPrincipal = "User:*"

// ErrInvalid is wrapped by the errors of bindings and filters that cannot
// be stored or used: Kafka's INVALID_REQUEST.
var ErrInvalid = errors.New("invalid ACL")

// Binding is one ACL: Principal may (Allow) or may not (Deny) do Operation
// on the resources ResourceType/ResourceName/PatternType select, when
// connecting from Host.
type Binding struct {
	// Principal is "Type:Name", e.g. "User:alice", or "User:*".
	Principal string `json:"principal"`
	// Host is the client's IP address, or "*" for any host.
	Host string `json:"host"`
	// Operation is what is allowed or denied (ALL for everything).
	Operation kmsg.ACLOperation `json:"operation"`
	// Permission is ALLOW or DENY.
	Permission kmsg.ACLPermissionType `json:"permission"`
	// ResourceType is TOPIC, GROUP, CLUSTER or TRANSACTIONAL_ID.
	ResourceType kmsg.ACLResourceType `json:"resource_type"`
	// ResourceName is the resource's name, a prefix of names (PREFIXED),
	// or "*" (LITERAL) for every resource of the type; "kafka-cluster"
	// for the cluster.
	ResourceName string `json:"resource_name"`
	// PatternType is LITERAL or PREFIXED.
	PatternType kmsg.ACLResourcePatternType `json:"pattern_type"`
}

// String renders b in kafka-acls.sh's words, for logs and errors.
func (b Binding) String() string {
	return fmt.Sprintf("%s %s %s from %s on %s:%s:%s", b.Principal, b.Permission, b.Operation, b.Host, b.ResourceType, b.PatternType, b.ResourceName)
}

// Validate reports why b cannot be stored (wrapping ErrInvalid), as Kafka
// refuses such a binding in CreateAcls.
func (b Binding) Validate() error {
	switch b.ResourceType {
	case kmsg.ACLResourceTypeTopic, kmsg.ACLResourceTypeGroup, kmsg.ACLResourceTypeCluster, kmsg.ACLResourceTypeTransactionalId:
	default:
		return fmt.Errorf("%w: resource type %v: want TOPIC, GROUP, CLUSTER or TRANSACTIONAL_ID", ErrInvalid, b.ResourceType)
	}
	switch b.PatternType {
	case kmsg.ACLResourcePatternTypeLiteral, kmsg.ACLResourcePatternTypePrefixed:
	default:
		return fmt.Errorf("%w: pattern type %v: want LITERAL or PREFIXED", ErrInvalid, b.PatternType)
	}
	switch b.Operation {
	case kmsg.ACLOperationUnknown, kmsg.ACLOperationAny:
		return fmt.Errorf("%w: operation %v", ErrInvalid, b.Operation)
	}
	if b.Operation.String() == "UNKNOWN" {
		return fmt.Errorf("%w: operation %d", ErrInvalid, int8(b.Operation))
	}
	switch b.Permission {
	case kmsg.ACLPermissionTypeAllow, kmsg.ACLPermissionTypeDeny:
	default:
		return fmt.Errorf("%w: permission %v: want ALLOW or DENY", ErrInvalid, b.Permission)
	}
	if b.ResourceName == "" {
		return fmt.Errorf("%w: empty resource name", ErrInvalid)
	}
	if b.ResourceType == kmsg.ACLResourceTypeCluster && b.ResourceName != ClusterName {
		return fmt.Errorf("%w: the only valid name of the CLUSTER resource is %s", ErrInvalid, ClusterName)
	}
	if _, err := auth.ParsePrincipal(b.Principal); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if b.Host == "" {
		return fmt.Errorf("%w: empty host (use * for any host)", ErrInvalid)
	}
	return nil
}

// Filter selects bindings, as DescribeAcls and DeleteAcls filters do: a
// nil string or an ANY enum matches everything.
type Filter struct {
	// ResourceType is a type, or ANY.
	ResourceType kmsg.ACLResourceType
	// ResourceName is a name, or nil for any.
	ResourceName *string
	// PatternType is LITERAL or PREFIXED (bindings of that type with
	// exactly ResourceName), ANY (bindings of either type with exactly
	// ResourceName), or MATCH (the bindings that apply to the resource
	// ResourceName: its literal binding, the literal wildcard, and
	// prefixed bindings whose prefix starts ResourceName).
	PatternType kmsg.ACLResourcePatternType
	// Principal is a principal (compared as written), or nil for any.
	Principal *string
	// Host is a host (compared as written), or nil for any.
	Host *string
	// Operation is an operation, or ANY.
	Operation kmsg.ACLOperation
	// Permission is ALLOW, DENY, or ANY.
	Permission kmsg.ACLPermissionType
}

// Validate reports why f cannot select anything meaningful (wrapping
// ErrInvalid): UNKNOWN enums, as Kafka refuses them.
func (f Filter) Validate() error {
	switch {
	case f.ResourceType == kmsg.ACLResourceTypeUnknown || f.ResourceType.String() == "UNKNOWN":
		return fmt.Errorf("%w: filter resource type %d", ErrInvalid, int8(f.ResourceType))
	case f.PatternType == kmsg.ACLResourcePatternTypeUnknown || f.PatternType.String() == "UNKNOWN":
		return fmt.Errorf("%w: filter pattern type %d", ErrInvalid, int8(f.PatternType))
	case f.Operation == kmsg.ACLOperationUnknown || f.Operation.String() == "UNKNOWN":
		return fmt.Errorf("%w: filter operation %d", ErrInvalid, int8(f.Operation))
	case f.Permission == kmsg.ACLPermissionTypeUnknown || f.Permission.String() == "UNKNOWN":
		return fmt.Errorf("%w: filter permission %d", ErrInvalid, int8(f.Permission))
	}
	return nil
}

// Matches reports whether f selects b (Kafka's AclBindingFilter.matches).
func (f Filter) Matches(b Binding) bool {
	if f.ResourceType != kmsg.ACLResourceTypeAny && f.ResourceType != b.ResourceType {
		return false
	}
	if f.Principal != nil && *f.Principal != b.Principal {
		return false
	}
	if f.Host != nil && *f.Host != b.Host {
		return false
	}
	if f.Operation != kmsg.ACLOperationAny && f.Operation != b.Operation {
		return false
	}
	if f.Permission != kmsg.ACLPermissionTypeAny && f.Permission != b.Permission {
		return false
	}
	switch f.PatternType {
	case kmsg.ACLResourcePatternTypeAny:
	case kmsg.ACLResourcePatternTypeMatch:
		if f.ResourceName == nil {
			return true
		}
		name := *f.ResourceName
		if b.PatternType == kmsg.ACLResourcePatternTypePrefixed {
			return strings.HasPrefix(name, b.ResourceName)
		}
		return b.ResourceName == name || b.ResourceName == Wildcard
	default:
		if f.PatternType != b.PatternType {
			return false
		}
	}
	return f.ResourceName == nil || *f.ResourceName == b.ResourceName
}
