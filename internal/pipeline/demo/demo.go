// Package demo runs the whole rider-location pipeline in one process, the
// way the seed describes it: an embedded Courier broker (or an external
// cluster), the rider-updates topic with one partition per region, the
// simulator posting through the HTTP gateway (which also keeps every
// rider's last known location in the compacted rider-latest topic), a
// consumer group of sinks writing batches into the database, a second
// consumer group feeding a live map (same topic, different group:
// publish/subscribe; it starts from rider-latest), and a web page showing
// riders, groups, partitions, lag, throughput and the size of both topics.
//
// Everything but the embedded broker talks to the cluster through the Kafka
// protocol (franz-go), so pointing the demo at Apache Kafka works the same.
package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/gateway"
	"github.com/courier-dev/courier/internal/pipeline/latest"
	"github.com/courier-dev/courier/internal/pipeline/publish"
	"github.com/courier-dev/courier/internal/pipeline/redact"
	"github.com/courier-dev/courier/internal/pipeline/region"
	"github.com/courier-dev/courier/internal/pipeline/ridersdb"
	"github.com/courier-dev/courier/internal/pipeline/simulate"
	"github.com/courier-dev/courier/internal/pipeline/sink"
	"github.com/courier-dev/courier/internal/tools/ctl"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Group names the demo's two consumer groups.
const (
	SinkGroup = "db-writer"
	MapGroup  = "live-map"
)

// Config is the demo's settings.
type Config struct {
	// DataDir is the embedded broker's data directory.
	DataDir string
	// BrokerAddr is the embedded broker's Kafka listener, so that other
	// clients (kcat, courier consume, ...) can watch the topic too.
	BrokerAddr string
	// Brokers, when set, is an external cluster used instead of the
	// embedded broker.
	Brokers []string
	// StartBroker starts the embedded broker (when Brokers is empty) with
	// its data in dataDir, listening on addr, and returns the address it
	// listens on and a function that stops it and waits. It is given by
	// the caller (cmd/courier wires internal/broker/run) because the
	// pipeline reaches a broker only through the Kafka protocol.
	StartBroker func(dataDir, addr string, logger *slog.Logger) (string, func() error, error)
	// DB is the sink's database DSN (ridersdb.Open).
	DB string
	// WebAddr serves the page, its API and the gateway's /v1 routes.
	WebAddr string
	// Topic is the rider updates topic.
	Topic string
	// LatestTopic is the compacted topic of every rider's last known
	// location (latest.DefaultTopic if empty): the gateway writes it, the
	// live map starts from it.
	LatestTopic string
	// City, Mode: where riders move and how updates are partitioned.
	City region.City
	Mode region.Mode
	// Riders and Rate drive the simulator (Rate in updates/s).
	Riders int
	Rate   float64
	// Sinks is how many sink members the db-writer group has.
	Sinks int
	// Logger receives component logs; Status receives the status line
	// (a terminal gets one line rewritten in place).
	Logger    *slog.Logger
	Status    io.Writer
	StatusTTY bool
	// Ready, when set, is called with the page's URL and the Kafka
	// address once everything runs.
	Ready func(webURL, kafkaAddr string)
	// ConsoleURL, when set, is Courier Console's address (served by
	// cmd/courier on the embedded broker): the page's header links to it.
	ConsoleURL string
}

