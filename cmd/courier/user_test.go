package main

// user_test.go drives `courier user` in both modes: offline on a data
// directory (refused while a broker holds it) and online against a real
// broker, checking that the stored credentials verify the passwords given
// on stdin and that no password is printed.

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/courier-dev/courier/internal/broker"
	"github.com/courier-dev/courier/internal/testkit/testbroker"
)

// verifyPassword opens dir's users offline and checks user's password.
func verifyPassword(t *testing.T, dir, user, pass string) bool {
	t.Helper()
	st, release, err := broker.OpenUsers(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	return st.VerifyPassword(user, pass)
}

func TestUserCommandsOffline(t *testing.T) {
	data := filepath.Join(t.TempDir(), "data") // not created yet: the first user comes before the first start
	out, errOut := mustExec(t, "s3cret-admin\n", "user", "create", "admin", "--data", data)
	if out != "user admin: SCRAM-SHA-512 credential set (8192 iterations)\n" {
		t.Errorf("create: %q", out)
	}
	if strings.Contains(out+errOut, "s3cret") {
		t.Error("the password was printed")
	}
	mustExec(t, "alice-pw\r\nignored\n", "user", "create", "alice", "--mechanism", "scram-sha-256", "--iterations", "4096", "--data", data)
	mustExec(t, "alice-pw2", "user", "create", "alice", "--data", data)
	out, _ = mustExec(t, "", "user", "list", "--data", data)
	want := "USER   MECHANISM      ITERATIONS\n" +
		"admin  SCRAM-SHA-512  8192\n" +
		"alice  SCRAM-SHA-256  4096\n" +
		"alice  SCRAM-SHA-512  8192\n"
	if out != want {
		t.Errorf("list:\n%s\nwant:\n%s", out, want)
	}
	if !verifyPassword(t, data, "alice", "alice-pw") || !verifyPassword(t, data, "alice", "alice-pw2") || !verifyPassword(t, data, "admin", "s3cret-admin") {
		t.Error("stored credentials do not verify the passwords")
	}

	for _, tc := range []struct {
		stdin string
		args  []string
		want  string
	}{
		{"\n", []string{"user", "create", "bob"}, "empty password"},
		{"", []string{"user", "create", "bob"}, "empty password"},
		{"pw\n", []string{"user", "create", "bob", "--iterations", "100"}, "too few"},
		{"pw\n", []string{"user", "create", "bob", "--mechanism", "PLAIN"}, "SCRAM-SHA-256 or SCRAM-SHA-512"},
		{"pw\n", []string{"user", "create", "bad\tname"}, "invalid user name"},
		{"", []string{"user", "delete", "nobody"}, "user nobody not found"},
		{"", []string{"user", "delete", "admin", "--mechanism", "SCRAM-SHA-256"}, "has no SCRAM-SHA-256 credential"},
	} {
		_, _, err := execCourier(t, tc.stdin, append(tc.args, "--data", data)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("courier %v: %v, want %q", tc.args, err, tc.want)
		}
	}

	out, _ = mustExec(t, "", "user", "delete", "alice", "--data", data)
	if out != "user alice: SCRAM-SHA-256 credential deleted\nuser alice: SCRAM-SHA-512 credential deleted\n" {
		t.Errorf("delete: %q", out)
	}
	mustExec(t, "", "user", "delete", "admin", "--mechanism", "SCRAM-SHA-512", "--data", data)
	if out, _ = mustExec(t, "", "user", "list", "--data", data); out != "USER  MECHANISM  ITERATIONS\n" {
		t.Errorf("list after deletes: %q", out)
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
	mustExec(t, "bob-pw2\n", "user", "create", "bob", brokers)
	mustExec(t, "carol-pw\n", "user", "create", "carol", brokers)
	out, _ = mustExec(t, "", "user", "list", brokers)
	want := "USER   MECHANISM      ITERATIONS\n" +
		"bob    SCRAM-SHA-256  4096\n" +
		"bob    SCRAM-SHA-512  8192\n" +
		"carol  SCRAM-SHA-512  8192\n"
	if out != want {
		t.Errorf("list:\n%s\nwant:\n%s", out, want)
	}
	if _, _, err := execCourier(t, "", "user", "delete", "nobody", brokers); err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("delete unknown user: %v", err)
	}
	if _, _, err := execCourier(t, "", "user", "delete", "carol", "--mechanism", "SCRAM-SHA-256", brokers); err == nil || !strings.Contains(err.Error(), "has no SCRAM-SHA-256") {
		t.Errorf("delete missing mechanism: %v", err)
	}
	out, _ = mustExec(t, "", "user", "delete", "carol", brokers)
	if out != "user carol: SCRAM-SHA-512 credential deleted\n" {
		t.Errorf("delete: %q", out)
	}
	b.Stop(t)
	if !verifyPassword(t, b.DataDir, "bob", "bob-pw") || !verifyPassword(t, b.DataDir, "bob", "bob-pw2") || verifyPassword(t, b.DataDir, "carol", "carol-pw") {
		t.Error("the broker's credentials do not match the passwords given")
	}
}
