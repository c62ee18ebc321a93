// Package console_test drives Courier Console as users do: the real
// `courier` binary (a broker with --console-addr, or `courier console`
// against a cluster) on free loopback ports, checked through its HTTP API
// and in a real browser (headless chromium driven by playwright-core, the
// scripts test/web/console-*.js).
package console_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/brokerproc"
	"github.com/courier-dev/courier/internal/testkit/testbrowser"
)

var courierBin string

func TestMain(m *testing.M) { brokerproc.TestMain(m, "console-test-", &courierBin) }

// startBroker runs `courier broker` with the console on a free loopback
// port (and args added); it returns the broker and the console's URL.
func startBroker(t *testing.T, args ...string) (*brokerproc.Broker, string) {
	t.Helper()
	return startBrokerAt(t, t.TempDir(), nil, args...)
}

// startBrokerAt is startBroker on the data directory dir (made ready
// beforehand, e.g. users created offline), with brokerproc options (extra
// listeners).
func startBrokerAt(t *testing.T, dir string, opts []brokerproc.Opt, args ...string) (*brokerproc.Broker, string) {
	t.Helper()
	addr, err := brokerproc.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	opts = append(opts, brokerproc.Args(append([]string{"--console-addr", addr}, args...)...))
	b, err := brokerproc.Start(courierBin, dir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Stop(); err != nil {
			t.Errorf("stop broker: %v", err)
		}
		if t.Failed() {
			t.Logf("broker output:\n%s", b.OutputTail())
		}
	})
	if !brokerproc.WaitListening(addr, 30*time.Second, nil) {
		t.Fatalf("console not listening on %s", addr)
	}
	return b, "http://" + addr
}

// webDir is test/web, where the browser scripts and their node_modules are.
func webDir(t *testing.T) string {
	t.Helper()
	root, err := brokerproc.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Join(root, "test", "web")
}

// runBrowser runs `node test/web/SCRIPT args...` and returns the JSON
// object of its last output line (what it saw); without a browser the test
// is skipped (testbrowser.Dir). env adds environment variables (the
// scripts take their users and passwords from there).
func runBrowser(t *testing.T, script string, env []string, args ...string) map[string]any {
	t.Helper()
	dir := testbrowser.Dir(t)
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", append([]string{filepath.Join(dir, script)}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "COURIER_SHOTS="+shotsDir(t)), env...)
	out, err := cmd.CombinedOutput()
	t.Logf("browser %s:\n%s", script, strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("browser test %s failed: %v", script, err)
	}
	var seen map[string]any
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(line, "{") {
			seen = nil
			if json.Unmarshal([]byte(line), &seen) != nil {
				seen = nil
			}
		}
	}
	if seen == nil {
		t.Fatalf("browser test %s printed no JSON result", script)
	}
	return seen
}

// shotsDir is where the browser scripts save screenshots: test/web/out,
// or COURIER_CONSOLE_SHOTS (scripts/console-screenshots.sh sets it to
// docs/console to refresh the README's pictures).
func shotsDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("COURIER_CONSOLE_SHOTS"); d != "" {
		return d
	}
	d := filepath.Join(webDir(t), "out")
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	return d
}
