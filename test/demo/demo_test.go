// Package demo_test runs `courier demo` as a user does, the real binary on
// free loopback ports, and checks it from outside: its JSON API, the page in
// a real browser (headless chromium driven by playwright-core, test/web),
// a clean stop on Ctrl-C (SIGINT), and that running it again resumes.
package demo_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testlog"

	"github.com/courier-dev/courier/internal/pipeline/ridersdb"
	"github.com/courier-dev/courier/internal/testkit/brokerproc"
	"github.com/courier-dev/courier/internal/testkit/testwait"
)

var courierBin string

func TestMain(m *testing.M) { brokerproc.TestMain(m, "demo-test-", &courierBin) }

// demoProc is one running `courier demo`.
type demoProc struct {
	cmd  *exec.Cmd
	web  string
	done chan error
	out  *testlog.Buffer
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
	cmd := exec.Command(courierBin, "demo", "--addr", web, "--kafka-addr", kafka,
		"--data", filepath.Join(dir, "data"), "--db", "sqlite:"+filepath.Join(dir, "riders.db"),
		"--riders", "200", "--rate", "1000/s", "--log-level", "info")
	out := &testlog.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &demoProc{cmd: cmd, web: "http://" + web, done: make(chan error, 1), out: out}
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

// interrupt sends Ctrl-C and waits for a clean exit.
func (p *demoProc) interrupt(t *testing.T) {
	t.Helper()
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	select {
	case err := <-p.done:
		p.done <- err
		if err != nil {
			t.Fatalf("demo exited with %v after Ctrl-C; output:\n%s", err, p.out.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("demo did not stop within 30s of Ctrl-C; output:\n%s", p.out.String())
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

	runBrowser(t, p.web)

	p.interrupt(t)
	if !strings.Contains(p.out.String(), "demo stopped:") {
		t.Errorf("no summary after Ctrl-C; output:\n%s", p.out.String())
	}
	rows := dbRows(t, dir)

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
	p2.interrupt(t)
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

// runBrowser runs test/web/demo.js against the page. Without node, its
// packages or chromium the test is skipped, unless COURIER_REQUIRE_BROWSER
// is set (the README's test command sets it).
func runBrowser(t *testing.T, url string) {
	t.Helper()
	root, err := brokerproc.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	webDir := filepath.Join(root, "test", "web")
	_, errNode := exec.LookPath("node")
	_, errMods := os.Stat(filepath.Join(webDir, "node_modules", "playwright-core"))
	_, errChrome := os.Stat("/usr/bin/chromium")
	if errNode != nil || errMods != nil || errChrome != nil {
		msg := fmt.Sprintf("browser test needs node, test/web/node_modules (npm ci) and /usr/bin/chromium: %v %v %v", errNode, errMods, errChrome)
		if os.Getenv("COURIER_REQUIRE_BROWSER") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	if err := os.MkdirAll(filepath.Join(webDir, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	shot := filepath.Join(webDir, "out", "demo.png")
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", filepath.Join(webDir, "demo.js"), url, shot)
	cmd.Dir = webDir
	out, err := cmd.CombinedOutput()
	t.Logf("browser: %s (screenshot %s)", strings.TrimSpace(string(out)), shot)
	if err != nil {
		t.Fatalf("browser test failed: %v", err)
	}
}
