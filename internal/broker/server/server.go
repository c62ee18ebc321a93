package server

// server.go owns the listeners, the set of live connections, the limits on
// them, and shutdown.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/courier-dev/courier/internal/broker/auth"
	"github.com/courier-dev/courier/internal/broker/membudget"
	"github.com/courier-dev/courier/internal/broker/quota"
)

// Config tunes the network layer. Zero values mean the defaults given.
type Config struct {
	// MaxRequestBytes bounds one request frame; a larger frame closes the
	// connection before its body is read (Kafka's socket.request.max.bytes).
	// Default 100 MiB.
	MaxRequestBytes int32
	// MaxInFlight bounds the requests read but not yet answered per
	// connection; reading pauses when it is reached. Default 32.
	MaxInFlight int
	// MaxInflightBytes bounds the request bytes read but not yet answered
	// per connection; reading pauses while they exceed it (a frame larger
	// than it waits until nothing else is in flight). Default
	// MaxRequestBytes.
	MaxInflightBytes int64
	// MaxQueuedRequestBytes bounds the request bytes all connections
	// together hold read but not yet answered (Kafka's
	// queued.max.request.bytes). A reader takes a frame's bytes from this
	// budget before reading them, a chunk at a time as they arrive (so a
	// client that declares a large frame and stalls holds only what it
	// sent); when they do not fit it waits, reading and allocating nothing
	// (backpressure), until answered requests give bytes back. One frame at
	// a time that is already half read may finish beyond the budget (the
	// overflow lane), so frames larger than the budget, or many large
	// frames at once, never deadlock: the bound is this plus one frame.
	// Default 512 MiB; negative means no bound.
	MaxQueuedRequestBytes int64
	// SASLMaxReceiveBytes bounds a frame on a SASL listener until the
	// connection has authenticated (Kafka's sasl.server.max.receive.size):
	// a larger one closes the connection before its body is read, so an
	// unauthenticated client cannot make the broker hold more than this.
	// Default 512 KiB.
	SASLMaxReceiveBytes int32
	// MaxConnections bounds the open connections; more are accepted and
	// closed at once. Default 10000; negative means no limit.
	MaxConnections int
	// MaxConnectionsPerIP bounds the open connections from one IP address
	// (Kafka's max.connections.per.ip). Default 1000; negative: no limit.
	MaxConnectionsPerIP int
	// IdleTimeout closes a connection that sends no request for this long
	// (Kafka's connections.max.idle.ms). Default 10m; negative: never.
	IdleTimeout time.Duration
	// RequestReadTimeout bounds reading one frame once its first byte has
	// arrived, and the TLS handshake. Default 30s.
	RequestReadTimeout time.Duration
	// WriteTimeout closes a connection whose client accepts none of the
	// next writeStep bytes of a response for this long: a client that
	// stops reading would otherwise pin the memory its responses hold.
	// Default 30s.
	WriteTimeout time.Duration
	// AuthTimeout bounds the time from connecting to the first successful
	// SASL authentication on SASL listeners. Default 30s.
	AuthTimeout time.Duration
	// SASL runs the SASL exchanges of SASL_PLAINTEXT and SASL_SSL
	// listeners; required when there is one.
	SASL auth.SASLServer
	// ReauthInterval is the longest a SASL session lasts before the client
	// must re-authenticate (KIP-368's connections.max.reauth.ms); 0: forever.
	ReauthInterval time.Duration
	// Quotas throttles produce and fetch byte rates; nil: no quotas.
	Quotas *quota.Manager
	// Logger receives connection-level events; nil discards them.
	Logger *slog.Logger
	// Observer receives per-request measurements; nil ignores them.
	Observer Observer
}

// Defaults of Config's memory bounds.
const (
	// DefaultMaxQueuedRequestBytes is MaxQueuedRequestBytes' default:
	// five maximal (100 MiB) requests.
	DefaultMaxQueuedRequestBytes = 512 << 20
	// DefaultSASLMaxReceiveBytes is Kafka's sasl.server.max.receive.size
	// default.
	DefaultSASLMaxReceiveBytes = 512 << 10
)

