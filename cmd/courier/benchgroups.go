package main

// benchgroups.go wires `courier bench groups` (share group against classic
// group throughput) and `courier bench rebalance` (the time a joining
// member waits, KIP-848 against classic) to package bench.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/courier-dev/courier/internal/tools/bench"
	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
)

// newBenchGroupsCommand returns `courier bench groups`.
func newBenchGroupsCommand() *cobra.Command {
	var (
		cf     clientFlags
		cfg    bench.GroupsConfig
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "groups",
		Short: "Measure share groups (KIP-932) against classic groups: records/s acknowledged by 1, 4, 16 consumers",
		Long: `Fill a fresh topic with --records records (--partitions, default 4), then for
each --protocol (share, classic) and each --consumers count, let a fresh group
of that many consumers read it all. Every consumer acknowledges each poll and
waits for the broker's answer before the next: a share consumer accepts each
record and flushes (FlushAcks), a classic one commits the poll's offsets. The
rate is records acknowledged per second, from the first record received to
the last acknowledged. A classic group's parallelism stops at the partition
count (the other consumers sit idle: see "active"); a share group's does not.
The topic is deleted afterwards.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBenchTable(cmd, &cf, asJSON, func(ctx context.Context, opts []kgo.Opt, log io.Writer) ([]bench.GroupsResult, error) {
				cfg.ClientOpts, cfg.Log = opts, log
				return bench.RunGroups(ctx, cfg)
			}, writeGroupsTable)
		},
	}
	cf.registerTool(cmd)
	f := cmd.Flags()
	f.IntVar(&cfg.Records, "records", bench.DefaultGroupsRecords, "records in the topic")
	f.IntVar(&cfg.Size, "size", bench.DefaultSize, "value size in bytes")
	f.Int32Var(&cfg.Partitions, "partitions", bench.DefaultGroupsPartitions, "partitions of the topic")
	f.IntSliceVar(&cfg.Consumers, "consumers", bench.DefaultGroupsConsumers, "group sizes to measure, comma-separated")
	f.StringSliceVar(&cfg.Protocols, "protocol", []string{bench.ProtocolShare, bench.ProtocolClassic}, "protocols to measure, in order: share, classic")
	f.DurationVar(&cfg.Timeout, "timeout", bench.DefaultGroupsTimeout, "give up on a group that has not acknowledged every record by then")
	f.BoolVar(&asJSON, "json", false, "print the results as JSON")
	return cmd
}

// runBenchTable connects to the cluster, runs a benchmark (its progress
// on standard error) and prints its results as JSON or through table.
func runBenchTable[R any](cmd *cobra.Command, cf *clientFlags, asJSON bool,
	run func(context.Context, []kgo.Opt, io.Writer) ([]R, error), table func(io.Writer, []R)) error {
	opts, err := cf.connect(cmd)
	if err != nil {
		return err
	}
	rs, err := run(cmd.Context(), opts, cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	if asJSON {
		return json.NewEncoder(cmd.OutOrStdout()).Encode(rs)
	}
	table(cmd.OutOrStdout(), rs)
	return nil
}

// writeGroupsTable prints group throughput results as a Markdown table.
func writeGroupsTable(w io.Writer, rs []bench.GroupsResult) {
	fmt.Fprintln(w, "| group | consumers | partitions | records | acknowledged/s | seconds | active consumers | redelivered |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rs {
		fmt.Fprintf(w, "| %s | %d | %d | %d | %.0f | %.2f | %d | %d |\n", r.Protocol, r.Consumers, r.Partitions, r.Records, r.RecordsPerSec, r.Seconds, r.Active, r.Redelivered)
	}
}

// newBenchRebalanceCommand returns `courier bench rebalance`.
func newBenchRebalanceCommand() *cobra.Command {
	var (
		cf     clientFlags
		cfg    bench.RebalanceConfig
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "rebalance",
		Short: "Measure how long a member joining a group waits for partitions: KIP-848 against classic",
		Long: `For each --protocol (consumer: Kafka 4's KIP-848 protocol; classic), --rounds
times: a fresh group of --members consumers comes to own every partition of a
topic (--partitions), then one more consumer joins. It prints, in milliseconds
from the new consumer's start, when it owned a partition and when the group
was settled again (every partition owned once, every member owning one):
median and maximum over the rounds. Each protocol runs with its defaults: the
broker's heartbeat interval for KIP-848, franz-go's (3 s) and its
cooperative-sticky balancer (two rebalances to move a partition) for classic.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runBenchTable(cmd, &cf, asJSON, func(ctx context.Context, opts []kgo.Opt, log io.Writer) ([]bench.RebalanceResult, error) {
				cfg.ClientOpts, cfg.Log = opts, log
				return bench.RunRebalance(ctx, cfg)
			}, writeRebalanceTable)
		},
	}
	cf.registerTool(cmd)
	f := cmd.Flags()
	f.IntVar(&cfg.Members, "members", bench.DefaultRebalanceMembers, "members of the group before one more joins")
	f.Int32Var(&cfg.Partitions, "partitions", bench.DefaultRebalancePartitions, "partitions of the topic (at least members+1)")
	f.IntVar(&cfg.Rounds, "rounds", bench.DefaultRebalanceRounds, "rounds per protocol, each with a fresh group")
	f.StringSliceVar(&cfg.Protocols, "protocol", []string{bench.ProtocolConsumer, bench.ProtocolClassic}, "protocols to measure, in order: consumer, classic")
	f.DurationVar(&cfg.Timeout, "timeout", bench.DefaultRebalanceTimeout, "give up on a step of a round after this long")
	f.BoolVar(&asJSON, "json", false, "print the results as JSON")
	return cmd
}

// writeRebalanceTable prints rebalance results as a Markdown table.
func writeRebalanceTable(w io.Writer, rs []bench.RebalanceResult) {
	fmt.Fprintln(w, "| protocol | members | partitions | rounds | new member owns: p50 ms | max ms | group settled: p50 ms | max ms |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rs {
		fmt.Fprintf(w, "| %s | %d+1 | %d | %d | %.0f | %.0f | %.0f | %.0f |\n", r.Protocol, r.Members, r.Partitions, len(r.OwnsMs), r.OwnsP50Ms, r.OwnsMaxMs, r.SettledP50, r.SettledMax)
	}
}
