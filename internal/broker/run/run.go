// Package run assembles a running broker process: the broker's state, the
// Kafka listeners (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL) served by one
// network server, the HTTP port (http.go: metrics, optional pprof and
// authentication), and an orderly shutdown when the context ends. Tests
// use it to start the same broker the binary runs.
package run

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/courier-dev/courier/internal/broker"
	"github.com/courier-dev/courier/internal/broker/quota"
	"github.com/courier-dev/courier/internal/broker/server"
)

// Config is a broker process's settings.
type Config struct {
	Broker broker.Config
	// Listeners are the Kafka listeners; when empty, one PLAINTEXT
	// listener on Addr.
	Listeners []Listener
	// Addr is the PLAINTEXT listener's address when Listeners is empty.
	Addr string
	// AdvertisedAddr overrides the address given to clients of every
	// listener without an entry in AdvertisedListeners.
	AdvertisedAddr string
	// AdvertisedListeners maps listener names to the "host:port" given to
	// their clients (default: the address the client reached).
	AdvertisedListeners map[string]string
	// HTTPAddr serves /metrics, /healthz and, with PProf, /debug/pprof
	// (http.go); empty disables it.
	HTTPAddr string
	// HTTPAuth, when set, protects the HTTP port (all but /healthz).
	HTTPAuth HTTPAuth
	// PProf serves /debug/pprof on the HTTP port.
	PProf bool
	// HTTPReady, when set, receives the HTTP port's address once serving.
	HTTPReady func(addr net.Addr)
	// MaxRequestBytes bounds a request frame.
	MaxRequestBytes int32
	// TLS holds the certificates of SSL and SASL_SSL listeners.
	TLS TLSConfig
	// SASLMechanisms are the mechanisms SASL listeners offer (nil: PLAIN,
	// SCRAM-SHA-256, SCRAM-SHA-512).
	SASLMechanisms []string
	// SASLReauthInterval is KIP-368's connections.max.reauth.ms (0: off).
	SASLReauthInterval time.Duration
	// Limits bound connections and their cost; zero fields take
	// package server's defaults.
	Limits Limits
	// Quota sets produce and fetch byte-rate quotas (zero: none).
	Quota quota.Config
	// Ready, when set, receives the first listener's address once serving.
	Ready func(addr net.Addr)
	// ReadyListeners, when set, receives every listener's address by
	// name once serving.
	ReadyListeners func(map[string]net.Addr)
	// Embed, when set, runs inside the broker's process once the broker
	// serves (Courier Console, wired by cmd/courier): it gets in-process
	// connections to the broker (InProcess, inprocess.go) and a context
	// that ends when the broker begins to shut down, and the broker waits
	// for it to return (within ShutdownGrace) before it stops serving. An
	// error it returns stops the broker. Setting it adds ServicePrincipal
	// to the super users.
	Embed func(ctx context.Context, ip InProcess) error
}

// Limits are the network layer's limits (see server.Config for each).
type Limits struct {
	MaxConnections      int
	MaxConnectionsPerIP int
	IdleTimeout         time.Duration
	RequestReadTimeout  time.Duration
	AuthTimeout         time.Duration
	MaxInflightBytes    int64

	// WriteTimeout, MaxQueuedRequestBytes and SASLMaxReceiveBytes bound
	// the memory clients can make the broker hold (see server.Config).
	WriteTimeout          time.Duration
	MaxQueuedRequestBytes int64
	SASLMaxReceiveBytes   int32
}

// ShutdownGrace bounds how long in-flight requests may take at shutdown.
const ShutdownGrace = 10 * time.Second

