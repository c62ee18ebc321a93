package webconsole

// server.go holds the console's configuration and its HTTP server: the
// pages (embedded in web/), the API routes, and how it listens (loopback
// unless sign-in is on or --console-insecure says otherwise; TLS with
// --console-tls-cert/--console-tls-key).

import (
	"context"
	"crypto/tls"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Config is a console's settings.
type Config struct {
	// Access is how the console reaches the cluster.
	Access Access
	// Users, when not empty, are the console's own sign-in accounts (name
	// to password) for a cluster without SASL: the users sign in to the
	// console, and the console reaches the cluster anonymously. Ignored
	// when Access.SASLMechanisms is set (the cluster's users sign in).
	Users map[string]string
	// Insecure allows listening on a non-loopback address without
	// sign-in.
	Insecure bool
	// TLSCertFile and TLSKeyFile, when set, serve HTTPS (and mark the
	// session cookie Secure).
	TLSCertFile, TLSKeyFile string
	// SessionIdle ends a session unused this long (default 30 min);
	// SessionMax ends any session this long after sign-in (default 12 h).
	SessionIdle, SessionMax time.Duration
	// DataDir keeps the console's own state (the lag history) across
	// restarts; "" keeps it in memory only.
	DataDir string
	// LagInterval is how often consumer-group lag is sampled for the
	// history charts (default 1 min).
	LagInterval time.Duration
	// LagMaxGroups bounds the groups whose lag history is kept (default
	// 500; 22.5 KiB of samples per group at most).
	LagMaxGroups int
	// Version is Courier's version, shown on the overview.
	Version string
	// Metrics, when set, gathers the figures /metrics serves: the
	// embedded broker's registry, from which the overview reads its
	// throughput and disk figures (elsewhere it computes what the Kafka
	// protocol tells).
	Metrics prometheus.Gatherer
	// Listeners, when set, are the broker's Kafka listeners by name
	// (PLAINTEXT, SASL_SSL, ...), shown on the overview (the embedded
	// broker's; the protocol does not tell them).
	Listeners map[string]string
	// Logger receives the console's log and its audit log (default
	// slog.Default()).
	Logger *slog.Logger
}

// Server is a running console.
type Server struct {
	cfg    Config
	log    *slog.Logger
	mux    *http.ServeMux
	ses    *sessions
	audit  *auditLog
	limits *limiter
	basic  *basicCache
	// anon is the anonymous Kafka session every session without a
	// cluster user of its own shares.
	anon *KafkaSession
	// tls serves HTTPS when set (TLSCertFile, loaded by New).
	tls *tls.Config
	// now is the clock of sessions and sign-in limits (tests move it).
	now func() time.Time
	// lag is the consumer groups' lag history (laghistory.go).
	lag        *lagHistory
	lagMetrics *lagMetrics
}

// sweepEvery is how often Serve's sweeper drops expired sessions, cached
// Basic credentials and old sign-in failures.
const sweepEvery = time.Minute

//go:embed web
var webFS embed.FS

// New returns a console for cfg. It does not connect to the cluster until a
// page asks for something.
func New(cfg Config) (*Server, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.SessionIdle <= 0 {
		cfg.SessionIdle = 30 * time.Minute
	}
	if cfg.SessionMax <= 0 {
		cfg.SessionMax = 12 * time.Hour
	}
	if cfg.LagInterval <= 0 {
		cfg.LagInterval = time.Minute
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux(), now: time.Now}
	if cfg.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.TLSCertFile, cfg.TLSKeyFile)
		if err != nil {
			return nil, fmt.Errorf("console: --console-tls-cert/--console-tls-key: %w", err)
		}
		s.tls = &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}}
	}
	s.ses = newSessions(cfg.SessionIdle, cfg.SessionMax)
	s.audit = newAuditLog(cfg.Logger)
	s.limits = newLimiter()
	s.basic = newBasicCache()
	s.anon = newKafkaSession("", cfg.Access.Base)
	if err := s.routes(); err != nil {
		return nil, err
	}
	return s, nil
}

// Validate checks the settings New would refuse: the TLS files (loaded),
// the SASL mechanisms' names. cmd/courier calls it before it starts a
// broker.
func (c Config) Validate() error {
	if (c.TLSCertFile == "") != (c.TLSKeyFile == "") {
		return errors.New("console: --console-tls-cert and --console-tls-key go together")
	}
	if c.TLSCertFile != "" {
		if _, err := tls.LoadX509KeyPair(c.TLSCertFile, c.TLSKeyFile); err != nil {
			return fmt.Errorf("console: --console-tls-cert/--console-tls-key: %w", err)
		}
	}
	for _, m := range c.Access.SASLMechanisms {
		if _, err := saslMechanism(m, "", ""); err != nil {
			return fmt.Errorf("console: %w", err)
		}
	}
	return nil
}