func (c *Config) defaults() {
	if c.DataDir == "" {
		c.DataDir = "./data"
	}
	if c.BrokerAddr == "" {
		c.BrokerAddr = "127.0.0.1:9092"
	}
	if c.DB == "" {
		c.DB = "sqlite:riders.db"
	}
	if c.WebAddr == "" {
		c.WebAddr = "127.0.0.1:8080"
	}
	if c.Topic == "" {
		c.Topic = publish.DefaultTopic
	}
	if c.LatestTopic == "" {
		c.LatestTopic = latest.DefaultTopic
	}
	if c.City.Name == "" {
		c.City = region.Bengaluru
	}
	if c.Mode == "" {
		c.Mode = region.ByRegion
	}
	if c.Riders <= 0 {
		c.Riders = 500
	}
	if c.Rate <= 0 {
		c.Rate = 2000
	}
	if c.Sinks <= 0 {
		c.Sinks = 2
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Status == nil {
		c.Status = io.Discard
	}
}

// Run runs the demo until ctx ends, then stops every part in order: the
// simulator, the web server and gateway, the consumers, the database and
// last the broker, so that nothing acknowledged is lost.
//
// Before it creates anything (the database, the broker's data directory)
// it makes sure it can listen on every address it needs: a demo refused
// for a busy port leaves nothing behind (a *ListenError says which).
func Run(ctx context.Context, cfg Config) error {
	cfg.defaults()
	embedded := len(cfg.Brokers) == 0
	if embedded && cfg.StartBroker == nil {
		return errors.New("demo: no cluster (Brokers) and no embedded broker (StartBroker)")
	}
	if _, err := ridersdb.DialectOf(cfg.DB); err != nil {
		return err
	}
	web, err := listen(cfg.WebAddr, RoleWeb)
	if err != nil {
		return err
	}
	defer web.Close() // after a failure; the web server closes it otherwise
	if embedded {
		if err := probe(cfg.BrokerAddr, RoleKafka); err != nil {
			return err
		}
	}
	// The database before the broker: a wrong DSN, the likelier mistake,
	// then leaves no data directory behind. A riders.db of an earlier
	// version is migrated; its rows came from the demo's topic.
	db, err := ridersdb.Open(ctx, cfg.DB, ridersdb.WithLegacyTopic(cfg.Topic), ridersdb.WithLogger(cfg.Logger.With("component", "db")))
	if err != nil {
		return fmt.Errorf("open database %s: %w", redact.DSN(cfg.DB), err)
	}
	brokers := cfg.Brokers
	var stopBroker func() error
	if embedded {
		addr, stop, err := cfg.StartBroker(cfg.DataDir, cfg.BrokerAddr, cfg.Logger.With("component", "broker"))
		if err != nil {
			db.Close()
			return err
		}
		brokers, stopBroker = []string{addr}, stop
	}
	err = runPipeline(ctx, cfg, brokers, db, web)
	if cerr := db.Close(); cerr != nil {
		err = errors.Join(err, fmt.Errorf("close database: %w", cerr))
	}
	if stopBroker != nil {
		err = errors.Join(err, stopBroker())
	}
	return err
}

// components are the running parts, for the web page and status line.
type components struct {
	cfg     Config
	gateway *gateway.Gateway
	sinks   []*sink.Sink
	sim     *simulate.Stats
	livemap *liveMap
	db      ridersdb.DB
	admin   *ctl.Admin
	stats   *sampler
}

// runPipeline runs everything that is a Kafka client, writing to db and
// serving the page on ln.
func runPipeline(ctx context.Context, cfg Config, brokers []string, db ridersdb.DB, ln net.Listener) error {
	opts := []kgo.Opt{kgo.SeedBrokers(brokers...)}
	gw, err := gateway.New(ctx, gateway.Config{
		Publish: publish.Config{ClientOpts: append(opts, kgo.ClientID("gateway")), Topic: cfg.Topic, LatestTopic: cfg.LatestTopic,
			City: cfg.City, Mode: cfg.Mode, CreateTopic: true},
		Logger: cfg.Logger.With("component", "gateway"),
	})
	if err != nil {
		return err
	}
	defer gw.Close()
	admin, err := ctl.New(append(opts, kgo.ClientID("demo-admin"))...)
	if err != nil {
		return err
	}
	defer admin.Close()
	c := &components{cfg: cfg, gateway: gw, sim: new(simulate.Stats), db: db, admin: admin}
	for i := 1; i <= cfg.Sinks; i++ {
		s, err := sink.New(sink.Config{
			ClientOpts: append(opts, kgo.ClientID(fmt.Sprintf("db-writer-%d", i))),
			Topic:      cfg.Topic,
			Group:      SinkGroup,
			DB:         db,
			Logger:     cfg.Logger.With("component", "sink", "member", i),
		})
		if err != nil {
			return err
		}
		c.sinks = append(c.sinks, s)
	}
	if c.livemap, err = newLiveMap(append(opts, kgo.ClientID("live-map-1")), cfg.Topic, cfg.LatestTopic, cfg.City, cfg.Mode, cfg.Logger); err != nil {
		return err
	}
	defer c.livemap.Close()
	c.stats = newSampler(c)

	web := &http.Server{Handler: c.handler(), ReadHeaderTimeout: 5 * time.Second}
	// Live streams would hold Shutdown open until its timeout.
	web.RegisterOnShutdown(gw.CloseLive)
	go func() { _ = web.Serve(ln) }()
	webURL := "http://" + ln.Addr().String()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = web.Shutdown(sctx)
	}()

	return c.runWorkers(ctx, webURL, brokers[0])
}

// runWorkers starts the sinks, live map, sampler and simulator and waits
// for ctx or the first failure.
func (c *components) runWorkers(ctx context.Context, webURL, kafkaAddr string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		consumers sync.WaitGroup
		failOnce  sync.Once
		failure   error
	)
	fail := func(what string, err error) {
		if err != nil && ctx.Err() == nil {
			failOnce.Do(func() { failure = fmt.Errorf("%s: %w", what, err); cancel() })
		}
	}
	for i, s := range c.sinks {
		consumers.Add(1)
		go func() { defer consumers.Done(); fail(fmt.Sprintf("sink %d", i+1), s.Run(ctx)) }()
	}
	consumers.Add(2)
	go func() { defer consumers.Done(); fail("live map", c.livemap.Run(ctx)) }()
	go func() { defer consumers.Done(); c.stats.Run(ctx) }()

	simCtx, stopSim := context.WithCancel(ctx)
	simDone := make(chan struct{})
	go func() {
		defer close(simDone)
		err := simulate.Run(simCtx, simulate.Config{City: c.cfg.City, Riders: c.cfg.Riders, Rate: c.cfg.Rate, BatchSize: 100, Concurrency: 2},
			simulate.GatewayTarget(webURL, nil), c.sim)
		fail("simulator", err)
	}()
	if c.cfg.Ready != nil {
		c.cfg.Ready(webURL, kafkaAddr)
	}
	c.cfg.Logger.Info("demo running", "page", webURL, "kafka", kafkaAddr, "db", redact.DSN(c.cfg.DB))
	<-ctx.Done()
	// The simulator stops first so that nothing is mid-flight when the
	// consumers leave their groups.
	stopSim()
	<-simDone
	consumers.Wait()
	c.stats.finish()
	return failure
}
