package run

// listeners.go parses and checks listener specifications
// ("SASL_SSL://0.0.0.0:9093"), builds each listener's TLS configuration,
// and the SASL server SASL listeners share.

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/courier-dev/courier/internal/broker"
	"github.com/courier-dev/courier/internal/broker/auth"
	"github.com/courier-dev/courier/internal/broker/sasl"
	"github.com/courier-dev/courier/internal/broker/server"
)

// Listener is one Kafka listener. Its name is its protocol: PLAINTEXT,
// SSL, SASL_PLAINTEXT or SASL_SSL, so there is at most one of each.
type Listener struct {
	Name string
	// Addr is the "host:port" to listen on (port 0: any free port).
	Addr string
}

// TLSConfig names the PEM files of SSL and SASL_SSL listeners and how the
// SSL listener treats client certificates.
type TLSConfig struct {
	// CertFile and KeyFile are the server's certificate (chain) and key;
	// required when there is a TLS listener.
	CertFile, KeyFile string
	// ClientCAFile is a bundle of CAs that client certificates must chain
	// to: needed by ClientAuth requested and required. On a SASL_SSL
	// listener a client certificate is then verified if given, but SASL
	// decides the principal.
	ClientCAFile string
	// ClientAuth is Kafka's ssl.client.auth for the SSL listener; empty
	// means ClientAuthRequired if ClientCAFile is set (a CA given for
	// client certificates is never silently ignored), else
	// ClientAuthNone.
	ClientAuth ClientAuth
}

// ClientAuth says whether the SSL listener asks clients for certificates,
// in Kafka's words (ssl.client.auth). It is a flag value (pflag.Value).
type ClientAuth string

// The client authentication modes of the SSL listener.
const (
	// ClientAuthNone asks for no certificate: connections are encrypted
	// and every client is User:ANONYMOUS (Kafka's default).
	ClientAuthNone ClientAuth = "none"
	// ClientAuthRequested asks for one: a client that sends one must
	// chain to the client CA and is User:<its subject>; a client that
	// sends none is User:ANONYMOUS.
	ClientAuthRequested ClientAuth = "requested"
	// ClientAuthRequired refuses the handshake of a client without a
	// certificate that chains to the client CA: mutual TLS, every client
	// is User:<its certificate's subject>.
	ClientAuthRequired ClientAuth = "required"
)

// ParseClientAuth parses "none", "requested" or "required" (any case).
func ParseClientAuth(s string) (ClientAuth, error) {
	switch m := ClientAuth(strings.ToLower(s)); m {
	case ClientAuthNone, ClientAuthRequested, ClientAuthRequired:
		return m, nil
	}
	return "", fmt.Errorf("client authentication %q: want none, requested or required", s)
}

// String returns the mode's name ("" for the default).
func (m *ClientAuth) String() string { return string(*m) }

