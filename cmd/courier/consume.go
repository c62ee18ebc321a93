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
			"--format verbs: %t topic, %p partition, %o offset, %k key, %v value,\n" +
			"%T timestamp (Unix ms), %h headers (k=v,k=v), %% percent;\n" +
			"escapes: \\n \\t \\r \\\\.",
		Args: topicNameArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg.Topic = args[0]
			cfg.Warnings = cmd.ErrOrStderr()
			_, err := console.Consume(cmd.Context(), cf.opts(), cfg, cmd.OutOrStdout())
			return err
		},
	}
	cf.register(cmd)
	f := cmd.Flags()
	f.BoolVar(&cfg.FromBeginning, "from-beginning", false, "start at the earliest offset")
	f.Int32Var(&cfg.Partition, "partition", -1, "consume only this partition (-1: all)")
	f.StringVar(&cfg.Offset, "offset", "", "start offset: earliest, latest, or a number (numbers need --partition)")
	f.StringVar(&cfg.Format, "format", console.DefaultFormat, "output template, see above")
	f.StringVar(&cfg.Group, "group", "", "join this consumer group and commit printed records")
	f.IntVarP(&cfg.MaxRecords, "max-records", "n", 0, "exit after this many records (0: no limit)")
	f.DurationVar(&cfg.Timeout, "timeout", 0, "exit after this long; an error if -n records were not reached (0: none)")
	return cmd
}
