package webconsole

// csrf_test.go tests that changes are refused unless they come from the
// console's own pages (the CSRF token, Origin, Sec-Fetch-Site), that a
// script's cookie-less request on a console without sign-in must be JSON,
// and the DNS rebinding check of such a console.

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// changeRoute registers a test endpoint that changes nothing but counts
// its calls, and returns the counter.
func changeRoute(tc *testConsole) *atomic.Int64 {
	var n atomic.Int64
	tc.srv.api("POST /test/change", func(c *call) error {
		n.Add(1)
		return c.JSON(http.StatusOK, map[string]string{"user": c.User()})
	})
	return &n
}

// post sends a POST to path with the given headers and body, using the
// console's cookies, and returns the status.
func (tc *testConsole) post(path, body string, headers map[string]string) int {
	tc.t.Helper()
	req, _ := http.NewRequest("POST", tc.http.URL+path, strings.NewReader(body))
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, _ := tc.send(req)
	return resp.StatusCode
}

// TestCSRF: a signed-in browser's change needs the session's token in the
// header and no foreign Origin or cross-site fetch metadata.
func TestCSRF(t *testing.T) {
	tc, _ := startSASLConsole(t, Config{})
	calls := changeRoute(tc)
	tc.mustLogin(aliceUser, alicePass)
	// The session's token with its first character changed.
	wrong := "x" + tc.csrf[1:]
	if tc.csrf[0] == 'x' {
		wrong = "y" + tc.csrf[1:]
	}
	for _, c := range []struct {
		name    string
		headers map[string]string
		want    int
	}{
		{"no token", map[string]string{"Content-Type": "application/json"}, http.StatusForbidden},
		{"wrong token", map[string]string{csrfHeader: wrong, "Content-Type": "application/json"}, http.StatusForbidden},
		{"form from another site", map[string]string{"Content-Type": "application/x-www-form-urlencoded", "Origin": "http://127.0.0.1:9"}, http.StatusForbidden},
		{"token but foreign origin", map[string]string{csrfHeader: tc.csrf, "Origin": "http://evil.example"}, http.StatusForbidden},
		{"token but same-site fetch", map[string]string{csrfHeader: tc.csrf, "Sec-Fetch-Site": "same-site"}, http.StatusForbidden},
		{"token", map[string]string{csrfHeader: tc.csrf, "Origin": tc.http.URL, "Sec-Fetch-Site": "same-origin"}, http.StatusOK},
	} {
		if got := tc.post("/test/change", "{}", c.headers); got != c.want {
			t.Errorf("%s: %d, want %d", c.name, got, c.want)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("the change ran %d times, want once (the accepted request only)", n)
	}
	// Another session's token is not this one's.
	other := tc.browserFrom("127.0.0.1")
	other.mustLogin(aliceUser, alicePass)
	if got := tc.post("/test/change", "{}", map[string]string{csrfHeader: other.csrf}); got != http.StatusForbidden {
		t.Fatalf("another session's token: %d", got)
	}
}

// TestScriptWithoutSignIn: on a console without sign-in, a request
// without a cookie is a script's: its change needs no token, but a POST
// must be JSON (a form cannot send JSON) and not from another origin. Such
// requests start no session.
func TestScriptWithoutSignIn(t *testing.T) {
	tc := startConsole(t, Config{})
	calls := changeRoute(tc)
	script := tc.browserFrom("127.0.0.1") // no cookie
	if got := script.post("/test/change", "{}", map[string]string{"Content-Type": "application/json"}); got != http.StatusOK {
		t.Fatalf("a script's JSON POST: %d", got)
	}
	for _, h := range []map[string]string{
		{"Content-Type": "application/x-www-form-urlencoded"},
		{"Content-Type": "text/plain"},
		{"Content-Type": "application/json", "Origin": "http://127.0.0.1:9"},
		{"Content-Type": "application/json", "Sec-Fetch-Site": "cross-site"},
	} {
		if got := script.post("/test/change", "{}", h); got == http.StatusOK {
			t.Errorf("cookie-less POST with %v accepted", h)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("the change ran %d times, want 1", n)
	}
	before := tc.srv.ses.count()
	for range 5 {
		script.mustJSON("GET", "/v3/clusters", nil, http.StatusOK, nil)
	}
	if after := tc.srv.ses.count(); after != before {
		t.Fatalf("cookie-less requests made %d sessions", after-before)
	}
	// The browser's session (it has a cookie) still needs its token.
	tc.csrf = ""
	if got := tc.post("/test/change", "{}", map[string]string{"Content-Type": "application/json"}); got != http.StatusForbidden {
		t.Fatalf("a browser session's change without its token: %d", got)
	}
}

// TestDNSRebinding: a console without sign-in answers only its IP address
// or localhost as Host, so a hostile name pointed at 127.0.0.1 gets
// nothing; --console-insecure and sign-in lift the check.
func TestDNSRebinding(t *testing.T) {
	tc := startConsole(t, Config{})
	get := func(tc *testConsole, host string) int {
		req, _ := http.NewRequest("GET", tc.http.URL+"/api/session", nil)
		req.Host = host
		resp, _ := tc.send(req)
		return resp.StatusCode
	}
	for host, want := range map[string]int{
		"evil.example:8088": http.StatusMisdirectedRequest,
		"127.0.0.1:8088":    http.StatusOK,
		"localhost:8088":    http.StatusOK,
		"[::1]:8088":        http.StatusOK,
		"app.localhost":     http.StatusOK,
	} {
		if got := get(tc, host); got != want {
			t.Errorf("Host %s: %d, want %d", host, got, want)
		}
	}
	insecure := startConsole(t, Config{Insecure: true})
	if got := get(insecure, "console.example:8088"); got != http.StatusOK {
		t.Errorf("--console-insecure, Host console.example: %d", got)
	}
	users := startConsole(t, Config{Users: map[string]string{"a": "b"}})
	if got := get(users, "console.example:8088"); got != http.StatusOK {
		t.Errorf("with sign-in, Host console.example: %d", got)
	}
}
