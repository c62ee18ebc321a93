// Package users stores the SCRAM credentials of SASL users, durably, in the
// broker's data directory (meta/users.json): salted and hashed as RFC 5802
// says (salt, iterations, StoredKey, ServerKey), never the password.
package users

import (
	"errors"
)

// Mechanism is a SCRAM mechanism name.
type Mechanism string

// The SCRAM mechanisms.
const (
	ScramSHA256 Mechanism = "SCRAM-SHA-256"
	ScramSHA512 Mechanism = "SCRAM-SHA-512"
)

// Credential is one user's SCRAM credential for one mechanism.
type Credential struct {
	Mechanism  Mechanism `json:"mechanism"`
	Iterations int       `json:"iterations"`
	Salt       []byte    `json:"salt"`
	StoredKey  []byte    `json:"stored_key"`
	ServerKey  []byte    `json:"server_key"`
}

// Store is the durable set of users. Safe for concurrent use.
type Store struct{}

// Open loads (or creates) the store in dir.
func Open(dir string) (*Store, error) { return nil, errors.New("users: not implemented yet") }
