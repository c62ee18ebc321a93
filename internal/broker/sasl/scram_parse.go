package sasl

// scram_parse.go parses the SCRAM client messages (RFC 5802 section 7):
//
//	client-first = gs2-cbind-flag "," [ "a=" saslname ] "," client-first-bare
//	client-first-bare = [ "m=" ... "," ] "n=" saslname "," "r=" c-nonce [ "," extensions ]
//	client-final = "c=" base64 "," "r=" nonce [ "," extensions ] "," "p=" base64
//
// Each parser takes untrusted bytes and returns an error (wrapping
// ErrMalformed) for anything off the grammar.

import (
	"bytes"
	"encoding/base64"
	"strings"
	"unicode/utf8"
)

// maxScramBytes bounds a SCRAM client message.
const maxScramBytes = 4096

// clientFirst is a parsed client-first message.
type clientFirst struct {
	gs2Header string // "n,," or "y,,a=NAME," as sent, for the final's c=
	authzid   string // unescaped; "" if none
	user      string // unescaped
	nonce     string
	bare      string // client-first-message-bare, for AuthMessage
}

// clientFinal is a parsed client-final message.
type clientFinal struct {
	channelBinding []byte // c=, decoded
	nonce          string
	withoutProof   string // client-final-message-without-proof, for AuthMessage
	proof          []byte // p=, decoded
}

// parseClientFirst parses a client-first message. Channel binding ("p=")
// is refused (Courier offers no -PLUS mechanism); "n" and "y" are
// accepted. A mandatory extension ("m=") and Kafka's delegation token
// extension (tokenauth=true) are refused; other extensions are ignored.
func parseClientFirst(mech string, msg []byte) (clientFirst, error) {
	if len(msg) > maxScramBytes {
		return clientFirst{}, malformed(mech, "client-first message too long")
	}
	if !utf8.Valid(msg) {
		return clientFirst{}, malformed(mech, "client-first message is not UTF-8")
	}
	if bytes.ContainsAny(msg, "\r\n") {
		return clientFirst{}, malformed(mech, "client-first message holds a line break")
	}
	s := string(msg)
	flag, rest, ok := strings.Cut(s, ",")
	if !ok {
		return clientFirst{}, malformed(mech, "client-first message lacks a GS2 header")
	}
	switch {
	case strings.HasPrefix(flag, "p="):
		return clientFirst{}, malformed(mech, "channel binding is not supported")
	case flag != "n" && flag != "y":
		return clientFirst{}, malformed(mech, "bad GS2 channel binding flag")
	}
	authz, bare, ok := strings.Cut(rest, ",")
	if !ok {
		return clientFirst{}, malformed(mech, "client-first message lacks a GS2 header")
	}
	var m clientFirst
	if authz != "" {
		name, ok := strings.CutPrefix(authz, "a=")
		if !ok {
			return clientFirst{}, malformed(mech, "bad GS2 authorization id")
		}
		var err error
		if m.authzid, err = decodeSaslname(mech, name); err != nil {
			return clientFirst{}, err
		}
	}
	m.gs2Header = s[:len(s)-len(bare)]
	m.bare = bare
	attrs := strings.Split(bare, ",")
	if strings.HasPrefix(attrs[0], "m=") {
		return clientFirst{}, malformed(mech, "mandatory extensions are not supported")
	}
	if len(attrs) < 2 {
		return clientFirst{}, malformed(mech, "client-first message needs n= and r=")
	}
	name, ok := strings.CutPrefix(attrs[0], "n=")
	if !ok {
		return clientFirst{}, malformed(mech, "client-first message lacks n=")
	}
	var err error
	if m.user, err = decodeSaslname(mech, name); err != nil {
		return clientFirst{}, err
	}
	if m.nonce, ok = strings.CutPrefix(attrs[1], "r="); !ok || !validNonce(m.nonce) {
		return clientFirst{}, malformed(mech, "client-first message lacks a valid nonce r=")
	}
	for _, ext := range attrs[2:] {
		key, value, err := parseExtension(mech, ext)
		if err != nil {
			return clientFirst{}, err
		}
		if key == "tokenauth" && strings.EqualFold(value, "true") {
			return clientFirst{}, malformed(mech, "delegation tokens are not supported")
		}
	}
	return m, nil
}

