package server

// handler.go defines the contract between the network layer and the code
// that serves requests.

import (
	"context"
	"net"
	"sync/atomic"
	"time"

	"github.com/courier-dev/courier/internal/broker/auth"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Request is one decoded request frame.
type Request struct {
	// Msg is the decoded request body, with its version set.
	Msg kmsg.Request
	// CorrelationID is echoed in the response header.
	CorrelationID int32
	// ClientID is the client's self-reported id ("" when null).
	ClientID string
	// Conn describes the connection the request arrived on.
	Conn *ConnInfo
	// Received is when the frame was fully read.
	Received time.Time
	// Size is the frame's size in bytes, without the length prefix.
	Size int

	// done runs once the response is written or given up (OnDone).
	done []func()
}

// OnDone registers f to run once the request's response has been written,
// or given up because the connection closed or serving it panicked. A
// handler uses it to give back what the response holds until then (a
// fetch's share of the fetch memory budget). Call it only from Handle or
// the Reply: they run before the server reads the list, on the goroutines
// that own the request.
func (r *Request) OnDone(f func()) { r.done = append(r.done, f) }

// Finish runs the functions registered with OnDone, once. The server does
// this itself (recovering panics) after writing the response; code that
// drives a Handler directly, such as a test, calls Finish once it is done
// with the response, or what the response held is never given back.
func (r *Request) Finish() {
	fs := r.done
	r.done = nil
	for _, f := range fs {
		f()
	}
}

// ConnInfo describes a client connection.
type ConnInfo struct {
	// ID is unique per connection for the life of the server.
	ID uint64
	// Remote is the client's address.
	Remote net.Addr
	// Local is the address the client connected to.
	Local net.Addr
	// Listener is the name of the listener the connection arrived on
	// (e.g. "PLAINTEXT", "SASL_SSL"); "" for a server with one unnamed
	// listener.
	Listener string

	principal atomic.Pointer[auth.Principal]
	// remoteHost caches RemoteHost for connections the server made: ACL
	// checks read it on every request.
	remoteHost string
}

// Principal is who the connection authenticated as: auth.Anonymous until
// a TLS client certificate or a SASL exchange says otherwise. It may change
// on re-authentication, so a handler reads it once per request.
func (c *ConnInfo) Principal() auth.Principal {
	if p := c.principal.Load(); p != nil {
		return *p
	}
	return auth.Anonymous
}

// SetPrincipal records the connection's authenticated principal.
func (c *ConnInfo) SetPrincipal(p auth.Principal) { c.principal.Store(&p) }

// RemoteHost is the client's IP address as ACLs match it ("" if unknown).
func (c *ConnInfo) RemoteHost() string {
	if c.remoteHost != "" {
		return c.remoteHost
	}
	return hostOf(c.Remote)
}

// hostOf is addr's IP address without the port.
func hostOf(addr net.Addr) string {
	if addr == nil {
		return ""
	}
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return addr.String()
	}
	return host
}

// Reply produces a request's response. The server calls it on the
// connection's writer goroutine, in request order; it may block (for an fsync
// or a long poll) until ctx, which ends when the connection closes or the
// server shuts down, is done. A nil response means "send nothing", as for a
// produce request with acks=0.
type Reply func(ctx context.Context) kmsg.Response

// Handler serves decoded requests.
type Handler interface {
	// Versions reports the versions of API key served, and ok=false for
	// keys not served at all. The server rejects other versions itself.
	Versions(key int16) (min, max int16, ok bool)
	// Handle does a request's ordered work (anything that must happen
	// before the next request on the connection is handled, such as a
	// produce's append) and returns the Reply that finishes it.
	Handle(ctx context.Context, req *Request) Reply
}

// Observer receives per-request measurements; metrics implement it.
type Observer interface {
	// RequestDone is called after a response was written (or skipped).
	RequestDone(key int16, latency time.Duration, bytesIn, bytesOut int)
	// ConnOpened and ConnClosed track live connections.
	ConnOpened()
	ConnClosed()
	// FrameRejected counts a frame refused from its declared size alone,
	// before its body was read, which closes the connection; reason is one
	// of the Reject* constants.
	FrameRejected(reason string)
	// RequestPanicked counts a panic recovered while serving a request of
	// API key (-1 when it happened between requests); the connection was
	// closed and the server kept serving the others.
	RequestPanicked(key int16)
}

// Reasons reported to Observer.FrameRejected.
const (
	// RejectTooSmall: a frame shorter than a request header.
	RejectTooSmall = "too_small"
	// RejectTooLarge: a frame above Config.MaxRequestBytes.
	RejectTooLarge = "too_large"
	// RejectTooLargeBeforeAuth: a frame above Config.SASLMaxReceiveBytes
	// on a SASL listener before authentication.
	RejectTooLargeBeforeAuth = "too_large_before_auth"
)

// Immediate wraps an already computed response as a Reply.
func Immediate(resp kmsg.Response) Reply {
	return func(context.Context) kmsg.Response { return resp }
}
