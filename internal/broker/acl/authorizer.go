package acl

// authorizer.go answers authorization questions. The bindings are kept in
// an immutable snapshot indexed by resource type, then by literal name and
// by prefix, published through an atomic pointer: Authorize, which runs on
// every produce and fetch, takes no lock and allocates nothing.

import (
	"sort"
	"sync"
	"sync/atomic"

	"github.com/courier-dev/courier/internal/broker/auth"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Authorizer holds the ACLs and decides requests with Kafka's semantics.
// It is safe for concurrent use.
type Authorizer struct {
	path  string
	super map[auth.Principal]struct{}

	mu   sync.Mutex // serializes changes (and their writes to path)
	snap atomic.Pointer[snapshot]
}

// snapshot is an immutable view of the bindings.
type snapshot struct {
	all    []Binding // sorted, no duplicates
	byType map[kmsg.ACLResourceType]*typeIndex
}

// typeIndex is the bindings of one resource type.
type typeIndex struct {
	literal    map[string][]entry // by name, including the wildcard "*"
	prefixed   map[string][]entry // by prefix
	prefixLens []int              // the distinct prefix lengths, ascending
	all        []indexedEntry     // every binding, for AuthorizeAny
}

// entry is a binding reduced to what Authorize compares.
type entry struct {
	principal auth.Principal // Name "*" matches every principal of the Type
	host      string
	op        kmsg.ACLOperation
	deny      bool
}

// indexedEntry is an entry with its resource pattern.
type indexedEntry struct {
	entry
	name     string
	prefixed bool
}

// newSnapshot indexes bindings, which must be valid, sorted and unique.
func newSnapshot(all []Binding) *snapshot {
	s := &snapshot{all: all, byType: map[kmsg.ACLResourceType]*typeIndex{}}
	for _, b := range all {
		ix := s.byType[b.ResourceType]
		if ix == nil {
			ix = &typeIndex{literal: map[string][]entry{}, prefixed: map[string][]entry{}}
			s.byType[b.ResourceType] = ix
		}
		p, _ := auth.ParsePrincipal(b.Principal)
		e := entry{principal: p, host: b.Host, op: b.Operation, deny: b.Permission == kmsg.ACLPermissionTypeDeny}
		prefixed := b.PatternType == kmsg.ACLResourcePatternTypePrefixed
		ix.all = append(ix.all, indexedEntry{entry: e, name: b.ResourceName, prefixed: prefixed})
		if !prefixed {
			ix.literal[b.ResourceName] = append(ix.literal[b.ResourceName], e)
			continue
		}
		if _, ok := ix.prefixed[b.ResourceName]; !ok {
			ix.prefixLens = append(ix.prefixLens, len(b.ResourceName))
		}
		ix.prefixed[b.ResourceName] = append(ix.prefixed[b.ResourceName], e)
	}
	for _, ix := range s.byType {
		sort.Ints(ix.prefixLens)
		ix.prefixLens = dedupInts(ix.prefixLens)
	}
	return s
}

func dedupInts(s []int) []int {
	out := s[:0]
	for i, v := range s {
		if i == 0 || v != s[i-1] {
			out = append(out, v)
		}
	}
	return out
}

// who reports whether e applies to principal p connecting from host.
func (e *entry) who(p auth.Principal, host string) bool {
	if e.principal != p && (e.principal.Name != Wildcard || e.principal.Type != p.Type) {
		return false
	}
	return e.host == Wildcard || e.host == host
}

// implies reports whether an ALLOW of granted allows op: ALL allows
// everything; READ, WRITE, DELETE and ALTER allow DESCRIBE; ALTER_CONFIGS
// allows DESCRIBE_CONFIGS.
func implies(granted, op kmsg.ACLOperation) bool {
	if granted == op || granted == kmsg.ACLOperationAll {
		return true
	}
	switch op {
	case kmsg.ACLOperationDescribe:
		switch granted {
		case kmsg.ACLOperationRead, kmsg.ACLOperationWrite, kmsg.ACLOperationDelete, kmsg.ACLOperationAlter:
			return true
		}
	case kmsg.ACLOperationDescribeConfigs:
		return granted == kmsg.ACLOperationAlterConfigs
	}
	return false
}

// IsSuperUser reports whether p is one of the configured super users.
func (a *Authorizer) IsSuperUser(p auth.Principal) bool {
	_, ok := a.super[p]
	return ok
}

// Authorize reports whether principal p, connecting from host (an IP
// address), may do op on the resource rt/name: yes for super users;
// otherwise no if a DENY for op (or ALL) matches, yes if an ALLOW that
// implies op matches, and no when nothing matches.
func (a *Authorizer) Authorize(p auth.Principal, host string, op kmsg.ACLOperation, rt kmsg.ACLResourceType, name string) bool {
	if a.IsSuperUser(p) {
		return true
	}
	ix := a.snap.Load().byType[rt]
	if ix == nil {
		return false
	}
	allowed := false
	// scan reports a matching DENY; it records a matching ALLOW.
	scan := func(es []entry) bool {
		for i := range es {
			e := &es[i]
			if !e.who(p, host) {
				continue
			}
			if e.deny {
				if e.op == op || e.op == kmsg.ACLOperationAll {
					return true
				}
			} else if !allowed && implies(e.op, op) {
				allowed = true
			}
		}
		return false
	}
	if scan(ix.literal[name]) {
		return false
	}
	if name != Wildcard && scan(ix.literal[Wildcard]) {
		return false
	}
	for _, l := range ix.prefixLens {
		if l > len(name) {
			break
		}
		if scan(ix.prefixed[name[:l]]) {
			return false
		}
	}
	return allowed
}

// AuthorizeAny reports whether p, from host, may do op on at least one
// resource of type rt (Kafka's authorizeByResourceType, used for KIP-679's
// "WRITE on any topic"): some ALLOW for op (or ALL) on a literal name or a
// prefix that no DENY for op (or ALL) covers, and no DENY on the literal
// wildcard. Operations are not implied here, as in Kafka.
func (a *Authorizer) AuthorizeAny(p auth.Principal, host string, op kmsg.ACLOperation, rt kmsg.ACLResourceType) bool {
	if a.IsSuperUser(p) {
		return true
	}
	ix := a.snap.Load().byType[rt]
	if ix == nil {
		return false
	}
	var denyLiteral, denyPrefixed []string
	for i := range ix.all {
		e := &ix.all[i]
		if !e.deny || !e.who(p, host) || (e.op != op && e.op != kmsg.ACLOperationAll) {
			continue
		}
		if !e.prefixed && e.name == Wildcard {
			return false
		}
		if e.prefixed {
			denyPrefixed = append(denyPrefixed, e.name)
		} else {
			denyLiteral = append(denyLiteral, e.name)
		}
	}
	coveredByPrefix := func(name string) bool {
		for _, d := range denyPrefixed {
			if len(d) <= len(name) && name[:len(d)] == d {
				return true
			}
		}
		return false
	}
	for i := range ix.all {
		e := &ix.all[i]
		if e.deny || !e.who(p, host) || (e.op != op && e.op != kmsg.ACLOperationAll) {
			continue
		}
		if coveredByPrefix(e.name) {
			continue
		}
		if !e.prefixed && contains(denyLiteral, e.name) {
			continue
		}
		return true
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// SupportedOperations lists the operations that apply to a resource type,
// in the order Kafka reports them.
func SupportedOperations(rt kmsg.ACLResourceType) []kmsg.ACLOperation {
	switch rt {
	case kmsg.ACLResourceTypeTopic:
		return []kmsg.ACLOperation{kmsg.ACLOperationRead, kmsg.ACLOperationWrite, kmsg.ACLOperationCreate, kmsg.ACLOperationDelete,
			kmsg.ACLOperationAlter, kmsg.ACLOperationDescribe, kmsg.ACLOperationDescribeConfigs, kmsg.ACLOperationAlterConfigs}
	case kmsg.ACLResourceTypeGroup:
		return []kmsg.ACLOperation{kmsg.ACLOperationRead, kmsg.ACLOperationDescribe, kmsg.ACLOperationDelete}
	case kmsg.ACLResourceTypeCluster:
		return []kmsg.ACLOperation{kmsg.ACLOperationCreate, kmsg.ACLOperationClusterAction, kmsg.ACLOperationDescribeConfigs,
			kmsg.ACLOperationAlterConfigs, kmsg.ACLOperationIdempotentWrite, kmsg.ACLOperationAlter, kmsg.ACLOperationDescribe}
	case kmsg.ACLResourceTypeTransactionalId:
		return []kmsg.ACLOperation{kmsg.ACLOperationDescribe, kmsg.ACLOperationWrite}
	}
	return nil
}

// OperationBits is the bitfield of ops (bit n for operation n) that the
// authorized-operations fields of Metadata, DescribeGroups and
// DescribeCluster carry.
func OperationBits(ops []kmsg.ACLOperation) int32 {
	var bits int32
	for _, op := range ops {
		bits |= 1 << int32(op)
	}
	return bits
}

// AuthorizedOperations is the bitfield of the operations p, from host, may
// do on the resource rt/name, among those that apply to rt.
func (a *Authorizer) AuthorizedOperations(p auth.Principal, host string, rt kmsg.ACLResourceType, name string) int32 {
	var ops []kmsg.ACLOperation
	for _, op := range SupportedOperations(rt) {
		if a.Authorize(p, host, op, rt, name) {
			ops = append(ops, op)
		}
	}
	return OperationBits(ops)
}
