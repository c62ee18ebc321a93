package main

// benchpipeline.go wires `courier bench pipeline` to package pipebench: the
// seed's comparison of one transaction per update against the pipeline.

import (
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/pipebench"
	"github.com/courier-dev/courier/internal/pipeline/redact"
	"github.com/courier-dev/courier/internal/pipeline/ridersdb"
	"github.com/spf13/cobra"
)

// pipelineReport is everything one `bench pipeline` run measured.
type pipelineReport struct {
	Direct   []pipebench.DirectResult   `json:"direct"`
	Pipeline []pipebench.PipelineResult `json:"pipeline"`
}

// newBenchPipelineCommand returns `courier bench pipeline`.
func newBenchPipelineCommand() *cobra.Command {
	var (
		cf             clientFlags
		dsns           []string
		rate           = rateValue(100000)
		duration       time.Duration
		directDuration time.Duration
		directConc     int
		riders         int
		batchRows      int
		batchDelay     time.Duration
		asJSON         bool
	)
	cmd := &cobra.Command{
		Use:   "pipeline",
		Short: "Compare one transaction per update against the pipeline, per database",
		Long: `For each --db, measure:

  direct    simulated riders' updates written as fast as the database takes
            them, each its own INSERT and transaction (simulate --direct),
            with --direct-concurrency writers, for --direct-duration;
  pipeline  the same riders publishing --rate updates/s to a fresh topic (4
            partitions, by region) on --brokers for --duration, while a sink
            (one member of a fresh group) writes them in batches; the run ends
            when every update is in the database.

It prints the updates/s each absorbed, the pipeline's gain over direct, and the
delay from an update's producer timestamp to the commit of the transaction
that wrote it (p50, p99, max, over every update). The topics are left behind.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if len(dsns) == 0 {
				return fmt.Errorf("give at least one --db")
			}
			for _, dsn := range dsns {
				if _, err := ridersdb.DialectOf(dsn); err != nil {
					return fmt.Errorf("--db: %w", err)
				}
			}
			var rep pipelineReport
			log := cmd.ErrOrStderr()
			for _, dsn := range dsns {
				fmt.Fprintf(log, "bench pipeline: %s direct, %d writers, %s\n", pipebench.Dialect(dsn), directConc, directDuration)
				d, err := pipebench.Direct(cmd.Context(), dsn, riders, directConc, directDuration)
				if err != nil {
					return fmt.Errorf("direct %s: %w", redact.DSN(dsn), err)
				}
				rep.Direct = append(rep.Direct, d)
				p, err := pipebench.Pipeline(cmd.Context(), pipebench.PipelineConfig{
					ClientOpts: cf.opts(), DSN: dsn, Riders: riders, Rate: float64(rate), Duration: duration,
					BatchRows: batchRows, BatchDelay: batchDelay, Log: log,
				})
				if err != nil {
					return fmt.Errorf("pipeline %s: %w", redact.DSN(dsn), err)
				}
				rep.Pipeline = append(rep.Pipeline, p)
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(rep)
			}
			writePipelineTable(cmd.OutOrStdout(), rep)
			return nil
		},
	}
	cf.register(cmd)
	f := cmd.Flags()
	f.StringArrayVar(&dsns, "db", nil, "database to measure, repeatable: sqlite:PATH or postgres://...")
	f.Var(&rate, "rate", "pipeline: updates/s offered (e.g. 100k/s)")
	f.DurationVar(&duration, "duration", 20*time.Second, "pipeline: how long the riders publish")
	f.DurationVar(&directDuration, "direct-duration", 10*time.Second, "direct: how long to write")
	f.IntVar(&directConc, "direct-concurrency", 4, "direct: concurrent writers (each update its own transaction)")
	f.IntVar(&riders, "riders", 10000, "simulated riders")
	f.IntVar(&batchRows, "batch-rows", 0, "sink batch size in rows (0: the sink's default)")
	f.DurationVar(&batchDelay, "batch-delay", 0, "sink batch delay (0: the sink's default)")
	f.BoolVar(&asJSON, "json", false, "print the results as one JSON object")
	return cmd
}

// writePipelineTable prints the results as a Markdown table.
func writePipelineTable(w io.Writer, rep pipelineReport) {
	fmt.Fprintln(w, "| database | direct: updates/s (1 tx each) | pipeline: offered/s | published/s | written/s | gain | delay p50 | p99 | max |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	for i, p := range rep.Pipeline {
		d := rep.Direct[i]
		gain := p.WrittenRate / d.PerSec
		fmt.Fprintf(w, "| %s | %.0f | %.0f | %.0f | %.0f | %.0fx | %.0f ms | %.0f ms | %.0f ms |\n",
			p.DB, d.PerSec, p.TargetRate, p.PublishRate, p.WrittenRate, gain, p.DelayP50Ms, p.DelayP99Ms, p.DelayMaxMs)
	}
}
