package console_test

// security_test.go runs the console's security end to end: the real binary
// with a SASL listener and the authorizer on, users created offline with
// `courier user create --data` (as the README's secure walkthrough does)
// and ACLs with `courier acl add`; the browser signs in, uses the security
// pages, is the victim of a forged cross-site POST (from a page another
// loopback port serves), signs out, signs in as a user whose ACLs allow one
// topic (who sees only it, and whose reset of another group's offsets the
// cluster refuses), and guesses a password until it is slowed down.

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/brokerproc"
	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/courier-dev/courier/internal/testkit/testlog"
	"github.com/courier-dev/courier/internal/testkit/testwait"
)

// Users of the secured broker.
const (
	adminPassword = "admin-console-pw"
	alicePassword = "alice-console-pw"
)

// courier runs the courier binary with args and stdin, failing the test on
// error, and returns its standard output.
func courier(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, courierBin, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		t.Fatalf("courier %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errOut.String())
	}
	return out.String()
}

// securedBroker starts a broker with a SASL_PLAINTEXT listener beside the
// PLAINTEXT one, the authorizer on, admin a super user (ANONYMOUS too, so
// that the test's CLI commands on the PLAINTEXT listener need no
// password), alice allowed to read and describe the topic alice-only and
// read the group alice-group. It returns the broker, the console's URL and
// the --brokers flag of the PLAINTEXT listener.
func securedBroker(t *testing.T) (*brokerproc.Broker, string, string) {
	t.Helper()
	dir := t.TempDir()
	courier(t, adminPassword+"\n", "user", "create", "admin", "--mechanism", "SCRAM-SHA-512", "--data", dir)
	courier(t, alicePassword+"\n", "user", "create", "alice", "--mechanism", "SCRAM-SHA-256", "--data", dir)
	b, url := startBrokerAt(t, dir, []brokerproc.Opt{brokerproc.Listener("SASL_PLAINTEXT")},
		"--authorizer", "on", "--super-users", "User:admin,User:ANONYMOUS")
	brokers := "--brokers=" + b.Addr()
	courier(t, "", "topic", "create", "alice-only", "--partitions", "2", brokers)
	courier(t, "", "topic", "create", "other-topic", brokers)
	courier(t, "", "acl", "add", "--allow-principal", "User:alice", "--operation", "read", "--operation", "describe", "--topic", "alice-only", brokers)
	courier(t, "", "acl", "add", "--allow-principal", "User:alice", "--operation", "read", "--group", "alice-group", brokers)
	return b, url, brokers
}

// forgeServer serves, on another loopback port, a hostile page whose form
// posts to the console on load: a text/plain body shaped as JSON (the
// classic JSON CSRF), creating an ACL that would let mallory do anything,
// and a second one creating a topic.
func forgeServer(t *testing.T, consoleURL, clusterID string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	page := func(action, name, value string) string {
		return `<!doctype html><html><body><form id="f" method="POST" enctype="text/plain" action="` + action + `">` +
			`<input type="hidden" name='` + name + `' value='` + value + `'></form>` +
			`<script>document.getElementById("f").submit();</script></body></html>`
	}
	acls := page(consoleURL+"/v3/clusters/"+clusterID+"/acls",
		`{"resource_type":"CLUSTER","resource_name":"kafka-cluster","pattern_type":"LITERAL","principal":"User:mallory","host":"*","operation":"ALL","permission":"ALLOW","x":"`, `"}`)
	topics := page(consoleURL+"/v3/clusters/"+clusterID+"/topics", `{"topic_name":"forged","partitions_count":1,"x":"`, `"}`)
	mux := http.NewServeMux()
	mux.HandleFunc("/acl", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, acls) })
	mux.HandleFunc("/topic", func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, topics) })
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })
	return "http://" + ln.Addr().String()
}

