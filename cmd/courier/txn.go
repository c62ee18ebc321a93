package main

// txn.go wires `courier txn` and its subcommands (list, describe,
// producers, abort, find-hanging), modelled on Kafka's
// kafka-transactions.sh, to package ctl.

import (
	"context"
	"fmt"
	"time"

	"github.com/courier-dev/courier/internal/tools/ctl"
	"github.com/spf13/cobra"
)

// newTxnCommand returns `courier txn`.
func newTxnCommand() *cobra.Command {
	cmd := parentCommand(&cobra.Command{
		Use:   "txn",
		Short: "List and describe transactions, show producers, find and abort hanging transactions",
		Long: "Inspect the transactions of any Kafka-compatible cluster, as Kafka's\n" +
			"kafka-transactions.sh does: list the transactional ids and describe one, show\n" +
			"the producers writing to a topic's partitions, find hanging transactions (open\n" +
			"on a partition, but never to be finished by their coordinator: they hold back\n" +
			"every read_committed consumer) and abort one.",
	})
	cmd.AddCommand(
		newTxnListCommand(),
		newTxnDescribeCommand(),
		newTxnProducersCommand(),
		newTxnAbortCommand(),
		newTxnFindHangingCommand(),
	)
	return cmd
}

// newTxnListCommand returns `courier txn list`.
func newTxnListCommand() *cobra.Command {
	var (
		cf          clientFlags
		states      []string
		producerIDs []int64
	)
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List transactional ids with their coordinator, producer id and state",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withAdmin(cmd, &cf, func(ctx context.Context, a *ctl.Admin) error {
				ts, err := a.ListTransactions(ctx, states, producerIDs)
				if ts != nil {
					if werr := ctl.WriteTxnList(cmd.OutOrStdout(), ts); werr != nil {
						return werr
					}
				}
				return err
			})
		},
	}
	cf.registerTool(cmd)
	cmd.Flags().StringSliceVar(&states, "state", nil, "only transactions in these states, comma-separated or repeated: Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort, PrepareEpochFence")
	cmd.Flags().Int64SliceVar(&producerIDs, "producer-id", nil, "only transactions of these producer ids, comma-separated or repeated")
	return cmd
}

// newTxnDescribeCommand returns `courier txn describe ID`.
func newTxnDescribeCommand() *cobra.Command {
	var cf clientFlags
	cmd := &cobra.Command{
		Use:   "describe TRANSACTIONAL-ID",
		Short: "Show a transactional id's producer, state, timeout, open transaction and its partitions",
		Args:  txnIDArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withAdmin(cmd, &cf, func(ctx context.Context, a *ctl.Admin) error {
				d, err := a.DescribeTransaction(ctx, args[0])
				if err != nil {
					return err
				}
				return ctl.WriteTxnDescription(cmd.OutOrStdout(), d, time.Now())
			})
		},
	}
	cf.registerTool(cmd)
	return cmd
}

// newTxnProducersCommand returns `courier txn producers TOPIC`.
func newTxnProducersCommand() *cobra.Command {
	var (
		cf        clientFlags
		partition int32
	)
	cmd := &cobra.Command{
		Use:   "producers TOPIC",
		Short: "Show the producers writing to a topic's partitions and where their open transactions start",
		Long: "Show, per partition, what its leader knows of the producers writing to it\n" +
			"(DescribeProducers): producer id and epoch, last sequence number, last write\n" +
			"(Unix ms), the epoch of the coordinator that wrote its last transaction marker,\n" +
			"and the offset where its open transaction starts (\"-\": none open). That offset\n" +
			"is what `courier txn abort --start-offset` takes.",
		Args: topicNameArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withAdmin(cmd, &cf, func(ctx context.Context, a *ctl.Admin) error {
				pps, err := a.DescribeProducers(ctx, args[0], partition)
				if pps != nil {
					if werr := ctl.WriteProducers(cmd.OutOrStdout(), pps); werr != nil {
						return werr
					}
				}
				return err
			})
		},
	}
	cf.registerTool(cmd)
	cmd.Flags().Int32Var(&partition, "partition", -1, "only this partition (-1: all)")
	return cmd
}

