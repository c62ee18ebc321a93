package main

// consume.go wires `courier consume TOPIC` to package console: print
// records to standard output until Ctrl-C, -n records, or --timeout.

import (
	"github.com/courier-dev/courier/internal/tools/console"
	"github.com/spf13/cobra"
)

// newConsumeCommand returns `courier consume TOPIC`.
func newConsumeCommand() *cobra.Command {
	var (
		cf  clientFlags
		cfg console.ConsumeConfig
	)
	cmd := &cobra.Command{
		Use:   "consume TOPIC",
		Short: "Print records of a topic until Ctrl-C, -n records, or --timeout",
		Long: "Print records of a topic. Without --from-beginning or --offset, only records\n" +
			"produced from now on are printed.\n\n" +
			"--offset N reads one partition (--partition) from offset N. As Kafka's consumers\n" +
			"reset an offset out of range, an N past the partition's end (its high watermark)\n" +
			"starts at the end and waits for new records, and an N before its start (records\n" +
			"deleted by retention) starts at the start; either is said in one line on stderr.\n\n" +
			"With --group, the printed records are committed for the group every second and\n" +
			"when the command exits, however it exits. --protocol consumer joins with Kafka 4's\n" +
			"consumer group protocol (KIP-848: the broker assigns the partitions; an error if\n" +
			"the cluster does not support it); classic, the default, works everywhere.\n\n" +
			"With --share-group, join a share group (KIP-932, a queue): any number of members\n" +
			"read the same partitions and each record goes to one of them. Each printed record\n" +
			"is acknowledged (accepted); --reject-every N rejects every Nth (archived, never\n" +
			"delivered again) and --release-every N releases every Nth (delivered again, to\n" +
			"this member or another, its delivery count %d one higher, until the group's\n" +
			"share.delivery.count.limit archives it). Records fetched but not printed are\n" +
			"released when the command exits. A new share group starts at the end of each\n" +
			"partition; --from-beginning sets the group's share.auto.offset.reset to earliest.\n\n" +
			"--isolation read_committed prints only records of committed transactions (and\n" +
			"records written outside any), stopping at the first transaction still open\n" +
			"(the last stable offset); read_uncommitted, the default as in Kafka's\n" +
			"consumers, prints every record, of open and aborted transactions too.\n\n" +
			"--format verbs: %t topic, %p partition, %o offset, %k key, %v value,\n" +
			"%T timestamp (Unix ms), %h headers (k=v,k=v), %d delivery count (share groups),\n" +
			"%% percent;\n" +
			"escapes: \\n \\t \\r \\\\.",
		Args: topicNameArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg.Topic = args[0]
			cfg.Warnings = cmd.ErrOrStderr()
			if err := cfg.Validate(); err != nil {
				return err
			}
			opts, err := cf.connect(cmd)
			if err != nil {
				return err
			}
			_, err = console.Consume(cmd.Context(), opts, cfg, cmd.OutOrStdout())
			return err
		},
	}
	cf.registerTool(cmd)
	f := cmd.Flags()
	f.BoolVar(&cfg.FromBeginning, "from-beginning", false, "start at the earliest offset")
	f.Int32Var(&cfg.Partition, "partition", -1, "consume only this partition (-1: all)")
	f.StringVar(&cfg.Offset, "offset", "", "start offset: earliest, latest, or a number N from 0 (needs --partition; out of the log's range: see above)")
	f.StringVar(&cfg.Format, "format", console.DefaultFormat, "output template, see above")
	f.StringVar(&cfg.Group, "group", "", "join this consumer group and commit printed records (every second and on exit)")
	f.StringVar(&cfg.Protocol, "protocol", "", "with --group: classic (default) or consumer (KIP-848, the broker assigns partitions)")
	f.StringVar(&cfg.ShareGroup, "share-group", "", "join this share group (KIP-932) and acknowledge each printed record")
	f.IntVar(&cfg.RejectEvery, "reject-every", 0, "with --share-group: reject every Nth printed record (0: none)")
	f.IntVar(&cfg.ReleaseEvery, "release-every", 0, "with --share-group: release every Nth printed record, to be delivered again (0: none)")
	f.IntVarP(&cfg.MaxRecords, "max-records", "n", 0, "exit after this many records (0: no limit)")
	f.StringVar(&cfg.Isolation, "isolation", "read_uncommitted", "read_uncommitted or read_committed (see above)")
	f.DurationVar(&cfg.Timeout, "timeout", 0, "exit after this long; an error if -n records were not reached (0: none)")
	return cmd
}
