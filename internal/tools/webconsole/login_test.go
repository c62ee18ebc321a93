package webconsole

// login_test.go tests sign-in against a real broker with SASL: passwords
// checked by the cluster, the session acting as the user (the ACLs
// decide), cookies, sign-out, expiry, and sign-in without SASL
// (--console-users).

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testcerts"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// TestLoginSASL: the cluster checks the password; a wrong password and an
// unknown user get the same answer; the session's client is the user's, so
// the ACLs decide what it sees.
func TestLoginSASL(t *testing.T) {
	tc, _ := startSASLConsole(t, Config{})
	// Not signed in: every API path is 401, without WWW-Authenticate.
	req, _ := http.NewRequest("GET", tc.http.URL+"/v3/clusters", nil)
	resp, _ := tc.send(req)
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") != "" {
		t.Fatalf("not signed in: %d, WWW-Authenticate %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	st1, wrong, _ := tc.login(aliceUser, "not-her-password")
	st2, unknown, _ := tc.login("mallory", alicePass)
	if st1 != http.StatusUnauthorized || st2 != http.StatusUnauthorized || string(wrong) != string(unknown) ||
		!strings.Contains(string(wrong), "wrong user name or password") {
		t.Fatalf("wrong password %d %s; unknown user %d %s", st1, wrong, st2, unknown)
	}
	st, body, hdr := tc.login(aliceUser, alicePass)
	if st != http.StatusOK {
		t.Fatalf("sign in: %d %s", st, body)
	}
	cookie := hdr.Get("Set-Cookie")
	for _, want := range []string{"HttpOnly", "SameSite=Strict", "Path=/"} {
		if !strings.Contains(cookie, want) {
			t.Errorf("cookie %q lacks %s", cookie, want)
		}
	}
	if strings.Contains(cookie, "Secure") {
		t.Errorf("cookie %q is Secure without TLS (the browser would not send it back)", cookie)
	}
	var info sessionInfo
	tc.mustJSON("GET", "/api/session", nil, http.StatusOK, &info)
	if !info.SignedIn || info.User != aliceUser || info.CSRF == "" || info.CSRF != tc.csrf {
		t.Fatalf("session: %+v", info)
	}
	// The session's client is alice's: Metadata shows her topic only.
	topics := sessionTopics(t, tc.current().kafka)
	if len(topics) != 1 || topics[0] != aliceTopic {
		t.Fatalf("alice sees topics %v, want only %s", topics, aliceTopic)
	}
	// And so does the console's topic list (REST Proxy v3).
	var list struct {
		Data []struct {
			TopicName string `json:"topic_name"`
		} `json:"data"`
	}
	tc.mustJSON("GET", "/v3/clusters/"+tc.clusterID()+"/topics", nil, http.StatusOK, &list)
	if len(list.Data) != 1 || list.Data[0].TopicName != aliceTopic {
		t.Fatalf("alice's topic list: %+v, want only %s", list.Data, aliceTopic)
	}
}

// sessionTopics lists the topics a Kafka session's Metadata shows.
func sessionTopics(t *testing.T, k *KafkaSession) []string {
	t.Helper()
	cl, err := k.Client()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := kmsg.NewPtrMetadataRequest().RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, tp := range resp.Topics {
		if tp.ErrorCode == 0 && tp.Topic != nil {
			out = append(out, *tp.Topic)
		}
	}
	return out
}

// TestLoginNewSessionEachTime: every sign-in gets a new session id, and
// the browser's earlier session ends with it (no session fixation).
func TestLoginNewSessionEachTime(t *testing.T) {
	tc, _ := startSASLConsole(t, Config{})
	tc.mustLogin(aliceUser, alicePass)
	first := tc.sessionCookie()
	firstKafka := tc.current().kafka
	tc.mustLogin(aliceUser, alicePass)
	second := tc.sessionCookie()
	if first == "" || first == second {
		t.Fatalf("session ids %q then %q", first, second)
	}
	if tc.srv.ses.get(first, tc.srv.now()) != nil {
		t.Fatal("the earlier session still lives")
	}
	if _, err := firstKafka.Client(); err != nil {
		t.Fatal(err)
	}
	cl, _ := firstKafka.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := cl.Ping(ctx); !errors.Is(err, kgo.ErrClientClosed) {
		t.Fatalf("the earlier session's client: %v, want closed", err)
	}
}

// TestLogout: signing out needs the CSRF token, ends the session and
// closes its Kafka client; the cookie is cleared.
func TestLogout(t *testing.T) {
	tc, _ := startSASLConsole(t, Config{})
	tc.mustLogin(aliceUser, alicePass)
	k := tc.current().kafka
	csrf := tc.csrf
	tc.csrf = ""
	tc.mustJSON("POST", "/api/logout", nil, http.StatusForbidden, nil)
	if tc.current() == nil {
		t.Fatal("a sign-out without the CSRF token ended the session")
	}
	tc.csrf = csrf
	tc.mustJSON("POST", "/api/logout", nil, http.StatusOK, nil)
	if tc.sessionCookie() != "" {
		t.Fatal("the cookie was not cleared")
	}
	tc.mustJSON("GET", "/v3/clusters", nil, http.StatusUnauthorized, nil)
	cl, _ := k.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := cl.Ping(ctx); !errors.Is(err, kgo.ErrClientClosed) {
		t.Fatalf("the session's client after sign-out: %v, want closed", err)
	}
	if !strings.Contains(tc.log.String(), "session.logout") {
		t.Fatal("sign-out not in the audit log")
	}
}

// TestSessionExpiry: a session ends after SessionIdle without requests and
// SessionMax after sign-in however busy; the sweeper closes the clients of
// expired sessions nobody asks for.
func TestSessionExpiry(t *testing.T) {
	clk := newFakeClock()
	tc, _ := startSASLConsole(t, Config{SessionIdle: 30 * time.Minute, SessionMax: 2 * time.Hour})
	tc.srv.now = clk.Now

	tc.mustLogin(aliceUser, alicePass)
	clk.Add(29 * time.Minute)
	tc.mustJSON("GET", "/api/session", nil, http.StatusOK, nil)
	clk.Add(31 * time.Minute)
	tc.mustJSON("GET", "/v3/clusters", nil, http.StatusUnauthorized, nil)

	// Absolute: busy every 20 minutes, still over after 2 hours.
	tc.mustLogin(aliceUser, alicePass)
	for range 5 {
		clk.Add(20 * time.Minute)
		tc.mustJSON("GET", "/v3/clusters", nil, http.StatusOK, nil)
	}
	clk.Add(21 * time.Minute)
	tc.mustJSON("GET", "/v3/clusters", nil, http.StatusUnauthorized, nil)

	// Sweeping: an expired session nobody asks for is ended.
	other := tc.browserFrom("127.0.0.1")
	other.mustLogin(aliceUser, alicePass)
	k := other.current().kafka
	if n := tc.srv.ses.count(); n != 1 {
		t.Fatalf("%d sessions, want 1", n)
	}
	clk.Add(31 * time.Minute)
	tc.srv.sweep()
	if n := tc.srv.ses.count(); n != 0 {
		t.Fatalf("%d sessions after the sweep, want 0", n)
	}
	cl, _ := k.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := cl.Ping(ctx); !errors.Is(err, kgo.ErrClientClosed) {
		t.Fatalf("the swept session's client: %v, want closed", err)
	}
}

// TestLoginConsoleUsers: with console accounts on an anonymous cluster,
// the password is the account's, and the session reaches the cluster
// anonymously (the shared anonymous client).
func TestLoginConsoleUsers(t *testing.T) {
	tc := startConsole(t, Config{Users: map[string]string{"ops": "ops-password"}})
	if st, _, _ := tc.login("ops", "ops-passwor"); st != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", st)
	}
	if st, _, _ := tc.login("nobody", "ops-password"); st != http.StatusUnauthorized {
		t.Fatalf("unknown user: %d", st)
	}
	tc.mustLogin("ops", "ops-password")
	if ses := tc.current(); ses == nil || ses.kafka != tc.srv.anon || ses.ownsK {
		t.Fatalf("session %+v: want the shared anonymous Kafka session", ses)
	}
	tc.mustJSON("GET", "/v3/clusters", nil, http.StatusOK, nil)
}

