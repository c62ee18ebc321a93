package main

// clientflags.go holds the flags shared by every command that is a Kafka
// client (topic, produce, consume, group, bench, gateway, sink, simulate,
// user, acl): they reach any Kafka-compatible cluster, Courier's or Apache
// Kafka's, through franz-go, in plain text or over TLS, with or without
// SASL, as the cluster's listener requires.

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// clientFlags are the connection settings of a client command.
type clientFlags struct {
	brokers  string
	clientID string

	tls                bool
	tlsCA              string
	tlsCert, tlsKey    string
	tlsServerName      string
	saslMechanism      string
	saslUser, saslPass string

	security []kgo.Opt // built from the flags before the command runs
}

// register adds the flags to cmd.
func (f *clientFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.brokers, "brokers", "127.0.0.1:9092", "comma-separated seed brokers (env COURIER_BROKERS)")
	fl.StringVar(&f.clientID, "client-id", "courier", "client id sent to the brokers")
	fl.BoolVar(&f.tls, "tls", false, "connect over TLS (implied by --tls-ca and --tls-cert)")
	fl.StringVar(&f.tlsCA, "tls-ca", "", "PEM file of the CA certificates that sign the brokers' certificates (default: the system's)")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "PEM file of this client's certificate, for brokers that require one")
	fl.StringVar(&f.tlsKey, "tls-key", "", "PEM file of the key of --tls-cert")
	fl.StringVar(&f.tlsServerName, "tls-server-name", "", "name to verify the brokers' certificates against (default: the host dialed)")
	fl.StringVar(&f.saslMechanism, "sasl-mechanism", "", "authenticate with SASL: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
	fl.StringVar(&f.saslUser, "sasl-user", "", "SASL user name")
	fl.StringVar(&f.saslPass, "sasl-password", "", "SASL password (prefer the environment: COURIER_SASL_PASSWORD)")
	// The security flags are checked before the command runs, so that a
	// bad file or mechanism is reported as such, not as a connection
	// failure.
	next := cmd.PreRunE
	cmd.PreRunE = func(cmd *cobra.Command, args []string) error {
		sec, err := f.securityOpts()
		if err != nil {
			return err
		}
		f.security = sec
		if next != nil {
			return next(cmd, args)
		}
		return nil
	}
}

// seeds returns the seed broker list.
func (f *clientFlags) seeds() []string {
	var out []string
	for _, s := range strings.Split(f.brokers, ",") {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// opts returns the kgo options every client command starts from: seeds,
// client id, and the TLS and SASL settings checked before the command ran.
func (f *clientFlags) opts() []kgo.Opt {
	opts := []kgo.Opt{kgo.SeedBrokers(f.seeds()...), kgo.ClientID(f.clientID)}
	return append(opts, f.security...)
}

// securityOpts returns the TLS and SASL options the flags ask for.
func (f *clientFlags) securityOpts() ([]kgo.Opt, error) {
	var opts []kgo.Opt
	if f.tls || f.tlsCA != "" || f.tlsCert != "" || f.tlsServerName != "" {
		cfg, err := f.tlsConfig()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.DialTLSConfig(cfg))
	}
	if f.saslMechanism != "" || f.saslUser != "" {
		m, err := f.saslMech()
		if err != nil {
			return nil, err
		}
		opts = append(opts, kgo.SASL(m))
	}
	return opts, nil
}

// tlsConfig builds the client TLS configuration.
func (f *clientFlags) tlsConfig() (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: f.tlsServerName}
	if f.tlsCA != "" {
		pem, err := os.ReadFile(f.tlsCA)
		if err != nil {
			return nil, fmt.Errorf("--tls-ca: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls-ca %s: no PEM certificate in it", f.tlsCA)
		}
		cfg.RootCAs = pool
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return nil, fmt.Errorf("--tls-cert and --tls-key go together")
	}
	if f.tlsCert != "" {
		c, err := tls.LoadX509KeyPair(f.tlsCert, f.tlsKey)
		if err != nil {
			return nil, fmt.Errorf("--tls-cert/--tls-key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{c}
	}
	return cfg, nil
}

// saslMech returns the SASL mechanism with its credentials.
func (f *clientFlags) saslMech() (sasl.Mechanism, error) {
	if f.saslUser == "" {
		return nil, fmt.Errorf("--sasl-mechanism needs --sasl-user (and --sasl-password, or COURIER_SASL_PASSWORD)")
	}
	pass := f.saslPass // also COURIER_SASL_PASSWORD, like every flag (env.go)
	switch strings.ToUpper(f.saslMechanism) {
	case "PLAIN":
		return plain.Auth{User: f.saslUser, Pass: pass}.AsMechanism(), nil
	case "SCRAM-SHA-256":
		return scram.Auth{User: f.saslUser, Pass: pass}.AsSha256Mechanism(), nil
	case "SCRAM-SHA-512", "": // --sasl-user alone: the strongest
		return scram.Auth{User: f.saslUser, Pass: pass}.AsSha512Mechanism(), nil
	}
	return nil, fmt.Errorf("--sasl-mechanism %q: want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", f.saslMechanism)
}
