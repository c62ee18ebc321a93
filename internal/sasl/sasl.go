// Package sasl implements the server side of the SASL mechanisms Courier
// accepts, PLAIN, SCRAM-SHA-256 and SCRAM-SHA-512, against the users in
// package users.
package sasl

import (
	"errors"

	"github.com/courier-dev/courier/internal/auth"
	"github.com/courier-dev/courier/internal/users"
)

// Server implements auth.SASLServer.
type Server struct{}

// NewServer enables mechanisms (nil: all of PLAIN, SCRAM-SHA-256,
// SCRAM-SHA-512) against store.
func NewServer(store *users.Store, mechanisms []string) (*Server, error) {
	return nil, errors.New("sasl: not implemented yet")
}

// Mechanisms implements auth.SASLServer.
func (s *Server) Mechanisms() []string { return nil }

// Start implements auth.SASLServer.
func (s *Server) Start(mechanism string) (auth.SASLExchange, error) {
	return nil, auth.ErrUnsupportedMechanism
}
