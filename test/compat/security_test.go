package compat

// security_test.go: third-party clients against a secured broker, as the
// README's secure deployment sets it up: a SASL_SSL listener (SCRAM and
// PLAIN over TLS), users created with `courier user create` on the data
// directory before the first start, the authorizer on with a super user,
// and ACLs added with `courier acl add`. kcat (librdkafka) and kafkajs must
// succeed where the ACLs allow and fail with Kafka's errors where
// credentials or ACLs say no.

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/courier-dev/courier/internal/testkit/brokerproc"
	"github.com/courier-dev/courier/internal/testkit/testcerts"
)

// secureBroker is a broker with a PLAINTEXT and a SASL_SSL listener.
type secureBroker struct {
	b     *brokerproc.Broker
	sasl  string // SASL_SSL listener address
	certs *testcerts.Set
}

// Passwords of the test users. admin is a super user; alice and bob get
// ACLs.
const (
	adminPass = "admin-pw-1"
	alicePass = "alice-pw-2"
	bobPass   = "bob-pw-3"
)

// startSecureBroker creates the users offline, starts the broker with the
// authorizer on, and sets up topics and ACLs as admin through the CLI.
func startSecureBroker(t *testing.T) *secureBroker {
	t.Helper()
	dir := t.TempDir()
	certs, err := testcerts.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	courierCLI(t, adminPass+"\n", "user", "create", "admin", "--mechanism", "SCRAM-SHA-512", "--data", data)
	courierCLI(t, alicePass+"\n", "user", "create", "alice", "--mechanism", "SCRAM-SHA-512", "--data", data)
	courierCLI(t, bobPass+"\n", "user", "create", "bob", "--mechanism", "SCRAM-SHA-256", "--data", data)
	b := brokerproc.StartT(t, courierBin, data, brokerproc.Fsync("always"), brokerproc.Listener("SASL_SSL"),
		brokerproc.Args("--tls-cert", certs.ServerCert, "--tls-key", certs.ServerKey,
			"--authorizer", "on", "--super-users", "User:admin", "--auto-create-topics=false"))
	s := &secureBroker{b: b, sasl: b.ListenerAddr("SASL_SSL"), certs: certs}
	for _, topic := range []string{"orders", "secret"} {
		s.admin(t, "topic", "create", topic, "--partitions", "1")
	}
	s.admin(t, "acl", "add", "--allow-principal", "User:alice", "--allow-principal", "User:bob",
		"--operation", "write", "--operation", "read", "--operation", "describe", "--topic", "orders")
	s.admin(t, "acl", "add", "--allow-principal", "User:alice", "--allow-principal", "User:bob",
		"--operation", "read", "--group", "allowed-", "--resource-pattern-type", "prefixed")
	// Describe without Read: FindCoordinator succeeds, JoinGroup is refused.
	s.admin(t, "acl", "add", "--allow-principal", "User:bob", "--operation", "describe", "--group", "describe-only")
	return s
}

// admin runs a courier client command as admin over SASL_SSL.
func (s *secureBroker) admin(t *testing.T, args ...string) string {
	t.Helper()
	args = append(args, "--brokers", s.sasl, "--tls-ca", s.certs.CAFile,
		"--sasl-mechanism", "SCRAM-SHA-512", "--sasl-user", "admin", "--sasl-password", adminPass)
	return courierCLI(t, "", args...)
}

