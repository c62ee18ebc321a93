package sasl

// plain.go is SASL PLAIN (RFC 4616): one client message,
// [authzid] NUL authcid NUL passwd, checked against the user's SCRAM
// credentials (users.Store.VerifyPassword). PLAIN sends the password in
// the clear, so it belongs on TLS listeners only.

import (
	"bytes"
	"unicode/utf8"

	"github.com/courier-dev/courier/internal/broker/users"
)

// maxPlainBytes bounds a PLAIN message: 255 bytes per field in RFC 4616,
// generously widened for long passwords.
const maxPlainBytes = 4096

// plainMessage is a parsed PLAIN message.
type plainMessage struct {
	authzid, authcid, password string
}

// parsePlain parses a PLAIN message. authzid must be empty or equal to
// authcid (Courier does not let one user act as another); authcid and
// password must be non-empty UTF-8. Errors never quote the message: it
// holds a password.
func parsePlain(msg []byte) (plainMessage, error) {
	if len(msg) > maxPlainBytes {
		return plainMessage{}, malformed(Plain, "message too long")
	}
	parts := bytes.Split(msg, []byte{0})
	if len(parts) != 3 {
		return plainMessage{}, malformed(Plain, "want [authzid] NUL authcid NUL password")
	}
	m := plainMessage{authzid: string(parts[0]), authcid: string(parts[1]), password: string(parts[2])}
	switch {
	case m.authcid == "":
		return plainMessage{}, malformed(Plain, "empty user name")
	case m.password == "":
		return plainMessage{}, malformed(Plain, "empty password")
	case !utf8.ValidString(m.authzid) || !utf8.ValidString(m.authcid) || !utf8.ValidString(m.password):
		return plainMessage{}, malformed(Plain, "not UTF-8")
	case m.authzid != "" && m.authzid != m.authcid:
		return plainMessage{}, malformed(Plain, "authorization id differs from the user name")
	}
	return m, nil
}

// plainExchange is one PLAIN authentication.
type plainExchange struct {
	store *users.Store
	done  bool // one message only, successful or not
	user  string
}

// Step implements auth.SASLExchange.
func (e *plainExchange) Step(client []byte) ([]byte, bool, error) {
	if e.done {
		return nil, false, errFinished(Plain)
	}
	e.done = true
	m, err := parsePlain(client)
	if err != nil {
		return nil, false, err
	}
	if !e.store.VerifyPassword(m.authcid, m.password) {
		return nil, false, errInvalidCredentials(Plain)
	}
	e.user = m.authcid
	return nil, true, nil
}

// User implements auth.SASLExchange.
func (e *plainExchange) User() string { return e.user }
