package main

// sink.go wires `courier sink`, the consumer group that writes rider
// updates to the database in batches (package sink).

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/publish"
	"github.com/courier-dev/courier/internal/pipeline/redact"
	"github.com/courier-dev/courier/internal/pipeline/ridersdb"
	"github.com/courier-dev/courier/internal/pipeline/sink"
	"github.com/spf13/cobra"
)

// sinkStatsEvery is how often `courier sink` logs its counters.
const sinkStatsEvery = 5 * time.Second

// newSinkCommand returns `courier sink`.
func newSinkCommand() *cobra.Command {
	var (
		cf   clientFlags
		cfg  sink.Config
		dsn  string
		logs logFlags
	)
	cmd := &cobra.Command{
		Use:   "sink",
		Short: "Consume rider updates in a group and write them to the database in batches",
		Long: `Consume rider updates in a consumer group and write them to the database
in batches, one transaction each, committing offsets only after the database
commit. Run several with the same --group to split the partitions.

With --share-group G the sinks form a share group (KIP-932) instead: every
sink reads every partition and the broker hands each record to one of them,
so more sinks than partitions all write. Each record is acknowledged after
the database commit that wrote it (rejected if it is not a valid update,
released if the sink stops first); one written but not acknowledged (a sink
killed in between) comes back and is recognised by its (topic, partition,
offset) key, so the database still holds it once. A batch is what one fetch
brings (at most --batch-rows). The group's share.auto.offset.reset is set
to earliest, as a new --group starts at the earliest offset.

--db is sqlite:PATH (WAL, fsynced at every commit; ?synchronous=normal
skips the fsync, which can lose the last batches on a power loss) or
postgres://USER@HOST:PORT/DB.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if cfg.ShareGroup != "" && (cmd.Flags().Changed("group") || cfg.InstanceID != "") {
				return errors.New("--share-group cannot be combined with --group or --instance-id")
			}
			logger, err := logs.logger(cmd.ErrOrStderr())
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			octx, cancel := context.WithTimeout(ctx, 30*time.Second)
			// An older database's rows came from this topic.
			db, err := ridersdb.Open(octx, dsn, ridersdb.WithLegacyTopic(cfg.Topic), ridersdb.WithLogger(logger))
			cancel()
			if err != nil {
				return fmt.Errorf("open database %s: %w", redact.DSN(dsn), err)
			}
			defer db.Close()
			cfg.ClientOpts, cfg.DB, cfg.Logger = cf.opts(), db, logger
			s, err := sink.New(cfg)
			if err != nil {
				return err
			}
			done := make(chan struct{})
			go logSinkStats(ctx, s, done)
			err = s.Run(ctx)
			close(done)
			if err != nil {
				return fmt.Errorf("sink: %w", err)
			}
			st := s.Stats()
			logger.Info("sink totals", "consumed", st.Consumed, "inserted", st.Inserted, "duplicates", st.Duplicates, "invalid", st.Invalid,
				"truncated", st.Truncated, "stale", st.Stale, "data_loss", st.DataLoss, "transactions", st.Transactions, "ack_errors", st.AckErrors)
			return nil
		},
	}
	cf.register(cmd)
	f := cmd.Flags()
	f.StringVar(&cfg.Topic, "topic", publish.DefaultTopic, "topic to consume")
	f.StringVar(&cfg.Group, "group", sink.DefaultGroup, "consumer group")
	f.StringVar(&dsn, "db", "sqlite:riders.db", "database: sqlite:PATH or postgres://...")
	f.IntVar(&cfg.BatchRows, "batch-rows", sink.DefaultBatchRows, "most records per transaction")
	f.DurationVar(&cfg.BatchDelay, "batch-delay", sink.DefaultBatchDelay, "longest a record waits for its batch to fill")
	f.StringVar(&cfg.InstanceID, "instance-id", "", "static group membership id (optional)")
	f.StringVar(&cfg.ShareGroup, "share-group", "", "consume in this share group (KIP-932) instead of --group: more sinks than partitions all write")
	logs.register(cmd, "info")
	return cmd
}

// logSinkStats logs the sink's counters every sinkStatsEvery until done.
func logSinkStats(ctx context.Context, s *sink.Sink, done <-chan struct{}) {
	t := time.NewTicker(sinkStatsEvery)
	defer t.Stop()
	var prev sink.Stats
	for {
		select {
		case <-done:
			return
		case <-ctx.Done():
			return
		case <-t.C:
		}
		st := s.Stats()
		rate := float64(st.Consumed-prev.Consumed) / sinkStatsEvery.Seconds()
		s.Logger().Info("sink stats", "consumed", st.Consumed, "per_sec", int64(rate), "inserted", st.Inserted,
			"duplicates", st.Duplicates, "invalid", st.Invalid, "truncated", st.Truncated, "stale", st.Stale, "transactions", st.Transactions,
			"delay_p50", st.DelayP50, "delay_p99", st.DelayP99, "partitions", st.Partitions)
		prev = st
	}
}
