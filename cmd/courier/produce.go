package main

// produce.go wires `courier produce TOPIC` to package console: one record
// per line of standard input.

import (
	"fmt"

	"github.com/courier-dev/courier/internal/tools/console"
	"github.com/spf13/cobra"
)

// newProduceCommand returns `courier produce TOPIC`.
func newProduceCommand() *cobra.Command {
	var (
		cf      clientFlags
		cfg     console.ProduceConfig
		key     string
		headers []string
		verbose bool
	)
	cmd := &cobra.Command{
		Use:   "produce TOPIC",
		Short: "Produce one record per line of standard input",
		Long: "Produce one record per line of standard input. Lines are split on '\\n' only;\n" +
			"empty lines become empty records. Nothing is printed on success (see -v);\n" +
			"the exit status is non-zero if any record failed.\n\n" +
			"As other Kafka producers, a topic that does not exist is created by a cluster\n" +
			"that creates topics on demand (auto.create.topics.enable; a Courier broker does\n" +
			"unless started with --auto-create-topics=false), with its default partitions;\n" +
			"otherwise the error says the cluster did not create it.",
		Args: topicNameArg,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg.Topic = args[0]
			if cmd.Flags().Changed("key") {
				cfg.Key = []byte(key)
			}
			var err error
			if cfg.Headers, err = console.ParseHeaders(headers); err != nil {
				return err
			}
			if err := cfg.Validate(); err != nil {
				return err
			}
			opts, err := cf.connect(cmd)
			if err != nil {
				return err
			}
			stats, err := console.Produce(cmd.Context(), opts, cfg, cmd.InOrStdin())
			if verbose {
				fmt.Fprintln(cmd.ErrOrStderr(), stats)
			}
			return err
		},
	}
	cf.registerTool(cmd)
	f := cmd.Flags()
	f.StringVar(&key, "key", "", "key of every record (default: no key)")
	f.StringVar(&cfg.KeySeparator, "key-separator", "", "split each line at the first occurrence of this into key and value (Kafka's key.separator, kcat's -K); a line without it fails")
	f.BoolVar(&cfg.NullEmpty, "null-empty", false, "send an empty value as null: a tombstone, which deletes its key from a compacted topic (kcat's -Z)")
	f.Int32Var(&cfg.Partition, "partition", -1, "produce to this partition only (-1: the sticky / key-hash partitioner chooses)")
	f.StringArrayVar(&headers, "header", nil, "record header key=value, repeatable")
	f.StringVar(&cfg.Acks, "acks", "all", "acknowledgements to wait for: all, 1 or 0 (1 and 0 disable idempotence; 0 can lose records unnoticed)")
	f.StringVar(&cfg.Compression, "compression", "none", "batch compression: none, gzip, snappy, lz4 or zstd")
	f.IntVar(&cfg.MaxLineBytes, "max-line-bytes", console.DefaultMaxLineBytes, "longest input line accepted, in bytes")
	f.BoolVarP(&verbose, "verbose", "v", false, "print a summary line to standard error")
	return cmd
}