// LoginRequired reports whether users must sign in: on a SASL cluster, or
// with console accounts.
func (c Config) LoginRequired() bool {
	return len(c.Access.SASLMechanisms) > 0 || len(c.Users) > 0
}

// LoginRequired reports whether users must sign in.
func (s *Server) LoginRequired() bool { return s.cfg.LoginRequired() }

// Handler returns the console's HTTP handler.
func (s *Server) Handler() http.Handler { return securityHeaders(scoped(s.checkHost(s.mux))) }

// routes registers the pages and the API.
func (s *Server) routes() error {
	assets, err := fs.Sub(webFS, "web")
	if err != nil {
		return fmt.Errorf("console assets: %w", err)
	}
	files := http.FileServerFS(assets)
	s.mux.Handle("GET /static/", http.StripPrefix("/static/", files))
	s.mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		http.ServeFileFS(w, r, assets, "index.html")
	})
	s.mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/svg+xml")
		http.ServeFileFS(w, r, assets, "favicon.svg")
	})
	s.sessionRoutes()
	s.loginRoutes()
	s.restClusterRoutes()
	s.topicRoutes()
	s.groupRoutes()
	s.restACLRoutes()
	s.overviewRoutes()
	s.userRoutes()
	s.txnRoutes()
	s.auditRoutes()
	return nil
}

// securityHeaders adds the headers every answer carries: a content
// security policy that allows only the console's own scripts and styles
// (so that even a value that escaped escaping could not run), no framing
// (clickjacking), no MIME sniffing, no referrer.
func securityHeaders(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		h.ServeHTTP(w, r)
	})
}

// Listen checks that addr may be served with this configuration and
// listens on it (see the package function Listen).
func (s *Server) Listen(addr string) (net.Listener, error) { return Listen(addr, s.cfg) }

// Listen listens on addr for a console configured as cfg: a non-loopback
// address without sign-in is refused unless cfg.Insecure. cmd/courier
// calls it before it starts a broker, so that a busy or refused address
// stops everything at once.
func Listen(addr string, cfg Config) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("console: listen on %s: %w", addr, err)
	}
	if !cfg.LoginRequired() && !cfg.Insecure && !loopbackAddr(ln.Addr()) {
		ln.Close()
		return nil, fmt.Errorf("console: refusing to serve %s without sign-in: it is not a loopback address; give --console-users (or a SASL cluster), or --console-insecure to allow it", addr)
	}
	return ln, nil
}

// Serve answers on ln until ctx ends, then shuts down within a few
// seconds. It runs the sweeper of expired sessions, which stops with it.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	// Requests' contexts end when the shutdown begins: long answers (the
	// live tail's event streams) stop at once instead of holding the
	// shutdown to its timeout, and with it the broker's.
	reqCtx, endRequests := context.WithCancel(context.Background())
	defer endRequests()
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		BaseContext:       func(net.Listener) context.Context { return reqCtx },
	}
	srv.RegisterOnShutdown(endRequests)
	if s.tls != nil {
		ln = tls.NewListener(ln, s.tls)
	}
	bg, stopBG := context.WithCancel(ctx)
	swept := make(chan struct{})
	go func() {
		defer close(swept)
		s.sweepLoop(bg)
	}()
	defer func() {
		stopBG()
		<-swept
	}()
	stopBackground := s.startBackground(ctx)
	defer stopBackground()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		s.close()
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(sctx)
	s.close()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// sweepLoop sweeps every sweepEvery until ctx ends.
func (s *Server) sweepLoop(ctx context.Context) {
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			s.sweep()
		}
	}
}

// sweep drops what has expired: sessions (their clients closed), cached
// Basic credentials, old sign-in failures.
func (s *Server) sweep() {
	now := s.now()
	if n := s.ses.sweep(now); n > 0 {
		s.log.Debug("console: expired sessions ended", "sessions", n)
	}
	s.basic.sweep(now)
	s.limits.sweep(now)
}

// close ends every session's Kafka clients.
func (s *Server) close() {
	s.ses.closeAll()
	s.basic.closeAll()
	s.anon.Close()
}

// loopbackAddr reports whether a is a loopback address.
func loopbackAddr(a net.Addr) bool {
	ta, ok := a.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}

// remoteIP is the client's IP address (the connection's; proxies'
// headers are not trusted).
func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
