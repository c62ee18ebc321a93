// Package demo_test runs `courier demo` as a user does, the real binary on
// free loopback ports, and checks it from outside: its JSON API, the page in
// a real browser (headless chromium driven by playwright-core, test/web),
// a clean stop on SIGTERM (exact summary, offsets committed for every row
// written) and on Ctrl-C (SIGINT), that running it again resumes, and that
// a database it cannot open leaves nothing behind and no password shown.
package demo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testlog"

	"github.com/courier-dev/courier/internal/pipeline/ridersdb"
	"github.com/courier-dev/courier/internal/testkit/brokerproc"
	"github.com/courier-dev/courier/internal/testkit/testbrowser"
	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

var courierBin string

func TestMain(m *testing.M) { brokerproc.TestMain(m, "demo-test-", &courierBin) }

// demoProc is one running `courier demo`.
type demoProc struct {
	cmd  *exec.Cmd
	web  string
	done chan error
	out  *testlog.Buffer
	// console is the URL of Courier Console on the demo's broker.
	console string
}

// startDemo runs the demo on dir's data and database.
func startDemo(t *testing.T, dir string) *demoProc {
	t.Helper()
	web, err := brokerproc.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	kafka, err := brokerproc.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	console, err := brokerproc.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(courierBin, "demo", "--addr", web, "--kafka-addr", kafka, "--console-addr", console,
		"--data", filepath.Join(dir, "data"), "--db", "sqlite:"+filepath.Join(dir, "riders.db"),
		"--riders", "200", "--rate", "1000/s", "--log-level", "info")
	out := &testlog.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &demoProc{cmd: cmd, web: "http://" + web, console: "http://" + console, done: make(chan error, 1), out: out}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		if t.Failed() {
			t.Logf("demo output:\n%s", out.String())
		}
	})
	return p
}

