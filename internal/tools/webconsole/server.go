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
	// Version is Courier's version, shown on the overview.
	Version string
	// Logger receives the console's log and its audit log (default
	// slog.Default()).
	Logger *slog.Logger
}

// Server is a running console.
type Server struct {
	cfg   Config
	log   *slog.Logger
	mux   *http.ServeMux
	ses   *sessions
	audit *auditLog
}

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
	if (cfg.TLSCertFile == "") != (cfg.TLSKeyFile == "") {
		return nil, errors.New("console: --console-tls-cert and --console-tls-key go together")
	}
	s := &Server{cfg: cfg, log: cfg.Logger, mux: http.NewServeMux()}
	s.ses = newSessions(cfg.SessionIdle, cfg.SessionMax)
	s.audit = newAuditLog(cfg.Logger)
	if err := s.routes(); err != nil {
		return nil, err
	}
	return s, nil
}

// LoginRequired reports whether users must sign in.
func (s *Server) LoginRequired() bool {
	return len(s.cfg.Access.SASLMechanisms) > 0 || len(s.cfg.Users) > 0
}

// Handler returns the console's HTTP handler.
func (s *Server) Handler() http.Handler { return securityHeaders(s.mux) }

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
	s.restClusterRoutes()
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
// listens on it: a non-loopback address without sign-in is refused unless
// Insecure.
func (s *Server) Listen(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("console: listen on %s: %w", addr, err)
	}
	if !s.LoginRequired() && !s.cfg.Insecure && !loopbackAddr(ln.Addr()) {
		ln.Close()
		return nil, fmt.Errorf("console: refusing to serve %s without sign-in: it is not a loopback address; give --console-users (or a SASL cluster), or --console-insecure to allow it", addr)
	}
	return ln, nil
}

// Serve answers on ln until ctx ends, then shuts down within a few seconds.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	if s.cfg.TLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(s.cfg.TLSCertFile, s.cfg.TLSKeyFile)
		if err != nil {
			ln.Close()
			return fmt.Errorf("console: --console-tls-cert/--console-tls-key: %w", err)
		}
		ln = tls.NewListener(ln, &tls.Config{MinVersion: tls.VersionTLS12, Certificates: []tls.Certificate{cert}})
	}
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

// close ends every session's Kafka clients.
func (s *Server) close() { s.ses.closeAll() }

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
