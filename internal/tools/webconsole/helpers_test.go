package webconsole

// helpers_test.go starts a console in front of a real test broker and
// drives its API as a browser does: a cookie jar, the CSRF token from
// GET /api/session sent on every change.

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testlog"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// testConsole is a console under test and a browser-like client of it.
type testConsole struct {
	t      testing.TB
	srv    *Server
	http   *httptest.Server
	client *http.Client
	csrf   string
	log    *testlog.Buffer
	broker *testbroker.Broker // nil when the console was given its own Access
}

// startConsole runs a console against a fresh test broker (anonymous
// cluster, no sign-in), with cfg's other settings.
func startConsole(t testing.TB, cfg Config) *testConsole {
	t.Helper()
	b := testbroker.Start(t)
	cfg.Access.Base = append(cfg.Access.Base, kgo.SeedBrokers(b.Addr))
	tc := startConsoleWith(t, cfg)
	tc.broker = b
	return tc
}

// startConsoleWith runs a console with cfg as given.
func startConsoleWith(t testing.TB, cfg Config) *testConsole {
	t.Helper()
	buf := &testlog.Buffer{}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		hs.Close()
		s.close()
		if t.Failed() {
			t.Logf("console log:\n%s", buf.String())
		}
	})
	jar, _ := cookiejar.New(nil)
	tc := &testConsole{t: t, srv: s, http: hs, client: &http.Client{Jar: jar}, log: buf}
	if !s.LoginRequired() {
		tc.refreshSession()
	}
	return tc
}

// refreshSession reads the session's CSRF token.
func (tc *testConsole) refreshSession() {
	tc.t.Helper()
	var info sessionInfo
	tc.mustJSON("GET", "/api/session", nil, http.StatusOK, &info)
	tc.csrf = info.CSRF
}

// do sends a request (body encoded as JSON unless it is a string or nil)
// with the session's CSRF token, and returns the status and body.
func (tc *testConsole) do(method, path string, body any) (int, []byte) {
	tc.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			tc.t.Fatal(err)
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, tc.http.URL+path, rd)
	if err != nil {
		tc.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tc.csrf != "" {
		req.Header.Set(csrfHeader, tc.csrf)
	}
	resp, err := tc.client.Do(req)
	if err != nil {
		tc.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		tc.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp.StatusCode, data
}

// mustJSON sends a request, checks its status and decodes the answer into
// out (when not nil).
func (tc *testConsole) mustJSON(method, path string, body any, status int, out any) {
	tc.t.Helper()
	got, data := tc.do(method, path, body)
	if got != status {
		tc.t.Fatalf("%s %s: status %d, want %d; body: %s", method, path, got, status, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			tc.t.Fatalf("%s %s: decode %s: %v", method, path, data, err)
		}
	}
}

// startConsoleKfake runs a console against franz-go's in-memory kfake, a
// three-broker cluster: the console must work against any Kafka cluster,
// where partitions lead on several brokers.
func startConsoleKfake(t testing.TB, cfg Config, opts ...kfake.Opt) (*testConsole, *kfake.Cluster) {
	t.Helper()
	c, err := kfake.NewCluster(append([]kfake.Opt{kfake.NumBrokers(3)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cfg.Access.Base = append(cfg.Access.Base, kgo.SeedBrokers(c.ListenAddrs()...))
	return startConsoleWith(t, cfg), c
}
