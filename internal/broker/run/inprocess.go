package run

// inprocess.go gives a component that runs inside the broker's process
// (Courier Console, started by cmd/courier) connections to the broker that
// need neither the network nor TLS: in-memory listeners served by the same
// network server as the real ones, whose connections are net.Pipe pairs.
// Nothing outside the process can open one, which is what makes the
// service listener's fixed principal safe: its connections are
// ServicePrincipal, a super user, from the first byte.

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"

	"github.com/courier-dev/courier/internal/broker/auth"
	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/prometheus/client_golang/prometheus"
)

// ServicePrincipal is the principal of the in-process service connections
// (InProcess.DialService). Its type, Internal, is one no client can
// authenticate as (SASL and TLS principals are always User:...), so it is
// added to the super users (super.users shows it) without opening
// anything to the outside.
var ServicePrincipal = auth.Principal{Type: "Internal", Name: "console"}

// InProcess are the in-process connections handed to Config.Embed.
type InProcess struct {
	// DialUser opens a connection for a user's session: to a SASL
	// listener when the broker has SASL listeners (the client then
	// authenticates as the user, with one of SASLMechanisms), else to an
	// anonymous one (User:ANONYMOUS, as a PLAINTEXT client).
	DialUser func(ctx context.Context) (net.Conn, error)
	// SASLMechanisms are the mechanisms of DialUser's listener (the
	// broker's, Config.SASLMechanisms); nil when it is anonymous.
	SASLMechanisms []string
	// DialService opens a connection whose principal is ServicePrincipal,
	// allowed everything.
	DialService func(ctx context.Context) (net.Conn, error)
	// Metrics gathers the broker's metrics, the figures /metrics serves.
	Metrics prometheus.Gatherer
	// Listeners are the broker's Kafka listeners' addresses by name.
	Listeners map[string]string
}

// memListener is a net.Listener whose connections are made in-process by
// dial. It is served by server.Server like any listener and closed by its
// Shutdown. Its connections are as if made to a real listener (mirrored):
// they carry its name and local address, so that the broker advertises to
// them what it advertises to that listener's clients.
type memListener struct {
	local net.Addr // the mirrored listener's address
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
	next  atomic.Int64 // the port numbers of the connections' addresses
}

// newMemListener returns an open memListener mirroring a listener bound
// to local.
func newMemListener(local net.Addr) *memListener {
	return &memListener{local: local, conns: make(chan net.Conn), done: make(chan struct{})}
}

// errMemClosed is what dial returns once the broker is shutting down.
var errMemClosed = errors.New("in-process listener closed: the broker is shutting down")

// loopback is the address in-process connections report: the broker's own
// host, as a client on the same machine would be seen (ACLs naming hosts
// match it as 127.0.0.1).
var loopback = net.IPv4(127, 0, 0, 1)

// Accept implements net.Listener.
func (l *memListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close implements net.Listener.
func (l *memListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

// Addr implements net.Listener.
func (l *memListener) Addr() net.Addr { return l.local }

// dial opens a connection: the server's end is handed to Accept, the
// client's returned.
func (l *memListener) dial(ctx context.Context) (net.Conn, error) {
	client, srv := net.Pipe()
	port := int(l.next.Add(1)%65535) + 1
	local, remote := l.local, &net.TCPAddr{IP: loopback, Port: port}
	select {
	case l.conns <- addrConn{Conn: srv, local: local, remote: remote}:
		return addrConn{Conn: client, local: remote, remote: local}, nil
	case <-l.done:
	case <-ctx.Done():
	}
	client.Close()
	srv.Close()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return nil, errMemClosed
}

// addrConn is a pipe end with TCP addresses, so that the server counts,
// logs and matches ACL hosts of in-process connections as loopback ones.
type addrConn struct {
	net.Conn
	local, remote net.Addr
}

func (c addrConn) LocalAddr() net.Addr  { return c.local }
func (c addrConn) RemoteAddr() net.Addr { return c.remote }

// inProcessListeners are the listeners an embedded component gets and how
// the server serves them.
type inProcessListeners struct {
	users, service *memListener
	usersCfg       server.ListenerConfig
	serviceCfg     server.ListenerConfig
}

// newInProcess makes the in-process listeners. Users' connections mirror
// the first SASL listener (SASL_PLAINTEXT or SASL_SSL, without TLS: nothing
// travels) when there is one, else the PLAINTEXT one (anonymous), else the
// first; the service's mirror the first listener.
func newInProcess(names []string, addrs []net.Addr, sasl bool) *inProcessListeners {
	users := -1
	for i, n := range names {
		switch {
		case sasl && (n == server.SASLPlaintext || n == server.SASLSSL) && users < 0:
			users = i
		case !sasl && n == server.Plaintext:
			users = i
		}
	}
	if users < 0 {
		users = 0
	}
	ip := &inProcessListeners{users: newMemListener(addrs[users]), service: newMemListener(addrs[0])}
	ip.usersCfg = server.ListenerConfig{Name: names[users], SASL: sasl}
	ip.serviceCfg = server.ListenerConfig{Name: names[0], Principal: ServicePrincipal}
	return ip
}

// embedded is a running Config.Embed.
type embedded struct {
	// done receives its error if it fails; a nil return is not reported
	// (the broker goes on without it).
	done     chan error
	cancel   context.CancelFunc
	finished chan struct{} // closed once it returned, err then set
	err      error
}

// startEmbed serves the in-process listeners on srv and runs cfg.Embed, if
// set, in a goroutine stop waits for. Their Serve errors go to serveErr.
func startEmbed(cfg Config, srv *server.Server, scfg server.Config, metrics prometheus.Gatherer, names []string, bound []net.Addr, serveErr chan<- error) *embedded {
	e := &embedded{done: make(chan error, 1)}
	if cfg.Embed == nil {
		return e
	}
	ip := newInProcess(names, bound, scfg.SASL != nil)
	go func() { serveErr <- srv.ServeListener(ip.users, ip.usersCfg) }()
	go func() { serveErr <- srv.ServeListener(ip.service, ip.serviceCfg) }()
	access := InProcess{
		DialUser:    ip.users.dial,
		DialService: ip.service.dial,
		Metrics:     metrics,
		Listeners:   make(map[string]string, len(names)),
	}
	if scfg.SASL != nil {
		access.SASLMechanisms = scfg.SASL.Mechanisms()
	}
	for i, name := range names {
		access.Listeners[name] = bound[i].String()
	}
	ctx, cancel := context.WithCancel(context.Background())
	e.cancel, e.finished = cancel, make(chan struct{})
	go func() {
		defer close(e.finished)
		if e.err = cfg.Embed(ctx, access); e.err != nil {
			e.done <- e.err
		}
	}()
	return e
}

// stop ends the embedded component and waits for it, within ctx, and
// returns its error.
func (e *embedded) stop(ctx context.Context) error {
	if e.cancel == nil {
		return nil
	}
	e.cancel()
	select {
	case <-e.finished:
		return e.err
	case <-ctx.Done():
		return errors.New("the embedded component did not stop within the shutdown grace")
	}
}
