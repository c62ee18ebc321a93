// Package sasl implements the server side of the SASL mechanisms Courier
// accepts, PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512, against the users in
// package users.
//
// Every exchange parses the client's messages defensively (a malformed
// message is an error, never a panic) and fails with an error wrapping
// auth.ErrAuthenticationFailed whose text never says whether the user
// exists: a SCRAM exchange for an unknown user runs to the proof with a
// fake salt, and fails there like a wrong password. Passwords are never
// logged nor kept.
package sasl

import (
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/courier-dev/courier/internal/broker/auth"
	"github.com/courier-dev/courier/internal/broker/users"
)

// Mechanism names, as SaslHandshake carries them.
const (
	Plain       = "PLAIN"
	ScramSHA256 = string(users.ScramSHA256)
	ScramSHA512 = string(users.ScramSHA512)
)

// AllMechanisms lists every mechanism the package implements.
var AllMechanisms = []string{Plain, ScramSHA256, ScramSHA512}

// ErrMalformed is wrapped (beside auth.ErrAuthenticationFailed) by the
// errors for client messages that do not parse.
var ErrMalformed = errors.New("malformed SASL message")

// errInvalidCredentials is the one failure for a wrong password, an
// unknown user or a bad proof: it tells the client nothing more.
func errInvalidCredentials(mech string) error {
	return fmt.Errorf("%w: invalid credentials with SASL mechanism %s", auth.ErrAuthenticationFailed, mech)
}

// malformed returns the error for a client message that does not parse.
// what must not quote secrets.
func malformed(mech, what string) error {
	return fmt.Errorf("%w: %w: %s: %s", auth.ErrAuthenticationFailed, ErrMalformed, mech, what)
}

// errFinished is returned by Step after the exchange ended.
func errFinished(mech string) error {
	return fmt.Errorf("%w: %s exchange already finished", auth.ErrAuthenticationFailed, mech)
}

// Server implements auth.SASLServer.
type Server struct {
	store      *users.Store
	mechanisms []string
	// secret keys the fake salts of unknown users, so that one unknown
	// user always gets the same salt from this server, as a real one does.
	secret []byte
}

var _ auth.SASLServer = (*Server)(nil)

// NewServer enables mechanisms (nil: all of PLAIN, SCRAM-SHA-256,
// SCRAM-SHA-512) against store. Names are matched case-insensitively; an
// unknown name is an error.
func NewServer(store *users.Store, mechanisms []string) (*Server, error) {
	if store == nil {
		return nil, errors.New("sasl: no user store")
	}
	s := &Server{store: store, secret: make([]byte, 32)}
	if _, err := rand.Read(s.secret); err != nil {
		return nil, fmt.Errorf("sasl: draw secret: %w", err)
	}
	if len(mechanisms) == 0 {
		mechanisms = AllMechanisms
	}
	for _, m := range mechanisms {
		i := slices.IndexFunc(AllMechanisms, func(k string) bool { return strings.EqualFold(k, strings.TrimSpace(m)) })
		if i < 0 {
			return nil, fmt.Errorf("sasl: unknown mechanism %q: want %s", m, strings.Join(AllMechanisms, ", "))
		}
		if !slices.Contains(s.mechanisms, AllMechanisms[i]) {
			s.mechanisms = append(s.mechanisms, AllMechanisms[i])
		}
	}
	return s, nil
}

// Mechanisms implements auth.SASLServer.
func (s *Server) Mechanisms() []string { return slices.Clone(s.mechanisms) }

// Start implements auth.SASLServer. Mechanism names are case-sensitive, as
// in Kafka.
func (s *Server) Start(mechanism string) (auth.SASLExchange, error) {
	if !slices.Contains(s.mechanisms, mechanism) {
		return nil, fmt.Errorf("%w: %q (enabled: %s)", auth.ErrUnsupportedMechanism, mechanism, strings.Join(s.mechanisms, ", "))
	}
	if mechanism == Plain {
		return &plainExchange{store: s.store}, nil
	}
	return &scramExchange{server: s, mech: users.Mechanism(mechanism)}, nil
}
