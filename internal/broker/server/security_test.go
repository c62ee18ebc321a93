package server

// security_test.go tests the connection-level security: TLS principals,
// the SASL state machine (with a fake SASL server), and the limits that
// keep a connection's cost bounded.

import (
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/auth"
	"github.com/courier-dev/courier/internal/testkit/testcerts"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// whoamiHandler answers Metadata with the connection's principal as the
// cluster id, and ApiVersions.
type whoamiHandler struct{}

func (whoamiHandler) Versions(key int16) (int16, int16, bool) {
	switch key {
	case kmsg.Metadata.Int16():
		return 0, 12, true
	case kmsg.ApiVersions.Int16():
		return 0, 4, true
	case kmsg.SASLHandshake.Int16():
		return 1, 1, true
	case kmsg.SASLAuthenticate.Int16():
		return 0, 2, true
	}
	return 0, 0, false
}

func (whoamiHandler) Handle(_ context.Context, req *Request) Reply {
	resp := req.Msg.ResponseKind()
	if md, ok := resp.(*kmsg.MetadataResponse); ok {
		md.ClusterID = kmsg.StringPtr(req.Conn.Principal().String())
	}
	if hs, ok := resp.(*kmsg.SASLHandshakeResponse); ok {
		hs.ErrorCode = kerr.IllegalSaslState.Code
	}
	return Immediate(resp)
}

// fakeSASL accepts "user:good" in one step ("FAKE"), or in two steps
// ("FAKE2": the first message is answered with "more").
type fakeSASL struct{}

func (fakeSASL) Mechanisms() []string { return []string{"FAKE", "FAKE2"} }

func (fakeSASL) Start(m string) (auth.SASLExchange, error) {
	if m != "FAKE" && m != "FAKE2" {
		return nil, auth.ErrUnsupportedMechanism
	}
	return &fakeExchange{steps: map[string]int{"FAKE": 1, "FAKE2": 2}[m]}, nil
}

type fakeExchange struct {
	steps int
	user  string
}

func (e *fakeExchange) Step(client []byte) ([]byte, bool, error) {
	if e.steps--; e.steps > 0 {
		return []byte("more"), false, nil
	}
	user, pass, _ := strings.Cut(string(client), ":")
	if pass != "good" {
		return nil, false, fmt.Errorf("%w: bad password for %s", auth.ErrAuthenticationFailed, user)
	}
	e.user = user
	return []byte("ok"), true, nil
}

func (e *fakeExchange) User() string { return e.user }

// startListener serves h on a loopback listener configured as l.
func startListener(t *testing.T, cfg Config, l ListenerConfig) (*Server, string) {
	t.Helper()
	return serveWith(t, cfg, whoamiHandler{}, l)
}

// client is a raw Kafka connection.
type client struct {
	t    *testing.T
	c    net.Conn
	corr int32
}

func dial(t *testing.T, addr string) *client {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return &client{t: t, c: c}
}

// roundTrip sends req and decodes its response, or returns the read error
// (the connection was closed).
func (cl *client) roundTrip(req kmsg.Request) (kmsg.Response, error) {
	cl.corr++
	if _, err := cl.c.Write((&kmsg.RequestFormatter{}).AppendRequest(nil, req, cl.corr)); err != nil {
		return nil, err
	}
	var size [4]byte
	if _, err := io.ReadFull(cl.c, size[:]); err != nil {
		return nil, err
	}
	body := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(cl.c, body); err != nil {
		return nil, err
	}
	resp := req.ResponseKind()
	body = body[4:]
	if resp.IsFlexible() && req.Key() != kmsg.ApiVersions.Int16() {
		body = body[1:]
	}
	if err := resp.ReadFrom(body); err != nil {
		cl.t.Fatalf("decode %T: %v", resp, err)
	}
	return resp, nil
}

// whoami asks for Metadata and returns the principal, or the error if the
// connection was closed.
func (cl *client) whoami() (string, error) {
	resp, err := cl.roundTrip(&kmsg.MetadataRequest{Version: 12})
	if err != nil {
		return "", err
	}
	return *resp.(*kmsg.MetadataResponse).ClusterID, nil
}

// expectClosed checks that the server closed the connection.
func (cl *client) expectClosed() {
	cl.t.Helper()
	var b [1]byte
	cl.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := cl.c.Read(b[:]); err == nil {
		cl.t.Fatal("connection still open")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		cl.t.Fatal("connection not closed within 5s")
	}
}

func (cl *client) authenticate(mech, creds string, version int16) *kmsg.SASLAuthenticateResponse {
	cl.t.Helper()
	hs, err := cl.roundTrip(&kmsg.SASLHandshakeRequest{Version: 1, Mechanism: mech})
	if err != nil {
		cl.t.Fatal(err)
	}
	if code := hs.(*kmsg.SASLHandshakeResponse).ErrorCode; code != 0 {
		cl.t.Fatalf("handshake: %v", kerr.ErrorForCode(code))
	}
	if mech == "FAKE2" {
		if _, err := cl.roundTrip(&kmsg.SASLAuthenticateRequest{Version: version, SASLAuthBytes: []byte("first")}); err != nil {
			cl.t.Fatal(err)
		}
	}
	resp, err := cl.roundTrip(&kmsg.SASLAuthenticateRequest{Version: version, SASLAuthBytes: []byte(creds)})
	if err != nil {
		cl.t.Fatal(err)
	}
	return resp.(*kmsg.SASLAuthenticateResponse)
}

func saslListener() ListenerConfig { return ListenerConfig{Name: SASLPlaintext, SASL: true} }

func TestSASLRequiresAuthentication(t *testing.T) {
	_, addr := startListener(t, Config{SASL: fakeSASL{}}, saslListener())

	// ApiVersions is allowed before authentication; Metadata closes.
	cl := dial(t, addr)
	if _, err := cl.roundTrip(&kmsg.ApiVersionsRequest{Version: 3}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.whoami(); err == nil {
		t.Fatal("unauthenticated Metadata was answered")
	}

	// A successful two-step exchange sets the principal.
	cl = dial(t, addr)
	if r := cl.authenticate("FAKE2", "alice:good", 2); r.ErrorCode != 0 || string(r.SASLAuthBytes) != "ok" {
		t.Fatalf("authenticate: %+v", r)
	}
	if who, err := cl.whoami(); err != nil || who != "User:alice" {
		t.Fatalf("principal %q, %v", who, err)
	}
	// A SaslAuthenticate outside an exchange, once authenticated, is
	// answered and the connection stays.
	resp, err := cl.roundTrip(&kmsg.SASLAuthenticateRequest{Version: 1})
	if err != nil || resp.(*kmsg.SASLAuthenticateResponse).ErrorCode != kerr.IllegalSaslState.Code {
		t.Fatalf("stray SaslAuthenticate: %+v %v", resp, err)
	}
	if _, err := cl.whoami(); err != nil {
		t.Fatal(err)
	}
}

func TestSASLFailureClosesAfterResponse(t *testing.T) {
	_, addr := startListener(t, Config{SASL: fakeSASL{}}, saslListener())
	cl := dial(t, addr)
	r := cl.authenticate("FAKE", "alice:bad", 1)
	if r.ErrorCode != kerr.SaslAuthenticationFailed.Code || r.ErrorMessage == nil || !strings.Contains(*r.ErrorMessage, "bad password") {
		t.Fatalf("want SASL_AUTHENTICATION_FAILED with a message, got %+v", r)
	}
	cl.expectClosed()

	// An unknown mechanism: UNSUPPORTED_SASL_MECHANISM, listing ours, then close.
	cl = dial(t, addr)
	hs, err := cl.roundTrip(&kmsg.SASLHandshakeRequest{Version: 1, Mechanism: "GSSAPI"})
	if err != nil {
		t.Fatal(err)
	}
	if h := hs.(*kmsg.SASLHandshakeResponse); h.ErrorCode != kerr.UnsupportedSaslMechanism.Code || len(h.SupportedMechanisms) != 2 {
		t.Fatalf("handshake: %+v", h)
	}
	cl.expectClosed()

	// SaslAuthenticate before any handshake: ILLEGAL_SASL_STATE, then close.
	cl = dial(t, addr)
	resp, err := cl.roundTrip(&kmsg.SASLAuthenticateRequest{Version: 1, SASLAuthBytes: []byte("alice:good")})
	if err != nil || resp.(*kmsg.SASLAuthenticateResponse).ErrorCode != kerr.IllegalSaslState.Code {
		t.Fatalf("authenticate without handshake: %+v %v", resp, err)
	}
	cl.expectClosed()
}

func TestSASLReauthentication(t *testing.T) {
	const lifetime = 300 * time.Millisecond
	_, addr := startListener(t, Config{SASL: fakeSASL{}, ReauthInterval: lifetime}, saslListener())

	// Re-authenticating before expiry keeps the connection going.
	cl := dial(t, addr)
	if r := cl.authenticate("FAKE", "alice:good", 1); r.ErrorCode != 0 || r.SessionLifetimeMillis != lifetime.Milliseconds() {
		t.Fatalf("authenticate: %+v", r)
	}
	time.Sleep(lifetime / 2)
	if r := cl.authenticate("FAKE", "alice:good", 1); r.ErrorCode != 0 {
		t.Fatalf("re-authenticate: %+v", r)
	}
	time.Sleep(lifetime / 2)
	if who, err := cl.whoami(); err != nil || who != "User:alice" {
		t.Fatalf("after re-authentication: %q %v", who, err)
	}
	// Expired: the next request closes the connection.
	time.Sleep(lifetime + 50*time.Millisecond)
	if _, err := cl.whoami(); err == nil {
		t.Fatal("request after the session expired was answered")
	}

	// Re-authenticating as someone else fails and closes.
	cl = dial(t, addr)
	cl.authenticate("FAKE", "alice:good", 1)
	if r := cl.authenticate("FAKE", "bob:good", 1); r.ErrorCode != kerr.SaslAuthenticationFailed.Code {
		t.Fatalf("re-authentication as another user: %+v", r)
	}
	cl.expectClosed()
}

func TestSASLAuthTimeout(t *testing.T) {
	_, addr := startListener(t, Config{SASL: fakeSASL{}, AuthTimeout: 200 * time.Millisecond}, saslListener())
	cl := dial(t, addr)
	start := time.Now()
	cl.expectClosed()
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("closed after %s", d)
	}
}

func TestPlaintextListenerRefusesSASL(t *testing.T) {
	_, addr := startListener(t, Config{}, ListenerConfig{Name: Plaintext})
	cl := dial(t, addr)
	hs, err := cl.roundTrip(&kmsg.SASLHandshakeRequest{Version: 1, Mechanism: "PLAIN"})
	if err != nil || hs.(*kmsg.SASLHandshakeResponse).ErrorCode != kerr.IllegalSaslState.Code {
		t.Fatalf("%+v %v", hs, err)
	}
	if who, err := cl.whoami(); err != nil || who != "User:ANONYMOUS" {
		t.Fatalf("%q %v", who, err)
	}
}

func TestTLSPrincipal(t *testing.T) {
	certs, err := testcerts.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	serverCert, err := tls.LoadX509KeyPair(certs.ServerCert, certs.ServerKey)
	if err != nil {
		t.Fatal(err)
	}
	caTLS, err := certs.ClientTLS("", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, clientAuth := range []tls.ClientAuthType{tls.VerifyClientCertIfGiven, tls.RequireAndVerifyClientCert} {
		scfg := &tls.Config{Certificates: []tls.Certificate{serverCert}, ClientCAs: caTLS.RootCAs, ClientAuth: clientAuth, MinVersion: tls.VersionTLS12}
		_, addr := startListener(t, Config{}, ListenerConfig{Name: SSL, TLS: scfg})

		certFile, keyFile, err := certs.Client("alice-"+clientAuth.String(), certs.Subject("alice"))
		if err != nil {
			t.Fatal(err)
		}
		with, _ := certs.ClientTLS(certFile, keyFile)
		if who, err := tlsWhoami(t, addr, with); err != nil || who != "User:CN=alice,O=courier-test" {
			t.Fatalf("%s with a certificate: %q %v", clientAuth, who, err)
		}
		who, err := tlsWhoami(t, addr, caTLS)
		if clientAuth == tls.RequireAndVerifyClientCert {
			if err == nil {
				t.Fatalf("%s: connection without a client certificate served as %q", clientAuth, who)
			}
		} else if err != nil || who != "User:ANONYMOUS" {
			t.Fatalf("%s without a certificate: %q %v", clientAuth, who, err)
		}
	}
}

func tlsWhoami(t *testing.T, addr string, cfg *tls.Config) (string, error) {
	c, err := tls.Dial("tcp", addr, cfg)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	return (&client{t: t, c: c}).whoami()
}

func TestTLSHandshakeTimeout(t *testing.T) {
	certs, err := testcerts.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	serverCert, _ := tls.LoadX509KeyPair(certs.ServerCert, certs.ServerKey)
	scfg := &tls.Config{Certificates: []tls.Certificate{serverCert}}
	_, addr := startListener(t, Config{RequestReadTimeout: 200 * time.Millisecond}, ListenerConfig{Name: SSL, TLS: scfg})
	cl := dial(t, addr) // never says hello
	cl.expectClosed()
}

func TestIdleAndStalledConnectionsClose(t *testing.T) {
	_, addr := startListener(t, Config{IdleTimeout: 300 * time.Millisecond, RequestReadTimeout: 200 * time.Millisecond}, ListenerConfig{Name: Plaintext})

	idle := dial(t, addr)
	if _, err := idle.whoami(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	idle.expectClosed()
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("idle connection closed after only %s", d)
	}

	// Half a size prefix, or a size and half a body, then nothing.
	for _, partial := range [][]byte{{0, 0}, metadataFrame("x", 1)[:10]} {
		cl := dial(t, addr)
		if _, err := cl.c.Write(partial); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		cl.expectClosed()
		if d := time.Since(start); d > 2*time.Second {
			t.Fatalf("stalled frame cut off after %s", d)
		}
	}
}

func TestConnectionLimits(t *testing.T) {
	s, addr := startListener(t, Config{MaxConnectionsPerIP: 3}, ListenerConfig{Name: Plaintext})
	var open []*client
	for range 3 {
		cl := dial(t, addr)
		if _, err := cl.whoami(); err != nil {
			t.Fatal(err)
		}
		open = append(open, cl)
	}
	extra := dial(t, addr)
	if _, err := extra.whoami(); err == nil {
		t.Fatal("fourth connection from one IP was served")
	}
	open[0].c.Close()
	deadline := time.Now().Add(5 * time.Second)
	for s.Conns() > 2 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := dial(t, addr).whoami(); err != nil {
		t.Fatalf("connection after one closed: %v", err)
	}
}

func TestOversizedFrameClosesWithoutReading(t *testing.T) {
	_, addr := startListener(t, Config{MaxRequestBytes: 1 << 20}, ListenerConfig{Name: Plaintext})
	cl := dial(t, addr)
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], 1<<30)
	cl.c.Write(hdr[:])
	cl.expectClosed()
}

