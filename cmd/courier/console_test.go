package main

// console_test.go tests the wiring of Courier Console: the broker's
// --console-* flags, the --console-users file, `courier console`'s flags,
// and a broker serving its console through the in-process connections.

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testlog"
	"github.com/courier-dev/courier/internal/testkit/testwait"
)

// freeAddr returns a loopback address with a free port.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestBrokerConsoleFlagsRefused: the broker refuses console settings that
// cannot be served, before it starts, naming the flag.
func TestBrokerConsoleFlagsRefused(t *testing.T) {
	users := filepath.Join(t.TempDir(), "users")
	if err := os.WriteFile(users, []byte("ops:pw\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	base := func(extra ...string) []string {
		return append([]string{"broker", "--data", t.TempDir(), "--addr", "127.0.0.1:0", "--http-addr", ""}, extra...)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{base("--console-addr", "0.0.0.0:0"), "--console-insecure"},
		{base("--console-addr", "127.0.0.1:0", "--console-tls-cert", users), "--console-tls-key go together"},
		{base("--console-addr", "127.0.0.1:0", "--console-tls-cert", users, "--console-tls-key", users), "--console-tls-cert/--console-tls-key"},
		{base("--console-addr", "127.0.0.1:0", "--console-lag-interval", "0s"), "--console-lag-interval"},
		{[]string{"broker", "--data", t.TempDir(), "--listener", "SASL_PLAINTEXT://127.0.0.1:0", "--http-addr", "", "--console-addr", "127.0.0.1:0", "--console-users", users}, "--console-users is for a cluster without SASL"},
	} {
		_, _, err := execCourier(t, "", c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("courier %s: %v, want it to mention %q", strings.Join(c.args[1:], " "), err, c.want)
		}
	}
}

// TestConsoleUsersFile: name:password lines; a file others may read, a
// malformed line, a duplicate or an empty file are refused.
func TestConsoleUsersFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	got, err := readConsoleUsers(write("ok", "# accounts\nops:pa:ss\n\nviewer:v\r\n", 0o600))
	if err != nil || len(got) != 2 || got["ops"] != "pa:ss" || got["viewer"] != "v" {
		t.Fatalf("users %v, %v", got, err)
	}
	for name, c := range map[string]struct {
		text string
		mode os.FileMode
		want string
	}{
		"readable": {"ops:pw\n", 0o644, "chmod 600"},
		"nocolon":  {"ops\n", 0o600, "line 1: want name:password"},
		"nopass":   {"ops:\n", 0o600, "line 1: want name:password"},
		"twice":    {"a:1\na:2\n", 0o600, "line 2: user a given twice"},
		"empty":    {"# nobody\n", 0o600, "no name:password line"},
	} {
		if _, err := readConsoleUsers(write(name, c.text, c.mode)); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", name, err, c.want)
		}
	}
}

// TestConsoleCommandFlagsRefused: `courier console` refuses what it cannot
// serve before it listens.
func TestConsoleCommandFlagsRefused(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"console", "--brokers", "127.0.0.1:1", "--sasl-user", "svc", "--sasl-password", "x"}, "--sasl-user needs --sasl-mechanism"},
		{[]string{"console", "--brokers", "127.0.0.1:1", "--sasl-mechanism", "GSSAPI"}, "want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"},
		{[]string{"console", "--brokers", "127.0.0.1:1", "--connect-timeout", "1s"}, "127.0.0.1:1"},
		{[]string{"console", "--brokers", "", "--addr", "127.0.0.1:0"}, "--brokers is empty"},
		{[]string{"console", "--brokers", "127.0.0.1:1", "--addr", ""}, "--addr is empty"},
	} {
		_, _, err := execCourier(t, "", c.args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("courier %s: %v, want it to mention %q", strings.Join(c.args, " "), err, c.want)
		}
	}
}

// TestBrokerServesConsole: `courier broker --console-addr` serves the
// console, which reaches the broker in-process; a second broker asking for
// the same console address fails with an error naming --console-addr.
func TestBrokerServesConsole(t *testing.T) {
	console := freeAddr(t)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int, 1)
	errOut := &testlog.Buffer{}
	data := t.TempDir()
	go func() {
		done <- execute(ctx, newRootCommand(), []string{"broker", "--data", data, "--addr", "127.0.0.1:0", "--http-addr", "", "--console-addr", console},
			strings.NewReader(""), &testlog.Buffer{}, errOut)
	}()
	defer func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("broker exit %d:\n%s", code, errOut.String())
			}
		case <-time.After(30 * time.Second):
			t.Error("broker did not stop")
		}
	}()
	testwait.For(t, 20*time.Second, "the console to answer", func() string {
		resp, err := http.Get("http://" + console + "/v3/clusters")
		if err != nil {
			return err.Error()
		}
		defer resp.Body.Close()
		var list struct {
			Data []struct {
				ClusterID string `json:"cluster_id"`
			} `json:"data"`
		}
		if resp.StatusCode != http.StatusOK || json.NewDecoder(resp.Body).Decode(&list) != nil || len(list.Data) != 1 || list.Data[0].ClusterID == "" {
			return resp.Status
		}
		return ""
	})
	_, _, err := execCourier(t, "", "broker", "--data", t.TempDir(), "--addr", "127.0.0.1:0", "--http-addr", "", "--console-addr", console)
	if err == nil || !strings.Contains(err.Error(), console+" (Courier Console's address) is already in use") || !strings.HasSuffix(err.Error(), "--console-addr") {
		t.Fatalf("a second broker on the same console address: %v", err)
	}
}

// FuzzConsoleUsers: a --console-users file never panics the parser; what
// it accepts has a non-empty name and password per account, each line's
// account as written, and an error never quotes a password.
func FuzzConsoleUsers(f *testing.F) {
	for _, s := range []string{"ops:pw\n", "# c\n\na:b:c\r\nd:e", "a\n", "a:\n", ":b\n", "a:1\na:2\n", "", "\x00:\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		users, err := parseConsoleUsers(strings.NewReader(in), "f")
		if err != nil {
			for _, line := range strings.Split(in, "\n") {
				if _, pass, ok := strings.Cut(line, ":"); ok && len(pass) > 3 && strings.Contains(err.Error(), pass) && !strings.Contains("console users f line want name:password given twice no over bytes", pass) {
					t.Fatalf("the error %q quotes a password %q", err, pass)
				}
			}
			return
		}
		if len(users) == 0 {
			t.Fatal("no account and no error")
		}
		for name, pass := range users {
			if strings.TrimSpace(name) == "" || pass == "" || strings.Contains(name, ":") || strings.Contains(name, "\n") {
				t.Fatalf("accepted account %q:%q", name, pass)
			}
		}
	})
}
