package run_test

// http_test.go checks the broker's HTTP port over HTTP: pprof only when
// asked for, bearer and basic credentials refused or accepted, /healthz
// open, and the warning for a port open to the network without them.

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testlog"

	"github.com/courier-dev/courier/internal/broker/run"
	"github.com/courier-dev/courier/internal/testkit/testbroker"
)

// httpBroker starts a broker whose HTTP port listens on addr with auth and
// pprof, and returns the port's base URL (on 127.0.0.1) and its log.
func httpBroker(t *testing.T, addr string, auth run.HTTPAuth, pprof bool) (string, *testlog.Buffer) {
	t.Helper()
	logs := &testlog.Buffer{}
	ready := make(chan net.Addr, 1)
	testbroker.Start(t, func(c *run.Config) {
		c.HTTPAddr, c.HTTPAuth, c.PProf = addr, auth, pprof
		c.HTTPReady = func(a net.Addr) { ready <- a }
		c.Broker.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	var a net.Addr
	select {
	case a = <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("HTTP port not ready")
	}
	return "http://127.0.0.1:" + strconv.Itoa(a.(*net.TCPAddr).Port), logs
}

// get requests url with the Authorization header set by auth (if any) and
// returns the status, the WWW-Authenticate challenges and the body.
func get(t *testing.T, url string, auth func(*http.Request)) (int, []string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if auth != nil {
		auth(req)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, resp.Header.Values("WWW-Authenticate"), string(body)
}

func bearer(tok string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set("Authorization", tok) }
}

func basic(user, pass string) func(*http.Request) {
	return func(r *http.Request) { r.SetBasicAuth(user, pass) }
}

func TestHTTPPortDefaults(t *testing.T) {
	base, logs := httpBroker(t, "127.0.0.1:0", run.HTTPAuth{}, false)
	if code, _, body := get(t, base+"/metrics", nil); code != 200 || !strings.Contains(body, "courier_bytes_in_total") {
		t.Fatalf("/metrics: %d %.200s", code, body)
	}
	for _, p := range []string{"/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/profile?seconds=1"} {
		if code, _, _ := get(t, base+p, nil); code != http.StatusNotFound {
			t.Errorf("%s without --pprof: %d, want 404", p, code)
		}
	}
	if code, _, body := get(t, base+"/healthz", nil); code != 200 || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}
	if strings.Contains(logs.String(), "WITHOUT AUTHENTICATION") {
		t.Errorf("loopback port warned about:\n%s", logs)
	}
}

func TestHTTPPortPProf(t *testing.T) {
	base, _ := httpBroker(t, "127.0.0.1:0", run.HTTPAuth{}, true)
	if code, _, body := get(t, base+"/debug/pprof/", nil); code != 200 || !strings.Contains(body, "heap") {
		t.Fatalf("/debug/pprof/: %d", code)
	}
	if code, _, _ := get(t, base+"/debug/pprof/heap", nil); code != 200 {
		t.Errorf("/debug/pprof/heap: %d", code)
	}
	// The command line may hold the port's credentials.
	if code, _, _ := get(t, base+"/debug/pprof/cmdline", nil); code != http.StatusNotFound {
		t.Errorf("/debug/pprof/cmdline: %d, want 404", code)
	}
}

func TestHTTPPortAuth(t *testing.T) {
	const token = "0123456789abcdef-token"
	auth := run.HTTPAuth{Token: token, BasicUser: "prom", BasicPassword: "s3cret:with:colons"}
	base, _ := httpBroker(t, "127.0.0.1:0", auth, true)
	cases := []struct {
		name, path string
		auth       func(*http.Request)
		status     int
	}{
		{"no credential", "/metrics", nil, 401},
		{"bearer", "/metrics", bearer("Bearer " + token), 200},
		{"bearer scheme in lower case", "/metrics", bearer("bearer " + token), 200},
		{"wrong token", "/metrics", bearer("Bearer " + token + "x"), 401},
		{"token prefix", "/metrics", bearer("Bearer " + token[:10]), 401},
		{"token as basic password", "/metrics", basic("prom", token), 401},
		{"basic", "/metrics", basic("prom", "s3cret:with:colons"), 200},
		{"basic wrong password", "/metrics", basic("prom", "s3cret"), 401},
		{"basic wrong user", "/metrics", basic("Prom", "s3cret:with:colons"), 401},
		{"pprof without", "/debug/pprof/", nil, 401},
		{"pprof with", "/debug/pprof/", bearer("Bearer " + token), 200},
		{"unknown path without", "/nosuch", nil, 401},
		{"healthz stays open", "/healthz", nil, 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, challenges, _ := get(t, base+c.path, c.auth)
			if code != c.status {
				t.Fatalf("%d, want %d", code, c.status)
			}
			if code == 401 && (len(challenges) != 2 || !strings.HasPrefix(challenges[0], "Bearer ") || !strings.HasPrefix(challenges[1], "Basic ")) {
				t.Errorf("WWW-Authenticate %q, want a Bearer and a Basic challenge", challenges)
			}
		})
	}
	_, _, body := get(t, base+"/metrics", bearer("Bearer "+token))
	if !strings.Contains(body, "courier_http_unauthorized_total 8") {
		t.Errorf("/metrics does not count the 8 refusals:\n%s", grepLines(body, "courier_http"))
	}
}

