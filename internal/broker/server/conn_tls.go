package server

// conn_tls.go runs the TLS handshake of SSL and SASL_SSL connections, on
// the connection's goroutine (never the accept loop) and within the request
// read timeout, and takes the principal from a verified client certificate.

import (
	"context"
	"crypto/tls"
	"time"

	"github.com/courier-dev/courier/internal/broker/auth"
)

// handshakeTLS wraps the connection in TLS. On a listener without SASL, a
// verified client certificate makes the principal User:<subject DN> in RFC
// 2253 form (as Kafka's default principal builder does).
func (c *conn) handshakeTLS() error {
	tc := tls.Server(c.nc, c.l.TLS)
	ctx, cancel := context.WithTimeout(c.ctx, c.srv.cfg.RequestReadTimeout)
	defer cancel()
	_ = c.nc.SetDeadline(time.Now().Add(c.srv.cfg.RequestReadTimeout))
	if err := tc.HandshakeContext(ctx); err != nil {
		return err
	}
	_ = c.nc.SetDeadline(time.Time{})
	c.rw = tc
	if !c.l.SASL {
		if st := tc.ConnectionState(); len(st.VerifiedChains) > 0 && len(st.PeerCertificates) > 0 {
			c.info.SetPrincipal(CertPrincipal(st.PeerCertificates[0].Subject.String()))
		}
	}
	return nil
}

// CertPrincipal is the principal of a client certificate whose subject is
// dn (RFC 2253, e.g. "CN=alice,O=example"): User:dn.
func CertPrincipal(dn string) auth.Principal { return auth.User(dn) }
