package server

// conn_sasl.go is the SASL state of a connection on a SASL_PLAINTEXT or
// SASL_SSL listener, as Kafka's SaslServerAuthenticator keeps it: until the
// client authenticated, only ApiVersions, SaslHandshake (v1) and
// SaslAuthenticate are allowed and anything else closes the connection; a
// failed exchange is answered with SASL_AUTHENTICATION_FAILED and then the
// connection closes. With a re-authentication interval (KIP-368) the session
// expires; the client re-authenticates with a new SaslHandshake and
// SaslAuthenticate as the same user, or the connection closes at its next
// other request after expiry.

import (
	"errors"
	"fmt"
	"time"

	"github.com/courier-dev/courier/internal/broker/auth"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// saslState is a connection's authentication progress (reader goroutine
// only).
type saslState struct {
	enabled       bool
	authenticated bool
	authDeadline  time.Time // first authentication must finish by then
	exchange      auth.SASLExchange
	mechanism     string // of the exchange in progress or the last success
	user          string
	canReauth     bool      // the client used SaslAuthenticate v1+
	expires       time.Time // zero: the session never expires
}

// saslGate handles SaslHandshake and SaslAuthenticate and refuses requests
// the connection's state does not allow. A nil response means the request
// goes to the handler. An error closes the connection at once.
func (c *conn) saslGate(f *frame, now time.Time) (resp kmsg.Response, closeAfter bool, err error) {
	s := &c.sasl
	if !s.authenticated && now.After(s.authDeadline) {
		return nil, false, fmt.Errorf("SASL authentication not completed within %s", c.srv.cfg.AuthTimeout)
	}
	switch f.key {
	case kmsg.SASLHandshake.Int16():
		return c.saslHandshake(f.msg.(*kmsg.SASLHandshakeRequest))
	case kmsg.SASLAuthenticate.Int16():
		return c.saslAuthenticate(f.msg.(*kmsg.SASLAuthenticateRequest), now)
	case kmsg.ApiVersions.Int16():
		return nil, false, nil
	}
	if !s.authenticated {
		return nil, false, fmt.Errorf("%s request before SASL authentication", kmsg.NameForKey(f.key))
	}
	if !s.expires.IsZero() && now.After(s.expires) {
		return nil, false, fmt.Errorf("SASL session of %s expired: %s request without re-authentication", s.user, kmsg.NameForKey(f.key))
	}
	return nil, false, nil
}

// saslHandshake starts an exchange with the mechanism the client asks for.
func (c *conn) saslHandshake(req *kmsg.SASLHandshakeRequest) (kmsg.Response, bool, error) {
	s := &c.sasl
	resp := req.ResponseKind().(*kmsg.SASLHandshakeResponse)
	resp.SupportedMechanisms = c.srv.cfg.SASL.Mechanisms()
	switch {
	case req.Version < 1:
		// v0 is advertised because librdkafka enables SCRAM only when the
		// broker lists SaslHandshake from v0, as Kafka does; but a v0
		// handshake means raw SASL tokens outside Kafka frames (Kafka
		// 0.10.0 clients), which Courier does not speak.
		resp.ErrorCode = kerr.UnsupportedVersion.Code
		return resp, true, nil
	case s.exchange != nil: // a second handshake in the middle of an exchange
		resp.ErrorCode = kerr.IllegalSaslState.Code
		return resp, true, nil
	case s.authenticated && !s.canReauth:
		// As Kafka answers a handshake after authentication.
		resp.ErrorCode = kerr.IllegalSaslState.Code
		return resp, false, nil
	case s.authenticated && req.Mechanism != s.mechanism:
		// Re-authentication keeps the mechanism, as in Kafka.
		resp.ErrorCode = kerr.UnsupportedSaslMechanism.Code
		return resp, true, nil
	}
	ex, err := c.srv.cfg.SASL.Start(req.Mechanism)
	if err != nil {
		resp.ErrorCode = kerr.UnsupportedSaslMechanism.Code
		c.srv.cfg.Logger.Info("SASL handshake refused", "remote", c.info.Remote.String(), "mechanism", req.Mechanism, "err", err)
		return resp, true, nil
	}
	s.exchange, s.mechanism = ex, req.Mechanism
	return resp, false, nil
}

// saslAuthenticate steps the exchange in progress.
func (c *conn) saslAuthenticate(req *kmsg.SASLAuthenticateRequest, now time.Time) (kmsg.Response, bool, error) {
	s := &c.sasl
	resp := req.ResponseKind().(*kmsg.SASLAuthenticateResponse)
	if s.exchange == nil {
		resp.ErrorCode = kerr.IllegalSaslState.Code
		resp.ErrorMessage = kmsg.StringPtr("SaslAuthenticate without a SaslHandshake")
		// After authentication Kafka answers this and keeps the
		// connection; before it, the exchange is broken.
		return resp, !s.authenticated, nil
	}
	out, done, err := s.exchange.Step(req.SASLAuthBytes)
	if err == nil && done && s.authenticated && s.exchange.User() != s.user {
		err = fmt.Errorf("%w: cannot change user from %s to %s on re-authentication", auth.ErrAuthenticationFailed, s.user, s.exchange.User())
	}
	if err != nil {
		s.exchange = nil
		msg := err.Error()
		if !errors.Is(err, auth.ErrAuthenticationFailed) {
			msg = "authentication failed: " + msg
		}
		resp.ErrorCode = kerr.SaslAuthenticationFailed.Code
		resp.ErrorMessage = &msg
		c.srv.cfg.Logger.Info("SASL authentication failed", "remote", c.info.Remote.String(), "listener", c.l.Name, "mechanism", s.mechanism, "err", err)
		return resp, true, nil
	}
	resp.SASLAuthBytes = out
	if !done {
		return resp, false, nil
	}
	reauth := s.authenticated
	s.user = s.exchange.User()
	s.exchange = nil
	s.authenticated = true
	s.canReauth = req.Version >= 1
	if iv := c.srv.cfg.ReauthInterval; iv > 0 {
		s.expires = now.Add(iv)
		resp.SessionLifetimeMillis = iv.Milliseconds()
	}
	c.info.SetPrincipal(auth.User(s.user))
	c.srv.cfg.Logger.Debug("SASL authenticated", "remote", c.info.Remote.String(), "listener", c.l.Name,
		"mechanism", s.mechanism, "user", s.user, "reauthentication", reauth)
	return resp, false, nil
}
