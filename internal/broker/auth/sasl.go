package auth

// sasl.go is the contract between the network layer, which runs SASL
// exchanges on connections (SaslHandshake, SaslAuthenticate), and the
// package that knows the mechanisms and the users (internal/sasl).

import "errors"

// SASLServer starts server-side SASL exchanges.
type SASLServer interface {
	// Mechanisms lists the enabled mechanisms, e.g. PLAIN, SCRAM-SHA-256,
	// SCRAM-SHA-512, as SaslHandshake reports them.
	Mechanisms() []string
	// Start begins an exchange with mechanism; ErrUnsupportedMechanism if
	// it is not enabled.
	Start(mechanism string) (SASLExchange, error)
}

// SASLExchange is one authentication in progress.
type SASLExchange interface {
	// Step consumes the client's next message (a SaslAuthenticate
	// request's bytes) and returns the server's answer. done is true when
	// the exchange succeeded (User is then valid). An error ends the
	// exchange: ErrAuthenticationFailed (wrapped, with a message safe to
	// show the client) for bad credentials, or a malformed message.
	Step(client []byte) (server []byte, done bool, err error)
	// User is the authenticated user name once Step reported done.
	User() string
}

// ErrUnsupportedMechanism is returned by SASLServer.Start.
var ErrUnsupportedMechanism = errors.New("unsupported SASL mechanism")

// ErrAuthenticationFailed is wrapped by SASLExchange.Step for bad
// credentials: Kafka's SASL_AUTHENTICATION_FAILED.
var ErrAuthenticationFailed = errors.New("authentication failed")
