package bench

// console.go measures Courier Console (issue 15's performance targets)
// end to end, as a script uses it: it seeds a cluster through the Kafka
// protocol (console_seed.go: Topics topics of one partition, Groups
// groups with committed offsets, a topic of Records records of Size bytes
// with a known key near the end), then times the console's JSON API over
// HTTP (console_http.go): the topic list, the group list, a search of the
// whole records topic for the known key (following the answer's cursor
// until the scan is done, every call summed) and a page browsed from a
// timestamp. Each is timed Rounds times; the result is each one's median
// and maximum, the request's whole answer read.
//
// The seeding and the measuring can run apart (SeedOnly, NoSeed): the
// memory benchmark (scripts/bench-console.sh) seeds a broker without its
// console the same way to learn what the console adds.
//
// Promises:
//   - every timed answer is checked: the listings hold every seeded topic
//     and group, the search finds the known key exactly once at its
//     partition and offset, the browse starts at the record the timestamp
//     names; a wrong answer fails the run, it is never timed as a success;
//   - the console's groups API missing (404: a console before consumer
//     groups) is said in the result, not hidden and not failed;
//   - nothing is deleted: the seeded names all start with Prefix, and a
//     seeding refuses to start over names that exist already.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Defaults of ConsoleConfig.
const (
	DefaultConsoleTopics     = 10_000
	DefaultConsoleGroups     = 1_000
	DefaultConsoleRecords    = 1_000_000
	DefaultConsolePartitions = 4
	DefaultConsoleRounds     = 5
	DefaultConsolePrefix     = "console-bench"
	DefaultConsoleTimeout    = 2 * time.Minute
)

// ConsoleOperations are the operations a run times, in order: the topic
// list, the group list, the search and the browse by timestamp.
var ConsoleOperations = []string{"topics", "groups", "search", "browse"}

// consoleOps are the operations by name.
var consoleOps = map[string]func(context.Context, *consoleClient, consoleWant) (opRun, error){
	"topics": timeTopics, "groups": timeGroups, "search": timeSearch, "browse": timeBrowse,
}

// ConsoleConfig describes a console run. Zero fields take the defaults.
type ConsoleConfig struct {
	// ClientOpts reach the cluster for the seeding and the checks (at
	// least kgo.SeedBrokers).
	ClientOpts []kgo.Opt
	// Console is the console's base URL ("http://127.0.0.1:8088"); empty
	// only with SeedOnly.
	Console string
	// User and Password sign in to the console when it asks for it (a
	// Kafka user on a SASL cluster, or a --console-users account).
	User, Password string
	// Prefix starts every seeded name (default "console-bench").
	Prefix string
	// Topics, Groups and Records are what the seeding makes (defaults
	// 10,000, 1,000 and 1,000,000); Size is each record's value size
	// (default 100) and Partitions the records topic's (default 4).
	Topics, Groups, Records, Size int
	Partitions                    int32
	// Rounds is how many times each operation is timed (default 5).
	Rounds int
	// Operations are the operations to time, in order (default all of
	// ConsoleOperations).
	Operations []string
	// SeedOnly seeds and measures nothing; NoSeed measures a cluster
	// seeded earlier with the same Prefix, Topics, Groups, Records and
	// Partitions.
	SeedOnly, NoSeed bool
	// Timeout bounds each timed operation, a search with all its calls
	// included (default 2 minutes).
	Timeout time.Duration
	// Log, if set, is told what runs.
	Log io.Writer
}

// ConsoleOp is one operation's timings.
type ConsoleOp struct {
	// Operation names it ("topics", "groups", "search", "browse").
	Operation string `json:"operation"`
	// Request is the first request, as sent.
	Request string `json:"request"`
	// Items counts what one answer carried: topics, groups, records
	// scanned by the search, records of the page.
	Items int `json:"items"`
	// Calls counts the HTTP requests of one operation (a search follows
	// its cursor).
	Calls int `json:"calls"`
	// Bytes is one operation's answer size, summed over its calls.
	Bytes int64 `json:"bytes"`
	// Ms are each round's milliseconds; MedianMs and MaxMs sum them up.
	Ms       []float64 `json:"ms"`
	MedianMs float64   `json:"median_ms"`
	MaxMs    float64   `json:"max_ms"`
	// Skipped says why the operation was not measured ("" when it was).
	Skipped string `json:"skipped,omitempty"`
}

// ConsoleSeed says what a seeding made and how long it took.
type ConsoleSeed struct {
	Topics         int     `json:"topics"`
	Groups         int     `json:"groups"`
	Records        int     `json:"records"`
	Size           int     `json:"size"`
	Partitions     int32   `json:"partitions"`
	RecordsTopic   string  `json:"records_topic"`
	TopicsSeconds  float64 `json:"topics_seconds"`
	RecordsSeconds float64 `json:"records_seconds"`
	GroupsSeconds  float64 `json:"groups_seconds"`
}

