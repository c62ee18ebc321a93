package sasl

// sasl_test.go runs whole exchanges between this package's server and
// franz-go's client mechanisms (what Courier's own tools and kgo users
// run), in process, plus RFC 7677's published example byte for byte.

import (
	"context"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/courier-dev/courier/internal/broker/auth"
	"github.com/courier-dev/courier/internal/broker/users"
	ksasl "github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// newTestServer returns a server with all mechanisms over a store holding
// alice (both SCRAM mechanisms), bob (SCRAM-SHA-256 only) and "we=ird,"
// (SCRAM-SHA-512), each with password NAME-pw.
func newTestServer(t *testing.T) (*Server, *users.Store) {
	t.Helper()
	st, err := users.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []struct {
		name string
		mech users.Mechanism
	}{{"alice", users.ScramSHA256}, {"alice", users.ScramSHA512}, {"bob", users.ScramSHA256}, {"we=ird,", users.ScramSHA512}} {
		c, err := users.NewCredential(u.mech, u.name+"-pw", 4096)
		if err != nil {
			t.Fatal(err)
		}
		if err := st.Set(u.name, c); err != nil {
			t.Fatal(err)
		}
	}
	s, err := NewServer(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	return s, st
}

// tamper, if set, rewrites the client's n-th message (0-based) before the
// server sees it.
type tamper func(n int, msg []byte) []byte

// authenticate runs mech's client against s to the end and returns the
// authenticated user or the first error (server's or client's).
func authenticate(t *testing.T, s *Server, mech ksasl.Mechanism, tw tamper) (string, error) {
	t.Helper()
	ex, err := s.Start(mech.Name())
	if err != nil {
		return "", err
	}
	sess, msg, err := mech.Authenticate(context.Background(), "127.0.0.1:9092")
	if err != nil {
		t.Fatalf("client start: %v", err)
	}
	for n := 0; n < 5; n++ {
		if tw != nil {
			msg = tw(n, msg)
		}
		out, done, err := ex.Step(msg)
		if err != nil {
			return "", err
		}
		clientDone, next, err := sess.Challenge(out)
		if err != nil {
			t.Fatalf("client rejected the server's message %q: %v", out, err)
		}
		if done {
			if !clientDone {
				t.Fatal("server done, client not")
			}
			if _, _, err := ex.Step(nil); err == nil {
				t.Error("Step after success did not fail")
			}
			return ex.User(), nil
		}
		msg = next
	}
	t.Fatal("exchange did not finish")
	return "", nil
}

func scram256(user, pass string) ksasl.Mechanism {
	return scram.Auth{User: user, Pass: pass}.AsSha256Mechanism()
}

func scram512(user, pass string) ksasl.Mechanism {
	return scram.Auth{User: user, Pass: pass}.AsSha512Mechanism()
}

func plainMech(user, pass string) ksasl.Mechanism {
	return plain.Auth{User: user, Pass: pass}.AsMechanism()
}

// replaceAttr rewrites attribute key= of a SCRAM message.
func replaceAttr(msg []byte, key string, fn func(string) string) []byte {
	attrs := strings.Split(string(msg), ",")
	for i, a := range attrs {
		if v, ok := strings.CutPrefix(a, key+"="); ok {
			attrs[i] = key + "=" + fn(v)
		}
	}
	return []byte(strings.Join(attrs, ","))
}

func TestExchanges(t *testing.T) {
	s, _ := newTestServer(t)
	flipProof := func(n int, msg []byte) []byte {
		if n != 1 {
			return msg
		}
		return replaceAttr(msg, "p", func(v string) string {
			p, _ := base64.StdEncoding.DecodeString(v)
			p[len(p)/2] ^= 0x40
			return base64.StdEncoding.EncodeToString(p)
		})
	}
	wrongNonce := func(n int, msg []byte) []byte {
		if n != 1 {
			return msg
		}
		return replaceAttr(msg, "r", func(v string) string { return v[:len(v)-1] + "x" })
	}
	for _, tc := range []struct {
		name   string
		mech   ksasl.Mechanism
		tamper tamper
		user   string // "" for a failure
		fails  error
	}{
		{"scram-256", scram256("alice", "alice-pw"), nil, "alice", nil},
		{"scram-512", scram512("alice", "alice-pw"), nil, "alice", nil},
		{"escaped name", scram512("we=ird,", "we=ird,-pw"), nil, "we=ird,", nil},
		{"plain", plainMech("bob", "bob-pw"), nil, "bob", nil},
		{"plain checks any mechanism", plainMech("alice", "alice-pw"), nil, "alice", nil},
		{"scram wrong password", scram512("alice", "bob-pw"), nil, "", auth.ErrAuthenticationFailed},
		{"scram unknown user", scram512("mallory", "x"), nil, "", auth.ErrAuthenticationFailed},
		{"scram mechanism the user lacks", scram512("bob", "bob-pw"), nil, "", auth.ErrAuthenticationFailed},
		{"scram tampered proof", scram256("alice", "alice-pw"), flipProof, "", auth.ErrAuthenticationFailed},
		{"scram wrong nonce", scram256("alice", "alice-pw"), wrongNonce, "", ErrMalformed},
		{"plain wrong password", plainMech("alice", "nope"), nil, "", auth.ErrAuthenticationFailed},
		{"plain unknown user", plainMech("mallory", "x"), nil, "", auth.ErrAuthenticationFailed},
		{"plain other authzid", plain.Auth{Zid: "alice", User: "bob", Pass: "bob-pw"}.AsMechanism(), nil, "", ErrMalformed},
		{"scram tokenauth", scram.Auth{User: "alice", Pass: "alice-pw", IsToken: true}.AsSha256Mechanism(), nil, "", ErrMalformed},
		{"scram other authzid", scram.Auth{Zid: "bob", User: "alice", Pass: "alice-pw"}.AsSha256Mechanism(), nil, "", ErrMalformed},
		{"scram own authzid", scram.Auth{Zid: "alice", User: "alice", Pass: "alice-pw"}.AsSha256Mechanism(), nil, "alice", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			user, err := authenticate(t, s, tc.mech, tc.tamper)
			if tc.fails == nil {
				if err != nil || user != tc.user {
					t.Fatalf("got user %q, %v; want %q", user, err, tc.user)
				}
				return
			}
			if !errors.Is(err, tc.fails) || !errors.Is(err, auth.ErrAuthenticationFailed) {
				t.Fatalf("got %q, %v; want %v", user, err, tc.fails)
			}
			for _, secret := range []string{"-pw", "nope", "mallory"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q reveals %q", err, secret)
				}
			}
		})
	}
}

