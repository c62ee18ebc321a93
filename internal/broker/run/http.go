package run

// http.go serves the broker's HTTP port: /metrics for Prometheus, /healthz
// for liveness probes, and /debug/pprof only when Config.PProf asks for it
// (profiles and heap dumps show memory contents: message bytes, names,
// credentials in flight). The port may be protected by a bearer token
// and/or basic auth, checked in constant time; everything but /healthz
// then needs them. A port reachable beyond loopback without protection is
// warned about at start, since /metrics names every topic whatever the
// ACLs hide.

import (
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// MinHTTPTokenLen is the shortest bearer token accepted: a short one is
// guessable by anyone who can reach the port.
const MinHTTPTokenLen = 16

// HTTPAuth protects the HTTP port. When Token or BasicUser is set, every
// path but /healthz answers 401 unless the request carries one of the
// configured credentials.
type HTTPAuth struct {
	// Token, when set, is accepted as "Authorization: Bearer TOKEN".
	Token string
	// BasicUser and BasicPassword, when set, are accepted as basic auth.
	BasicUser, BasicPassword string
}

// Enabled reports whether any credential is configured.
func (a HTTPAuth) Enabled() bool { return a.Token != "" || a.BasicUser != "" }

// Validate checks the credentials' form.
func (a HTTPAuth) Validate() error {
	if a.Token != "" {
		if len(a.Token) < MinHTTPTokenLen {
			return fmt.Errorf("--http-auth-token: %d characters; at least %d are needed", len(a.Token), MinHTTPTokenLen)
		}
		for _, c := range []byte(a.Token) {
			if c <= ' ' || c >= 0x7f {
				return errors.New("--http-auth-token: only printable ASCII without spaces is allowed")
			}
		}
	}
	if a.BasicUser == "" && a.BasicPassword != "" {
		return errors.New("--http-basic-auth: a password without a user")
	}
	if a.BasicUser != "" && a.BasicPassword == "" {
		return errors.New("--http-basic-auth: an empty password")
	}
	return nil
}

// ParseBasicAuth parses --http-basic-auth's "user:password". The user
// cannot hold a colon (RFC 7617); the password may.
func ParseBasicAuth(s string) (user, password string, err error) {
	user, password, ok := strings.Cut(s, ":")
	if !ok || user == "" || password == "" {
		return "", "", errors.New("--http-basic-auth: want user:password, both non-empty")
	}
	return user, password, nil
}

// digest hashes a credential so that comparisons take the same time
// whatever its length.
func digest(s string) [sha256.Size]byte { return sha256.Sum256([]byte(s)) }

// authorized reports whether r carries a configured credential. Each
// comparison is constant-time and both basic-auth parts are always
// compared, so the time taken says nothing about how much matched.
func (a HTTPAuth) authorized(r *http.Request) bool {
	if a.Token != "" {
		if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "Bearer ") {
			got, want := digest(strings.TrimSpace(h[7:])), digest(a.Token)
			if subtle.ConstantTimeCompare(got[:], want[:]) == 1 {
				return true
			}
		}
	}
	if a.BasicUser != "" {
		if user, pass, ok := r.BasicAuth(); ok {
			gu, wu := digest(user), digest(a.BasicUser)
			gp, wp := digest(pass), digest(a.BasicPassword)
			if subtle.ConstantTimeCompare(gu[:], wu[:])&subtle.ConstantTimeCompare(gp[:], wp[:]) == 1 {
				return true
			}
		}
	}
	return false
}

// protect wraps h: requests without a credential get 401 with a
// WWW-Authenticate challenge per configured scheme, and are counted.
func (a HTTPAuth) protect(h http.Handler, refused prometheus.Counter) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.authorized(r) {
			h.ServeHTTP(w, r)
			return
		}
		refused.Inc()
		if a.Token != "" {
			w.Header().Add("WWW-Authenticate", `Bearer realm="courier"`)
		}
		if a.BasicUser != "" {
			w.Header().Add("WWW-Authenticate", `Basic realm="courier", charset="UTF-8"`)
		}
		http.Error(w, "401 unauthorized: this port needs a credential (--http-auth-token or --http-basic-auth)", http.StatusUnauthorized)
	})
}

// httpHandler builds the HTTP port's routes.
func httpHandler(reg *prometheus.Registry, cfg Config) (http.Handler, error) {
	refused := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "courier_http_unauthorized_total",
		Help: "HTTP port requests refused with 401 for lack of a valid credential.",
	})
	if err := reg.Register(refused); err != nil {
		return nil, fmt.Errorf("register HTTP metrics: %w", err)
	}
	private := http.NewServeMux()
	private.Handle("/metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	if cfg.PProf {
		// Profiles, for performance work on a running broker.
		// pprof.Cmdline is left out: the command line may hold
		// --http-basic-auth or --http-auth-token.
		private.HandleFunc("/debug/pprof/", pprof.Index)
		private.HandleFunc("/debug/pprof/profile", pprof.Profile)
		private.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
		private.HandleFunc("/debug/pprof/trace", pprof.Trace)
	}
	var h http.Handler = private
	if cfg.HTTPAuth.Enabled() {
		h = cfg.HTTPAuth.protect(private, refused)
	}
	mux := http.NewServeMux()
	// /healthz says only that the process serves HTTP, so it stays open
	// for probes that carry no credentials.
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.Handle("/", h)
	return mux, nil
}

// startHTTP listens on cfg.HTTPAddr and serves the HTTP port until the
// returned server is shut down (by Broker, its owner).
func startHTTP(cfg Config, reg *prometheus.Registry, logger *slog.Logger) (*http.Server, error) {
	if err := cfg.HTTPAuth.Validate(); err != nil {
		return nil, err
	}
	h, err := httpHandler(reg, cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (--http-addr): %w", cfg.HTTPAddr, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	addr := ln.Addr()
	logger.Info("metrics endpoint", "addr", "http://"+addr.String()+"/metrics", "pprof", cfg.PProf, "auth", cfg.HTTPAuth.Enabled())
	if !cfg.HTTPAuth.Enabled() && !isLoopback(addr) {
		exposed := "/metrics (every topic and partition name, whatever the ACLs hide)"
		if cfg.PProf {
			exposed += " and /debug/pprof (heap and CPU profiles of the broker's memory)"
		}
		logger.Warn("THE HTTP PORT IS OPEN TO THE NETWORK WITHOUT AUTHENTICATION: anyone who reaches it reads "+exposed+
			"; set --http-auth-token or --http-basic-auth, or listen on 127.0.0.1", "addr", addr.String())
	}
	if cfg.HTTPReady != nil {
		cfg.HTTPReady(addr)
	}
	return srv, nil
}

// isLoopback reports whether a listener's address accepts only local
// connections: a loopback IP, not the unspecified 0.0.0.0 or ::.
func isLoopback(addr net.Addr) bool {
	ta, ok := addr.(*net.TCPAddr)
	return ok && ta.IP.IsLoopback()
}
