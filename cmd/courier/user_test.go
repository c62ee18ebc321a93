package main

// user_test.go drives `courier user` for the wiring: --data (offline, on a
// stopped broker's directory, refused while a broker holds it) against
// --brokers (online), the password from stdin and never printed (ctl's
// tests cover the user logic).

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/courier-dev/courier/internal/testkit/testbroker"
)

func TestUserCommandsOffline(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data") // not created yet: the first user comes before the first start
	out, errOut := mustExec(t, "s3cret-admin\n", "user", "create", "admin", "--data", data)
	if out != "user admin: SCRAM-SHA-512 credential set (8192 iterations)\n" || strings.Contains(out+errOut, "s3cret") {
		t.Errorf("create: %q %q", out, errOut)
	}
	mustExec(t, "alice-pw\n", "user", "create", "alice", "--mechanism", "scram-sha-256", "--iterations", "4096", "--data", data)
	out, _ = mustExec(t, "", "user", "list", "--data", data)
	if want := "USER   MECHANISM      ITERATIONS\nadmin  SCRAM-SHA-512  8192\nalice  SCRAM-SHA-256  4096\n"; out != want {
		t.Errorf("list:\n%s\nwant:\n%s", out, want)
	}
	if out, _ = mustExec(t, "", "user", "delete", "alice", "--data", data); out != "user alice: SCRAM-SHA-256 credential deleted\n" {
		t.Errorf("delete: %q", out)
	}
	for _, tc := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"", []string{"user", "create", "bob"}, "empty password"},
		{"pw\n", []string{"user", "create", "bob", "--mechanism", "PLAIN"}, "SCRAM-SHA-256 or SCRAM-SHA-512"},
		{"pw\n", []string{"user", "create", "bob", "--iterations", "100"}, "too few"},
		{"", []string{"user", "delete", "nobody"}, "user nobody not found"},
		{"", []string{"user", "create"}, "user create: want exactly one user NAME, got 0 arguments"},
	} {
		_, _, err := execCourier(t, tc.stdin, append(tc.args, "--data", data)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("courier %v: %v, want %q", tc.args, err, tc.want)
		}
	}

	// A running broker holds the directory.
	testbroker.StartAt(t, data)
	_, _, err := execCourier(t, "pw\n", "user", "create", "carol", "--data", data)
	if err == nil || !strings.Contains(err.Error(), "in use by another broker") {
		t.Errorf("create on a running broker's data: %v", err)
	}
}

func TestUserCommandsOnline(t *testing.T) {
	b := testbroker.Start(t)
	brokers := "--brokers=" + b.Addr
	out, errOut := mustExec(t, "bob-pw\n", "user", "create", "bob", "--mechanism", "SCRAM-SHA-256", "--iterations", "4096", brokers)
	if out != "user bob: SCRAM-SHA-256 credential set (4096 iterations)\n" || strings.Contains(out+errOut, "bob-pw") {
		t.Errorf("create: %q %q", out, errOut)
	}
	out, _ = mustExec(t, "", "user", "list", brokers)
	if want := "USER  MECHANISM      ITERATIONS\nbob   SCRAM-SHA-256  4096\n"; out != want {
		t.Errorf("list:\n%s\nwant:\n%s", out, want)
	}
	if _, _, err := execCourier(t, "", "user", "delete", "bob", "--mechanism", "SCRAM-SHA-512", brokers); err == nil || !strings.Contains(err.Error(), "has no SCRAM-SHA-512") {
		t.Errorf("delete a missing mechanism: %v", err)
	}
	if out, _ = mustExec(t, "", "user", "delete", "bob", brokers); out != "user bob: SCRAM-SHA-256 credential deleted\n" {
		t.Errorf("delete: %q", out)
	}
}
