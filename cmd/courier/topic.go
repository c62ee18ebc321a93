package main

// topic.go wires `courier topic` and its subcommands (create, list,
// describe, delete, add-partitions) to package ctl.

import (
	"context"
	"fmt"
	"strconv"

	"github.com/courier-dev/courier/internal/tools/ctl"
	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// newTopicCommand returns `courier topic`.
func newTopicCommand() *cobra.Command {
	cmd := parentCommand(&cobra.Command{
		Use:   "topic",
		Short: "Create, list, describe, delete and grow topics on any Kafka-compatible cluster",
	})
	cmd.AddCommand(
		newTopicCreateCommand(),
		newTopicListCommand(),
		newTopicDescribeCommand(),
		newTopicDeleteCommand(),
		newTopicAddPartitionsCommand(),
		newTopicAlterConfigCommand(),
	)
	return cmd
}

// newTopicAlterConfigCommand returns `courier topic alter-config NAME`.
func newTopicAlterConfigCommand() *cobra.Command {
	var (
		cf clientFlags
		ch configChangeFlags
	)
	cmd := &cobra.Command{
		Use:   "alter-config NAME",
		Short: "Set, delete, append to or subtract from a topic's configs",
		Long: "Change a topic's configs with IncrementalAlterConfigs: --set k=v, --delete k\n" +
			"(back to the broker's default), and for list configs such as cleanup.policy\n" +
			"--append k=v and --subtract k=v. A list value is comma-separated\n" +
			"(cleanup.policy=compact,delete; kafka-configs.sh's [compact,delete] works too).\n" +
			"Either every change applies or none.",
		Example: "  courier topic alter-config rider-latest --set cleanup.policy=compact --set min.compaction.lag.ms=60000\n" +
			"  courier topic alter-config audit --append cleanup.policy=compact --delete retention.ms",
		Args: topicNameArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			ops, err := ch.ops()
			if err != nil {
				return err
			}
			r := ctl.ConfigResource{Type: kmsg.ConfigResourceTypeTopic, Name: args[0]}
			return withAdmin(cmd, &cf, func(ctx context.Context, a *ctl.Admin) error {
				if err := a.AlterConfigs(ctx, r, ops); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "altered configs of topic %s\n", args[0])
				return nil
			})
		},
	}
	cf.registerTool(cmd)
	ch.register(cmd)
	return cmd
}

// newTopicCreateCommand returns `courier topic create NAME`.
func newTopicCreateCommand() *cobra.Command {
	var (
		cf         clientFlags
		partitions int32
		rf         int16
		configs    []string
	)
	cmd := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a topic",
		Long: "Create a topic. As kafka-topics.sh, without --partitions or --replication-factor\n" +
			"the cluster's defaults apply (num.partitions, default.replication.factor;\n" +
			"a Courier broker's --default-partitions, and replication factor 1). The\n" +
			"partitions and replication factor the topic got are printed.",
		Example: "  courier topic create rider-updates --partitions 4\n" +
			"  courier topic create audit --config retention.ms=604800000   # the broker's default partition count",
		Args: topicNameArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfgs, err := ctl.ParseConfigs(configs)
			if err != nil {
				return err
			}
			spec := ctl.CreateSpec{Name: args[0], Partitions: partitions, ReplicationFactor: rf, Configs: cfgs}
			if err := spec.Validate(); err != nil {
				return err
			}
			return withAdmin(cmd, &cf, func(ctx context.Context, a *ctl.Admin) error {
				c, err := a.CreateTopic(ctx, spec)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "created topic %s (partitions %s, replication factor %s)\n", c.Name, orDefault(int(c.Partitions)), orDefault(int(c.ReplicationFactor)))
				return nil
			})
		},
	}
	cf.registerTool(cmd)
	cmd.Flags().Int32Var(&partitions, "partitions", -1, "number of partitions (-1: the broker's default, num.partitions)")
	cmd.Flags().Int16Var(&rf, "replication-factor", -1, "replicas per partition (-1: the broker's default, default.replication.factor)")
	cmd.Flags().StringArrayVar(&configs, "config", nil, "topic config override key=value, repeatable (e.g. retention.ms=86400000; a list value comma-separated: cleanup.policy=compact,delete)")
	return cmd
}

// newTopicListCommand returns `courier topic list`.
func newTopicListCommand() *cobra.Command {
	var (
		cf       clientFlags
		internal bool
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List topics and their partition counts",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withAdmin(cmd, &cf, func(ctx context.Context, a *ctl.Admin) error {
				ts, err := a.ListTopics(ctx, internal)
				if err != nil {
					return err
				}
				return ctl.WriteTopicList(cmd.OutOrStdout(), ts)
			})
		},
	}
	cf.registerTool(cmd)
	cmd.Flags().BoolVar(&internal, "internal", false, "include internal topics such as __consumer_offsets")
	return cmd
}

// newTopicDescribeCommand returns `courier topic describe NAME`.
func newTopicDescribeCommand() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "describe NAME",
		Short: "Show a topic's ID, non-default configs, and per partition its leader, offsets and size",
		Args:  topicNameArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withAdmin(cmd, &cf, func(ctx context.Context, a *ctl.Admin) error {
				d, err := a.DescribeTopic(ctx, args[0])
				if err != nil {
					return err
				}
				return ctl.WriteTopicDescription(cmd.OutOrStdout(), d)
			})
		},
	}
	cf.registerTool(cmd)
	return cmd
}

// newTopicDeleteCommand returns `courier topic delete NAME`.
func newTopicDeleteCommand() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "delete NAME",
		Short: "Delete a topic and all its records",
		Args:  topicNameArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withAdmin(cmd, &cf, func(ctx context.Context, a *ctl.Admin) error {
				if err := a.DeleteTopic(ctx, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "deleted topic %s\n", args[0])
				return nil
			})
		},
	}
	cf.registerTool(cmd)
	return cmd
}

// newTopicAddPartitionsCommand returns `courier topic add-partitions NAME`.
func newTopicAddPartitionsCommand() *cobra.Command {
	var (
		cf    clientFlags
		total int
	)
	cmd := &cobra.Command{
		Use:   "add-partitions NAME",
		Short: "Grow a topic to a new total number of partitions",
		Args:  topicNameArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withAdmin(cmd, &cf, func(ctx context.Context, a *ctl.Admin) error {
				if err := a.AddPartitions(ctx, args[0], total); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "topic %s now has %d partitions\n", args[0], total)
				return nil
			})
		},
	}
	cf.registerTool(cmd)
	cmd.Flags().IntVar(&total, "total", 0, "new total number of partitions (must exceed the current count)")
	_ = cmd.MarkFlagRequired("total")
	return cmd
}

// withAdmin runs fn with an Admin connected through cf, closing it after.
func withAdmin(cmd *cobra.Command, cf *clientFlags, fn func(context.Context, *ctl.Admin) error) error {
	opts, err := cf.connect(cmd)
	if err != nil {
		return err
	}
	a, err := ctl.New(opts...)
	if err != nil {
		return err
	}
	defer a.Close()
	return fn(cmd.Context(), a)
}

// orDefault renders a count a cluster reported, or "the broker's default"
// for the -1 an old broker echoes when it does not say what it chose.
func orDefault(n int) string {
	if n < 0 {
		return "the broker's default"
	}
	return strconv.Itoa(n)
}

// topicNameArg requires exactly one non-empty topic name argument.
func topicNameArg(_ *cobra.Command, args []string) error {
	if len(args) != 1 || args[0] == "" {
		return fmt.Errorf("want exactly one topic NAME, got %d arguments", len(args))
	}
	return nil
}