// newTxnAbortCommand returns `courier txn abort`.
func newTxnAbortCommand() *cobra.Command {
	var (
		cf    clientFlags
		topic string
		part  int32
		start int64
		pid   int64
		epoch int16
		coord int32
	)
	cmd := &cobra.Command{
		Use:   "abort --topic TOPIC --partition N (--start-offset N | --producer-id N --producer-epoch N --coordinator-epoch N)",
		Short: "Abort a hanging transaction on one partition (needs CLUSTER_ACTION on the cluster)",
		Long: "Write an ABORT marker on one partition for an open transaction, so that\n" +
			"read_committed consumers skip its records and read past it. Name the\n" +
			"transaction by the offset where it starts (--start-offset, as\n" +
			"`courier txn producers` or `courier txn find-hanging` show it), or, for brokers\n" +
			"before Kafka 3.0, by its producer id, producer epoch and coordinator epoch.\n\n" +
			"Abort only a hanging transaction: one whose coordinator still runs it would\n" +
			"finish it itself, and an abort written under it drops what its producer meant\n" +
			"to commit.",
		Example: "  courier txn find-hanging --topic orders\n" +
			"  courier txn abort --topic orders --partition 3 --start-offset 120",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f := cmd.Flags()
			flags := ctl.AbortFlags{Topic: topic}
			if f.Changed("partition") {
				flags.Partition = &part
			}
			if f.Changed("start-offset") {
				flags.StartOffset = &start
			}
			if f.Changed("producer-id") {
				flags.ProducerID = &pid
			}
			if f.Changed("producer-epoch") {
				flags.ProducerEpoch = &epoch
			}
			if f.Changed("coordinator-epoch") {
				flags.CoordinatorEpoch = &coord
			}
			spec, err := flags.Spec()
			if err != nil {
				return err
			}
			return withAdmin(cmd, &cf, func(ctx context.Context, a *ctl.Admin) error {
				t, err := a.AbortTransaction(ctx, spec)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(cmd.OutOrStdout(), t)
				return err
			})
		},
	}
	cf.registerTool(cmd)
	f := cmd.Flags()
	f.StringVar(&topic, "topic", "", "topic of the partition (required)")
	f.Int32Var(&part, "partition", 0, "partition number (required)")
	f.Int64Var(&start, "start-offset", 0, "offset where the transaction to abort starts")
	f.Int64Var(&pid, "producer-id", 0, "producer id of the transaction (instead of --start-offset)")
	f.Int16Var(&epoch, "producer-epoch", 0, "its producer epoch (with --producer-id)")
	f.Int32Var(&coord, "coordinator-epoch", 0, "its coordinator epoch, -1 for none (with --producer-id)")
	return cmd
}

// newTxnFindHangingCommand returns `courier txn find-hanging`.
func newTxnFindHangingCommand() *cobra.Command {
	var (
		cf   clientFlags
		spec ctl.HangingSpec
	)
	cmd := &cobra.Command{
		Use:   "find-hanging",
		Short: "Find transactions open on a partition that their coordinator will never finish",
		Long: "Find hanging transactions, as kafka-transactions.sh find-hanging does: open\n" +
			"transactions (DescribeProducers) whose producer last wrote longer ago than\n" +
			"--max-transaction-timeout, and whose coordinator will never write their\n" +
			"marker on that partition: no transactional id uses their producer id, or it has\n" +
			"no transaction in progress, or one under another producer epoch, or one without\n" +
			"that partition. They hold back every read_committed consumer of the partition;\n" +
			"`courier txn abort` ends one. The exit status is 0 whether any are found or not.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withAdmin(cmd, &cf, func(ctx context.Context, a *ctl.Admin) error {
				spec.Now = time.Now()
				hs, err := a.FindHanging(ctx, spec)
				if err != nil && hs == nil {
					return err
				}
				if werr := ctl.WriteHanging(cmd.OutOrStdout(), hs, spec.Now); werr != nil {
					return werr
				}
				return err
			})
		},
	}
	cf.registerTool(cmd)
	f := cmd.Flags()
	f.StringVar(&spec.Topic, "topic", "", "search only this topic (default: every topic)")
	f.Int32Var(&spec.Partition, "partition", -1, "search only this partition of --topic")
	f.DurationVar(&spec.MaxTimeout, "max-transaction-timeout", ctl.DefaultMaxTxnTimeout,
		"the longest transaction timeout producers use (the brokers' transaction.max.timeout.ms): younger open transactions are not candidates")
	return cmd
}

// txnIDArg requires exactly one non-empty transactional id argument.
func txnIDArg(_ *cobra.Command, args []string) error {
	if len(args) != 1 || args[0] == "" {
		return fmt.Errorf("want exactly one TRANSACTIONAL-ID, got %d arguments", len(args))
	}
	return nil
}
