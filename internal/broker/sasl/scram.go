package sasl

// scram.go is the server side of SCRAM-SHA-256 and SCRAM-SHA-512 (RFC 5802,
// RFC 7677) as Kafka runs it: client-first, server-first (the combined
// nonce, the salt, the iterations), client-final with the proof, and
// server-final with the server's signature.
//
// An unknown user gets a fake credential, with a salt derived from the
// server's secret and the name (stable across attempts, as a real salt
// is) and the minimum iteration count, and fails at the proof like a wrong
// password.

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"hash"
	"strconv"
	"strings"

	"github.com/courier-dev/courier/internal/broker/users"
)

// scramState is where an exchange is.
type scramState int

const (
	awaitClientFirst scramState = iota
	awaitClientFinal
	finished
)

// newServerNonce returns the server's part of the nonce: 24 random bytes,
// base64url (printable, no ','). Tests replace it.
var newServerNonce = func() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// scramExchange is one SCRAM authentication.
type scramExchange struct {
	server *Server
	mech   users.Mechanism
	state  scramState

	first       clientFirst
	cred        users.Credential
	known       bool   // cred is the user's, not a fake
	serverFirst string // as sent
	nonce       string // client nonce + server nonce
	user        string // set on success
}

// Step implements auth.SASLExchange.
func (e *scramExchange) Step(client []byte) ([]byte, bool, error) {
	switch e.state {
	case awaitClientFirst:
		e.state = finished // until the step succeeds
		out, err := e.handleClientFirst(client)
		if err != nil {
			return nil, false, err
		}
		e.state = awaitClientFinal
		return out, false, nil
	case awaitClientFinal:
		e.state = finished
		out, err := e.handleClientFinal(client)
		if err != nil {
			return nil, false, err
		}
		return out, true, nil
	}
	return nil, false, errFinished(string(e.mech))
}

// User implements auth.SASLExchange.
func (e *scramExchange) User() string { return e.user }

// handleClientFirst parses client-first and answers server-first.
func (e *scramExchange) handleClientFirst(msg []byte) ([]byte, error) {
	mech := string(e.mech)
	m, err := parseClientFirst(mech, msg)
	if err != nil {
		return nil, err
	}
	if m.authzid != "" && m.authzid != m.user {
		return nil, malformed(mech, "authorization id differs from the user name")
	}
	e.first = m
	e.cred, e.known = e.server.store.Lookup(m.user, e.mech)
	if !e.known {
		e.cred = e.server.fakeCredential(e.mech, m.user)
	}
	snonce, err := newServerNonce()
	if err != nil {
		return nil, errInvalidCredentials(mech)
	}
	e.nonce = m.nonce + snonce
	e.serverFirst = "r=" + e.nonce + ",s=" + base64.StdEncoding.EncodeToString(e.cred.Salt) + ",i=" + strconv.Itoa(e.cred.Iterations)
	return []byte(e.serverFirst), nil
}

// handleClientFinal checks the proof and answers server-final.
func (e *scramExchange) handleClientFinal(msg []byte) ([]byte, error) {
	mech := string(e.mech)
	m, err := parseClientFinal(mech, msg)
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(m.channelBinding, []byte(e.first.gs2Header)) != 1 {
		return nil, malformed(mech, "channel binding c= does not match the GS2 header")
	}
	// Kafka's ScramSaslServer only checks that the nonce ends with the
	// server's: librdkafka (2.0 and earlier) sends the client nonce twice,
	// client nonce + (client nonce + server nonce), and Kafka accepts it.
	// The proof still covers the message exactly as the client sent it.
	if !strings.HasSuffix(m.nonce, e.nonce) {
		return nil, malformed(mech, "nonce r= does not match the server's")
	}
	h := e.mech.Hash()
	authMessage := e.first.bare + "," + e.serverFirst + "," + m.withoutProof
	clientSignature := hmacSum(h, e.cred.StoredKey, authMessage)
	if len(m.proof) != len(clientSignature) {
		return nil, errInvalidCredentials(mech)
	}
	clientKey := make([]byte, len(m.proof))
	for i := range clientKey {
		clientKey[i] = m.proof[i] ^ clientSignature[i]
	}
	d := h()
	d.Write(clientKey)
	if subtle.ConstantTimeCompare(d.Sum(nil), e.cred.StoredKey) != 1 || !e.known {
		return nil, errInvalidCredentials(mech)
	}
	e.user = e.first.user
	serverSignature := hmacSum(h, e.cred.ServerKey, authMessage)
	return []byte("v=" + base64.StdEncoding.EncodeToString(serverSignature)), nil
}

// fakeCredential is the credential an unknown user's exchange runs with:
// a salt stable for the name, and keys that match no proof.
func (s *Server) fakeCredential(mech users.Mechanism, user string) users.Credential {
	salt := hmacSum(sha256.New, s.secret, string(mech)+"\x00"+user)
	n := mech.Hash()().Size()
	keys := make([]byte, 2*n)
	_, _ = rand.Read(keys)
	return users.Credential{
		Mechanism:  mech,
		Iterations: users.MinIterations,
		Salt:       salt[:users.SaltBytes],
		StoredKey:  keys[:n],
		ServerKey:  keys[n:],
	}
}

// hmacSum returns HMAC-H(key, msg).
func hmacSum(h func() hash.Hash, key []byte, msg string) []byte {
	m := hmac.New(h, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}