// TestConsoleSecurityBrowser: sign-in, the security pages and their
// screenshots, a forged cross-site POST refused, sign-out, a user the ACLs
// restrict refused with the cluster's error, and five wrong passwords
// slowing the sixth attempt down.
func TestConsoleSecurityBrowser(t *testing.T) {
	b, url, brokers := securedBroker(t)
	// An open transaction for the transactions page.
	testclient.CreateTopic(t, b.Addr(), "payments", 1, nil)
	testclient.WriteTxn(t, b.Addr(), "billing", "payments", 0, testclient.TxnOpen, "p1", "p2")
	// Another group's offsets on alice's topic: she may describe the
	// group, not read it (so not reset it).
	courier(t, "r1\nr2\nr3\n", "produce", "alice-only", "--partition", "0", brokers)
	courier(t, "", "group", "seek", "other-group", "--topic", "alice-only", "--to", "latest", brokers)
	courier(t, "", "acl", "add", "--allow-principal", "User:alice", "--operation", "describe", "--group", "other-group", brokers)
	seen := runBrowser(t, "console-security.js", []string{
		"CONSOLE_URL=" + url,
		"FORGE_URL=" + forgeServer(t, url, consoleClusterID(t, url)),
		"ADMIN_USER=admin", "ADMIN_PASSWORD=" + adminPassword,
		"ALICE_USER=alice", "ALICE_PASSWORD=" + alicePassword,
	})
	for _, k := range []string{"forgedACLStatus", "forgedTopicStatus"} {
		if v, _ := seen[k].(float64); v != http.StatusForbidden {
			t.Errorf("the forged POST (%s) was answered %v, want 403", k, seen[k])
		}
	}
	if acls := courier(t, "", "acl", "list", brokers); strings.Contains(acls, "mallory") {
		t.Errorf("the forged POST created an ACL:\n%s", acls)
	}
	if topics := courier(t, "", "topic", "list", brokers); strings.Contains(topics, "forged") {
		t.Errorf("the forged POST created a topic:\n%s", topics)
	}
	if v, _ := seen["retryAfter"].(float64); v < 1 {
		t.Errorf("the sixth attempt was not slowed down: %v", seen)
	}
}

// consoleClusterID asks the console for the cluster's id as a script does:
// REST Proxy's /v3/clusters with HTTP Basic credentials.
func consoleClusterID(t *testing.T, url string) string {
	t.Helper()
	req, err := http.NewRequest("GET", url+"/v3/clusters", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("admin", adminPassword)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list struct {
		Data []struct {
			ClusterID string `json:"cluster_id"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil || resp.StatusCode != http.StatusOK || len(list.Data) != 1 {
		t.Fatalf("GET /v3/clusters with Basic auth: %s, %v, %+v", resp.Status, err, list)
	}
	return list.Data[0].ClusterID
}

// TestBrokerRefusesOpenConsole: through the binary, a console on a
// non-loopback address without sign-in is refused, naming
// --console-insecure, and accepted with it.
func TestBrokerRefusesOpenConsole(t *testing.T) {
	free, err := brokerproc.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(free)
	kafka, err := brokerproc.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, courierBin, "broker", "--addr", kafka, "--http-addr", "", "--data", t.TempDir(),
		"--console-addr", "0.0.0.0:"+port).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "--console-insecure") || !strings.Contains(string(out), "not a loopback address") {
		t.Fatalf("broker with an open console: %v\n%s", err, out)
	}
	b, err := brokerproc.Start(courierBin, t.TempDir(), brokerproc.Args("--console-addr", "0.0.0.0:"+port, "--console-insecure"))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := b.Stop(); err != nil {
			t.Error(err)
		}
	}()
	if !brokerproc.WaitListening("127.0.0.1:"+port, 30*time.Second, nil) {
		t.Fatalf("the --console-insecure console does not listen:\n%s", b.OutputTail())
	}
}

// TestConsoleCommand: `courier console` against a secured cluster over
// the network: it says where to open it; users sign in with their Kafka
// passwords (SCRAM) and see what their ACLs allow; the figures come from
// the protocol.
func TestConsoleCommand(t *testing.T) {
	b, _, _ := securedBroker(t)
	addr, err := brokerproc.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, courierBin, "console", "--brokers", b.ListenerAddr("SASL_PLAINTEXT"),
		"--sasl-mechanism", "SCRAM-SHA-256", "--addr", addr, "--data", t.TempDir())
	out := &testlog.Buffer{}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		cancel()
		if err := cmd.Wait(); err != nil && ctx.Err() == nil {
			t.Errorf("courier console: %v\n%s", err, out.String())
		}
	}()
	want := "courier console: open http://" + addr
	testwait.For(t, 30*time.Second, "courier console to say where it is", func() string {
		if !strings.Contains(out.String(), want) {
			return "output so far: " + out.String()
		}
		return ""
	})
	if !strings.Contains(out.String(), "keeps no consumer-group lag history") {
		t.Errorf("courier console without --sasl-user does not say it keeps no lag history:\n%s", out.String())
	}
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar}
	login := func(user, pass string) int {
		resp, err := cl.Post("http://"+addr+"/api/login", "application/json", strings.NewReader(`{"user":"`+user+`","password":"`+pass+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := login("alice", "wrong"); st != http.StatusUnauthorized {
		t.Fatalf("wrong password: %d", st)
	}
	if st := login("alice", alicePassword); st != http.StatusOK {
		t.Fatalf("alice's sign-in (SCRAM-SHA-256 over the network): %d", st)
	}
	resp, err := cl.Get("http://" + addr + "/api/overview")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var o struct {
		Topics int    `json:"topics"`
		Source string `json:"source"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&o); err != nil || o.Topics != 1 || o.Source != "protocol" {
		t.Fatalf("alice's overview: %s %+v %v", resp.Status, o, err)
	}
}
