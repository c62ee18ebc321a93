package brokerproc_test

import (
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/brokerproc"
)

// bin is the courier binary built once by TestMain.
var bin string

func TestMain(m *testing.M) { brokerproc.TestMain(m, "brokerproc-test-", &bin) }

func TestFreeAddrIsLoopbackAndBindable(t *testing.T) {
	addr, err := brokerproc.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(addr, "127.0.0.1:") {
		t.Fatalf("FreeAddr = %q, want 127.0.0.1:PORT", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("listen on the free address: %v", err)
	}
	ln.Close()
}

func TestLifecycle(t *testing.T) {
	b := brokerproc.StartT(t, bin, t.TempDir(), brokerproc.Fsync("always"))
	addr, httpAddr, pid := b.Addr(), b.HTTPAddr(), b.PID()
	if !b.Running() || pid == 0 {
		t.Fatalf("after Start: Running=%v PID=%d", b.Running(), pid)
	}
	getMetrics(t, httpAddr)

	if err := b.Stop(); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if b.Running() {
		t.Fatal("Running after Stop")
	}
	if err := b.Stop(); err != nil {
		t.Fatalf("second Stop: %v", err)
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Fatal("Kafka port still accepts connections after Stop")
	}

	if err := b.Restart(); err != nil {
		t.Fatalf("Restart after Stop: %v", err)
	}
	if b.Addr() != addr || b.HTTPAddr() != httpAddr || b.PID() == pid {
		t.Fatalf("after Restart: addr %s http %s pid %d; before %s %s %d", b.Addr(), b.HTTPAddr(), b.PID(), addr, httpAddr, pid)
	}
	if err := b.Restart(); err == nil {
		t.Fatal("Restart of a running broker succeeded")
	}

	if err := b.Kill(); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	if b.Running() {
		t.Fatal("Running after Kill")
	}
	if err := b.Kill(); err != nil {
		t.Fatalf("second Kill: %v", err)
	}
	if err := b.Restart(); err != nil {
		t.Fatalf("Restart after Kill: %v", err)
	}
	getMetrics(t, httpAddr)
	if !strings.Contains(b.OutputTail(), "broker listening") {
		t.Errorf("OutputTail lacks the broker's log:\n%s", b.OutputTail())
	}
}

func TestStartReportsBadFlags(t *testing.T) {
	start := time.Now()
	_, err := brokerproc.Start(bin, t.TempDir(), brokerproc.Fsync("sometimes"))
	if err == nil {
		t.Fatal("Start with --fsync sometimes succeeded")
	}
	if !strings.Contains(err.Error(), "--fsync must be always or interval") {
		t.Errorf("error does not quote the broker's complaint: %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Start took %v to notice the broker exited", d)
	}
}

func TestRestartWithChangesFlags(t *testing.T) {
	b := brokerproc.StartT(t, bin, t.TempDir(), brokerproc.Fsync("always"))
	addr := b.Addr()
	if err := b.RestartWith(brokerproc.Fsync("interval")); err == nil {
		t.Fatal("RestartWith of a running broker succeeded")
	}
	if err := b.Kill(); err != nil {
		t.Fatal(err)
	}
	// The broker refuses this mode, which proves the new flag reached it.
	err := b.RestartWith(brokerproc.Fsync("sometimes"))
	if err == nil || !strings.Contains(err.Error(), "--fsync must be always or interval") {
		t.Fatalf("RestartWith(Fsync(sometimes)) = %v, want the broker's refusal", err)
	}
	if err := b.RestartWith(brokerproc.Fsync("interval")); err != nil {
		t.Fatalf("RestartWith(Fsync(interval)): %v", err)
	}
	if b.Addr() != addr {
		t.Fatalf("RestartWith moved the listener from %s to %s", addr, b.Addr())
	}
}

func TestKillReportsCrashItDidNotCause(t *testing.T) {
	b, err := brokerproc.Start(bin, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	p, err := os.FindProcess(b.PID())
	if err != nil {
		t.Fatal(err)
	}
	if err := p.Kill(); err != nil { // a crash behind brokerproc's back
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for b.Running() && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if err := b.Kill(); err == nil || !strings.Contains(err.Error(), "exited by itself") {
		t.Fatalf("Kill after an outside crash = %v, want an 'exited by itself' error", err)
	}
	if err := b.Stop(); err == nil {
		t.Fatal("Stop after an outside crash returned nil")
	}
}

// getMetrics checks the HTTP endpoint answers on httpAddr.
func getMetrics(t *testing.T, httpAddr string) {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get("http://" + httpAddr + "/metrics")
	if err != nil {
		t.Fatalf("GET /metrics: %v", err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: %s", resp.Status)
	}
}
