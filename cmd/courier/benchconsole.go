package main

// benchconsole.go wires `courier bench console` (Courier Console's
// performance targets, timed through its HTTP API) to package bench.

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/courier-dev/courier/internal/tools/bench"
	"github.com/spf13/cobra"
)

// newBenchConsoleCommand returns `courier bench console`.
func newBenchConsoleCommand() *cobra.Command {
	var (
		cf     clientFlags
		cfg    bench.ConsoleConfig
		asJSON bool
	)
	cmd := &cobra.Command{
		Use:   "console",
		Short: "Measure Courier Console: the topic and group lists, a search of a million records, a browse by timestamp",
		Long: `Seed a cluster through --brokers, then time Courier Console's JSON API at
--console as a script uses it (a cookie jar and the session's CSRF token;
signed in with --console-user/--console-password, or --sasl-user and
--sasl-password, when the console asks for it).

The seeding makes --topics topics of one partition (a thousand per request),
a topic "<prefix>-records" of --records records of --size bytes on
--partitions partitions (record i has key key-<i, ten digits> and timestamp
base+i ms), and --groups groups with committed offsets on it and on one small
topic each. Every name starts with --prefix. Nothing is deleted: seed a
scratch cluster.

Timed, --rounds times each: GET /api/topics (it must list every seeded topic),
GET /api/groups (every seeded group; skipped, and said so, on a console
without the groups API), a search of the whole records topic for the key of
the record 7 before the end (following the answer's cursor until the scan is
done; the calls summed; it must find the key once, where it was written) and
a page browsed from the timestamp of the record 1,000 before the end (it must
start there). Each time runs from the first request to the last answer's
last byte. It prints each operation's median and maximum in milliseconds.

--seed-only seeds and times nothing (no --console needed); --no-seed times a
cluster seeded earlier with the same --prefix, --topics, --groups, --records
and --partitions. scripts/bench-console.sh runs both around the broker's
memory readings.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := cfg.Validate(); err != nil {
				return err
			}
			opts, err := cf.connect(cmd)
			if err != nil {
				return err
			}
			cfg.ClientOpts, cfg.Log = opts, cmd.ErrOrStderr()
			if cfg.User == "" && cfg.Password == "" {
				cfg.User, cfg.Password = cf.saslUser, cf.saslPass
			}
			res, err := bench.RunConsole(cmd.Context(), cfg)
			if err != nil {
				return err
			}
			if asJSON {
				return json.NewEncoder(cmd.OutOrStdout()).Encode(res)
			}
			writeConsoleTable(cmd.OutOrStdout(), res)
			return nil
		},
	}
	cf.registerTool(cmd)
	f := cmd.Flags()
	f.StringVar(&cfg.Console, "console", "", "the console's URL, e.g. http://127.0.0.1:8088")
	f.StringVar(&cfg.User, "console-user", "", "user to sign in to the console as (default --sasl-user)")
	f.StringVar(&cfg.Password, "console-password", "", "password of --console-user (default --sasl-password; prefer the environment: COURIER_CONSOLE_PASSWORD)")
	f.StringVar(&cfg.Prefix, "prefix", bench.DefaultConsolePrefix, "start of every seeded topic and group name")
	f.IntVar(&cfg.Topics, "topics", bench.DefaultConsoleTopics, "topics of one partition to seed")
	f.IntVar(&cfg.Groups, "groups", bench.DefaultConsoleGroups, "groups with committed offsets to seed")
	f.IntVar(&cfg.Records, "records", bench.DefaultConsoleRecords, "records in the searched topic")
	f.IntVar(&cfg.Size, "size", bench.DefaultSize, "value size of those records in bytes")
	f.Int32Var(&cfg.Partitions, "partitions", bench.DefaultConsolePartitions, "partitions of the searched topic")
	f.StringSliceVar(&cfg.Operations, "operations", bench.ConsoleOperations, "operations to time, in order, comma-separated")
	f.IntVar(&cfg.Rounds, "rounds", bench.DefaultConsoleRounds, "times each operation is timed")
	f.DurationVar(&cfg.Timeout, "timeout", bench.DefaultConsoleTimeout, "give up on an operation (a search with all its calls) after this long")
	f.BoolVar(&cfg.SeedOnly, "seed-only", false, "seed the cluster and time nothing")
	f.BoolVar(&cfg.NoSeed, "no-seed", false, "time a cluster seeded earlier with the same --prefix and sizes")
	f.BoolVar(&asJSON, "json", false, "print the results as JSON")
	return cmd
}

// writeConsoleTable prints a console run as Markdown: the seeding, then
// the operations' timings.
func writeConsoleTable(w io.Writer, res *bench.ConsoleResult) {
	if s := res.Seed; s != nil {
		fmt.Fprintf(w, "Seeded %d topics in %.1f s, %d records of %d bytes on %d partitions (%s) in %.1f s, %d groups in %.1f s.\n",
			s.Topics, s.TopicsSeconds, s.Records, s.Size, s.Partitions, s.RecordsTopic, s.RecordsSeconds, s.Groups, s.GroupsSeconds)
	}
	if len(res.Operations) == 0 {
		return
	}
	if res.Seed != nil {
		fmt.Fprintln(w)
	}
	fmt.Fprintln(w, "| operation | items | calls | answer bytes | rounds | median ms | max ms |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|")
	for _, op := range res.Operations {
		if op.Skipped != "" {
			fmt.Fprintf(w, "| %s | skipped: %s | | | | | |\n", op.Operation, op.Skipped)
			continue
		}
		fmt.Fprintf(w, "| %s | %d | %d | %d | %d | %.1f | %.1f |\n", op.Operation, op.Items, op.Calls, op.Bytes, len(op.Ms), op.MedianMs, op.MaxMs)
	}
	fmt.Fprintln(w)
	for _, op := range res.Operations {
		fmt.Fprintf(w, "- %s: `%s`\n", op.Operation, strings.ReplaceAll(op.Request, "`", "'"))
	}
}
