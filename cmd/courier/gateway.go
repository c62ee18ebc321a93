package main

// gateway.go wires `courier gateway` flags to package gateway: the HTTP
// entry point that rider apps send their locations to.

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/gateway"
	"github.com/courier-dev/courier/internal/pipeline/latest"
	"github.com/courier-dev/courier/internal/pipeline/publish"
	"github.com/courier-dev/courier/internal/pipeline/rider"
	"github.com/spf13/cobra"
)

// newGatewayCommand returns `courier gateway`.
func newGatewayCommand() *cobra.Command {
	var (
		cf              clientFlags
		cfg             gateway.Config
		city            cityFlags
		logs            logFlags
		addr            string
		shutdownTimeout time.Duration
	)
	cfg.Limits = rider.DefaultLimits
	cmd := &cobra.Command{
		Use:   "gateway",
		Short: "Serve the HTTP API that rider apps send locations to",
		Long: `Serve the HTTP API that rider apps send locations to, publishing every
update to the topic (acks=all), and each rider's newest to the compacted
--latest-topic, before answering 202:

  POST /v1/locations             JSON array or NDJSON of {rider_id, lat, lon, ts}
  PUT  /v1/riders/{id}/location  one {lat, lon, ts}
  GET  /v1/riders/{id}/location  the rider's last known location (404 if none)
  GET  /v1/riders/{id}/live      the rider's updates as Server-Sent Events
  GET  /v1/healthz               200 "ok" while the cluster answers, else 503

Last known locations are held in memory (at most --max-riders), read from
--latest-topic at start and followed; a location is there before its write
is answered 202.

Writes must say Content-Type: application/json (an object, or for POST an
array of objects) or application/x-ndjson (one object per line); anything
else, a missing type included, is answered 415. ts is RFC 3339 or Unix
milliseconds; a missing ts means now. A bad update is answered 400 naming
the field, and nothing of its request is published.

A cluster that cannot be reached at start (a broker started a moment
later) is waited for, with a warning every few seconds.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if cfg.Logger, err = logs.logger(cmd.ErrOrStderr()); err != nil {
				return err
			}
			if cfg.Publish.City, cfg.Publish.Mode, err = city.parse(); err != nil {
				return err
			}
			cfg.Publish.ClientOpts = cf.opts()
			// Started together with the broker (a script, the README),
			// the gateway waits for it.
			cfg.Publish.OnUnreachable = waitingForCluster(cfg.Logger, cf.brokers)
			return runGateway(cmd.Context(), addr, cfg, shutdownTimeout)
		},
	}
	cf.register(cmd)
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:8081", "HTTP address to listen on")
	f.StringVar(&cfg.Publish.Topic, "topic", publish.DefaultTopic, "topic the updates are published to")
	city.register(cmd)
	f.StringVar(&cfg.Publish.LatestTopic, "latest-topic", latest.DefaultTopic, "compacted topic of every rider's last known location")
	f.BoolVar(&cfg.Publish.CreateTopic, "create-topic", true, "create the topics if they do not exist (one partition per region; the latest topic compacted)")
	f.IntVar(&cfg.MaxRiders, "max-riders", gateway.DefaultMaxRiders, "most riders whose last known location is held in memory (about 100 bytes each)")
	f.Int64Var(&cfg.MaxBodyBytes, "max-body-bytes", gateway.DefaultMaxBodyBytes, "largest request body; larger is answered 413")
	f.IntVar(&cfg.MaxBatch, "max-batch", gateway.DefaultMaxBatch, "most updates in one POST; more is answered 400")
	f.DurationVar(&cfg.Limits.MaxFuture, "max-future", rider.DefaultLimits.MaxFuture, "how far ahead of this clock a ts may be (negative: no limit)")
	f.DurationVar(&cfg.Limits.MaxAge, "max-age", rider.DefaultLimits.MaxAge, "how old a ts may be (negative: no limit)")
	f.DurationVar(&cfg.PublishTimeout, "publish-timeout", gateway.DefaultPublishTimeout, "how long a request waits for the cluster's acknowledgement before it is answered 503")
	f.DurationVar(&shutdownTimeout, "shutdown-timeout", 10*time.Second, "how long Ctrl-C waits for requests in flight")
	logs.register(cmd, "info")
	return cmd
}

// gatewayListening, if set (by tests), is told the listener's address.
var gatewayListening func(net.Addr)

// runGateway serves until ctx is cancelled, then shuts down: live streams
// end, requests in flight are answered (up to shutdownTimeout), and the
// clients are closed.
func runGateway(ctx context.Context, addr string, cfg gateway.Config, shutdownTimeout time.Duration) error {
	g, err := gateway.New(ctx, cfg)
	if err != nil {
		if ctx.Err() != nil {
			cfg.Logger.Info("gateway stopped while waiting for the cluster")
			return nil
		}
		return err
	}
	defer g.Close()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           g.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       time.Minute, // no WriteTimeout: live streams last
		IdleTimeout:       2 * time.Minute,
	}
	srv.RegisterOnShutdown(g.CloseLive)
	if gatewayListening != nil {
		gatewayListening(ln.Addr())
	}
	cfg.Logger.Info("gateway listening", "addr", ln.Addr().String(), "topic", cfg.Publish.Topic, "latest_topic", cfg.Publish.LatestTopic, "partition_by", cfg.Publish.Mode)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	cfg.Logger.Info("gateway shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err = srv.Shutdown(sctx)
	if serr := <-errc; !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	g.Close()
	st := g.Stats()
	cfg.Logger.Info("gateway stopped", "requests", st.Requests, "accepted", st.Accepted, "rejected", st.Rejected)
	return err
}