// state fetches /api/state.
func (p *demoProc) state(t *testing.T) (st struct {
	Riders [][]any `json:"riders"`
	Groups []struct {
		Group   string `json:"group"`
		Members []struct {
			ClientID   string  `json:"client_id"`
			Partitions []int32 `json:"partitions"`
		} `json:"members"`
	} `json:"groups"`
	Totals struct {
		Accepted int64 `json:"accepted"`
		Written  int64 `json:"written"`
		DBRows   int64 `json:"db_rows"`
	} `json:"totals"`
}, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", p.web+"/api/state", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

// stop sends sig (SIGINT is Ctrl-C, SIGTERM how systemd and containers
// stop a process) and waits for a clean exit.
func (p *demoProc) stop(t *testing.T, sig syscall.Signal) {
	t.Helper()
	_ = p.cmd.Process.Signal(sig)
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			t.Fatalf("demo exited with %v after %v; output:\n%s", err, sig, p.out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("demo did not stop within 30s of %v; output:\n%s", sig, p.out.String())
	}
}

func TestDemoRunsShowsPageAndResumes(t *testing.T) {
	dir := t.TempDir()
	p := startDemo(t, dir)

	// Riders flow into the database and both groups are balanced.
	testwait.For(t, 90*time.Second, "demo pipeline running", func() string {
		st, err := p.state(t)
		if err != nil {
			return err.Error()
		}
		if len(st.Riders) == 0 || st.Totals.DBRows == 0 {
			return fmt.Sprintf("%d riders on the map, %d rows in db", len(st.Riders), st.Totals.DBRows)
		}
		for _, g := range st.Groups {
			parts := 0
			for _, m := range g.Members {
				parts += len(m.Partitions)
			}
			want := 2
			if g.Group == "live-map" {
				want = 1
			}
			if len(g.Members) != want || parts != 4 {
				return fmt.Sprintf("group %s: %d members with %d partitions", g.Group, len(g.Members), parts)
			}
		}
		if len(st.Groups) != 2 {
			return fmt.Sprintf("%d groups shown", len(st.Groups))
		}
		return ""
	})

	checkConsoleLinked(t, p)
	runBrowser(t, p.web)

	// SIGTERM stops it as Ctrl-C does: every part in order, the sinks'
	// last batches written and committed, nothing to warn about, and a
	// summary that counts what the (fresh) database holds.
	p.stop(t, syscall.SIGTERM)
	if out := p.out.String(); strings.Contains(out, "level=WARN") || strings.Contains(out, "level=ERROR") {
		t.Errorf("the demo complained while stopping:\n%s", out)
	}
	rows := dbRows(t, dir)
	m := regexp.MustCompile(`demo stopped: \d+ updates accepted, (\d+) rows written in \d+ transactions; the database holds (\d+) rows`).FindStringSubmatch(p.out.String())
	if m == nil || m[1] != fmt.Sprint(rows) || m[2] != fmt.Sprint(rows) {
		t.Errorf("summary %q, but the database holds %d rows; output:\n%s", m, rows, p.out.String())
	}
	if committed := committedOffsets(t, filepath.Join(dir, "data")); committed != rows {
		t.Errorf("db-writer committed %d offsets for %d rows written", committed, rows)
	}

	// Running it again resumes on the same data and database.
	p2 := startDemo(t, dir)
	testwait.For(t, 90*time.Second, "resumed demo writing rows", func() string {
		st, err := p2.state(t)
		if err != nil {
			return err.Error()
		}
		if st.Totals.Written == 0 || st.Totals.DBRows <= rows {
			return fmt.Sprintf("%d rows written since restart, %d in db (had %d)", st.Totals.Written, st.Totals.DBRows, rows)
		}
		return ""
	})
	p2.stop(t, syscall.SIGINT)
}

// committedOffsets starts a broker on the demo's data directory and
// returns the sum of the db-writer group's committed offsets: the records
// it consumed from the topic, which the demo created fresh.
func committedOffsets(t *testing.T, dataDir string) int64 {
	t.Helper()
	b := brokerproc.StartT(t, courierBin, dataDir)
	defer func() {
		if err := b.Stop(); err != nil {
			t.Error(err)
		}
	}()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	offs, err := kadm.NewClient(cl).FetchOffsets(ctx, "db-writer")
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	offs.Each(func(o kadm.OffsetResponse) { sum += o.At })
	return sum
}

// dbRows counts the history rows the demo left in its database.
func dbRows(t *testing.T, dir string) int64 {
	t.Helper()
	db, err := ridersdb.Open(context.Background(), "sqlite:"+filepath.Join(dir, "riders.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, riders, err := db.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if rows == 0 || riders == 0 || riders > 200 {
		t.Fatalf("database after the demo: %d rows, %d riders (200 simulated)", rows, riders)
	}
	return rows
}

// runBrowser runs test/web/demo.js against the page (skipped without a
// browser: testbrowser.Dir).
func runBrowser(t *testing.T, url string) {
	t.Helper()
	webDir := testbrowser.Dir(t)
	if err := os.MkdirAll(filepath.Join(webDir, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(webDir, "out", "demo.png")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join(webDir, "demo.js"), url, shot)
	cmd.Dir = webDir
	out, err := cmd.CombinedOutput()
	t.Logf("browser: %s (screenshots %s and its -390.png, the phone's)", strings.TrimSpace(string(out)), shot)
	if err != nil {
		t.Fatalf("browser test failed: %v", err)
	}
}

// TestBadDatabaseShowsNoPassword runs `courier demo` and `courier sink`
// with a PostgreSQL DSN that cannot connect: each fails with one message
// naming the database with its password masked, and the demo leaves no
// data directory behind.
func TestBadDatabaseShowsNoPassword(t *testing.T) {
	const secret = "s3cretpw"
	dsn := "postgres://courier:" + secret + "@127.0.0.1:1/riders"
	dir := t.TempDir()
	web, err := brokerproc.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"demo", "--db", dsn, "--addr", web, "--kafka-addr", "127.0.0.1:0", "--console-addr", "", "--data", filepath.Join(dir, "data")},
		{"sink", "--db", dsn, "--brokers", "127.0.0.1:1"},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		cmd := exec.CommandContext(ctx, courierBin, args...)
		cmd.Dir = dir
		out, err := cmd.CombinedOutput()
		cancel()
		if err == nil || strings.Contains(string(out), secret) || !strings.Contains(string(out), "postgres://courier:xxxxx@127.0.0.1:1/riders") {
			t.Errorf("courier %s with a bad database: %v\n%s", args[0], err, out)
		}
	}
	if left, _ := os.ReadDir(dir); len(left) > 0 {
		t.Errorf("the failed demo left %d files behind", len(left))
	}
}

// checkConsoleLinked: the page's city says where Courier Console is (the
// header links to it), and the console answers there, showing the demo's
// topic through the embedded broker's in-process connections.
func checkConsoleLinked(t *testing.T, p *demoProc) {
	t.Helper()
	var city struct {
		Console string `json:"console"`
	}
	getJSON(t, p.web+"/api/city", &city)
	if city.Console != p.console {
		t.Fatalf("the page links the console at %q, want %q", city.Console, p.console)
	}
	var clusters struct {
		Data []struct {
			ClusterID string `json:"cluster_id"`
		} `json:"data"`
	}
	getJSON(t, p.console+"/v3/clusters", &clusters)
	if len(clusters.Data) != 1 || clusters.Data[0].ClusterID == "" {
		t.Fatalf("the console's /v3/clusters: %+v", clusters)
	}
}

// getJSON decodes the JSON answer of GET url into v.
func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
}
