package main

// bench.go wires `courier bench` to package bench.

import (
	"encoding/json"
	"os"

	"github.com/courier-dev/courier/internal/tools/bench"
	"github.com/courier-dev/courier/internal/tools/ctl"
	"github.com/spf13/cobra"
)

// newBenchCommand returns `courier bench`.
func newBenchCommand() *cobra.Command {
	var (
		cf       clientFlags
		cfg      bench.Config
		asJSON   bool
		progress bool
		configs  []string
	)
	cmd := &cobra.Command{
		Use:   "bench",
		Short: "Measure produce and consume throughput and end-to-end latency",
		Long: `Measure a Kafka-compatible cluster through the public protocol.

bench creates a fresh topic (deleted afterwards unless --keep), produces
--records values of --size random bytes (acks=all, idempotent, default
batching) while a consumer reads them as they land to time each record end to
end, then reads the whole topic again from the beginning to time consumption
alone. It prints produce and consume records/s and MB/s (10^6 value bytes) and
the end-to-end latency percentiles; --json prints one flat JSON object on
standard output instead. Progress bars go to standard error.

End-to-end latency is measured at full speed, so it includes the time records
wait in the producer's buffer (--buffer-bytes). The exit status is non-zero if
a consumer missed a record or read one twice.

--keys N gives record number seq the key "key-<seq % N>" (N distinct keys);
--topic-config sets configs of the created topic, e.g. cleanup.policy=compact
and segment.bytes=67108864 for a compaction benchmark. On a compacted topic
the log cleaner may remove a record once a newer one has its key, even while
it is read, so there the check is what compaction promises: no record read
twice, and the newest record of every key read; the output counts the
superseded records that were not read.

--transactional makes every producer transactional (its own transactional id)
and ends its transaction, with a flush and a commit, every --txn-records of its
records or every --txn-interval (default 100ms); the output adds the commit
latency (flush plus EndTransaction) percentiles, and both consumers read with
isolation read_committed, so end-to-end latency includes the wait for the
commit.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var err error
			if cfg.TopicConfigs, err = ctl.ParseConfigs(configs); err != nil {
				return err
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			if cfg.ClientOpts, err = cf.connect(cmd); err != nil {
				return err
			}
			if progress {
				cfg.Progress = cmd.ErrOrStderr()
			}
			res, err := bench.Run(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				if err := enc.Encode(res); err != nil {
					return err
				}
			} else if err := res.WriteText(out); err != nil {
				return err
			}
			return res.Check()
		},
	}
	cf.registerTool(cmd)
	f := cmd.Flags()
	f.IntVar(&cfg.Records, "records", bench.DefaultRecords, "records to produce")
	f.IntVar(&cfg.Size, "size", bench.DefaultSize, "value size in bytes (at least 16: send time and sequence number)")
	f.Int32Var(&cfg.Partitions, "partitions", bench.DefaultPartitions, "partitions of the benchmark topic")
	f.Int16Var(&cfg.ReplicationFactor, "replication-factor", bench.DefaultReplicationFactor, "replicas per partition (-1: broker default)")
	f.StringVar(&cfg.Topic, "topic", "", "topic to create; it must not exist (default: courier-bench-<time>)")
	f.IntVar(&cfg.Producers, "producers", bench.DefaultProducers, "producer clients, each with its own connection and buffer")
	f.StringVar(&cfg.Compression, "compression", "none", "batch compression: none, gzip, snappy, lz4 or zstd")
	f.IntVar(&cfg.BufferBytes, "buffer-bytes", bench.DefaultBufferBytes, "value bytes each producer keeps in flight")
	f.DurationVar(&cfg.IdleTimeout, "idle-timeout", bench.DefaultIdleTimeout, "after producing, give up on records not received for this long")
	f.IntVar(&cfg.Keys, "keys", 0, "give records keys key-(seq % N), N distinct keys (0: no keys)")
	f.StringArrayVar(&configs, "topic-config", nil, "config of the created topic, key=value (repeatable), e.g. cleanup.policy=compact")
	f.BoolVar(&cfg.Transactional, "transactional", false, "produce in transactions and consume read_committed (see above)")
	f.IntVar(&cfg.TxnRecords, "txn-records", 0, "with --transactional: end each producer's transaction every N of its records")
	f.DurationVar(&cfg.TxnInterval, "txn-interval", 0, "with --transactional: end each producer's transaction every interval (default 100ms unless --txn-records)")
	f.BoolVar(&cfg.Keep, "keep", false, "keep the topic after the run")
	f.BoolVar(&asJSON, "json", false, "print the results as one JSON object")
	fi, err := os.Stderr.Stat()
	stderrIsTerminal := err == nil && fi.Mode()&os.ModeCharDevice != 0
	f.BoolVar(&progress, "progress", stderrIsTerminal, "draw progress bars on standard error (default: if it is a terminal)")
	cmd.AddCommand(newBenchPipelineCommand(), newBenchGroupsCommand(), newBenchRebalanceCommand(), newBenchConsoleCommand())
	return cmd
}