// Listener protocols, Kafka's security.protocol values. A listener is named
// by its protocol.
const (
	Plaintext     = "PLAINTEXT"
	SSL           = "SSL"
	SASLPlaintext = "SASL_PLAINTEXT"
	SASLSSL       = "SASL_SSL"
)

// ListenerConfig says how connections accepted on one listener are secured.
type ListenerConfig struct {
	// Name is the listener's name (its protocol), reported in
	// ConnInfo.Listener.
	Name string
	// TLS, when set, wraps every connection in TLS (SSL, SASL_SSL). On a
	// listener without SASL a verified client certificate's subject becomes
	// the principal.
	TLS *tls.Config
	// SASL requires SASL authentication before any request but
	// ApiVersions, SaslHandshake and SaslAuthenticate.
	SASL bool
	// Principal, when its Name is set, is the principal of every
	// connection on the listener, fixed from the start: for in-process
	// listeners only (package run's, whose connections no client outside
	// the process can open), so it goes with neither TLS nor SASL.
	Principal auth.Principal
}

// Server accepts Kafka connections and dispatches their requests.
type Server struct {
	cfg     Config
	handler Handler
	// queued is the MaxQueuedRequestBytes budget.
	queued *membudget.Budget

	nextConnID atomic.Uint64
	rejected   atomic.Int64 // connections refused since the last log line
	lastReject atomic.Int64 // unix nanos of that log line

	mu       sync.Mutex
	lns      map[net.Listener]struct{}
	conns    map[*conn]struct{}
	perIP    map[netip.Addr]int
	closing  bool
	connsWG  sync.WaitGroup
	baseCtx  context.Context
	cancelFn context.CancelFunc
}

// New returns a server that sends requests to h.
func New(cfg Config, h Handler) *Server {
	if cfg.MaxRequestBytes <= 0 {
		cfg.MaxRequestBytes = 100 << 20
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = 32
	}
	if cfg.MaxInflightBytes <= 0 {
		cfg.MaxInflightBytes = int64(cfg.MaxRequestBytes)
	}
	if cfg.MaxQueuedRequestBytes == 0 {
		cfg.MaxQueuedRequestBytes = DefaultMaxQueuedRequestBytes
	}
	if cfg.SASLMaxReceiveBytes <= 0 {
		cfg.SASLMaxReceiveBytes = DefaultSASLMaxReceiveBytes
	}
	if cfg.MaxConnections == 0 {
		cfg.MaxConnections = 10000
	}
	if cfg.MaxConnectionsPerIP == 0 {
		cfg.MaxConnectionsPerIP = 1000
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 10 * time.Minute
	}
	if cfg.RequestReadTimeout <= 0 {
		cfg.RequestReadTimeout = 30 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 30 * time.Second
	}
	if cfg.AuthTimeout <= 0 {
		cfg.AuthTimeout = 30 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Observer == nil {
		cfg.Observer = nopObserver{}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		cfg: cfg, handler: h, baseCtx: ctx, cancelFn: cancel, queued: membudget.New(cfg.MaxQueuedRequestBytes),
		lns: make(map[net.Listener]struct{}), conns: make(map[*conn]struct{}), perIP: make(map[netip.Addr]int),
	}
}

// ErrServerClosed is returned by Serve after Shutdown.
var ErrServerClosed = errors.New("server closed")

// Serve accepts plaintext connections on ln until Shutdown, as
// ServeListener with an unnamed listener.
func (s *Server) Serve(ln net.Listener) error { return s.ServeListener(ln, ListenerConfig{}) }

// ServeListener accepts connections on ln, secured as l says, until
// Shutdown. It may be called for several listeners at once. It always
// returns a non-nil error: ErrServerClosed after Shutdown.
func (s *Server) ServeListener(ln net.Listener, l ListenerConfig) error {
	if l.SASL && s.cfg.SASL == nil {
		return fmt.Errorf("listener %s: SASL listener without a SASL server", l.Name)
	}
	if l.Principal.Name != "" && (l.SASL || l.TLS != nil) {
		return fmt.Errorf("listener %s: a fixed principal goes with neither TLS nor SASL", l.Name)
	}
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		return ErrServerClosed
	}
	s.lns[ln] = struct{}{}
	s.mu.Unlock()
	for {
		nc, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closing := s.closing
			s.mu.Unlock()
			if closing {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return fmt.Errorf("accept on %s: %w", ln.Addr(), err)
			}
			// EMFILE and friends: back off briefly rather than spin or quit.
			s.cfg.Logger.Warn("accept failed", "listener", l.Name, "err", err)
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if tc, ok := nc.(*net.TCPConn); ok {
			_ = tc.SetNoDelay(true)
		}
		s.start(nc, l)
	}
}