// Set parses s into m, for flags.
func (m *ClientAuth) Set(s string) error {
	v, err := ParseClientAuth(s)
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// Type names the flag's values in help texts.
func (m *ClientAuth) Type() string { return "none|requested|required" }

// clientAuth resolves the SSL listener's mode and checks it against the
// listeners and the client CA: a mode that needs a CA without one, a mode
// or a CA that no listener would use, are errors, never ignored.
func (tc TLSConfig) clientAuth(ls []Listener) (ClientAuth, error) {
	mode := tc.ClientAuth
	if mode == "" {
		mode = ClientAuthNone
		if tc.ClientCAFile != "" {
			mode = ClientAuthRequired
		}
	} else if _, err := ParseClientAuth(string(mode)); err != nil {
		return "", fmt.Errorf("--tls-client-auth: %w", err)
	}
	hasSSL, hasSASLSSL := hasListener(ls, server.SSL), hasListener(ls, server.SASLSSL)
	switch {
	case tc.ClientAuth != "" && !hasSSL:
		return "", fmt.Errorf("--tls-client-auth %s applies to the SSL listener, and there is none", tc.ClientAuth)
	case mode != ClientAuthNone && tc.ClientCAFile == "":
		return "", fmt.Errorf("--tls-client-auth %s needs --tls-client-ca, the CAs client certificates must chain to", mode)
	case tc.ClientCAFile != "" && !hasSASLSSL && (!hasSSL || mode == ClientAuthNone):
		return "", errors.New("--tls-client-ca is given, but no listener would ask for client certificates (they are asked for on SASL_SSL listeners, and on SSL ones with --tls-client-auth requested or required)")
	}
	return mode, nil
}

// protocols are the listener names accepted, Kafka's security protocols.
var protocols = []string{server.Plaintext, server.SSL, server.SASLPlaintext, server.SASLSSL}

// ParseListener parses "PROTOCOL://host:port".
func ParseListener(s string) (Listener, error) {
	name, addr, ok := strings.Cut(s, "://")
	if !ok || addr == "" {
		return Listener{}, fmt.Errorf("listener %q: want PROTOCOL://host:port, e.g. SASL_SSL://0.0.0.0:9093", s)
	}
	l := Listener{Name: strings.ToUpper(name), Addr: addr}
	if !isProtocol(l.Name) {
		return Listener{}, fmt.Errorf("listener %q: protocol %s is not one of %s", s, name, strings.Join(protocols, ", "))
	}
	if _, _, err := broker.SplitHostPort(addr); err != nil {
		return Listener{}, fmt.Errorf("listener %q: %w", s, err)
	}
	return l, nil
}

// ParseAdvertisedListeners parses "PROTOCOL://host:port" values into the
// map Config.AdvertisedListeners takes.
func ParseAdvertisedListeners(specs []string) (map[string]string, error) {
	out := make(map[string]string, len(specs))
	for _, s := range specs {
		l, err := ParseListener(s)
		if err != nil {
			return nil, fmt.Errorf("--advertised-listener: %w", err)
		}
		if _, dup := out[l.Name]; dup {
			return nil, fmt.Errorf("--advertised-listener: %s given twice", l.Name)
		}
		out[l.Name] = l.Addr
	}
	return out, nil
}

// ValidateListeners checks names and that no protocol is used twice.
func ValidateListeners(ls []Listener) error {
	seen := make(map[string]bool, len(ls))
	for _, l := range ls {
		if !isProtocol(l.Name) {
			return fmt.Errorf("listener %s://%s: protocol is not one of %s", l.Name, l.Addr, strings.Join(protocols, ", "))
		}
		if seen[l.Name] {
			return fmt.Errorf("listener %s given twice (one listener per protocol)", l.Name)
		}
		seen[l.Name] = true
	}
	return nil
}

func isProtocol(name string) bool {
	for _, p := range protocols {
		if name == p {
			return true
		}
	}
	return false
}

func hasListener(ls []Listener, name string) bool {
	for _, l := range ls {
		if l.Name == name {
			return true
		}
	}
	return false
}

// listenerConfigs builds each listener's server configuration, loading the
// TLS files once if any listener needs them.
func listenerConfigs(ls []Listener, tc TLSConfig) ([]server.ListenerConfig, error) {
	mode, err := tc.clientAuth(ls)
	if err != nil {
		return nil, err
	}
	out := make([]server.ListenerConfig, len(ls))
	var base *tls.Config
	for i, l := range ls {
		out[i] = server.ListenerConfig{Name: l.Name, SASL: l.Name == server.SASLPlaintext || l.Name == server.SASLSSL}
		if l.Name != server.SSL && l.Name != server.SASLSSL {
			continue
		}
		if base == nil {
			if base, err = loadTLS(tc); err != nil {
				return nil, fmt.Errorf("listener %s: %w", l.Name, err)
			}
		}
		cfg := base.Clone()
		switch {
		case l.Name == server.SASLSSL && cfg.ClientCAs != nil:
			cfg.ClientAuth = tls.VerifyClientCertIfGiven
		case l.Name == server.SSL && mode == ClientAuthRequested:
			cfg.ClientAuth = tls.VerifyClientCertIfGiven
		case l.Name == server.SSL && mode == ClientAuthRequired:
			cfg.ClientAuth = tls.RequireAndVerifyClientCert
		default:
			cfg.ClientAuth = tls.NoClientCert
		}
		out[i].TLS = cfg
	}
	return out, nil
}

// clientAuthOf describes a listener's client certificate handling for the
// log line that announces it.
func clientAuthOf(l server.ListenerConfig) string {
	if l.TLS == nil {
		return "no TLS"
	}
	switch l.TLS.ClientAuth {
	case tls.RequireAndVerifyClientCert:
		return "client certificates required"
	case tls.VerifyClientCertIfGiven:
		return "client certificates verified if sent"
	}
	return "no client certificates asked for"
}

// loadTLS reads the server certificate, key and client CA bundle.
func loadTLS(tc TLSConfig) (*tls.Config, error) {
	if tc.CertFile == "" || tc.KeyFile == "" {
		return nil, errors.New("TLS listeners need --tls-cert and --tls-key")
	}
	cert, err := tls.LoadX509KeyPair(tc.CertFile, tc.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if tc.ClientCAFile != "" {
		pem, err := os.ReadFile(tc.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("--tls-client-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls-client-ca %s: no PEM certificates", tc.ClientCAFile)
		}
		cfg.ClientCAs = pool
	}
	return cfg, nil
}

func anySASL(ls []server.ListenerConfig) bool {
	for _, l := range ls {
		if l.SASL {
			return true
		}
	}
	return false
}

// saslServer runs SASL exchanges against the broker's user store.
func saslServer(b *broker.Broker, mechanisms []string) (auth.SASLServer, error) {
	s, err := sasl.NewServer(b.Users(), mechanisms)
	if err != nil {
		return nil, fmt.Errorf("SASL listeners: %w", err)
	}
	return s, nil
}
