// Package pgtest runs a private PostgreSQL server for tests and
// benchmarks: a fresh cluster in a temporary directory, listening on a free
// loopback port, removed when it stops. It uses the PostgreSQL server
// binaries installed on the machine (Debian's postgresql package puts them
// under /usr/lib/postgresql/VERSION/bin; the newest version is taken, then
// initdb on PATH).
//
// PostgreSQL refuses to run as root, so when the caller is root the server
// tools run as the postgres OS user (created by the package install),
// which then owns the temporary directory.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"testing"
	"time"
)

// ErrNotInstalled is returned by StartServer when no PostgreSQL server
// binaries are found.
var ErrNotInstalled = errors.New("pgtest: PostgreSQL server binaries (initdb, postgres, pg_ctl) not found")

// RequireEnv names the environment variable that, set to 1, turns a
// missing PostgreSQL into a test failure instead of a skip (for CI).
const RequireEnv = "COURIER_REQUIRE_PG"

// Start runs a server for the test's duration and returns the DSN of an
// empty database on it, "postgres://courier@127.0.0.1:PORT/courier". The
// test is skipped if PostgreSQL is not installed, or fails if RequireEnv
// is set to 1.
func Start(t testing.TB) string {
	t.Helper()
	s, err := StartServer("")
	if errors.Is(err, ErrNotInstalled) && os.Getenv(RequireEnv) != "1" {
		t.Skipf("%v (set %s=1 to fail instead)", err, RequireEnv)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("pgtest: %v", err)
		}
	})
	return s.DSN()
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("pgtest: find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// pingContext bounds one readiness probe.
func pingContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 2*time.Second)
}
