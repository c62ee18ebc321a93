package walkthrough

// secure_test.go runs README.md's "Secure deployment" walkthrough and
// checks each block's effect: the certificate, the first user, the broker
// on its listeners, the topic and users made through the Kafka API, the
// ACLs (and anonymous clients denied), kcat as the sink, the gateway and
// the sink under their own users (an update from curl in the database, a
// live stream), and clean stops.

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/users"
	"github.com/courier-dev/courier/internal/testkit/brokerproc"
	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl/scram"
	_ "modernc.org/sqlite" // the sink's database, read back
)

// blockTimeout bounds one block (a broker start, a PBKDF2, a curl with
// retries).
const blockTimeout = 2 * time.Minute

// secure is the walkthrough's state the checks share.
type secure struct {
	dir                         string
	sasl, plain, gateway, http  string // the addresses the commands use
	console                     string // the broker's console (COURIER_CONSOLE_ADDR)
	session                     *session
	broker                      *terminal
	adminPassword, sinkPassword string
}

func TestSecureDeployment(t *testing.T) {
	requireTools(t, "bash", "openssl", "curl", "kcat")
	blocks := readSection(t, "secure")
	w := &secure{dir: t.TempDir()}
	if err := os.Mkdir(filepath.Join(w.dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(courierBin, filepath.Join(w.dir, "bin", "courier")); err != nil {
		t.Fatal(err)
	}
	addrs := make([]string, 5)
	for i := range addrs {
		var err error
		if addrs[i], err = brokerproc.FreeAddr(); err != nil {
			t.Fatal(err)
		}
	}
	w.sasl, w.plain, w.gateway, w.http, w.console = addrs[0], addrs[1], addrs[2], addrs[3], addrs[4]
	ports := map[string]string{"127.0.0.1:9093": w.sasl, "127.0.0.1:9092": w.plain, "127.0.0.1:8081": w.gateway}
	t.Logf("free ports instead of the README's: %v; the broker's HTTP port (default 127.0.0.1:9644) is COURIER_HTTP_ADDR=%s, the gateway's (default 127.0.0.1:8081) COURIER_ADDR=%s, the console's (default 127.0.0.1:8088) COURIER_CONSOLE_ADDR=%s", ports, w.http, w.gateway, w.console)
	w.session = startSession(t, w.dir, walkEnv("COURIER_ADDR="+w.gateway))

	checks := []struct {
		key   string // a block with this text is checked by check
		check func(t *testing.T, out string)
		used  bool
	}{
		{key: "openssl req", check: w.checkCertificate},
		{key: "user create admin", check: w.checkFirstUser},
		{key: "bin/courier broker", check: w.checkBrokerStarted},
		{key: "topic create rider-updates", check: w.checkTopicAndUsers},
		{key: "acl add", check: w.checkACLs},
		{key: "kcat", check: w.checkKcat},
		{key: "bin/courier gateway", check: w.checkPipeline},
		{key: "kill %1 %2", check: w.checkPipelineStopped},
	}
	used := map[string]bool{}
	for i, b := range blocks {
		text := substitute(b.text, ports, used)
		c := -1
		for j := range checks {
			if strings.Contains(b.text, checks[j].key) {
				c = j
				break
			}
		}
		if c < 0 || checks[c].used {
			t.Fatalf("block %d has no check of its own in this test (add one):\n%s", i+1, b.text)
		}
		checks[c].used = true
		t.Logf("block %d%s:\n%s", i+1, map[bool]string{true: ", in another terminal", false: ""}[b.elsewhere], text)
		var out string
		if b.elsewhere {
			if w.broker != nil {
				t.Fatal("a second block for another terminal: the test knows only the broker's")
			}
			w.broker = startTerminal(t, w.dir, walkEnv("COURIER_HTTP_ADDR="+w.http, "COURIER_CONSOLE_ADDR="+w.console), text)
		} else {
			out = w.session.run(text, blockTimeout)
		}
		checks[c].check(t, out)
	}
	for _, c := range checks {
		if !c.used {
			t.Errorf("the walkthrough has no block with %q any more", c.key)
		}
	}
	for from := range ports {
		if !used[from] {
			t.Errorf("no block names %s any more: the port substitution is stale", from)
		}
	}
	if w.broker == nil {
		t.Fatal("the walkthrough started no broker")
	}
	// Ctrl-C in the broker's terminal: a clean stop.
	if err := w.broker.interrupt(time.Minute); err != nil {
		t.Fatalf("broker after Ctrl-C: %v\n%s", err, tail(w.broker.out.String(), 20))
	}
	if !strings.Contains(w.broker.out.String(), "msg=stopped") {
		t.Fatalf("the broker did not report a clean stop:\n%s", tail(w.broker.out.String(), 20))
	}
}

// checkCertificate: a certificate and key that name this machine.
func (w *secure) checkCertificate(t *testing.T, _ string) {
	data, err := os.ReadFile(filepath.Join(w.dir, "broker.pem"))
	if err != nil {
		t.Fatal(err)
	}
	p, _ := pem.Decode(data)
	if p == nil {
		t.Fatal("broker.pem holds no PEM block")
	}
	cert, err := x509.ParseCertificate(p.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"localhost", "127.0.0.1"} {
		if err := cert.VerifyHostname(host); err != nil {
			t.Errorf("broker.pem: %v", err)
		}
	}
	if _, err := tls.LoadX509KeyPair(filepath.Join(w.dir, "broker.pem"), filepath.Join(w.dir, "broker-key.pem")); err != nil {
		t.Fatalf("certificate and key: %v", err)
	}
}

// checkFirstUser: admin's credential, for the password the shell holds, in
// the data directory.
func (w *secure) checkFirstUser(t *testing.T, _ string) {
	w.adminPassword = w.session.variable("ADMIN_PASSWORD")
	w.sinkPassword = w.session.variable("SINK_PASSWORD")
	if len(w.adminPassword) < 16 || len(w.sinkPassword) < 16 {
		t.Fatalf("passwords %q, %q: not drawn", w.adminPassword, w.sinkPassword)
	}
	st, err := users.Open(filepath.Join(w.dir, "data", "meta"), nil)
	if err != nil {
		t.Fatal(err)
	}
	u, ok := st.Get("admin")
	if !ok || len(u.Credentials) != 1 || u.Credentials[0].Mechanism != users.ScramSHA512 {
		t.Fatalf("admin in users.json: %+v, %v", u, ok)
	}
	if !st.VerifyPassword("admin", w.adminPassword) {
		t.Fatal("admin's credential does not match ADMIN_PASSWORD")
	}
}

// checkBrokerStarted: the broker listens on both listeners.
func (w *secure) checkBrokerStarted(t *testing.T, _ string) {
	for _, addr := range []string{w.sasl, w.plain} {
		if !brokerproc.WaitListening(addr, time.Minute, w.broker.exited) {
			t.Fatalf("the broker does not listen on %s:\n%s", addr, tail(w.broker.out.String(), 20))
		}
	}
	testwait.For(t, 30*time.Second, "the broker to report it started", func() string {
		if !strings.Contains(w.broker.out.String(), "broker started") {
			return tail(w.broker.out.String(), 5)
		}
		return ""
	})
}

// client returns a client of the SASL_SSL listener as user.
func (w *secure) client(t *testing.T, user, password string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	pool := x509.NewCertPool()
	pemData, err := os.ReadFile(filepath.Join(w.dir, "broker.pem"))
	if err != nil || !pool.AppendCertsFromPEM(pemData) {
		t.Fatalf("broker.pem: %v", err)
	}
	return testclient.New(t, w.sasl, append([]kgo.Opt{
		kgo.DialTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}),
		kgo.SASL(scram.Auth{User: user, Pass: password}.AsSha512Mechanism()),
	}, opts...)...)
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// checkTopicAndUsers: rider-updates with 4 partitions, and the gateway and
// sink users, as admin sees them.
func (w *secure) checkTopicAndUsers(t *testing.T, out string) {
	adm := kadm.NewClient(w.client(t, "admin", w.adminPassword))
	details, err := adm.ListTopics(ctx(t), "rider-updates")
	if err != nil {
		t.Fatal(err)
	}
	if d := details["rider-updates"]; d.Err != nil || len(d.Partitions) != 4 {
		t.Fatalf("rider-updates: %v, %d partitions", d.Err, len(d.Partitions))
	}
	rcs, err := adm.DescribeTopicConfigs(ctx(t), "rider-latest")
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rcs.On("rider-latest", nil)
	if err != nil || rc.Err != nil {
		t.Fatalf("rider-latest: %v %v", err, rc.Err)
	}
	for _, c := range rc.Configs {
		if c.Key == "cleanup.policy" && c.MaybeValue() != "compact" {
			t.Errorf("rider-latest: cleanup.policy=%s", c.MaybeValue())
		}
	}
	described, err := adm.DescribeUserSCRAMs(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"admin", "gateway", "sink"} {
		if d, ok := described[u]; !ok || d.Err != nil || len(d.CredInfos) != 1 {
			t.Errorf("user %s: %+v", u, d)
		}
		if !strings.Contains(out, u) {
			t.Errorf("user list does not show %s:\n%s", u, out)
		}
	}
}

// checkACLs: the bindings, and the PLAINTEXT listener's anonymous
// clients denied everything.
func (w *secure) checkACLs(t *testing.T, _ string) {
	req := kmsg.NewPtrDescribeACLsRequest()
	req.ResourceType, req.ResourcePatternType = kmsg.ACLResourceTypeAny, kmsg.ACLResourcePatternTypeAny
	req.Operation, req.PermissionType = kmsg.ACLOperationAny, kmsg.ACLPermissionTypeAny
	resp, err := req.RequestWith(ctx(t), w.client(t, "admin", w.adminPassword))
	if err != nil {
		t.Fatal(err)
	}
	if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, r := range resp.Resources {
		for _, a := range r.ACLs {
			got[a.Principal+" "+a.Operation.String()+" "+a.PermissionType.String()+" "+r.ResourceType.String()+":"+r.ResourceName] = true
		}
	}
	want := []string{
		"User:gateway WRITE ALLOW TOPIC:rider-updates", "User:gateway READ ALLOW TOPIC:rider-updates", "User:gateway DESCRIBE ALLOW TOPIC:rider-updates",
		"User:gateway WRITE ALLOW TOPIC:rider-latest", "User:gateway READ ALLOW TOPIC:rider-latest", "User:gateway DESCRIBE ALLOW TOPIC:rider-latest",
		"User:gateway DESCRIBE_CONFIGS ALLOW TOPIC:rider-latest",
		"User:sink READ ALLOW TOPIC:rider-updates", "User:sink DESCRIBE ALLOW TOPIC:rider-updates", "User:sink READ ALLOW GROUP:db-writer",
	}
	for _, b := range want {
		if !got[b] {
			t.Errorf("no ACL %q; have %v", b, got)
		}
	}
	if len(got) != len(want) {
		t.Errorf("ACLs %v, want exactly %v", got, want)
	}
	// Anonymous on loopback: no topic shown, none written.
	anon := testclient.New(t, w.plain, kgo.RecordRetries(0), kgo.DisableIdempotentWrite())
	md, err := kadm.NewClient(anon).ListTopics(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(md) != 0 {
		t.Errorf("an anonymous client sees topics: %v", md.Names())
	}
	err = anon.ProduceSync(ctx(t), &kgo.Record{Topic: "rider-updates", Value: []byte("x")}).FirstErr()
	if !errors.Is(err, kerr.TopicAuthorizationFailed) {
		t.Errorf("anonymous produce: %v, want TOPIC_AUTHORIZATION_FAILED", err)
	}
}

// checkKcat: kcat, as the sink, lists rider-updates.
func (w *secure) checkKcat(t *testing.T, out string) {
	if !strings.Contains(out, `topic "rider-updates" with 4 partitions`) {
		t.Fatalf("kcat -L does not list rider-updates:\n%s", out)
	}
}

// checkPipeline: the gateway took the update, the sink wrote it, the
// gateway's live stream works under its ACLs, and no part was refused.
func (w *secure) checkPipeline(t *testing.T, out string) {
	if !strings.Contains(out, `{"accepted":1}`) {
		t.Fatalf("the gateway did not accept the update:\n%s", out)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(w.dir, "riders.db")+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	testwait.For(t, 30*time.Second, "the sink to write rider-1", func() string {
		var lat, lon float64
		err := db.QueryRow(`SELECT lat, lon FROM rider_latest WHERE rider_id = 'rider-1'`).Scan(&lat, &lon)
		if err != nil {
			return err.Error() + "\n" + tail(w.session.out.String(), 10)
		}
		if lat != 12.97 || lon != 77.59 {
			t.Fatalf("rider-1 at %v,%v, want 12.97,77.59", lat, lon)
		}
		return ""
	})
	w.checkLiveStream(t)
	w.checkLastLocation(t)
	if s := w.session.out.String(); strings.Contains(s, "AUTHORIZATION_FAILED") || strings.Contains(s, "level=WARN") {
		t.Fatalf("the gateway or the sink was refused by the ACLs, or warned:\n%s", s)
	}
}

// checkLiveStream follows rider-1 on the gateway and sends it an update:
// the live consumer needs the gateway's READ ACL.
func (w *secure) checkLiveStream(t *testing.T) {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(c, http.MethodGet, "http://"+w.gateway+"/v1/riders/rider-1/live", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	// The stream's first line, an SSE comment, says the subscription is
	// in place: updates from now on are sent.
	lines := bufio.NewScanner(resp.Body)
	if resp.StatusCode != http.StatusOK || !lines.Scan() || !strings.HasPrefix(lines.Text(), ":") {
		t.Fatalf("live stream: %s %q %v", resp.Status, lines.Text(), lines.Err())
	}
	put, _ := http.NewRequestWithContext(c, http.MethodPut, "http://"+w.gateway+"/v1/riders/rider-1/location", strings.NewReader(`{"lat":12.98,"lon":77.6}`))
	put.Header.Set("Content-Type", "application/json")
	presp, err := http.DefaultClient.Do(put)
	if err != nil {
		t.Fatal(err)
	}
	presp.Body.Close()
	if presp.StatusCode != http.StatusAccepted {
		t.Fatalf("PUT location: %s", presp.Status)
	}
	for lines.Scan() {
		if strings.HasPrefix(lines.Text(), "data:") && strings.Contains(lines.Text(), "12.98") {
			return
		}
	}
	t.Fatalf("no live event for the update (%v); gateway output:\n%s", lines.Err(), tail(w.session.out.String(), 10))
}

// checkLastLocation: the gateway answers rider-1's last location (the
// live stream's PUT) from rider-latest, which its ACLs let it write and
// read.
func (w *secure) checkLastLocation(t *testing.T) {
	testwait.For(t, 30*time.Second, "rider-1's last location", func() string {
		resp, err := http.Get("http://" + w.gateway + "/v1/riders/rider-1/location")
		if err != nil {
			return err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"lat":12.98,"lon":77.6`) {
			return resp.Status + " " + string(b)
		}
		return ""
	})
}

// checkPipelineStopped: after kill %1 %2 the gateway and the sink exit.
func (w *secure) checkPipelineStopped(t *testing.T, _ string) {
	w.session.end(time.Minute)
	out := w.session.out.String()
	for _, stopped := range []string{"gateway stopped", "sink stopped"} {
		if !strings.Contains(out, stopped) {
			t.Errorf("no %q in the output:\n%s", stopped, tail(out, 20))
		}
	}
	if !w.broker.running() {
		t.Fatalf("the broker exited before its Ctrl-C:\n%s", tail(w.broker.out.String(), 20))
	}
}