// grepLines returns body's lines containing s.
func grepLines(body, s string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestHTTPPortWarnsWhenExposed: a port on every interface without a
// credential is warned about at start; with one it is not.
func TestHTTPPortWarnsWhenExposed(t *testing.T) {
	_, logs := httpBroker(t, "0.0.0.0:0", run.HTTPAuth{}, true)
	if l := logs.String(); !strings.Contains(l, "level=WARN") || !strings.Contains(l, "WITHOUT AUTHENTICATION") || !strings.Contains(l, "/debug/pprof") {
		t.Errorf("no warning for 0.0.0.0 without auth:\n%s", l)
	}
	_, logs = httpBroker(t, "0.0.0.0:0", run.HTTPAuth{Token: "0123456789abcdef"}, false)
	if strings.Contains(logs.String(), "WITHOUT AUTHENTICATION") {
		t.Errorf("warned although a token protects the port:\n%s", logs)
	}
}

func TestHTTPPortConfigErrors(t *testing.T) {
	cases := []struct {
		cfg  run.Config
		want string
	}{
		{run.Config{Addr: "127.0.0.1:0", PProf: true}, "need an HTTP port"},
		{run.Config{Addr: "127.0.0.1:0", HTTPAuth: run.HTTPAuth{Token: "0123456789abcdef"}}, "need an HTTP port"},
		{run.Config{Addr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", HTTPAuth: run.HTTPAuth{Token: "short"}}, "at least 16"},
		{run.Config{Addr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", HTTPAuth: run.HTTPAuth{Token: "0123456789abcdef gh"}}, "without spaces"},
		{run.Config{Addr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", HTTPAuth: run.HTTPAuth{BasicUser: "u"}}, "empty password"},
	}
	for _, c := range cases {
		c.cfg.Broker.DataDir = t.TempDir()
		err := run.Broker(context.Background(), c.cfg)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err %v, want it to mention %q", c.cfg.HTTPAuth, err, c.want)
		}
	}
	for _, s := range []string{"", "user", ":pw", "user:"} {
		if _, _, err := run.ParseBasicAuth(s); err == nil {
			t.Errorf("ParseBasicAuth(%q) accepted", s)
		}
	}
	if u, p, err := run.ParseBasicAuth("prom:a:b"); err != nil || u != "prom" || p != "a:b" {
		t.Errorf("ParseBasicAuth(prom:a:b) = %q %q %v", u, p, err)
	}
}