// Broker runs a broker until ctx ends, then shuts it down cleanly:
// in-flight requests are answered, logs are synced and closed.
func Broker(ctx context.Context, cfg Config) error {
	listeners := cfg.Listeners
	if len(listeners) == 0 {
		listeners = []Listener{{Name: server.Plaintext, Addr: cfg.Addr}}
	}
	if err := ValidateListeners(listeners); err != nil {
		return err
	}
	if cfg.HTTPAddr == "" && (cfg.PProf || cfg.HTTPAuth.Enabled()) {
		return errors.New("--pprof, --http-auth-token and --http-basic-auth need an HTTP port (--http-addr)")
	}
	if err := advertise(&cfg, listeners); err != nil {
		return err
	}
	lcfgs, err := listenerConfigs(listeners, cfg.TLS)
	if err != nil {
		return err
	}
	if cfg.Embed != nil {
		cfg.Broker.SuperUsers = append(cfg.Broker.SuperUsers[:len(cfg.Broker.SuperUsers):len(cfg.Broker.SuperUsers)], ServicePrincipal.String())
	}
	b, err := broker.Open(cfg.Broker)
	if err != nil {
		return err
	}
	// The network layer's logger is a broker component's: its level is
	// listed and set with the others (BROKER_LOGGER).
	logger := b.Logger(broker.LoggerServer)
	scfg := server.Config{
		MaxRequestBytes:     cfg.MaxRequestBytes,
		MaxInflightBytes:    cfg.Limits.MaxInflightBytes,
		MaxConnections:      cfg.Limits.MaxConnections,
		MaxConnectionsPerIP: cfg.Limits.MaxConnectionsPerIP,
		IdleTimeout:         cfg.Limits.IdleTimeout,
		RequestReadTimeout:  cfg.Limits.RequestReadTimeout,
		AuthTimeout:         cfg.Limits.AuthTimeout,
		ReauthInterval:      cfg.SASLReauthInterval,
		Quotas:              quota.New(cfg.Quota),
		Logger:              logger,
		Observer:            b.Metrics(),

		WriteTimeout:          cfg.Limits.WriteTimeout,
		MaxQueuedRequestBytes: cfg.Limits.MaxQueuedRequestBytes,
		SASLMaxReceiveBytes:   cfg.Limits.SASLMaxReceiveBytes,
	}
	if anySASL(lcfgs) {
		if scfg.SASL, err = saslServer(b, cfg.SASLMechanisms); err != nil {
			b.Close()
			return err
		}
	}
	lns := make([]net.Listener, 0, len(listeners))
	closeAll := func() {
		for _, ln := range lns {
			ln.Close()
		}
	}
	for _, l := range listeners {
		ln, err := net.Listen("tcp", l.Addr)
		if err != nil {
			closeAll()
			b.Close()
			return fmt.Errorf("listen on %s (%s): %w", l.Addr, l.Name, err)
		}
		lns = append(lns, ln)
	}
	srv := server.New(scfg, b)
	b.Metrics().ObserveServer(srv)
	var httpSrv *http.Server
	if cfg.HTTPAddr != "" {
		if httpSrv, err = startHTTP(cfg, b.Registry(), logger); err != nil {
			closeAll()
			b.Close()
			return err
		}
	}
	serveErr := make(chan error, len(lns)+2)
	addrs := make(map[string]net.Addr, len(lns))
	for i, ln := range lns {
		go func() { serveErr <- srv.ServeListener(ln, lcfgs[i]) }()
		addrs[listeners[i].Name] = ln.Addr()
		logger.Info("broker listening", "listener", listeners[i].Name, "addr", ln.Addr().String(), "tls", clientAuthOf(lcfgs[i]))
	}
	logger.Info("broker started", "data", cfg.Broker.DataDir, "cluster", b.ClusterID())
	if cfg.Ready != nil {
		cfg.Ready(lns[0].Addr())
	}
	if cfg.ReadyListeners != nil {
		cfg.ReadyListeners(addrs)
	}
	names, bound := make([]string, len(lns)), make([]net.Addr, len(lns))
	for i, ln := range lns {
		names[i], bound[i] = listeners[i].Name, ln.Addr()
	}
	embed := startEmbed(cfg, srv, scfg, b.Registry(), names, bound, serveErr)
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-serveErr:
	case runErr = <-embed.done:
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	if err := embed.stop(sctx); err != nil && runErr == nil {
		runErr = err
	}
	_ = srv.Shutdown(sctx)
	closeAll()
	if httpSrv != nil {
		_ = httpSrv.Shutdown(sctx)
	}
	if err := b.Close(); err != nil {
		runErr = errors.Join(runErr, err)
	}
	if errors.Is(runErr, server.ErrServerClosed) {
		runErr = nil
	}
	logger.Info("stopped")
	return runErr
}

// advertise fills the broker's advertised addresses from AdvertisedAddr
// and AdvertisedListeners.
func advertise(cfg *Config, listeners []Listener) error {
	if cfg.AdvertisedAddr != "" {
		host, port, err := broker.SplitHostPort(cfg.AdvertisedAddr)
		if err != nil {
			return fmt.Errorf("--advertised-addr: %w", err)
		}
		cfg.Broker.AdvertisedHost, cfg.Broker.AdvertisedPort = host, port
	}
	if len(cfg.AdvertisedListeners) == 0 {
		return nil
	}
	adv := make(map[string]broker.HostPort, len(cfg.AdvertisedListeners))
	for name, addr := range cfg.AdvertisedListeners {
		if !hasListener(listeners, name) {
			return fmt.Errorf("--advertised-listener %s://%s: no %s listener", name, addr, name)
		}
		host, port, err := broker.SplitHostPort(addr)
		if err != nil {
			return fmt.Errorf("--advertised-listener %s: %w", name, err)
		}
		adv[name] = broker.HostPort{Host: host, Port: port}
	}
	cfg.Broker.AdvertisedListeners = adv
	return nil
}
