package run_test

// client_auth_test.go runs the SSL listener in each client authentication
// mode (--tls-client-auth none, requested, required, and the defaults with
// and without --tls-client-ca) and connects over TCP with no certificate,
// a trusted one and one from another CA; the authorizer tells which
// principal each connection got, and the configurations that cannot work
// are refused at start.

import (
	"context"
	"crypto/tls"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/acl"
	"github.com/courier-dev/courier/internal/broker/run"
	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testcerts"
	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// The principals a connection can end up as, as whoIs reports them.
const (
	asAlice     = "alice"
	asAnonymous = "ANONYMOUS"
	refused     = "refused"
)

func TestSSLClientAuth(t *testing.T) {
	dir := t.TempDir()
	certs, err := testcerts.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	subject := certs.Subject("alice")
	aliceCert, aliceKey, err := certs.Client("alice", subject)
	if err != nil {
		t.Fatal(err)
	}
	// A certificate the broker's client CA did not sign.
	otherCA, err := testcerts.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	malloryCert, malloryKey, err := otherCA.Client("mallory", otherCA.Subject("mallory"))
	if err != nil {
		t.Fatal(err)
	}
	clients := map[string]*tls.Config{}
	for name, files := range map[string][2]string{"no certificate": {}, "trusted certificate": {aliceCert, aliceKey}, "foreign certificate": {malloryCert, malloryKey}} {
		if clients[name], err = certs.ClientTLS(files[0], files[1]); err != nil {
			t.Fatal(err)
		}
	}

	// Two topics, each writable by one principal only: the certificate's
	// subject (Kafka's default principal builder, RFC 2253) or ANONYMOUS.
	data := filepath.Join(dir, "data")
	b := testbroker.StartAt(t, data)
	testclient.CreateTopic(t, b.Addr, "alice-only", 1, nil)
	testclient.CreateTopic(t, b.Addr, "anonymous-only", 1, nil)
	b.Stop(t)
	acls, err := acl.Open(filepath.Join(data, "meta"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	allowAll := func(principal, topic string) acl.Binding {
		return acl.Binding{Principal: principal, Host: acl.Wildcard, Operation: kmsg.ACLOperationAll, Permission: kmsg.ACLPermissionTypeAllow,
			ResourceType: kmsg.ACLResourceTypeTopic, ResourceName: topic, PatternType: kmsg.ACLResourcePatternTypeLiteral}
	}
	for _, err := range acls.Create([]acl.Binding{allowAll("User:"+subject.String(), "alice-only"), allowAll("User:ANONYMOUS", "anonymous-only")}) {
		if err != nil {
			t.Fatal(err)
		}
	}

	cases := []struct {
		name     string
		mode     run.ClientAuth
		clientCA bool
		want     map[string]string // by client: the principal, or refused
	}{
		{"default without client CA is none", "", false, map[string]string{"no certificate": asAnonymous, "trusted certificate": asAnonymous, "foreign certificate": asAnonymous}},
		{"none", run.ClientAuthNone, false, map[string]string{"no certificate": asAnonymous, "trusted certificate": asAnonymous, "foreign certificate": asAnonymous}},
		{"requested", run.ClientAuthRequested, true, map[string]string{"no certificate": asAnonymous, "trusted certificate": asAlice, "foreign certificate": refused}},
		{"required", run.ClientAuthRequired, true, map[string]string{"no certificate": refused, "trusted certificate": asAlice, "foreign certificate": refused}},
		{"default with client CA is required", "", true, map[string]string{"no certificate": refused, "trusted certificate": asAlice, "foreign certificate": refused}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := testbroker.StartAt(t, data, testbroker.Listener("SSL"), func(c *run.Config) {
				c.TLS = run.TLSConfig{CertFile: certs.ServerCert, KeyFile: certs.ServerKey, ClientAuth: tc.mode}
				if tc.clientCA {
					c.TLS.ClientCAFile = certs.CAFile
				}
				c.Broker.AuthorizerEnabled = true
			})
			defer b.Stop(t)
			for client, want := range tc.want {
				if got := whoIs(t, b.Addrs["SSL"], clients[client]); got != want {
					t.Errorf("%s: served as %s, want %s", client, got, want)
				}
			}
		})
	}
}

// whoIs connects to addr with cfg and returns the principal the broker
// gave the connection, told by which topic it may write: asAlice,
// asAnonymous, or refused if the TLS handshake was.
func whoIs(t *testing.T, addr string, cfg *tls.Config) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	cl := testclient.New(t, addr, kgo.DialTLSConfig(cfg), kgo.RequestRetries(0), kgo.RecordRetries(0), kgo.DisableIdempotentWrite())
	defer cl.Close()
	if err := cl.Ping(ctx); err != nil {
		if !strings.Contains(err.Error(), "certificate") {
			t.Fatalf("connection failed, but not for its certificate: %v", err)
		}
		return refused
	}
	may := func(topic string) bool {
		err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte("who")}).FirstErr()
		if err != nil && !errors.Is(err, kerr.TopicAuthorizationFailed) {
			t.Fatalf("produce to %s: %v", topic, err)
		}
		return err == nil
	}
	alice, anonymous := may("alice-only"), may("anonymous-only")
	switch {
	case alice && !anonymous:
		return asAlice
	case anonymous && !alice:
		return asAnonymous
	}
	t.Fatalf("may write alice-only: %v, anonymous-only: %v: neither principal", alice, anonymous)
	return ""
}

// TestClientAuthRefusedConfigs: a mode that needs a client CA without one,
// and a mode or CA no listener would use, are refused at start.
func TestClientAuthRefusedConfigs(t *testing.T) {
	certs, err := testcerts.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ssl := []run.Listener{{Name: "SSL", Addr: "127.0.0.1:0"}}
	cases := []struct {
		name      string
		listeners []run.Listener
		mode      run.ClientAuth
		clientCA  bool
		want      string
	}{
		{"requested without CA", ssl, run.ClientAuthRequested, false, "needs --tls-client-ca"},
		{"required without CA", ssl, run.ClientAuthRequired, false, "needs --tls-client-ca"},
		{"mode without SSL listener", []run.Listener{{Name: "SASL_SSL", Addr: "127.0.0.1:0"}}, run.ClientAuthNone, false, "there is none"},
		{"CA on PLAINTEXT only", nil, "", true, "no listener would ask"},
		{"CA with SSL asking none", ssl, run.ClientAuthNone, true, "no listener would ask"},
		{"unknown mode", ssl, "optional", true, "want none, requested or required"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := run.Config{Addr: "127.0.0.1:0", Listeners: tc.listeners,
				TLS: run.TLSConfig{CertFile: certs.ServerCert, KeyFile: certs.ServerKey, ClientAuth: tc.mode}}
			cfg.Broker.DataDir = t.TempDir()
			if tc.clientCA {
				cfg.TLS.ClientCAFile = certs.CAFile
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // a broker that starts anyway stops at once
			if err := run.Broker(ctx, cfg); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("start: %v; want an error containing %q", err, tc.want)
			}
		})
	}
}

func TestParseClientAuth(t *testing.T) {
	for in, want := range map[string]run.ClientAuth{"none": run.ClientAuthNone, "Requested": run.ClientAuthRequested, "REQUIRED": run.ClientAuthRequired} {
		var m run.ClientAuth
		if err := m.Set(in); err != nil || m != want {
			t.Errorf("Set(%q) = %q, %v; want %q", in, m, err, want)
		}
	}
	for _, bad := range []string{"", "optional", "true", "need"} {
		if _, err := run.ParseClientAuth(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
