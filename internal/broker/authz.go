package broker

// authz.go decides whether a request's principal may do an operation on a
// resource (ACLs, package acl). With Config.AuthorizerEnabled off every
// request is allowed. Nothing is cached per connection: an ACL change
// applies to the next request.

import (
	"context"
	"log/slog"

	"github.com/courier-dev/courier/internal/broker/acl"
	"github.com/courier-dev/courier/internal/broker/auth"
	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// allowed reports whether req's principal, from req's host, may do op on
// the resource. Without an authorizer every request is allowed.
func (b *Broker) allowed(req *server.Request, op kmsg.ACLOperation, rt kmsg.ACLResourceType, name string) bool {
	if !b.cfg.AuthorizerEnabled {
		return true
	}
	p, host := requester(req)
	if b.acls.Authorize(p, host, op, rt, name) {
		return true
	}
	if b.cfg.Logger.Enabled(context.Background(), slog.LevelDebug) {
		b.cfg.Logger.Debug("request denied", "principal", p.String(), "host", host, "operation", op.String(),
			"resource_type", rt.String(), "resource", name, "api", kmsg.NameForKey(req.Msg.Key()))
	}
	return false
}

// requester is who sent req and from where.
func requester(req *server.Request) (auth.Principal, string) {
	if req == nil || req.Conn == nil {
		return auth.Anonymous, ""
	}
	return req.Conn.Principal(), req.Conn.RemoteHost()
}

// Shorthands for the resource types and operations the handlers check.
const (
	rtTopic   = kmsg.ACLResourceTypeTopic
	rtGroup   = kmsg.ACLResourceTypeGroup
	rtCluster = kmsg.ACLResourceTypeCluster

	rtTransactionalID = kmsg.ACLResourceTypeTransactionalId

	opRead            = kmsg.ACLOperationRead
	opWrite           = kmsg.ACLOperationWrite
	opCreate          = kmsg.ACLOperationCreate
	opDelete          = kmsg.ACLOperationDelete
	opAlter           = kmsg.ACLOperationAlter
	opDescribe        = kmsg.ACLOperationDescribe
	opDescribeConfigs = kmsg.ACLOperationDescribeConfigs
	opAlterConfigs    = kmsg.ACLOperationAlterConfigs
	opIdempotentWrite = kmsg.ACLOperationIdempotentWrite
	opClusterAction   = kmsg.ACLOperationClusterAction
)

// allowedCluster reports whether req may do op on the cluster.
func (b *Broker) allowedCluster(req *server.Request, op kmsg.ACLOperation) bool {
	return b.allowed(req, op, rtCluster, acl.ClusterName)
}

// allowedAnyTopic reports whether req may do op on at least one topic
// (KIP-679: WRITE on any topic lets a producer be idempotent).
func (b *Broker) allowedAnyTopic(req *server.Request, op kmsg.ACLOperation) bool {
	if !b.cfg.AuthorizerEnabled {
		return true
	}
	p, host := requester(req)
	return b.acls.AuthorizeAny(p, host, op, rtTopic)
}

// authorizedOps is the authorized-operations bitfield of a resource for
// req (Metadata, DescribeGroups, DescribeCluster): with enforcement off,
// every operation that applies to the resource type, as Kafka reports
// without an authorizer.
func (b *Broker) authorizedOps(req *server.Request, rt kmsg.ACLResourceType, name string) int32 {
	if !b.cfg.AuthorizerEnabled {
		return acl.OperationBits(acl.SupportedOperations(rt))
	}
	p, host := requester(req)
	return b.acls.AuthorizedOperations(p, host, rt, name)
}
