package webconsole

// basic_test.go tests HTTP Basic auth for scripts: checked by the cluster,
// cached briefly (never by the password itself), under the sign-in rate
// limit, never answered with WWW-Authenticate, and no CSRF token needed.

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// basicReq sends method path with Basic credentials and no cookie.
func (tc *testConsole) basicReq(method, path, user, pass, body string, headers map[string]string) (*http.Response, []byte) {
	tc.t.Helper()
	req, _ := http.NewRequest(method, tc.http.URL+path, strings.NewReader(body))
	req.SetBasicAuth(user, pass)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return tc.send(req)
}

// TestBasicAuth: a script's requests with Basic credentials act as the
// user; a wrong password is 401 without WWW-Authenticate; the verified
// credentials are cached (one client for the script's calls) and
// re-checked after basicTTL; a change needs no CSRF token but must be
// JSON and not from another origin.
func TestBasicAuth(t *testing.T) {
	clk := newFakeClock()
	tc, _ := startSASLConsole(t, Config{})
	tc.srv.now = clk.Now
	calls := changeRoute(tc)
	script := tc.browserFrom("127.0.0.1")

	resp, body := script.basicReq("GET", "/v3/clusters", aliceUser, "wrong", "", nil)
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != "" ||
		!strings.Contains(string(body), "wrong user name or password") {
		t.Fatalf("wrong password: %d %q %s", resp.StatusCode, resp.Header.Get("WWW-Authenticate"), body)
	}
	for range 3 {
		if resp, body := script.basicReq("GET", "/v3/clusters", aliceUser, alicePass, "", nil); resp.StatusCode != http.StatusOK {
			t.Fatalf("basic GET: %d %s", resp.StatusCode, body)
		}
	}
	if n := len(tc.srv.basic.m); n != 1 {
		t.Fatalf("%d cached credentials, want 1", n)
	}
	var first *KafkaSession
	for key, e := range tc.srv.basic.m {
		first = e.k
		if strings.Contains(key, alicePass) {
			t.Fatal("the cache key holds the password")
		}
	}
	resp, body = script.basicReq("POST", "/test/change", aliceUser, alicePass, "{}", map[string]string{"Content-Type": "application/json"})
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `"user":"alice"`) {
		t.Fatalf("basic POST: %d %s", resp.StatusCode, body)
	}
	for _, h := range []map[string]string{
		{"Content-Type": "application/x-www-form-urlencoded"},
		{"Content-Type": "application/json", "Origin": "http://evil.example"},
	} {
		if resp, _ := script.basicReq("POST", "/test/change", aliceUser, alicePass, "{}", h); resp.StatusCode == http.StatusOK {
			t.Errorf("basic POST with %v accepted", h)
		}
	}
	if n := calls.Load(); n != 1 {
		t.Fatalf("the change ran %d times, want 1", n)
	}
	if tc.srv.ses.count() != 0 {
		t.Fatal("basic requests started sessions")
	}
	// After the TTL the credentials are checked again, with a new client;
	// the old one is closed.
	clk.Add(basicTTL + time.Second)
	if resp, _ := script.basicReq("GET", "/v3/clusters", aliceUser, alicePass, "", nil); resp.StatusCode != http.StatusOK {
		t.Fatalf("after the TTL: %d", resp.StatusCode)
	}
	for _, e := range tc.srv.basic.m {
		if e.k == first {
			t.Fatal("the expired entry was used")
		}
	}
}

// TestBasicAuthRateLimited: Basic credentials are under the same limit as
// the sign-in page.
func TestBasicAuthRateLimited(t *testing.T) {
	tc, _ := startSASLConsole(t, Config{})
	script := tc.browserFrom("127.0.0.1")
	for i := range limitFree {
		if resp, _ := script.basicReq("GET", "/v3/clusters", aliceUser, fmt.Sprint("guess", i), "", nil); resp.StatusCode != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, resp.StatusCode)
		}
	}
	resp, _ := script.basicReq("GET", "/v3/clusters", aliceUser, alicePass, "", nil)
	if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "1" {
		t.Fatalf("after five failures: %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	// The page's sign-in shares the count.
	if st, _, _ := tc.login(aliceUser, alicePass); st != http.StatusTooManyRequests {
		t.Fatalf("sign-in page after five Basic failures: %d", st)
	}
}

// TestNoSecretsInLog: after sign-ins, failures, Basic requests and a
// sign-out, the log names users but holds no password and no session id.
func TestNoSecretsInLog(t *testing.T) {
	tc, _ := startSASLConsole(t, Config{})
	tc.login(aliceUser, "wrong-password-xyz")
	tc.mustLogin(aliceUser, alicePass)
	id := tc.sessionCookie()
	csrf := tc.csrf
	tc.browserFrom("127.0.0.1").basicReq("GET", "/v3/clusters", adminUser, adminPass, "", nil)
	tc.browserFrom("127.0.0.1").basicReq("GET", "/v3/clusters", adminUser, "basic-wrong-xyz", "", nil)
	tc.mustJSON("POST", "/api/logout", nil, http.StatusOK, nil)
	log := tc.log.String()
	if !strings.Contains(log, "user="+aliceUser) {
		t.Fatalf("the log does not name the user:\n%s", log)
	}
	for _, secret := range []string{alicePass, adminPass, "wrong-password-xyz", "basic-wrong-xyz", id, csrf} {
		if strings.Contains(log, secret) {
			t.Errorf("the log holds a secret %q:\n%s", secret, log)
		}
	}
}
