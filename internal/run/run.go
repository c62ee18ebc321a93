// Package run assembles a running broker process: the broker's state, the
// Kafka listener, the HTTP metrics endpoint, and an orderly shutdown when
// the context ends. Tests use it to start the same broker the binary runs.
package run

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/courier-dev/courier/internal/broker"
	"github.com/courier-dev/courier/internal/server"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Config is a broker process's settings.
type Config struct {
	Broker broker.Config
	// Addr is the Kafka listener's address.
	Addr string
	// AdvertisedAddr overrides the address given to clients.
	AdvertisedAddr string
	// HTTPAddr serves /metrics and /debug/pprof; empty disables it.
	HTTPAddr string
	// MaxRequestBytes bounds a request frame.
	MaxRequestBytes int32
	// Ready, when set, receives the Kafka listener's address once serving.
	Ready func(addr net.Addr)
}

// ShutdownGrace bounds how long in-flight requests may take at shutdown.
const ShutdownGrace = 10 * time.Second

// Broker runs a broker until ctx ends, then shuts it down cleanly:
// in-flight requests are answered, logs are synced and closed.
func Broker(ctx context.Context, cfg Config) error {
	if cfg.AdvertisedAddr != "" {
		host, port, err := broker.SplitHostPort(cfg.AdvertisedAddr)
		if err != nil {
			return fmt.Errorf("--advertised-addr: %w", err)
		}
		cfg.Broker.AdvertisedHost, cfg.Broker.AdvertisedPort = host, port
	}
	b, err := broker.Open(cfg.Broker)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		b.Close()
		return fmt.Errorf("listen on %s: %w", cfg.Addr, err)
	}
	logger := cfg.Broker.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	srv := server.New(server.Config{MaxRequestBytes: cfg.MaxRequestBytes, Logger: logger, Observer: b.Metrics()}, b)
	var httpSrv *http.Server
	if cfg.HTTPAddr != "" {
		hln, err := net.Listen("tcp", cfg.HTTPAddr)
		if err != nil {
			ln.Close()
			b.Close()
			return fmt.Errorf("listen on %s (--http-addr): %w", cfg.HTTPAddr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(b.Registry(), promhttp.HandlerOpts{}))
		// Profiles, for performance work on a running broker.
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		httpSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = httpSrv.Serve(hln) }()
		if logger != nil {
			logger.Info("metrics endpoint", "addr", "http://"+hln.Addr().String()+"/metrics")
		}
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	logger.Info("broker listening", "addr", ln.Addr().String(), "data", cfg.Broker.DataDir, "cluster", b.ClusterID())
	if cfg.Ready != nil {
		cfg.Ready(ln.Addr())
	}
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-serveErr:
	}
	logger.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), ShutdownGrace)
	defer cancel()
	_ = srv.Shutdown(sctx)
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
