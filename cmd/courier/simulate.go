package main

// simulate.go wires `courier simulate` to package simulate: riders moving
// along a city's streets, reporting to the broker, the gateway or straight
// to the database.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/publish"
	"github.com/courier-dev/courier/internal/pipeline/redact"
	"github.com/courier-dev/courier/internal/pipeline/region"
	"github.com/courier-dev/courier/internal/pipeline/ridersdb"
	"github.com/courier-dev/courier/internal/pipeline/simulate"
	"github.com/courier-dev/courier/internal/tools/bench"
	"github.com/spf13/cobra"
)

// newSimulateCommand returns `courier simulate`.
func newSimulateCommand() *cobra.Command {
	var (
		cf              clientFlags
		cfg             simulate.Config
		rate            = rateValue(50000)
		gatewayURL, dsn string
		topic           string
		city            cityFlags
		logs            logFlags
		createTopic     bool
		progress        bool
	)
	cmd := &cobra.Command{
		Use:   "simulate",
		Short: "Simulate riders moving through a city and reporting their locations",
		Long: `Simulate --riders riders moving along the streets of a city (a synthetic
street grid with arterials and a ring road inside --city-bbox) at 5-12 m/s,
reporting their positions at --rate updates per second in total, round-robin,
so each rider reports about every riders/rate seconds.

The updates go to one of:
  the broker (default)  published to --topic, partitioned by region or rider
  --gateway URL         POSTed to URL/v1/locations in batches (NDJSON)
  --direct DSN          each update its own INSERT and transaction in the
                        database, no broker: the design that overwhelms it

When the target cannot keep up, the achieved rate is lower than --rate: no
update is dropped. The run ends after --duration or --count, or on Ctrl-C,
and prints "sent N updates in D (R updates/s achieved, target T/s), F failed".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var (
				pm  region.Mode
				err error
			)
			if cfg.Logger, err = logs.logger(cmd.ErrOrStderr()); err != nil {
				return err
			}
			cfg.Rate = float64(rate)
			if cfg.City, pm, err = city.parse(); err != nil {
				return err
			}
			if gatewayURL != "" && dsn != "" {
				return errors.New("--gateway and --direct exclude each other: send through the gateway, straight to the database, or (neither) to the broker")
			}
			ctx := cmd.Context()
			var target simulate.Target
			switch {
			case gatewayURL != "":
				if err := checkGatewayURL(gatewayURL); err != nil {
					return err
				}
				// Started together with the gateway (a script, the
				// README), the simulator waits for it rather than count
				// its start as failed updates.
				err := simulate.WaitForGateway(ctx, gatewayURL, gatewayWait, func(err error) {
					cfg.Logger.Warn("gateway not ready; waiting for it", "url", redact.DSN(gatewayURL), "within", gatewayWait, "err", err)
				})
				if err != nil {
					return err
				}
				target = simulate.GatewayTarget(gatewayURL, nil)
			case dsn != "":
				db, err := ridersdb.Open(ctx, dsn, ridersdb.WithLegacyTopic(topic), ridersdb.WithLogger(cfg.Logger))
				if err != nil {
					return fmt.Errorf("--direct %s: %w", redact.DSN(dsn), err)
				}
				defer db.Close()
				target = simulate.DirectTarget(db)
			default:
				pub, err := publish.New(ctx, publish.Config{
					ClientOpts: cf.opts(), Topic: topic, City: cfg.City, Mode: pm, CreateTopic: createTopic,
					OnUnreachable: waitingForCluster(cfg.Logger, cf.brokers),
				})
				if err != nil {
					return err
				}
				defer pub.Close()
				target = pub
			}
			var w io.Writer
			if progress {
				w = cmd.ErrOrStderr()
			}
			return runSimulation(ctx, cmd.OutOrStdout(), w, cfg, target)
		},
	}
	cf.register(cmd)
	f := cmd.Flags()
	f.IntVar(&cfg.Riders, "riders", 10000, "number of riders")
	f.Var(&rate, "rate", `target updates per second, all riders together ("50000", "50000/s", "50k/s")`)
	f.DurationVar(&cfg.Duration, "duration", 0, "how long to run (0: until Ctrl-C or --count)")
	f.Int64Var(&cfg.Count, "count", 0, "stop after this many updates (0: no limit)")
	f.StringVar(&gatewayURL, "gateway", "", "send through the gateway at this base URL (e.g. http://127.0.0.1:8081) instead of to the broker")
	f.StringVar(&dsn, "direct", "", "write each update as its own INSERT in this database (sqlite:PATH or postgres://...), no broker")
	f.StringVar(&topic, "topic", publish.DefaultTopic, "topic to publish to (broker mode)")
	city.register(cmd)
	f.BoolVar(&createTopic, "create-topic", true, "create the topic if it does not exist (broker mode; one partition per region)")
	f.IntVar(&cfg.BatchSize, "batch-size", simulate.DefaultBatchSize, "updates per publish or gateway request (--direct: always 1)")
	f.IntVar(&cfg.Concurrency, "concurrency", simulate.DefaultConcurrency, "publishes, requests or inserts in flight at once")
	f.Int64Var(&cfg.Seed, "seed", 1, "random seed: the same seed gives the same riders and moves")
	fi, err := os.Stderr.Stat()
	stderrIsTerminal := err == nil && fi.Mode()&os.ModeCharDevice != 0
	f.BoolVar(&progress, "progress", stderrIsTerminal, "draw a progress bar on standard error (default: if it is a terminal)")
	logs.register(cmd, "info")
	return cmd
}

// gatewayWait bounds how long the simulator waits for its gateway.
const gatewayWait = 30 * time.Second

// checkGatewayURL refuses a --gateway that is not an http(s) base URL
// before anything runs, without showing a password it may hold.
func checkGatewayURL(s string) error {
	u, err := url.Parse(s)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		return nil
	}
	return fmt.Errorf("--gateway %s: want the gateway's base URL, e.g. http://127.0.0.1:8081", redact.DSN(s))
}

// runSimulation runs cfg against target, draws progress on bar (nil: none)
// and prints the summary line on out.
func runSimulation(ctx context.Context, out, bar io.Writer, cfg simulate.Config, target simulate.Target) error {
	var stats simulate.Stats
	start := time.Now()
	stop := drawProgress(bar, cfg.Count, &stats.Sent)
	err := simulate.Run(ctx, cfg, target, &stats)
	stop()
	took := time.Since(start)
	sent := stats.Sent.Load()
	fmt.Fprintf(out, "sent %d updates in %s (%.0f updates/s achieved, target %s/s), %d failed\n",
		sent, took.Round(time.Millisecond), float64(sent)/took.Seconds(),
		strconv.FormatFloat(cfg.Rate, 'f', -1, 64), stats.Failed.Load())
	return err
}

// drawProgress draws a bar of sent (towards count, or open-ended if count is
// 0) on w until the returned stop is called. A nil w draws nothing.
func drawProgress(w io.Writer, count int64, sent *atomic.Int64) (stop func()) {
	return bench.Progress(w, "sent", "upd", count, sent)
}

// rateValue is a --rate flag: updates per second, written "50000",
// "50000/s", "50k/s" or "1.5m".
type rateValue float64

// String implements pflag.Value.
func (r *rateValue) String() string {
	return strconv.FormatFloat(float64(*r), 'f', -1, 64) + "/s"
}

// Set implements pflag.Value.
func (r *rateValue) Set(s string) error {
	v, err := parseRate(s)
	if err != nil {
		return err
	}
	*r = rateValue(v)
	return nil
}

// Type implements pflag.Value.
func (r *rateValue) Type() string { return "rate" }

// parseRate parses a rate: a positive number with an optional k (10^3) or
// m (10^6) multiplier and an optional "/s".
func parseRate(s string) (float64, error) {
	t := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), "/s")
	mult := 1.0
	switch {
	case strings.HasSuffix(t, "k"):
		mult, t = 1e3, strings.TrimSuffix(t, "k")
	case strings.HasSuffix(t, "m"):
		mult, t = 1e6, strings.TrimSuffix(t, "m")
	}
	v, err := strconv.ParseFloat(t, 64)
	if err != nil || !(v > 0) || v*mult > 1e9 {
		return 0, fmt.Errorf("rate %q: want a positive number of updates per second, e.g. 50000, 50000/s or 50k/s", s)
	}
	return v * mult, nil
}
