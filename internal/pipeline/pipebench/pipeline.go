package pipebench

// pipeline.go measures the pipeline: simulated riders publish to a fresh
// topic at a target rate while a sink (one member of a fresh group) writes
// batches into the database; the run ends when every published update is
// in the database.

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/publish"
	"github.com/courier-dev/courier/internal/pipeline/region"
	"github.com/courier-dev/courier/internal/pipeline/ridersdb"
	"github.com/courier-dev/courier/internal/pipeline/simulate"
	"github.com/courier-dev/courier/internal/pipeline/sink"
	"github.com/twmb/franz-go/pkg/kgo"
)

// PipelineConfig is one pipeline run.
type PipelineConfig struct {
	// ClientOpts reach the cluster.
	ClientOpts []kgo.Opt
	// DSN is the database.
	DSN string
	// Riders, Rate (updates/s) and Duration drive the simulator.
	Riders   int
	Rate     float64
	Duration time.Duration
	// BatchRows and BatchDelay are the sink's batching (0: its defaults).
	BatchRows  int
	BatchDelay time.Duration
	// DrainTimeout bounds the wait for the last rows after publishing ends.
	DrainTimeout time.Duration
	// Log receives progress lines; nil discards them.
	Log io.Writer
}

// PipelineResult is what a pipeline run measured.
type PipelineResult struct {
	DB          string  `json:"db"`
	TargetRate  float64 `json:"target_rate"`
	Published   int64   `json:"published"`
	PublishSecs float64 `json:"publish_seconds"`
	PublishRate float64 `json:"publish_rate"`
	Written     int64   `json:"written"`
	// TotalSecs runs from the first publish to the last row's commit.
	TotalSecs float64 `json:"total_seconds"`
	// WrittenRate is Written / TotalSecs: what the database absorbed,
	// including the drain after publishing ended.
	WrittenRate  float64 `json:"written_rate"`
	DrainSecs    float64 `json:"drain_seconds"`
	Transactions int64   `json:"transactions"`
	DelayP50Ms   float64 `json:"delay_p50_ms"`
	DelayP99Ms   float64 `json:"delay_p99_ms"`
	DelayMaxMs   float64 `json:"delay_max_ms"`
}

// Pipeline runs one measurement on a fresh topic and group.
func Pipeline(ctx context.Context, cfg PipelineConfig) (PipelineResult, error) {
	res := PipelineResult{DB: Dialect(cfg.DSN), TargetRate: cfg.Rate}
	logf := func(format string, args ...any) {
		if cfg.Log != nil {
			fmt.Fprintf(cfg.Log, "pipebench: "+format+"\n", args...)
		}
	}
	if cfg.DrainTimeout == 0 {
		cfg.DrainTimeout = 2 * time.Minute
	}
	db, err := ridersdb.Open(ctx, cfg.DSN)
	if err != nil {
		return res, fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	name := fmt.Sprintf("pipebench-%d", time.Now().UnixNano())
	pub, err := publish.New(ctx, publish.Config{ClientOpts: cfg.ClientOpts, Topic: name, City: region.Bengaluru, Mode: region.ByRegion, CreateTopic: true})
	if err != nil {
		return res, err
	}
	defer pub.Close()

	hist := new(delayHistogram)
	sk, err := sink.New(sink.Config{ClientOpts: cfg.ClientOpts, Topic: name, Group: name, DB: db,
		BatchRows: cfg.BatchRows, BatchDelay: cfg.BatchDelay, ObserveDelay: hist.observe})
	if err != nil {
		return res, err
	}
	sinkCtx, stopSink := context.WithCancel(ctx)
	sinkDone := make(chan error, 1)
	go func() { sinkDone <- sk.Run(sinkCtx) }()
	defer func() { stopSink(); <-sinkDone }()
	if err := waitFor(ctx, 60*time.Second, func() bool { return len(sk.Stats().Partitions) == region.Count }); err != nil {
		return res, fmt.Errorf("sink was not assigned the topic's partitions: %w", err)
	}

	logf("%s: publishing %.0f updates/s for %s", res.DB, cfg.Rate, cfg.Duration)
	var st simulate.Stats
	start := time.Now()
	err = simulate.Run(ctx, simulate.Config{City: region.Bengaluru, Riders: cfg.Riders, Rate: cfg.Rate, Duration: cfg.Duration, Seed: 1}, pub, &st)
	published := time.Now()
	if err != nil {
		return res, fmt.Errorf("publish: %w", err)
	}
	res.Published = st.Sent.Load()
	res.PublishSecs = published.Sub(start).Seconds()
	res.PublishRate = float64(res.Published) / res.PublishSecs
	if f := st.Failed.Load(); f > 0 {
		return res, fmt.Errorf("publish: %d updates failed", f)
	}

	done := func() bool { s := sk.Stats(); return s.Inserted+s.Duplicates >= res.Published }
	if err := waitFor(ctx, cfg.DrainTimeout, done); err != nil {
		s := sk.Stats()
		return res, fmt.Errorf("sink wrote %d of %d updates: %w", s.Inserted+s.Duplicates, res.Published, err)
	}
	end := sk.Stats().LastCommit
	if end.Before(published) {
		end = published
	}
	s := sk.Stats()
	res.Written = s.Inserted
	res.Transactions = s.Transactions
	res.TotalSecs = end.Sub(start).Seconds()
	res.WrittenRate = float64(res.Written) / res.TotalSecs
	res.DrainSecs = end.Sub(published).Seconds()
	res.DelayP50Ms = ms(hist.quantile(0.50))
	res.DelayP99Ms = ms(hist.quantile(0.99))
	res.DelayMaxMs = ms(hist.max)
	logf("%s: %d published (%.0f/s), %d written (%.0f/s), drain %.2fs, delay p50 %.0f ms p99 %.0f ms",
		res.DB, res.Published, res.PublishRate, res.Written, res.WrittenRate, res.DrainSecs, res.DelayP50Ms, res.DelayP99Ms)
	return res, nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// waitFor polls cond every 20 ms until it holds or timeout passes.
func waitFor(ctx context.Context, timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("not done after %s", timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}