// start registers a connection and runs it, or closes it at once when a
// connection limit is reached. It never blocks on the client.
func (s *Server) start(nc net.Conn, l ListenerConfig) {
	ip := remoteIP(nc)
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		nc.Close()
		return
	}
	if (s.cfg.MaxConnections > 0 && len(s.conns) >= s.cfg.MaxConnections) ||
		(s.cfg.MaxConnectionsPerIP > 0 && s.perIP[ip] >= s.cfg.MaxConnectionsPerIP) {
		s.mu.Unlock()
		nc.Close()
		s.logRejected(ip)
		return
	}
	c := newConn(s, nc, s.nextConnID.Add(1), l)
	s.conns[c] = struct{}{}
	s.perIP[ip]++
	s.connsWG.Add(1)
	s.mu.Unlock()
	s.cfg.Observer.ConnOpened()
	go func() {
		defer s.connsWG.Done()
		defer s.cfg.Observer.ConnClosed()
		c.run()
		s.mu.Lock()
		delete(s.conns, c)
		if s.perIP[ip]--; s.perIP[ip] <= 0 {
			delete(s.perIP, ip)
		}
		s.mu.Unlock()
	}()
}

// remoteIP is the client's address without the port (the zero Addr when
// the connection is not TCP).
func remoteIP(nc net.Conn) netip.Addr {
	if ta, ok := nc.RemoteAddr().(*net.TCPAddr); ok {
		return ta.AddrPort().Addr().Unmap()
	}
	return netip.Addr{}
}

// logRejected logs refused connections at most once every 10 seconds, with
// how many were refused since the last line.
func (s *Server) logRejected(ip netip.Addr) {
	n := s.rejected.Add(1)
	now := time.Now().UnixNano()
	last := s.lastReject.Load()
	if now-last < int64(10*time.Second) || !s.lastReject.CompareAndSwap(last, now) {
		return
	}
	s.rejected.Add(-n)
	s.cfg.Logger.Warn("connection limit reached: refusing connections", "refused", n, "last_ip", ip.String(),
		"max_connections", s.cfg.MaxConnections, "max_connections_per_ip", s.cfg.MaxConnectionsPerIP)
}

// QueuedRequestBytes reports the request bytes read but not yet answered,
// across connections (held in the MaxQueuedRequestBytes budget).
func (s *Server) QueuedRequestBytes() int64 { return s.queued.InUse() }

// QueuedRequestWaits reports how many times a reader has had to wait for
// the MaxQueuedRequestBytes budget.
func (s *Server) QueuedRequestWaits() int64 { return s.queued.Waits() }

// Conns reports the number of open connections.
func (s *Server) Conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.conns)
}

// Shutdown stops accepting, stops reading new requests, lets every
// connection answer the requests it already read, and closes them. When ctx
// ends first, the remaining connections are closed at once and waits (long
// polls, fsyncs) are cancelled.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	for ln := range s.lns {
		ln.Close()
	}
	for c := range s.conns {
		c.stopReading()
	}
	s.mu.Unlock()
	// Waits that only delay an answer (fetch long polls) end now, so that
	// in-flight requests are answered promptly with what is available.
	s.cancelFn()

	done := make(chan struct{})
	go func() { s.connsWG.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		s.mu.Lock()
		for c := range s.conns {
			c.nc.Close()
		}
		s.mu.Unlock()
		<-done
		return ctx.Err()
	}
}

type nopObserver struct{}

func (nopObserver) RequestDone(int16, time.Duration, int, int) {}
func (nopObserver) ConnOpened()                                {}
func (nopObserver) ConnClosed()                                {}
func (nopObserver) FrameRejected(string)                       {}
func (nopObserver) RequestPanicked(int16)                      {}