// TestLoginClusterDown: when the cluster cannot be reached the answer says
// so (503), and it is not counted as a wrong password.
func TestLoginClusterDown(t *testing.T) {
	tc := startConsoleWith(t, Config{Access: Access{
		Base:           []kgo.Opt{kgo.SeedBrokers("127.0.0.1:1"), kgo.RetryTimeout(time.Second)},
		SASLMechanisms: []string{"SCRAM-SHA-512"},
	}})
	for range limitFree + 1 {
		st, body, _ := tc.login(aliceUser, alicePass)
		if st != http.StatusServiceUnavailable || !strings.Contains(string(body), "cannot check the password") {
			t.Fatalf("cluster down: %d %s", st, body)
		}
	}
}

// TestLoginRefusedForms: a sign-in must be JSON, from the console's own
// origin, with both fields; a console without sign-in has none.
func TestLoginRefusedForms(t *testing.T) {
	tc, _ := startSASLConsole(t, Config{})
	form := func(ct, origin, body string) int {
		req, _ := http.NewRequest("POST", tc.http.URL+"/api/login", strings.NewReader(body))
		req.Header.Set("Content-Type", ct)
		if origin != "" {
			req.Header.Set("Origin", origin)
		}
		resp, _ := tc.send(req)
		return resp.StatusCode
	}
	good := `{"user":"alice","password":"alice-secret-1"}`
	for _, c := range []struct {
		ct, origin, body string
		want             int
	}{
		{"application/x-www-form-urlencoded", "", "user=alice&password=x", http.StatusUnsupportedMediaType},
		{"text/plain", "", good, http.StatusUnsupportedMediaType},
		{"application/json", "http://evil.example", good, http.StatusForbidden},
		{"application/json", "", `{"user":"alice"}`, http.StatusBadRequest},
		{"application/json", "", `{"user":"` + strings.Repeat("a", maxUserName+1) + `","password":"x"}`, http.StatusBadRequest},
		{"application/json", tc.http.URL, good, http.StatusOK},
	} {
		if got := form(c.ct, c.origin, c.body); got != c.want {
			t.Errorf("%s from %q %.40s: %d, want %d", c.ct, c.origin, c.body, got, c.want)
		}
	}
	anon := startConsole(t, Config{})
	if st, _, _ := anon.login("a", "b"); st != http.StatusBadRequest {
		t.Fatalf("sign-in on a console without sign-in: %d", st)
	}
}

