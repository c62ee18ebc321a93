package main

// group.go wires `courier group` and its subcommands (list, describe,
// delete, seek) to package ctl.

import (
	"context"
	"fmt"

	"github.com/courier-dev/courier/internal/tools/ctl"
	"github.com/spf13/cobra"
)

// newGroupCommand returns `courier group`.
func newGroupCommand() *cobra.Command {
	cmd := parentCommand(&cobra.Command{
		Use:   "group",
		Short: "List, describe, delete and move the offsets of groups (classic, KIP-848 consumer, share) on any Kafka-compatible cluster",
	})
	cmd.AddCommand(
		newGroupListCommand(),
		newGroupDescribeCommand(),
		newGroupDeleteCommand(),
		newGroupSeekCommand(),
	)
	return cmd
}

// newGroupListCommand returns `courier group list`.
func newGroupListCommand() *cobra.Command {
	var (
		cf            clientFlags
		states, types []string
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List groups with their type (classic, consumer, share), state and protocol type",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withAdmin(cmd, &cf, func(ctx context.Context, a *ctl.Admin) error {
				gs, err := a.ListGroups(ctx, ctl.GroupFilter{States: states, Types: types})
				if gs != nil {
					if werr := ctl.WriteGroupList(cmd.OutOrStdout(), gs); werr != nil {
						return werr
					}
				}
				return err
			})
		},
	}
	cf.registerTool(cmd)
	cmd.Flags().StringSliceVar(&states, "state", nil, "only groups in these states, comma-separated or repeated: Empty, Stable, PreparingRebalance, CompletingRebalance (also Assigning, Reconciling for consumer groups)")
	cmd.Flags().StringSliceVar(&types, "type", nil, "only groups of these types, comma-separated or repeated: classic, consumer (KIP-848), share (KIP-932), streams")
	return cmd
}

// newGroupDescribeCommand returns `courier group describe GROUP`.
func newGroupDescribeCommand() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "describe GROUP",
		Short: "Show a group's state, members and assignments, and per partition its committed offset, end offset and lag",
		Long: "Show a consumer group: its state, protocol type and assignor, its members\n" +
			"(member id, client id, host, assigned partitions), and for every partition it\n" +
			"is assigned or has committed: the committed offset, the end offset and the lag\n" +
			"between them. With no commit, the lag counts every record still in the log.",
		Args: groupIDArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withAdmin(cmd, &cf, func(ctx context.Context, a *ctl.Admin) error {
				d, err := a.DescribeGroup(ctx, args[0])
				if err != nil {
					return err
				}
				return ctl.WriteGroupDescription(cmd.OutOrStdout(), d)
			})
		},
	}
	cf.registerTool(cmd)
	return cmd
}

// newGroupDeleteCommand returns `courier group delete GROUP...`.
func newGroupDeleteCommand() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "delete GROUP...",
		Short: "Delete consumer groups and their committed offsets (only groups without members)",
		Long: "Delete consumer groups and their committed offsets. As in Kafka, a group\n" +
			"that still has members is refused (NON_EMPTY_GROUP): stop its consumers first.\n" +
			"The other groups named are still deleted; the exit status is non-zero if any\n" +
			"group was not.",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withAdmin(cmd, &cf, func(ctx context.Context, a *ctl.Admin) error {
				ds, err := a.DeleteGroups(ctx, args...)
				for _, d := range ds {
					if d.Err == nil {
						fmt.Fprintf(cmd.OutOrStdout(), "deleted group %s\n", d.Group)
					}
				}
				return err
			})
		},
	}
	cf.registerTool(cmd)
	return cmd
}

// newGroupSeekCommand returns `courier group seek GROUP`.
func newGroupSeekCommand() *cobra.Command {
	var (
		cf   clientFlags
		spec ctl.SeekSpec
		to   string
	)
	cmd := &cobra.Command{
		Use:   "seek GROUP --topic TOPIC --to TARGET",
		Short: "Set a stopped group's committed offsets on a topic: earliest, latest, an offset or a time",
		Long: "Set the committed offsets of a consumer group on one topic (every partition,\n" +
			"or only --partition), so that its next consumer starts there; for a share group,\n" +
			"its share-partition start offsets (AlterShareGroupOffsets). As in Kafka,\n" +
			"this works only while the group has no members: stop its consumers first.\n" +
			"A group that does not exist yet is created with the offsets.\n\n" +
			"--to TARGET:\n" +
			"  earliest       the oldest record still in the log\n" +
			"  latest         the end: only records produced from now on\n" +
			"  offset:N       offset N (kept within the log: before its start means the\n" +
			"                 start, past its end means the end)\n" +
			"  timestamp:MS   the first record at or after Unix time MS in milliseconds,\n" +
			"                 or an RFC 3339 time (timestamp:2025-06-01T08:00:00Z); the end\n" +
			"                 if there is none\n\n" +
			"Prints, per partition, the committed offset before and the one set.",
		Example: "  courier group seek user-1 --topic rider-updates --to earliest\n" +
			"  courier group seek user-1 --topic rider-updates --partition 2 --to offset:1500\n" +
			"  courier group seek user-1 --topic rider-updates --to timestamp:1748764800000 --dry-run",
		Args: groupIDArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			target, err := ctl.ParseSeekTarget(to)
			if err != nil {
				return err
			}
			spec.Group, spec.To = args[0], target
			return withAdmin(cmd, &cf, func(ctx context.Context, a *ctl.Admin) error {
				rs, err := a.SeekGroup(ctx, spec)
				if len(rs) == 0 {
					return err
				}
				out := cmd.OutOrStdout()
				if werr := ctl.WriteSeekResults(out, rs); werr != nil {
					return werr
				}
				if spec.DryRun {
					fmt.Fprintf(out, "dry run: offsets of group %s not changed\n", spec.Group)
				}
				return err
			})
		},
	}
	cf.registerTool(cmd)
	f := cmd.Flags()
	f.StringVar(&spec.Topic, "topic", "", "topic whose offsets to set (required)")
	f.Int32Var(&spec.Partition, "partition", -1, "only this partition (-1: every partition of the topic)")
	f.StringVar(&to, "to", "", "where to: earliest, latest, offset:N or timestamp:MS, see above (required)")
	f.BoolVar(&spec.DryRun, "dry-run", false, "print the offsets that would be set without setting them")
	_ = cmd.MarkFlagRequired("topic")
	_ = cmd.MarkFlagRequired("to")
	return cmd
}

// groupIDArg requires exactly one non-empty group id argument.
func groupIDArg(_ *cobra.Command, args []string) error {
	if len(args) != 1 || args[0] == "" {
		return fmt.Errorf("want exactly one GROUP id, got %d arguments", len(args))
	}
	return nil
}
