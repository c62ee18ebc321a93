// Package users stores the SCRAM credentials of SASL users, durably, in the
// broker's data directory (meta/users.json): salted and hashed as RFC 5802
// says (salt, iterations, StoredKey, ServerKey), never the password.
//
// A user exists while it has at least one credential. The store is the only
// writer of users.json; every change is on disk (written to a temporary file,
// synced and renamed over the old one) before the call that made it returns.
package users

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Mechanism is a SCRAM mechanism name.
type Mechanism string

// The SCRAM mechanisms.
const (
	ScramSHA256 Mechanism = "SCRAM-SHA-256"
	ScramSHA512 Mechanism = "SCRAM-SHA-512"
)

// Mechanisms lists the SCRAM mechanisms the store accepts, weakest first.
var Mechanisms = []Mechanism{ScramSHA256, ScramSHA512}

// Bounds of a credential's iteration count: Kafka's (RFC 7677's minimum,
// and the maximum Kafka's AlterUserScramCredentials accepts).
const (
	MinIterations = 4096
	MaxIterations = 16384
)

// MaxNameBytes bounds a user name's length.
const MaxNameBytes = 255

// Errors returned by the package; the broker maps them to Kafka error codes.
var (
	// ErrNotFound: the user has no credential for the mechanism.
	ErrNotFound = errors.New("user credential not found")
	// ErrInvalidName: the user name is empty, too long, not UTF-8 or
	// holds control characters.
	ErrInvalidName = errors.New("invalid user name")
	// ErrUnknownMechanism: not a SCRAM mechanism the store accepts.
	ErrUnknownMechanism = errors.New("unknown SCRAM mechanism")
	// ErrInvalidIterations: the iteration count is outside
	// MinIterations..MaxIterations.
	ErrInvalidIterations = errors.New("invalid SCRAM iteration count")
	// ErrInvalidCredential: a salt or key is missing or of the wrong size.
	ErrInvalidCredential = errors.New("invalid SCRAM credential")
)

// ParseMechanism returns the mechanism named s, case-insensitively.
func ParseMechanism(s string) (Mechanism, error) {
	for _, m := range Mechanisms {
		if strings.EqualFold(s, string(m)) {
			return m, nil
		}
	}
	return "", fmt.Errorf("%w %q: want SCRAM-SHA-256 or SCRAM-SHA-512", ErrUnknownMechanism, s)
}

// ValidateName checks a user name: non-empty, valid UTF-8, no control
// characters, at most MaxNameBytes bytes.
func ValidateName(name string) error {
	switch {
	case name == "":
		return fmt.Errorf("%w: empty", ErrInvalidName)
	case len(name) > MaxNameBytes:
		return fmt.Errorf("%w: %d bytes, at most %d", ErrInvalidName, len(name), MaxNameBytes)
	case !utf8.ValidString(name):
		return fmt.Errorf("%w: not UTF-8", ErrInvalidName)
	case strings.IndexFunc(name, unicode.IsControl) >= 0:
		return fmt.Errorf("%w %q: control characters", ErrInvalidName, name)
	}
	return nil
}

// ValidateIterations checks an iteration count against MinIterations and
// MaxIterations.
func ValidateIterations(n int) error {
	if n < MinIterations {
		return fmt.Errorf("%w: %d is too few (at least %d)", ErrInvalidIterations, n, MinIterations)
	}
	if n > MaxIterations {
		return fmt.Errorf("%w: %d is too many (at most %d)", ErrInvalidIterations, n, MaxIterations)
	}
	return nil
}

// User is a user's name and the mechanisms it has credentials for, without
// any secret: what List and Kafka's DescribeUserScramCredentials show.
type User struct {
	Name        string
	Credentials []CredentialInfo // sorted by mechanism
}

// CredentialInfo is the public part of a credential.
type CredentialInfo struct {
	Mechanism  Mechanism
	Iterations int
}
