package sasl

// fuzz_test.go fuzzes every parser of client SASL messages (PLAIN, SCRAM
// client-first, SCRAM client-final) and a whole SCRAM exchange: no input
// may panic, and what parses must be consistent with the bytes it came
// from. Run one with e.g. `go test -fuzz=FuzzParseClientFirst ./internal/sasl`.

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"github.com/courier-dev/courier/internal/broker/auth"
	"github.com/courier-dev/courier/internal/broker/users"
)

func FuzzParsePlain(f *testing.F) {
	for _, s := range []string{"\x00alice\x00pw", "alice\x00alice\x00pw", "bob\x00alice\x00pw", "\x00\x00", "", "a\x00b", "\x00a\x00b\x00c", "\x00\xff\x00pw"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		m, err := parsePlain(msg)
		if err != nil {
			if !errors.Is(err, ErrMalformed) || !errors.Is(err, auth.ErrAuthenticationFailed) {
				t.Fatalf("error %v wraps neither ErrMalformed nor ErrAuthenticationFailed", err)
			}
			return
		}
		if m.authcid == "" || m.password == "" || (m.authzid != "" && m.authzid != m.authcid) {
			t.Fatalf("accepted %+v", m)
		}
		if got := m.authzid + "\x00" + m.authcid + "\x00" + m.password; got != string(msg) {
			t.Fatalf("parts %q do not rebuild the message %q", got, msg)
		}
	})
}

func FuzzParseClientFirst(f *testing.F) {
	for _, s := range []string{
		"n,,n=user,r=rOprNGfwEbeRWgbNEkqO", "y,,n=user,r=abc", "n,a=user,n=user,r=abc", "p=tls-unique,,n=user,r=abc",
		"n,,n=we=3Dird=2C,r=abc", "n,,n=bad=2X,r=abc", "n,,m=ext,n=user,r=abc", "n,,n=user,r=abc,tokenauth=true",
		"n,,n=user,r=abc,ext=v", "n,,n=,r=abc", "n,,n=user,r=", "n,,n=user", "n,", "", ",,,", "n,,n=user,r=a\x00",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		m, err := parseClientFirst(ScramSHA256, msg)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if m.gs2Header+m.bare != string(msg) {
			t.Fatalf("header %q + bare %q != message %q", m.gs2Header, m.bare, msg)
		}
		if m.user == "" || !validNonce(m.nonce) || strings.IndexByte(m.user, 0) >= 0 {
			t.Fatalf("accepted %+v", m)
		}
		if !strings.HasPrefix(m.bare, "n="+EscapeSaslname(m.user)+",r="+m.nonce) {
			t.Fatalf("user %q and nonce %q do not rebuild bare %q", m.user, m.nonce, m.bare)
		}
	})
}

func FuzzParseClientFinal(f *testing.F) {
	for _, s := range []string{
		"c=biws,r=abcdef,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", "c=biws,r=abc,ext=1,p=AAAA", "c=biws,r=abc",
		"c=!!,r=abc,p=AAAA", "c=biws,p=AAAA", "r=abc,c=biws,p=AAAA", "c=biws,r=abc,p=", "c=biws,r=abc,p=AA=A", ",p=", "",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, msg []byte) {
		m, err := parseClientFinal(ScramSHA512, msg)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v does not wrap ErrMalformed", err)
			}
			return
		}
		if got := m.withoutProof + ",p=" + base64.StdEncoding.EncodeToString(m.proof); got != string(msg) {
			t.Fatalf("parts rebuild %q, not %q", got, msg)
		}
		if !validNonce(m.nonce) || len(m.proof) == 0 {
			t.Fatalf("accepted %+v", m)
		}
	})
}

// FuzzScramExchange feeds two arbitrary client messages to a server whose
// store holds a user: no input may panic, and none may authenticate
// without the user's proof (the fuzzer cannot compute one).
func FuzzScramExchange(f *testing.F) {
	st, err := users.Open(f.TempDir(), nil)
	if err != nil {
		f.Fatal(err)
	}
	c, err := users.NewCredential(users.ScramSHA256, "pw", 4096)
	if err != nil {
		f.Fatal(err)
	}
	if err := st.Set("user", c); err != nil {
		f.Fatal(err)
	}
	s, err := NewServer(st, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add([]byte("n,,n=user,r=abc"), []byte("c=biws,r=abc,p=AAAA"))
	f.Add([]byte("n,,n=nobody,r=abc"), []byte("c=biws,r=abcXYZ,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="))
	f.Add([]byte("\x00user\x00pw"), []byte{})
	f.Fuzz(func(t *testing.T, first, final []byte) {
		for _, mech := range []string{ScramSHA256, ScramSHA512, Plain} {
			ex, err := s.Start(mech)
			if err != nil {
				t.Fatal(err)
			}
			_, done, err := ex.Step(first)
			if err != nil {
				continue
			}
			if done {
				if mech != Plain {
					t.Fatalf("%s done after one message", mech)
				}
				continue
			}
			if _, done, err := ex.Step(final); err == nil || done {
				t.Fatalf("%s authenticated %q with a guessed proof", mech, ex.User())
			}
		}
	})
}
