package bench

// console_test.go runs the console benchmark small (50 topics, 5 groups,
// 10,000 records) against a real broker and a real console, and checks
// that its checks refuse wrong answers.

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/tools/webconsole"
	"github.com/twmb/franz-go/pkg/kgo"
)

// startBenchConsole serves a console for the broker at addr until the
// test ends, and returns its URL.
func startBenchConsole(t *testing.T, addr string, users map[string]string) string {
	t.Helper()
	s, err := webconsole.New(webconsole.Config{
		Access: webconsole.Access{Base: []kgo.Opt{kgo.SeedBrokers(addr)}},
		Users:  users, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("console: %v", err)
		}
	})
	return "http://" + ln.Addr().String()
}

// TestConsoleBench seeds a small cluster, times the console on it, then
// times it again without seeding; a second seeding under the same prefix
// is refused, and a --no-seed run with other sizes is told it does not
// match.
func TestConsoleBench(t *testing.T) {
	b := testbroker.Start(t)
	url := startBenchConsole(t, b.Addr, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var log strings.Builder
	cfg := ConsoleConfig{ClientOpts: []kgo.Opt{kgo.SeedBrokers(b.Addr)}, Console: url,
		Topics: 50, Groups: 5, Records: 10_000, Rounds: 2, Log: &log}
	res, err := RunConsole(ctx, cfg)
	if err != nil {
		t.Fatalf("%v\n%s", err, log.String())
	}
	if s := res.Seed; s == nil || s.Topics != 50 || s.Groups != 5 || s.Records != 10_000 || s.Partitions != DefaultConsolePartitions {
		t.Fatalf("seed: %+v", res.Seed)
	}
	ops := map[string]ConsoleOp{}
	for _, op := range res.Operations {
		ops[op.Operation] = op
		if op.Skipped == "" && (len(op.Ms) != 2 || op.MaxMs < op.MedianMs || op.MedianMs <= 0 || op.Bytes <= 0) {
			t.Errorf("%s: timings %+v", op.Operation, op)
		}
	}
	if len(ops) != 4 {
		t.Fatalf("operations: %+v", res.Operations)
	}
	if op := ops["topics"]; op.Items < 51 || op.Calls != 1 { // the seeded topics, and __consumer_offsets
		t.Errorf("topics: %+v", op)
	}
	// The groups API may be missing (a console before consumer groups):
	// then the run says so instead of timing a 404.
	if op := ops["groups"]; op.Skipped != "" {
		if !strings.Contains(op.Skipped, "404") || len(op.Ms) != 0 {
			t.Errorf("groups skipped: %+v", op)
		}
	} else if op.Items != 5 {
		t.Errorf("groups: %+v", op)
	}
	if op := ops["search"]; op.Items != 10_000 || op.Calls < 1 || !strings.Contains(op.Request, "key=key-0000009993") {
		t.Errorf("search: %+v", op)
	}
	if op := ops["browse"]; op.Items != consolePageLimit || !strings.Contains(op.Request, "from=timestamp") {
		t.Errorf("browse: %+v", op)
	}
	t.Logf("first run:\n%s", log.String())

	cfg.NoSeed, cfg.Rounds = true, 1
	res, err = RunConsole(ctx, cfg)
	if err != nil || res.Seed != nil || len(res.Operations) != 4 {
		t.Fatalf("--no-seed: %+v, %v", res, err)
	}
	cfg.NoSeed, cfg.SeedOnly = false, true
	if _, err := RunConsole(ctx, cfg); err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Errorf("seeding twice: %v", err)
	}
	cfg.NoSeed, cfg.SeedOnly, cfg.Records = true, false, 20_000
	if _, err := RunConsole(ctx, cfg); err == nil || !strings.Contains(err.Error(), "has 10000 records") {
		t.Errorf("--no-seed with other sizes: %v", err)
	}
}

// TestConsoleBenchSignIn: a console with sign-in is measured signed in;
// without the password the run says what to give, with a wrong one it
// carries the console's refusal.
func TestConsoleBenchSignIn(t *testing.T) {
	b := testbroker.Start(t)
	url := startBenchConsole(t, b.Addr, map[string]string{"ops": "s3cret"})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := ConsoleConfig{ClientOpts: []kgo.Opt{kgo.SeedBrokers(b.Addr)}, Console: url, Topics: 3, Groups: 1, Records: 100, Rounds: 1}
	if _, err := RunConsole(ctx, cfg); err == nil || !strings.Contains(err.Error(), "--console-user") {
		t.Fatalf("without a password: %v", err)
	}
	cfg.NoSeed, cfg.User, cfg.Password = true, "ops", "wrong"
	if _, err := RunConsole(ctx, cfg); err == nil || !strings.Contains(err.Error(), "wrong user name or password") {
		t.Fatalf("wrong password: %v", err)
	}
	cfg.Password = "s3cret"
	if res, err := RunConsole(ctx, cfg); err != nil || len(res.Operations) != 4 {
		t.Fatalf("signed in: %+v, %v", res, err)
	}
}

// TestConsoleBenchChecksAnswers: a console whose answers miss what was
// seeded fails the run (nothing wrong is timed as a success).
func TestConsoleBenchChecksAnswers(t *testing.T) {
	b := testbroker.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cfg := ConsoleConfig{ClientOpts: []kgo.Opt{kgo.SeedBrokers(b.Addr)}, Topics: 3, Groups: 1, Records: 100, Rounds: 1}
	cfg.SeedOnly = true
	if _, err := RunConsole(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	// A console that lists no topics.
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/session", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"login_required":false,"csrf":"x"}`))
	})
	mux.HandleFunc("GET /api/topics", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = w.Write([]byte(`{"topics":[{"name":"console-bench-t00000"}]}`))
	})
	fake := httptest.NewServer(mux)
	defer fake.Close()
	cfg.SeedOnly, cfg.NoSeed, cfg.Console = false, true, fake.URL
	if _, err := RunConsole(ctx, cfg); err == nil || !strings.Contains(err.Error(), "listed 1 of the 3 seeded topics") {
		t.Errorf("a short topic list: %v", err)
	}
}

// TestConsoleConfigDefaults: bad settings are refused before anything runs.
func TestConsoleConfigDefaults(t *testing.T) {
	cfg, err := ConsoleConfig{Console: "http://127.0.0.1:1"}.withDefaults()
	if err != nil || cfg.Topics != DefaultConsoleTopics || cfg.Groups != DefaultConsoleGroups || cfg.Records != DefaultConsoleRecords ||
		cfg.Partitions != DefaultConsolePartitions || cfg.Prefix != DefaultConsolePrefix || cfg.Rounds != DefaultConsoleRounds {
		t.Fatalf("defaults: %+v, %v", cfg, err)
	}
	for _, c := range []ConsoleConfig{
		{},                                 // no console
		{Console: "127.0.0.1:8088"},        // not a URL
		{Console: "ftp://x"},               // not HTTP
		{Console: "http://x", Records: 5},  // too few for the key 7 before the end
		{Console: "http://x", Topics: -1},  // negative
		{Console: "http://x", Rounds: -1},  // negative
		{SeedOnly: true, NoSeed: true},     // both
		{Console: "http://x", Groups: -10}, // negative
		{Console: "http://x", Operations: []string{"topics", "lag"}}, // no such operation
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v: no error", c)
		}
	}
	if _, err := (ConsoleConfig{SeedOnly: true}).withDefaults(); err != nil {
		t.Errorf("--seed-only without a console: %v", err)
	}
}
