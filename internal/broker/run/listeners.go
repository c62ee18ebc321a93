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

// TLSConfig names the PEM files of SSL and SASL_SSL listeners.
type TLSConfig struct {
	// CertFile and KeyFile are the server's certificate (chain) and key;
	// required when there is a TLS listener.
	CertFile, KeyFile string
	// ClientCAFile, when set, is a bundle of CAs that client certificates
	// must chain to. On SSL listeners a client certificate is then
	// required (its subject is the principal); on SASL_SSL listeners it is
	// verified if given, but SASL decides the principal.
	ClientCAFile string
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
	out := make([]server.ListenerConfig, len(ls))
	var base *tls.Config
	for i, l := range ls {
		out[i] = server.ListenerConfig{Name: l.Name, SASL: l.Name == server.SASLPlaintext || l.Name == server.SASLSSL}
		if l.Name != server.SSL && l.Name != server.SASLSSL {
			continue
		}
		if base == nil {
			var err error
			if base, err = loadTLS(tc); err != nil {
				return nil, fmt.Errorf("listener %s: %w", l.Name, err)
			}
		}
		cfg := base.Clone()
		if cfg.ClientCAs != nil {
			cfg.ClientAuth = tls.VerifyClientCertIfGiven
			if l.Name == server.SSL {
				cfg.ClientAuth = tls.RequireAndVerifyClientCert
			}
		}
		out[i].TLS = cfg
	}
	return out, nil
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