// courierCLI runs the binary and fails the test if it fails.
func courierCLI(t *testing.T, stdin string, args ...string) string {
	t.Helper()
	out, errOut, err := run(t, []byte(stdin), nil, courierBin, args...)
	if err != nil {
		t.Fatalf("courier %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return string(out)
}

// kcatArgs are librdkafka's settings for user over SASL_SSL.
func (s *secureBroker) kcatArgs(mechanism, user, pass string) []string {
	return []string{"-b", s.sasl, "-X", "security.protocol=SASL_SSL", "-X", "sasl.mechanisms=" + mechanism,
		"-X", "sasl.username=" + user, "-X", "sasl.password=" + pass, "-X", "ssl.ca.location=" + s.certs.CAFile}
}

func TestKcatSASLSSL(t *testing.T) {
	kcat := requireKcat(t)
	s := startSecureBroker(t)
	alice := s.kcatArgs("SCRAM-SHA-512", "alice", alicePass)

	// Allowed: produce and read back, with SCRAM and with PLAIN.
	if _, e, err := run(t, []byte("one\ntwo\nthree\n"), nil, kcat, append(alice, "-P", "-t", "orders", "-p", "0")...); err != nil {
		t.Fatalf("alice produce: %v\n%s", err, e)
	}
	out, e, err := run(t, nil, nil, kcat, append(s.kcatArgs("PLAIN", "alice", alicePass), "-C", "-t", "orders", "-p", "0", "-o", "beginning", "-c", "3", "-e", "-f", "%s\n")...)
	if err != nil || string(out) != "one\ntwo\nthree\n" {
		t.Fatalf("alice consume over PLAIN: %q, %v\n%s", out, err, e)
	}

	// SCRAM-SHA-256 (bob's mechanism) sees the topic the ACLs let it
	// describe, and only that one.
	out, e, err = run(t, nil, nil, kcat, append(s.kcatArgs("SCRAM-SHA-256", "bob", bobPass), "-L", "-J")...)
	if err != nil || !strings.Contains(string(out), `"topic":"orders"`) || strings.Contains(string(out), `"topic":"secret"`) {
		t.Fatalf("bob metadata over SCRAM-SHA-256: %v\n%s\n%s", err, out, e)
	}

	// Refused: each with the error Kafka gives.
	cases := []struct {
		name string
		args []string
		want string // in kcat's stderr, case-insensitive
	}{
		{"wrong password", append(s.kcatArgs("SCRAM-SHA-512", "alice", "nope"), "-L", "-m", "5"), "authentication"},
		{"wrong password over SCRAM-SHA-256", append(s.kcatArgs("SCRAM-SHA-256", "bob", "nope"), "-L", "-m", "5"), "authentication"},
		{"wrong password over PLAIN", append(s.kcatArgs("PLAIN", "alice", "nope"), "-L", "-m", "5"), "authentication"},
		{"unknown user", append(s.kcatArgs("SCRAM-SHA-512", "mallory", "x"), "-L", "-m", "5"), "authentication"},
		{"wrong mechanism for the user", append(s.kcatArgs("SCRAM-SHA-256", "alice", alicePass), "-L", "-m", "5"), "authentication"},
		{"topic not allowed", append(alice, "-C", "-t", "secret", "-p", "0", "-o", "beginning", "-e", "-m", "5"), "topic authorization failed"},
		{"group not allowed", append(alice, "-G", "other-group", "orders", "-e", "-m", "8"), "group authorization failed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, e, err := run(t, nil, func(line string) bool { return strings.Contains(strings.ToLower(line), c.want) }, kcat, c.args...)
			if !strings.Contains(strings.ToLower(string(e)), c.want) {
				t.Fatalf("kcat %v: want %q in its errors; exit %v\nstdout %s\nstderr %s", c.args, c.want, err, out, e)
			}
		})
	}

	// Nothing leaks to an anonymous PLAINTEXT client: no topic is listed.
	meta, e, err := run(t, nil, nil, kcat, "-b", s.b.Addr(), "-L", "-J", "-m", "5")
	if err != nil {
		t.Fatalf("anonymous metadata: %v\n%s", err, e)
	}
	var md struct {
		Topics []struct{ Topic string } `json:"topics"`
	}
	if err := json.Unmarshal(meta, &md); err != nil || len(md.Topics) != 0 {
		t.Fatalf("anonymous metadata lists %v (%v); want no topics\n%s", md.Topics, err, meta)
	}
}

func TestKafkajsSASLSSL(t *testing.T) {
	node, dir := requireKafkajs(t)
	s := startSecureBroker(t)
	spec := func(mech, user, pass, action, topic, group string) string {
		b, _ := json.Marshal(map[string]string{"broker": s.sasl, "ca": s.certs.CAFile, "mechanism": mech,
			"user": user, "password": pass, "action": action, "topic": topic, "group": group})
		return string(b)
	}
	cases := []struct {
		name, spec string
		want       string // "ok" or the kafkajs error type
	}{
		{"bob scram-sha-256 produce and consume", spec("scram-sha-256", "bob", bobPass, "roundtrip", "orders", "allowed-js"), "ok"},
		{"alice plain produce and consume", spec("plain", "alice", alicePass, "roundtrip", "orders", "allowed-js-2"), "ok"},
		{"wrong password", spec("scram-sha-512", "alice", "nope", "produce", "orders", ""), "SASL_AUTHENTICATION_FAILED"},
		{"wrong password over scram-sha-256", spec("scram-sha-256", "bob", "nope", "produce", "orders", ""), "SASL_AUTHENTICATION_FAILED"},
		{"wrong password over plain", spec("plain", "alice", "nope", "produce", "orders", ""), "SASL_AUTHENTICATION_FAILED"},
		{"alice scram-sha-512 produce", spec("scram-sha-512", "alice", alicePass, "produce", "orders", ""), "ok"},
		{"topic not allowed", spec("scram-sha-256", "bob", bobPass, "produce", "secret", ""), "TOPIC_AUTHORIZATION_FAILED"},
		{"group with describe only", spec("scram-sha-256", "bob", bobPass, "roundtrip", "orders", "describe-only"), "GROUP_AUTHORIZATION_FAILED"},
		// With no ACL on the group, FindCoordinator answers
		// GROUP_AUTHORIZATION_FAILED, which kafkajs 2.2.4 swallows
		// (brokerPool.withBroker) and reports as this, against Kafka too.
		{"group not allowed", spec("scram-sha-256", "bob", bobPass, "roundtrip", "orders", "other-js"), "KafkaJSGroupCoordinatorNotFound"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, e, err := run(t, nil, nil, node, filepath.Join(dir, "security.js"), c.spec)
			var res struct {
				Result string `json:"result"`
				Error  string `json:"error"`
			}
			if jerr := json.Unmarshal(out, &res); jerr != nil {
				t.Fatalf("security.js: %v; exit %v\nstdout %s\nstderr %s", jerr, err, out, e)
			}
			if res.Result != c.want {
				t.Fatalf("got %q (%s), want %q\nstderr %s", res.Result, res.Error, c.want, e)
			}
		})
	}
}