// stallConn delivers some bytes and then blocks, like a slow-loris client
// that declared a large frame.
type stallConn struct {
	net.Conn
	data []byte
}

func (s *stallConn) Read(p []byte) (int, error) {
	if len(s.data) == 0 {
		return 0, errors.New("stalled")
	}
	n := copy(p, s.data)
	s.data = s.data[n:]
	return n, nil
}

func TestReadBodyGrowsWithData(t *testing.T) {
	// A frame that declares 64 MiB but sends 100 KiB costs about one
	// read chunk, not 64 MiB.
	c := &conn{srv: New(Config{}, whoamiHandler{}), nc: nopDeadlineConn{}, readCtx: context.Background()}
	c.rw = &stallConn{data: make([]byte, 100<<10)}
	var before, after runtimeMem
	before.read()
	_, held, err := c.readBody(64 << 20)
	after.read()
	if err == nil {
		t.Fatal("read a stalled body")
	}
	if grew := after.total - before.total; grew > 1<<20 {
		t.Fatalf("allocated %d bytes for 100 KiB received", grew)
	}
	// The failed frame gives back what it took of the queued-request
	// budget, which was never more than what arrived plus one chunk.
	if held != 0 || c.srv.QueuedRequestBytes() != 0 {
		t.Fatalf("failed frame holds %d, budget in use %d", held, c.srv.QueuedRequestBytes())
	}
}

// nopDeadlineConn accepts deadlines and nothing else.
type nopDeadlineConn struct{ net.Conn }

func (nopDeadlineConn) SetReadDeadline(time.Time) error { return nil }