func TestUnknownUserLooksLikeWrongPassword(t *testing.T) {
	s, _ := newTestServer(t)
	_, errWrong := authenticate(t, s, scram512("alice", "wrong"), nil)
	_, errUnknown := authenticate(t, s, scram512("mallory", "wrong"), nil)
	if errWrong == nil || errUnknown == nil || errWrong.Error() != errUnknown.Error() {
		t.Errorf("wrong password %v, unknown user %v: want the same error", errWrong, errUnknown)
	}
	// An unknown user's salt is stable across attempts, like a real one.
	first := func(user string) string {
		ex, _ := s.Start(ScramSHA512)
		out, _, err := ex.Step([]byte("n,,n=" + user + ",r=abc"))
		if err != nil {
			t.Fatal(err)
		}
		return string(replaceAttr(replaceAttr(out, "r", func(string) string { return "" }), "i", func(string) string { return "" }))
	}
	if a, b := first("mallory"), first("mallory"); a != b {
		t.Errorf("fake salt changes between attempts: %s, %s", a, b)
	}
	if a, b := first("mallory"), first("trudy"); a == b {
		t.Error("all unknown users share a salt")
	}
}

func TestRFC7677Example(t *testing.T) {
	const snonce = "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
	old := newServerNonce
	newServerNonce = func() (string, error) { return snonce, nil }
	t.Cleanup(func() { newServerNonce = old })
	st, err := users.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	salt, _ := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	sp, _ := users.SaltedPassword(users.ScramSHA256, "pencil", salt, 4096)
	c, err := users.CredentialFromSaltedPassword(users.ScramSHA256, salt, sp, 4096)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Set("user", c); err != nil {
		t.Fatal(err)
	}
	s, err := NewServer(st, []string{"scram-sha-256"})
	if err != nil {
		t.Fatal(err)
	}
	ex, err := s.Start(ScramSHA256)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct{ client, server string }{
		{"n,,n=user,r=rOprNGfwEbeRWgbNEkqO", "r=rOprNGfwEbeRWgbNEkqO" + snonce + ",s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"},
		{"c=biws,r=rOprNGfwEbeRWgbNEkqO" + snonce + ",p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="},
	}
	for i, st := range steps {
		out, done, err := ex.Step([]byte(st.client))
		if err != nil || string(out) != st.server || done != (i == 1) {
			t.Fatalf("step %d: %q, done %v, %v; want %q", i, out, done, err, st.server)
		}
	}
	if ex.User() != "user" {
		t.Errorf("User() = %q", ex.User())
	}
}

func TestNewServer(t *testing.T) {
	st, err := users.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewServer(nil, nil); err == nil {
		t.Error("nil store accepted")
	}
	if _, err := NewServer(st, []string{"PLAIN", "GSSAPI"}); err == nil || !strings.Contains(err.Error(), "GSSAPI") {
		t.Errorf("unknown mechanism: %v", err)
	}
	s, err := NewServer(st, []string{"scram-sha-512", "PLAIN", "SCRAM-SHA-512"})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(s.Mechanisms(), " "); got != "SCRAM-SHA-512 PLAIN" {
		t.Errorf("Mechanisms() = %s", got)
	}
	if _, err := s.Start(ScramSHA256); !errors.Is(err, auth.ErrUnsupportedMechanism) {
		t.Errorf("Start(disabled): %v", err)
	}
	if _, err := s.Start("scram-sha-512"); !errors.Is(err, auth.ErrUnsupportedMechanism) {
		t.Errorf("Start is case-sensitive, as Kafka: %v", err)
	}
	all, _ := NewServer(st, nil)
	if got := strings.Join(all.Mechanisms(), " "); got != "PLAIN SCRAM-SHA-256 SCRAM-SHA-512" {
		t.Errorf("default Mechanisms() = %s", got)
	}
}

func TestStepAfterFailure(t *testing.T) {
	s, _ := newTestServer(t)
	for _, mech := range AllMechanisms {
		ex, err := s.Start(mech)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := ex.Step([]byte("garbage")); err == nil {
			t.Errorf("%s: garbage accepted", mech)
		}
		if _, done, err := ex.Step([]byte("\x00alice\x00alice-pw")); err == nil || done {
			t.Errorf("%s: exchange continued after a failure", mech)
		}
	}
}
