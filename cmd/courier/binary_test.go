package main

// binary_test.go runs the real courier binary, for what only the process
// shows: its exit status and everything it writes to stderr.

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/brokerproc"
)

// TestBinaryUnreachableCluster: `courier produce x` with nothing listening
// on the brokers' address exits 1 within seconds, with one line on stderr
// naming the address and the dial error (it used to wait a minute in
// silence, or with empty input succeed without having reached anything).
func TestBinaryUnreachableCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin, err := brokerproc.Build(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	addr := brokerproc.ClosedAddr(t)
	for _, stdin := range []string{"", "one record\n"} {
		ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
		cmd := exec.CommandContext(ctx, bin, "produce", "x")
		cmd.Env = append(os.Environ(), "COURIER_BROKERS="+addr)
		cmd.Stdin = strings.NewReader(stdin)
		var out, errOut bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errOut
		start := time.Now()
		err := cmd.Run()
		elapsed := time.Since(start)
		cancel()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Errorf("stdin %q: %v, want exit status 1", stdin, err)
		}
		want := "courier: cannot reach the cluster at " + addr + ": dial tcp " + addr + ": connect: connection refused " +
			"(is a broker running there? --brokers or COURIER_BROKERS names the cluster; --wait waits for it)\n"
		if errOut.String() != want || out.Len() != 0 {
			t.Errorf("stdin %q: stdout %q, stderr\n%q\nwant\n%q", stdin, out.String(), errOut.String(), want)
		}
		if elapsed > 5*time.Second {
			t.Errorf("stdin %q: took %s", stdin, elapsed)
		}
		t.Logf("stdin %q: %s in %s", stdin, strings.TrimSpace(errOut.String()), elapsed.Round(time.Millisecond))
	}
}