// parseClientFinal parses a client-final message; the proof must be its
// last attribute.
func parseClientFinal(mech string, msg []byte) (clientFinal, error) {
	if len(msg) > maxScramBytes {
		return clientFinal{}, malformed(mech, "client-final message too long")
	}
	if !utf8.Valid(msg) {
		return clientFinal{}, malformed(mech, "client-final message is not UTF-8")
	}
	// Go's base64 decoders skip CR and LF, so "p=ab\ncd" would pass for
	// "p=abcd"; no SCRAM attribute holds them, so refuse them outright.
	if bytes.ContainsAny(msg, "\r\n") {
		return clientFinal{}, malformed(mech, "client-final message holds a line break")
	}
	i := bytes.LastIndex(msg, []byte(",p="))
	if i < 0 {
		return clientFinal{}, malformed(mech, "client-final message lacks a proof p=")
	}
	var m clientFinal
	m.withoutProof = string(msg[:i])
	var err error
	if m.proof, err = base64.StdEncoding.Strict().DecodeString(string(msg[i+3:])); err != nil || len(m.proof) == 0 {
		return clientFinal{}, malformed(mech, "client-final proof p= is not base64")
	}
	attrs := strings.Split(m.withoutProof, ",")
	if len(attrs) < 2 {
		return clientFinal{}, malformed(mech, "client-final message needs c=, r= and p=")
	}
	cb, ok := strings.CutPrefix(attrs[0], "c=")
	if !ok {
		return clientFinal{}, malformed(mech, "client-final message lacks channel binding c=")
	}
	if m.channelBinding, err = base64.StdEncoding.Strict().DecodeString(cb); err != nil {
		return clientFinal{}, malformed(mech, "client-final channel binding c= is not base64")
	}
	if m.nonce, ok = strings.CutPrefix(attrs[1], "r="); !ok || !validNonce(m.nonce) {
		return clientFinal{}, malformed(mech, "client-final message lacks a valid nonce r=")
	}
	for _, ext := range attrs[2:] {
		if _, _, err := parseExtension(mech, ext); err != nil {
			return clientFinal{}, err
		}
	}
	return m, nil
}

// decodeSaslname unescapes a saslname ("=2C" is ',', "=3D" is '='): it
// must be non-empty and hold no NUL and no other '='.
func decodeSaslname(mech, s string) (string, error) {
	if s == "" {
		return "", malformed(mech, "empty user name")
	}
	if strings.IndexByte(s, 0) >= 0 {
		return "", malformed(mech, "NUL in user name")
	}
	if strings.IndexByte(s, '=') < 0 {
		return s, nil
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '=' {
			b.WriteByte(s[i])
			continue
		}
		switch {
		case strings.HasPrefix(s[i:], "=2C"):
			b.WriteByte(',')
		case strings.HasPrefix(s[i:], "=3D"):
			b.WriteByte('=')
		default:
			return "", malformed(mech, "bad escape in user name")
		}
		i += 2
	}
	return b.String(), nil
}

// EscapeSaslname escapes a user name for a SCRAM message: '=' as "=3D",
// ',' as "=2C".
func EscapeSaslname(name string) string {
	return strings.NewReplacer("=", "=3D", ",", "=2C").Replace(name)
}

// validNonce reports whether s is a non-empty run of printable ASCII other
// than ','.
func validNonce(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x21 || c > 0x7e || c == ',' {
			return false
		}
	}
	return true
}

// parseExtension parses an extension attribute, key=value: the key one or
// more ASCII letters, the value non-empty without NUL.
func parseExtension(mech, s string) (key, value string, err error) {
	key, value, ok := strings.Cut(s, "=")
	if !ok || key == "" || value == "" || strings.IndexByte(value, 0) >= 0 {
		return "", "", malformed(mech, "bad extension attribute")
	}
	for i := 0; i < len(key); i++ {
		if c := key[i] | 0x20; c < 'a' || c > 'z' {
			return "", "", malformed(mech, "bad extension attribute name")
		}
	}
	return key, value, nil
}