// ConsoleResult is a run's outcome: the seeding (nil with NoSeed) and
// the operations (none with SeedOnly).
type ConsoleResult struct {
	Seed       *ConsoleSeed `json:"seed,omitempty"`
	Operations []ConsoleOp  `json:"operations,omitempty"`
}

// withDefaults checks cfg and fills in its defaults.
func (cfg ConsoleConfig) withDefaults() (ConsoleConfig, error) {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	def(&cfg.Topics, DefaultConsoleTopics)
	def(&cfg.Groups, DefaultConsoleGroups)
	def(&cfg.Records, DefaultConsoleRecords)
	def(&cfg.Size, DefaultSize)
	def(&cfg.Rounds, DefaultConsoleRounds)
	if cfg.Partitions == 0 {
		cfg.Partitions = DefaultConsolePartitions
	}
	if cfg.Prefix == "" {
		cfg.Prefix = DefaultConsolePrefix
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = DefaultConsoleTimeout
	}
	if len(cfg.Operations) == 0 {
		cfg.Operations = ConsoleOperations
	}
	for _, op := range cfg.Operations {
		if consoleOps[op] == nil {
			return cfg, fmt.Errorf("bench console: operation %q: want %s", op, strings.Join(ConsoleOperations, ", "))
		}
	}
	switch {
	case cfg.Topics < 0 || cfg.Groups < 0 || cfg.Size < 0 || cfg.Rounds < 0 || cfg.Partitions < 0 || cfg.Timeout < 0:
		return cfg, errors.New("bench console: topics, groups, size, partitions, rounds and timeout must be positive")
	case cfg.Records < consoleKeyBack+1 || cfg.Records > consoleMaxRecords:
		return cfg, fmt.Errorf("bench console: %d records: want %d to %d", cfg.Records, consoleKeyBack+1, consoleMaxRecords)
	case cfg.SeedOnly && cfg.NoSeed:
		return cfg, errors.New("bench console: --seed-only and --no-seed exclude each other")
	case !cfg.SeedOnly && cfg.Console == "":
		return cfg, errors.New("bench console: give the console's URL (--console), or --seed-only")
	}
	if !cfg.SeedOnly {
		u, err := url.Parse(cfg.Console)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return cfg, fmt.Errorf("bench console: --console %q: want a URL such as http://127.0.0.1:8088", cfg.Console)
		}
	}
	return cfg, nil
}

// Validate checks cfg as RunConsole would, before anything connects.
func (cfg ConsoleConfig) Validate() error {
	_, err := cfg.withDefaults()
	return err
}

// logf tells cfg.Log what runs.
func (cfg ConsoleConfig) logf(format string, args ...any) {
	if cfg.Log != nil {
		fmt.Fprintf(cfg.Log, "bench console: "+format+"\n", args...)
	}
}

// RunConsole seeds the cluster (unless NoSeed) and times the console's
// API (unless SeedOnly).
func RunConsole(ctx context.Context, cfg ConsoleConfig) (*ConsoleResult, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	cl, err := kgo.NewClient(cfg.ClientOpts...)
	if err != nil {
		return nil, fmt.Errorf("bench console: %w", err)
	}
	defer cl.Close()
	res := &ConsoleResult{}
	if !cfg.NoSeed {
		if res.Seed, err = seedConsole(ctx, cl, cfg); err != nil {
			return nil, err
		}
	}
	if cfg.SeedOnly {
		return res, nil
	}
	want, err := consoleExpectations(ctx, cl, cfg)
	if err != nil {
		return nil, err
	}
	cc, err := newConsoleClient(ctx, cfg)
	if err != nil {
		return nil, err
	}
	for _, name := range cfg.Operations {
		out := ConsoleOp{Operation: name}
		for round := range cfg.Rounds {
			octx, cancel := context.WithTimeout(ctx, cfg.Timeout)
			r, err := consoleOps[name](octx, cc, want)
			cancel()
			if err != nil {
				return nil, fmt.Errorf("bench console: %s, round %d: %w", name, round+1, err)
			}
			out.Request, out.Items, out.Calls, out.Bytes, out.Skipped = r.request, r.items, r.calls, r.bytes, r.skipped
			if r.skipped != "" {
				cfg.logf("%s skipped: %s", name, r.skipped)
				break
			}
			ms := float64(r.took.Microseconds()) / 1000
			out.Ms = append(out.Ms, ms)
			cfg.logf("%s round %d: %.1f ms (%d items, %d calls)", name, round+1, ms, r.items, r.calls)
		}
		out.MedianMs, out.MaxMs = medianMax(out.Ms)
		res.Operations = append(res.Operations, out)
	}
	return res, nil
}

// opRun is one timed operation's outcome.
type opRun struct {
	request string
	took    time.Duration
	items   int
	calls   int
	bytes   int64
	skipped string
}
