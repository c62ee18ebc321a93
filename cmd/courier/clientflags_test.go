package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/courier-dev/courier/internal/testkit/testcerts"
)

// TestClientSecurityFlagErrors: bad TLS or SASL settings are reported
// before anything connects, naming the flag.
func TestClientSecurityFlagErrors(t *testing.T) {
	dir := t.TempDir()
	certs, err := testcerts.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	notPEM := filepath.Join(dir, "not.pem")
	if err := os.WriteFile(notPEM, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--tls-ca", filepath.Join(dir, "missing.pem")}, "--tls-ca"},
		{[]string{"--tls-ca", notPEM}, "no PEM certificate"},
		{[]string{"--tls-cert", certs.ServerCert}, "--tls-cert and --tls-key go together"},
		{[]string{"--tls-cert", certs.ServerCert, "--tls-key", certs.CAFile}, "--tls-cert/--tls-key"},
		{[]string{"--sasl-mechanism", "SCRAM-SHA-1", "--sasl-user", "a"}, "--sasl-mechanism"},
		{[]string{"--sasl-mechanism", "PLAIN"}, "needs --sasl-user"},
	}
	for _, c := range cases {
		args := append([]string{"topic", "list", "--brokers", "127.0.0.1:1"}, c.args...)
		_, _, err := execCourier(t, "", args...)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("courier %v: err %v, want it to mention %q", args, err, c.want)
		}
	}
}

// TestClientSecurityOpts: good settings become TLS and SASL options.
func TestClientSecurityOpts(t *testing.T) {
	certs, err := testcerts.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	client, key, err := certs.Client("c", certs.Subject("alice"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []clientFlags{
		{tlsCA: certs.CAFile},
		{tls: true, tlsCert: client, tlsKey: key},
		{saslMechanism: "plain", saslUser: "a", saslPass: "b"},
		{saslMechanism: "SCRAM-SHA-256", saslUser: "a"},
		{saslUser: "a", tlsCA: certs.CAFile},
	} {
		opts, err := f.securityOpts()
		if err != nil {
			t.Fatalf("%+v: %v", f, err)
		}
		want := 0
		if f.tls || f.tlsCA != "" || f.tlsCert != "" {
			want++
		}
		if f.saslUser != "" {
			want++
		}
		if len(opts) != want {
			t.Errorf("%+v: %d options, want %d", f, len(opts), want)
		}
	}
}
