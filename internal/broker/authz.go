package broker

// authz.go decides whether a request's principal may do an operation on a
// resource (ACLs).

import (
	"github.com/courier-dev/courier/internal/server"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// allowed reports whether req's principal, from req's host, may do op on
// the resource. Without an authorizer every request is allowed.
func (b *Broker) allowed(req *server.Request, op kmsg.ACLOperation, rt kmsg.ACLResourceType, name string) bool {
	return true
}
