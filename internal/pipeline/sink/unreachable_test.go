package sink_test

// unreachable_test.go runs a sink before its broker exists: it must say so
// in its log while it retries, and say so again when the broker comes.

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/run"
	"github.com/courier-dev/courier/internal/pipeline/sink"
	"github.com/courier-dev/courier/internal/testkit/brokerproc"
	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testlog"
	"github.com/courier-dev/courier/internal/testkit/testwait"
)

func TestUnreachableClusterIsLogged(t *testing.T) {
	// A closed free port: a broker that is not there yet.
	addr := brokerproc.ClosedAddr(t)

	var logs testlog.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	db := openSQLite(t)
	startSink(t, db, []string{addr}, func(c *sink.Config) {
		c.Logger = logger
		c.UnreachableLogEvery = 300 * time.Millisecond
	})
	countWarnings := func() int { return strings.Count(logs.String(), "cannot connect to the Kafka cluster; retrying") }
	testwait.For(t, 20*time.Second, "two warnings that the cluster cannot be reached", func() string {
		if n := countWarnings(); n < 2 {
			return fmt.Sprintf("%d warnings in the log:\n%s", n, logs.String())
		}
		return ""
	})
	// (That warnings repeat at the interval, not at every retry, is
	// reach.TestMonitor's, on a fake clock.)
	out := logs.String()
	for _, want := range []string{"level=WARN", "broker=" + addr, "connection refused"} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q:\n%s", want, out)
		}
	}
	// The broker comes up on that address: the sink says it reached it,
	// and goes to work.
	b := testbroker.Start(t, func(c *run.Config) { c.Addr = addr })
	t0 := time.Now()
	testwait.For(t, 30*time.Second, "the sink to say it reached the cluster", func() string {
		if !strings.Contains(logs.String(), "connected to the Kafka cluster again") {
			return "no info line yet"
		}
		return ""
	})
	t.Logf("reconnected %s after the broker started", time.Since(t0).Round(time.Millisecond))
	p := publisher(t, b.Addr)
	locs := updates(0, 100, 10)
	publishAll(t, p, locs)
	waitHistory(t, db, int64(len(locs)), 30*time.Second)
	t.Logf("log:\n%s", logs.String())
}