// TestKcatMutualTLS: an SSL listener requiring client certificates; the
// certificate's subject is the principal ACLs name.
func TestKcatMutualTLS(t *testing.T) {
	kcat := requireKcat(t)
	dir := t.TempDir()
	certs, err := testcerts.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	carolCert, carolKey, err := certs.Client("carol", certs.Subject("carol"))
	if err != nil {
		t.Fatal(err)
	}
	b := brokerproc.StartT(t, courierBin, filepath.Join(dir, "data"), brokerproc.Listener("SSL"),
		brokerproc.Args("--tls-cert", certs.ServerCert, "--tls-key", certs.ServerKey, "--tls-client-ca", certs.CAFile,
			"--authorizer", "on", "--super-users", "User:ANONYMOUS", "--auto-create-topics=false"))
	// The PLAINTEXT listener's anonymous super user sets things up, as an
	// operator on the broker's host would.
	courierCLI(t, "", "topic", "create", "shipments", "--partitions", "1", "--brokers", b.Addr())
	courierCLI(t, "", "topic", "create", "payroll", "--partitions", "1", "--brokers", b.Addr())
	courierCLI(t, "", "acl", "add", "--allow-principal", "User:CN=carol,O=courier-test", "--operation", "write",
		"--operation", "read", "--operation", "describe", "--topic", "shipments", "--brokers", b.Addr())
	ssl := []string{"-b", b.ListenerAddr("SSL"), "-X", "security.protocol=SSL", "-X", "ssl.ca.location=" + certs.CAFile}
	carol := append(append([]string(nil), ssl...), "-X", "ssl.certificate.location="+carolCert, "-X", "ssl.key.location="+carolKey)

	if _, e, err := run(t, []byte("box-1\n"), nil, kcat, append(carol, "-P", "-t", "shipments", "-p", "0")...); err != nil {
		t.Fatalf("carol produce: %v\n%s", err, e)
	}
	out, e, err := run(t, nil, nil, kcat, append(carol, "-C", "-t", "shipments", "-p", "0", "-o", "beginning", "-c", "1", "-e", "-f", "%s\n")...)
	if err != nil || string(out) != "box-1\n" {
		t.Fatalf("carol consume: %q %v\n%s", out, err, e)
	}
	for name, c := range map[string]struct {
		args []string
		want string
	}{
		"topic not allowed": {append(carol, "-P", "-t", "payroll", "-p", "0"), "topic authorization failed"},
		"no certificate":    {append(ssl, "-L", "-m", "5"), "ssl"},
	} {
		t.Run(name, func(t *testing.T) {
			out, e, err := run(t, []byte("x\n"), func(line string) bool { return strings.Contains(strings.ToLower(line), c.want) }, kcat, c.args...)
			if !strings.Contains(strings.ToLower(string(e)), c.want) {
				t.Fatalf("kcat %v: want %q in its errors; exit %v\nstdout %s\nstderr %s", c.args, c.want, err, out, e)
			}
		})
	}
}
