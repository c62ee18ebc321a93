package demo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/ridersdb"
	"github.com/courier-dev/courier/internal/testkit/testlog"
	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kfake"
)

// TestDemoAgainstExternalCluster runs the demo with --brokers pointing at a
// three-broker cluster (kfake standing in for Kafka) instead of the
// embedded broker: the pipeline only speaks the Kafka protocol.
func TestDemoAgainstExternalCluster(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(3))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ready := make(chan string, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "riders.db")
	status := &testlog.Buffer{}
	go func() {
		done <- Run(ctx, Config{
			Brokers: c.ListenAddrs(),
			DB:      dsn,
			WebAddr: "127.0.0.1:0",
			Riders:  50, Rate: 500, Sinks: 2,
			Status: status,
			Ready:  func(webURL, _ string) { ready <- webURL },
		})
	}()
	var url string
	select {
	case url = <-ready:
	case err := <-done:
		t.Fatalf("demo stopped before it was ready: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("demo not ready within 30s")
	}
	testwait.For(t, 60*time.Second, "rows written, both groups and both topics shown", func() string {
		var st stateView
		resp, err := http.Get(url + "/api/state")
		if err != nil {
			return err.Error()
		}
		defer resp.Body.Close()
		if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
			return err.Error()
		}
		if st.Totals.Written == 0 || len(st.Riders) == 0 {
			return fmt.Sprintf("%d rows written, %d riders on the map", st.Totals.Written, len(st.Riders))
		}
		members := map[string]int{}
		for _, g := range st.Groups {
			members[g.Group] = len(g.Members)
		}
		if members[SinkGroup] != 2 || members[MapGroup] != 1 {
			return fmt.Sprintf("group members %v", members)
		}
		// The sizes panel: both topics, with records; rider-latest
		// compacted.
		topics := map[string]topicView{}
		for _, tv := range st.Topics {
			topics[tv.Topic] = tv
		}
		if u, l := topics["rider-updates"], topics["rider-latest"]; u.Records == 0 || l.Records == 0 || l.Policy != "compact" || u.Policy != "delete" {
			return fmt.Sprintf("topics %+v", st.Topics)
		}
		return ""
	})
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("demo stopped with %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("demo did not stop within 30s of cancel")
	}
	checkSummary(t, status.String(), dsn)
}

// summaryRE is the line the demo prints when it stops.
var summaryRE = regexp.MustCompile(`demo stopped: (\d+) updates accepted, (\d+) rows written in (\d+) transactions; the database holds (\d+) rows of (\d+) riders\n`)

// checkSummary checks that the demo's closing summary (in out) counts what
// the database at dsn holds: a fresh database has exactly the rows written.
func checkSummary(t *testing.T, out, dsn string) {
	t.Helper()
	m := summaryRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no summary in the output:\n%s", out)
	}
	db, err := ridersdb.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, riders, err := db.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	written, _ := strconv.ParseInt(m[2], 10, 64)
	if written == 0 || written != rows || m[4] != fmt.Sprint(rows) || m[5] != fmt.Sprint(riders) {
		t.Errorf("summary %q; the database holds %d rows of %d riders", strings.TrimSpace(m[0]), rows, riders)
	}
}

func TestHuman(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 950: "950", 9999: "9999", 12345: "12.3k", 4560000: "4.56M"} {
		if got := human(in); got != want {
			t.Errorf("human(%v) = %q, want %q", in, got, want)
		}
	}
}

// TestBusyPortCreatesNothing runs the demo with its web or Kafka address
// taken: it must say which address is busy and leave no database or data
// directory behind.
func TestBusyPortCreatesNothing(t *testing.T) {
	for _, role := range []string{RoleWeb, RoleKafka} {
		t.Run(role, func(t *testing.T) {
			busy, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer busy.Close()
			dir := t.TempDir()
			cfg := Config{
				DataDir:    filepath.Join(dir, "data"),
				DB:         "sqlite:" + filepath.Join(dir, "riders.db"),
				WebAddr:    "127.0.0.1:0",
				BrokerAddr: "127.0.0.1:0",
				StartBroker: func(dataDir, _ string, _ *slog.Logger) (string, func() error, error) {
					// What the real broker does first.
					if err := os.MkdirAll(dataDir, 0o755); err != nil {
						return "", nil, err
					}
					return "", nil, errors.New("the broker was started although an address is busy")
				},
			}
			if role == RoleWeb {
				cfg.WebAddr = busy.Addr().String()
			} else {
				cfg.BrokerAddr = busy.Addr().String()
			}
			err = Run(context.Background(), cfg)
			var le *ListenError
			if !errors.As(err, &le) || !le.Busy() || le.Role != role || le.Addr != busy.Addr().String() {
				t.Fatalf("Run: %v, want a busy %s at %s", err, role, busy.Addr())
			}
			if !strings.Contains(err.Error(), busy.Addr().String()) {
				t.Errorf("error %q does not name the address", err)
			}
			left, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range left {
				t.Errorf("left behind: %s", e.Name())
			}
		})
	}
}
