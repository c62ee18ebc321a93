package webconsole

// security_helpers_test.go starts a console in front of a secured test
// broker: a SASL_PLAINTEXT listener for the console's users, the
// authorizer on, SCRAM users made and ACLs granted through the broker's
// PLAINTEXT listener, whose anonymous clients are super users here (the
// test's administration channel).

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/run"
	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Users of the secured test cluster.
const (
	adminUser, adminPass = "admin", "admin-secret-1"
	aliceUser, alicePass = "alice", "alice-secret-1"
	aliceTopic           = "alice-only"
)

// saslCluster is a secured test broker and its administration client.
type saslCluster struct {
	b   *testbroker.Broker
	adm *kadm.Client
}

// startSASLCluster runs a broker with a SASL_PLAINTEXT listener and the
// authorizer on; admin is a super user, alice may only describe, read and
// write aliceTopic and read group alice-group. Topics aliceTopic and
// other-topic exist.
func startSASLCluster(t testing.TB) *saslCluster {
	t.Helper()
	return setupSASLCluster(t, testbroker.Start(t, saslOptions()...))
}

// saslOptions are the options of the secured test broker.
func saslOptions() []testbroker.Option {
	return []testbroker.Option{testbroker.Listener("SASL_PLAINTEXT"), func(c *run.Config) {
		c.Broker.AuthorizerEnabled = true
		c.Broker.SuperUsers = []string{"User:ANONYMOUS", "User:" + adminUser}
	}}
}

// setupSASLCluster makes the users, topics and ACLs of a secured test
// broker.
func setupSASLCluster(t testing.TB, b *testbroker.Broker) *saslCluster {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	c := &saslCluster{b: b, adm: kadm.NewClient(cl)}
	c.addUser(t, adminUser, adminPass, kadm.ScramSha512)
	c.addUser(t, aliceUser, alicePass, kadm.ScramSha256)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if _, err := c.adm.CreateTopics(ctx, 1, 1, nil, aliceTopic, "other-topic"); err != nil {
		t.Fatal(err)
	}
	c.allow(t, kadm.NewACLs().Topics(aliceTopic).Operations(kadm.OpDescribe, kadm.OpRead, kadm.OpWrite).Allow("User:"+aliceUser).AllowHosts())
	c.allow(t, kadm.NewACLs().Groups("alice-group").Operations(kadm.OpRead).Allow("User:"+aliceUser).AllowHosts())
	return c
}

// addUser creates a SCRAM user.
func (c *saslCluster) addUser(t testing.TB, name, pass string, m kadm.ScramMechanism) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := c.adm.AlterUserSCRAMs(ctx, nil, []kadm.UpsertSCRAM{{User: name, Mechanism: m, Iterations: 4096, Password: pass}})
	if err == nil {
		err = res[name].Err
	}
	if err != nil {
		t.Fatalf("create user %s: %v", name, err)
	}
}

// allow creates the ACLs b builds.
func (c *saslCluster) allow(t testing.TB, b *kadm.ACLBuilder) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	res, err := c.adm.CreateACLs(ctx, b)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range res {
		if r.Err != nil {
			t.Fatalf("create ACL: %v", r.Err)
		}
	}
}

// access is how a console reaches the cluster's SASL listener.
func (c *saslCluster) access() Access {
	return Access{
		Base:           []kgo.Opt{kgo.SeedBrokers(c.b.Addrs["SASL_PLAINTEXT"])},
		SASLMechanisms: []string{"SCRAM-SHA-512", "SCRAM-SHA-256"},
	}
}

// startSASLConsole runs a console whose users sign in to a secured
// cluster.
func startSASLConsole(t testing.TB, cfg Config) (*testConsole, *saslCluster) {
	t.Helper()
	c := startSASLCluster(t)
	cfg.Access = c.access()
	return startConsoleWith(t, cfg), c
}

// login signs in through POST /api/login; on success the session's CSRF
// token is kept for later requests. It returns the status, the answer and
// the response's headers.
func (tc *testConsole) login(user, pass string) (int, []byte, http.Header) {
	tc.t.Helper()
	body, _ := json.Marshal(loginRequest{User: user, Password: pass})
	req, err := http.NewRequest("POST", tc.http.URL+"/api/login", strings.NewReader(string(body)))
	if err != nil {
		tc.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, data := tc.send(req)
	if resp.StatusCode == http.StatusOK {
		var info sessionInfo
		if err := json.Unmarshal(data, &info); err != nil {
			tc.t.Fatal(err)
		}
		tc.csrf = info.CSRF
	}
	return resp.StatusCode, data, resp.Header
}

// mustLogin signs in or fails the test.
func (tc *testConsole) mustLogin(user, pass string) {
	tc.t.Helper()
	if st, body, _ := tc.login(user, pass); st != http.StatusOK {
		tc.t.Fatalf("sign in as %s: %d %s", user, st, body)
	}
}

// send sends req with the console's client and reads the answer.
func (tc *testConsole) send(req *http.Request) (*http.Response, []byte) {
	tc.t.Helper()
	resp, err := tc.client.Do(req)
	if err != nil {
		tc.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		tc.t.Fatal(err)
	}
	return resp, data
}

// sessionCookie returns the session cookie the client holds ("" if none).
func (tc *testConsole) sessionCookie() string {
	u, _ := url.Parse(tc.http.URL)
	for _, c := range tc.client.Jar.Cookies(u) {
		if c.Name == cookieName {
			return c.Value
		}
	}
	return ""
}

// current returns the server's session of the client's cookie, or nil.
func (tc *testConsole) current() *session {
	return tc.srv.ses.get(tc.sessionCookie(), tc.srv.now())
}

// browserFrom returns another browser of the same console (its own cookie
// jar) whose connections come from local address ip (127.0.0.0/8 on
// Linux), to test limits per client address.
func (tc *testConsole) browserFrom(ip string) *testConsole {
	jar, _ := cookiejar.New(nil)
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	tr := &http.Transport{DialContext: d.DialContext}
	tc.t.Cleanup(tr.CloseIdleConnections)
	return &testConsole{t: tc.t, srv: tc.srv, http: tc.http, client: &http.Client{Jar: jar, Transport: tr}, log: tc.log, broker: tc.broker}
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

// newFakeClock returns a clock at a fixed time.
func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

// Now returns the clock's time.
func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock.
func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// startEmbeddedConsole runs a test broker (with opts) and a console that
// reaches it as `courier broker --console-addr` does: through the
// in-process connections of run.Config.Embed, the broker's registry as
// Metrics.
func startEmbeddedConsole(t testing.TB, cfg Config, opts ...testbroker.Option) *testConsole {
	t.Helper()
	got := make(chan run.InProcess, 1)
	opts = append(opts, func(c *run.Config) {
		c.Embed = func(ctx context.Context, ip run.InProcess) error {
			got <- ip
			<-ctx.Done()
			return nil
		}
	})
	b := testbroker.Start(t, opts...)
	ip := <-got
	dial := func(d func(context.Context) (net.Conn, error)) kgo.Opt {
		return kgo.Dialer(func(ctx context.Context, _, _ string) (net.Conn, error) { return d(ctx) })
	}
	cfg.Access = Access{
		Base:           []kgo.Opt{kgo.SeedBrokers(b.Addr), dial(ip.DialUser)},
		SASLMechanisms: ip.SASLMechanisms,
		Service:        []kgo.Opt{kgo.SeedBrokers(b.Addr), dial(ip.DialService)},
	}
	cfg.Metrics, cfg.Listeners = ip.Metrics, ip.Listeners
	tc := startConsoleWith(t, cfg)
	tc.broker = b
	return tc
}
