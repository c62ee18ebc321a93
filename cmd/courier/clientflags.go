package main

// clientflags.go holds the flags shared by every command that is a Kafka
// client (topic, produce, consume, group, bench, gateway, sink, simulate,
// user, acl): they reach any Kafka-compatible cluster, Courier's or Apache
// Kafka's, through franz-go, in plain text or over TLS, with or without
// SASL, as the cluster's listener requires. The client tools (those that do
// one job and exit) also share how they meet an unreachable cluster: one
// line at once, or a wait when asked for (connect, package reach).

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/courier-dev/courier/internal/tools/reach"
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

	// signIn makes --sasl-mechanism the mechanism users sign in with
	// (courier console): --sasl-user is then optional, the command's own
	// identity when given.
	signIn bool

	// Client tools only (registerTool).
	connectTimeout time.Duration
	wait           bool
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

// registerTool adds the flags of a client tool, a command that does one job
// and exits: the connection flags, and --connect-timeout and --wait, which
// say what connect does when no seed broker can be reached. (Services such
// as the sink keep retrying instead, and say so in their log.)
func (f *clientFlags) registerTool(cmd *cobra.Command) {
	f.register(cmd)
	fl := cmd.Flags()
	fl.DurationVar(&f.connectTimeout, "connect-timeout", reach.DefaultTimeout,
		"fail if no seed broker accepts a TCP connection within this long (a slow broker that accepts is not a failure)")
	fl.BoolVar(&f.wait, "wait", false, "if no seed broker can be reached, wait for one (retrying every second, until Ctrl-C) instead of failing")
}

// connectRetryEvery is how often --wait checks the seed brokers again.
const connectRetryEvery = time.Second

// monitorEvery is how often a client tool repeats that a broker it had
// reached cannot be connected to anymore; monitorGrace is how long the
// failures must last before the first warning, so that a command that
// fails on its own (with its own error) is not preceded by a warning.
const (
	monitorEvery = 30 * time.Second
	monitorGrace = 3 * time.Second
)

// connect is how every client tool gets its client options: it first
// checks that a seed broker accepts connections (reach.Check within
// --connect-timeout), so that an unreachable cluster is one line at once
// instead of a silent wait, or with --wait waits for one, saying so on
// stderr. The options it returns also warn on stderr when, later, brokers
// cannot be connected to for a while (the client keeps retrying).
func (f *clientFlags) connect(cmd *cobra.Command) ([]kgo.Opt, error) {
	seeds := f.seeds()
	if len(seeds) == 0 {
		return nil, errors.New("--brokers is empty: name at least one seed broker host:port (or set COURIER_BROKERS)")
	}
	stderr := cmd.ErrOrStderr()
	var err error
	if f.wait {
		err = reach.Wait(cmd.Context(), seeds, f.connectTimeout, connectRetryEvery, func(err error) {
			fmt.Fprintf(stderr, "courier: %v; waiting for it (--wait), Ctrl-C to stop\n", err)
		})
	} else {
		err = reach.Check(cmd.Context(), seeds, f.connectTimeout)
	}
	var re *reach.Error
	switch {
	case errors.As(err, &re):
		return nil, fmt.Errorf("%w (is a broker running there? --brokers or COURIER_BROKERS names the cluster; --wait waits for it)", err)
	case err != nil && cmd.Context().Err() != nil:
		return nil, fmt.Errorf("interrupted while connecting to %s", strings.Join(seeds, ","))
	case err != nil:
		return nil, err
	}
	m := reach.NewMonitor(monitorEvery, monitorGrace, func(e reach.Event) {
		if e.Reachable {
			fmt.Fprintf(stderr, "courier: connected to broker %s again\n", e.Addr)
			return
		}
		fmt.Fprintf(stderr, "courier: warning: cannot connect to broker %s since %s: %v; retrying\n",
			e.Addr, e.Since.Format(time.TimeOnly), e.Err)
	})
	return append(f.opts(), kgo.WithHooks(m)), nil
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
	opts, err := f.tlsOpts()
	if err != nil {
		return nil, err
	}
	if f.signIn && f.saslUser == "" {
		return opts, nil
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

// tlsOpts returns the TLS option the flags ask for, if any.
func (f *clientFlags) tlsOpts() ([]kgo.Opt, error) {
	if !f.tls && f.tlsCA == "" && f.tlsCert == "" && f.tlsServerName == "" {
		return nil, nil
	}
	cfg, err := f.tlsConfig()
	if err != nil {
		return nil, err
	}
	return []kgo.Opt{kgo.DialTLSConfig(cfg)}, nil
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