// TestCookieSecureUnderTLS: served over TLS (--console-tls-cert/-key), the
// session cookie is Secure, and a bad certificate pair fails New.
func TestCookieSecureUnderTLS(t *testing.T) {
	dir := t.TempDir()
	certs, err := testcerts.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	c := startSASLCluster(t)
	s, err := New(Config{Access: c.access(), TLSCertFile: certs.ServerCert, TLSKeyFile: certs.ServerKey, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	addr, stop := serve(t, s)
	defer func() {
		if err := stop(10 * time.Second); err != nil {
			t.Error(err)
		}
	}()
	pem, err := os.ReadFile(certs.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	cl := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	defer cl.CloseIdleConnections()
	body := `{"user":"` + aliceUser + `","password":"` + alicePass + `"}`
	resp, err := cl.Post("https://"+addr+"/api/login", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cookie := resp.Header.Get("Set-Cookie")
	if resp.StatusCode != http.StatusOK || !strings.Contains(cookie, "Secure") || !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Strict") {
		t.Fatalf("sign-in over TLS: %d, cookie %q", resp.StatusCode, cookie)
	}
	if _, err := New(Config{TLSCertFile: certs.ServerCert, TLSKeyFile: certs.CAFile}); err == nil || !strings.Contains(err.Error(), "--console-tls-cert") {
		t.Fatalf("a mismatched key: %v", err)
	}
}

// TestListenRefusesOpenConsole: a console without sign-in listens only on
// loopback, unless Insecure; with sign-in anywhere.
func TestListenRefusesOpenConsole(t *testing.T) {
	for _, c := range []struct {
		cfg  Config
		addr string
		ok   bool
	}{
		{Config{}, "127.0.0.1:0", true},
		{Config{}, "0.0.0.0:0", false},
		{Config{Insecure: true}, "0.0.0.0:0", true},
		{Config{Users: map[string]string{"a": "b"}}, "0.0.0.0:0", true},
		{Config{Access: Access{SASLMechanisms: []string{"PLAIN"}}}, "0.0.0.0:0", true},
	} {
		ln, err := Listen(c.addr, c.cfg)
		if ln != nil {
			ln.Close()
		}
		if (err == nil) != c.ok || (err != nil && !strings.Contains(err.Error(), "--console-insecure")) {
			t.Errorf("%s with sign-in %v, insecure %v: %v", c.addr, c.cfg.LoginRequired(), c.cfg.Insecure, err)
		}
	}
}

// TestLoginEmbedded: on the embedded broker, users sign in through the
// in-process SASL listener with the broker's own mechanisms, and their
// sessions are theirs (the ACLs apply); the console's own identity is a
// super user that sees everything.
func TestLoginEmbedded(t *testing.T) {
	tc := startEmbeddedConsole(t, Config{}, saslOptions()...)
	setupSASLCluster(t, tc.broker)
	if !tc.srv.LoginRequired() || len(tc.srv.cfg.Access.SASLMechanisms) == 0 {
		t.Fatalf("embedded console with SASL listeners: mechanisms %v", tc.srv.cfg.Access.SASLMechanisms)
	}
	if st, _, _ := tc.login(aliceUser, "wrong"); st != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", st)
	}
	tc.mustLogin(aliceUser, alicePass)
	if topics := sessionTopics(t, tc.current().kafka); len(topics) != 1 || topics[0] != aliceTopic {
		t.Fatalf("alice sees %v", topics)
	}
	svc := newKafkaSession("", tc.srv.cfg.Access.Service)
	defer svc.Close()
	if topics := sessionTopics(t, svc); len(topics) < 2 {
		t.Fatalf("the console's own identity sees %v", topics)
	}
}

// TestServeEndsLongRequests: when Serve's context ends, requests still
// running (a live tail's stream) see their context end, so the shutdown,
// and the broker's behind it, does not wait for its timeout.
func TestServeEndsLongRequests(t *testing.T) {
	s, err := New(Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	s.api("GET /test/stream", func(c *call) error {
		close(started)
		<-c.r.Context().Done()
		return nil
	})
	addr, stop := serve(t, s)
	go func() {
		resp, err := http.Get("http://" + addr + "/test/stream")
		if err == nil {
			resp.Body.Close()
		}
	}()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the request did not start")
	}
	if err := stop(3 * time.Second); err != nil {
		t.Fatalf("%v (it waited for the running request instead of ending it)", err)
	}
}

// serve runs s.Serve on a free loopback port and returns its address and
// a function that ends it and waits at most d for it to return.
func serve(t *testing.T, s *Server) (string, func(d time.Duration) error) {
	t.Helper()
	ln, err := s.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	return ln.Addr().String(), func(d time.Duration) error {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("serve: %w", err)
			}
			return nil
		case <-time.After(d):
			return fmt.Errorf("Serve did not return within %v", d)
		}
	}
}
