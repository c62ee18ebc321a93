package main

// demo.go wires `courier demo` to package demo: the whole rider pipeline in
// one process, with a web page.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/courier-dev/courier/internal/broker"
	"github.com/courier-dev/courier/internal/broker/run"
	"github.com/courier-dev/courier/internal/broker/storage"
	"github.com/courier-dev/courier/internal/pipeline/demo"
	"github.com/courier-dev/courier/internal/pipeline/latest"
	"github.com/courier-dev/courier/internal/pipeline/redact"
	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// newDemoCommand returns `courier demo`.
func newDemoCommand() *cobra.Command {
	var (
		cfg     demo.Config
		brokers string
		city    cityFlags
		logs    logFlags
		rate    = rateValue(2000)
		console = consoleFlags{addrFlag: "--console-addr", lagInterval: time.Minute}
	)
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run the rider-location pipeline with a live web page",
		Long: "Run the whole rider-location pipeline in one process: an embedded broker\n" +
			"(data in --data), the rider-updates topic with one partition per region,\n" +
			"simulated riders posting through the HTTP gateway, the db-writer consumer\n" +
			"group writing batches into --db, a live-map consumer group (starting from\n" +
			"the compacted rider-latest topic of last known locations), and a web page\n" +
			"at --addr. Ctrl-C (or SIGTERM) stops everything cleanly, the sinks' last\n" +
			"batches written and committed; running it again resumes.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if cfg.Logger, err = logs.logger(cmd.ErrOrStderr()); err != nil {
				return err
			}
			if brokers != "" {
				cfg.Brokers = strings.Split(brokers, ",")
			}
			cfg.Rate = float64(rate)
			if cfg.City, cfg.Mode, err = city.parse(); err != nil {
				return err
			}
			cfg.Status = cmd.ErrOrStderr()
			cfg.StatusTTY = cmd.ErrOrStderr() == os.Stderr && term.IsTerminal(int(os.Stderr.Fd()))
			cfg.Ready = func(webURL, kafkaAddr string) {
				console := ""
				if cfg.ConsoleURL != "" {
					console = ", Courier Console on " + cfg.ConsoleURL
				}
				fmt.Fprintf(cmd.ErrOrStderr(), "courier demo: open %s  (Kafka on %s%s, database %s; Ctrl-C to stop)\n", webURL, kafkaAddr, console, redact.DSN(cfg.DB))
			}
			embed, closeConsole, err := demoConsole(&console, &cfg, brokers != "")
			if err != nil {
				return err
			}
			defer closeConsole()
			cfg.StartBroker = func(dataDir, addr string, logger *slog.Logger) (string, func() error, error) {
				return startDemoBroker(dataDir, addr, logger, embed)
			}
			return demoError(demo.Run(cmd.Context(), cfg))
		},
	}
	f := cmd.Flags()
	f.StringVar(&cfg.WebAddr, "addr", "127.0.0.1:8080", "address of the web page (and of the gateway's /v1 routes)")
	f.StringVar(&cfg.DataDir, "data", "./data", "embedded broker's data directory")
	f.StringVar(&cfg.BrokerAddr, "kafka-addr", "127.0.0.1:9092", "embedded broker's Kafka listener (kcat, courier consume ... can connect to it)")
	f.StringVar(&brokers, "brokers", "", "use this Kafka cluster (comma-separated seed brokers) instead of the embedded broker")
	f.StringVar(&cfg.DB, "db", "sqlite:riders.db", "database DSN: sqlite:PATH or postgres://...")
	f.StringVar(&cfg.Topic, "topic", "rider-updates", "topic of rider updates")
	f.StringVar(&cfg.LatestTopic, "latest-topic", latest.DefaultTopic, "compacted topic of every rider's last known location (the live map starts from it)")
	f.IntVar(&cfg.Riders, "riders", 500, "simulated riders")
	f.Var(&rate, "rate", "simulated updates per second, in total (e.g. 2000, 2000/s, 2k/s)")
	f.IntVar(&cfg.Sinks, "sinks", 2, "members of the db-writer consumer group (each a sink)")
	f.StringVar(&console.addr, "console-addr", defaultConsoleAddr, "address of Courier Console on the embedded broker, linked from the page (empty disables it; not served with --brokers)")
	city.register(cmd)
	logs.register(cmd, "warn")
	return cmd
}

// demoAddrFlags name the flag of each address the demo listens on.
var demoAddrFlags = map[string]string{demo.RoleWeb: "--addr", demo.RoleKafka: "--kafka-addr"}

// demoError adds to an address the demo could not listen on the flag that
// changes it.
func demoError(err error) error {
	var le *demo.ListenError
	if !errors.As(err, &le) {
		return err
	}
	if le.Busy() {
		return fmt.Errorf("%w: stop what listens there, or choose another address with %s", err, demoAddrFlags[le.Role])
	}
	return fmt.Errorf("%w: choose another address with %s", err, demoAddrFlags[le.Role])
}

// demoConsole prepares the console of the demo's embedded broker: it
// listens on --console-addr at once (so a busy port stops the demo before
// anything is created), sets the page's link, and returns the broker's
// Embed and a function that closes the listener if the broker never served
// it. With an external cluster, or an empty --console-addr, there is none.
func demoConsole(c *consoleFlags, cfg *demo.Config, external bool) (func(context.Context, run.InProcess) error, func(), error) {
	if c.addr == "" || external {
		return nil, func() {}, nil
	}
	wc, err := c.config(false, cfg.Logger.With("component", "console"))
	if err != nil {
		return nil, nil, err
	}
	wc.DataDir = filepath.Join(cfg.DataDir, "console")
	ln, err := c.listen(wc)
	if err != nil {
		return nil, nil, err
	}
	cfg.ConsoleURL = consoleURL(ln, wc)
	return embeddedConsole(ln, wc, nil), func() { ln.Close() }, nil
}

// startDemoBroker starts the demo's embedded broker: interval fsync (the
// demo favours throughput), auto-created topics, a short initial rebalance
// delay so the page shows groups quickly; embed, when set, serves the
// console.
func startDemoBroker(dataDir, addr string, logger *slog.Logger, embed func(context.Context, run.InProcess) error) (string, func() error, error) {
	return run.Start(run.Config{
		Embed:           embed,
		Addr:            addr,
		MaxRequestBytes: 100 << 20,
		Broker: broker.Config{
			DataDir:                    dataDir,
			NodeID:                     1,
			Sync:                       storage.SyncInterval,
			SyncInterval:               time.Second,
			RetentionCheckInterval:     30 * time.Second,
			AutoCreateTopics:           true,
			DefaultPartitions:          1,
			GroupInitialRebalanceDelay: 500 * time.Millisecond,
			OffsetsRetention:           7 * 24 * time.Hour,
			Logger:                     logger,
		},
	})
}
