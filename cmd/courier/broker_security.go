package main

// broker_security.go wires `courier broker`'s listener, TLS, SASL, limit
// and quota flags to run.Config.

import (
	"fmt"
	"strings"
	"time"

	"github.com/courier-dev/courier/internal/broker"
	"github.com/courier-dev/courier/internal/broker/quota"
	"github.com/courier-dev/courier/internal/broker/run"
	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// addSecurityFlags declares the flags; securityFlags applies them.
func addSecurityFlags(f *pflag.FlagSet, cfg *run.Config, listeners, advertised *[]string, quotaBy *string) {
	f.StringArrayVar(listeners, "listener", nil, "a Kafka listener PROTOCOL://host:port, repeatable; PROTOCOL is PLAINTEXT, SSL, SASL_PLAINTEXT or SASL_SSL, one listener each (default: PLAINTEXT on --addr)")
	f.StringArrayVar(advertised, "advertised-listener", nil, "PROTOCOL://host:port clients of that listener are told to connect to, repeatable (default: the address they reached)")
	f.StringVar(&cfg.TLS.CertFile, "tls-cert", "", "PEM certificate (chain) of SSL and SASL_SSL listeners")
	f.StringVar(&cfg.TLS.KeyFile, "tls-key", "", "PEM private key of --tls-cert")
	f.StringVar(&cfg.TLS.ClientCAFile, "tls-client-ca", "", "PEM CA bundle client certificates must chain to (on SASL_SSL listeners: verified if sent; SASL names the principal)")
	f.Var(&cfg.TLS.ClientAuth, "tls-client-auth", "client certificates on the SSL listener (Kafka's ssl.client.auth): none (every client is User:ANONYMOUS), requested (verified if sent: User:<subject>, else ANONYMOUS) or required (mutual TLS); needs --tls-client-ca unless none (default: required with --tls-client-ca, else none)")
	f.StringSliceVar(&cfg.SASLMechanisms, "sasl-mechanisms", []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}, "SASL mechanisms SASL listeners offer")
	f.DurationVar(&cfg.SASLReauthInterval, "sasl-reauth-interval", 0, "longest SASL session before the client must re-authenticate (connections.max.reauth.ms; 0: never)")
	f.IntVar(&cfg.Limits.MaxConnections, "max-connections", 10000, "most open client connections; more are closed at once (-1: no limit)")
	f.IntVar(&cfg.Limits.MaxConnectionsPerIP, "max-connections-per-ip", 1000, "most open connections from one IP address (-1: no limit)")
	f.DurationVar(&cfg.Limits.IdleTimeout, "idle-timeout", 10*time.Minute, "close connections that send no request for this long (connections.max.idle.ms; -1s: never)")
	f.DurationVar(&cfg.Limits.RequestReadTimeout, "request-read-timeout", 30*time.Second, "a started request frame, and the TLS handshake, must arrive within this")
	f.DurationVar(&cfg.Limits.AuthTimeout, "auth-timeout", 30*time.Second, "SASL connections must authenticate within this of connecting")
	f.Int64Var(&cfg.Limits.MaxInflightBytes, "max-inflight-bytes", 0, "request bytes read but not yet answered per connection before reading pauses (default: --max-request-bytes)")
	f.Int64Var(&cfg.Limits.MaxQueuedRequestBytes, "max-queued-request-bytes", server.DefaultMaxQueuedRequestBytes, "request bytes all connections together may hold read but not answered (queued.max.request.bytes); taken as bytes arrive, readers wait when it is spent, and one half-read frame at a time may finish beyond it (-1: no limit)")
	f.Int32Var(&cfg.Limits.SASLMaxReceiveBytes, "sasl-max-receive-size", server.DefaultSASLMaxReceiveBytes, "largest frame a SASL listener accepts before the client has authenticated (sasl.server.max.receive.size); a larger one closes the connection")
	f.DurationVar(&cfg.Limits.WriteTimeout, "response-write-timeout", 30*time.Second, "close a connection whose client accepts no part of its response (1 MiB at a time) for this long")
	f.Int32Var(&cfg.Broker.FetchMaxBytes, "fetch-max-bytes", broker.DefaultFetchMaxBytes, "cap on every fetch response, below the client's MaxBytes (fetch.max.bytes); a response's first batch is sent whole even if larger")
	f.Int64Var(&cfg.Broker.FetchMemoryBytes, "fetch-memory-bytes", broker.DefaultFetchMemoryBytes, "record bytes all fetches together may hold until their responses are written; beyond it fetches read less or wait (-1: no limit)")
	f.Int64Var(&cfg.Quota.ProduceBytesPerSec, "quota-produce-bytes-per-sec", 0, "produce byte rate each client id (or user, see --quota-by) may use; over it, responses carry a throttle time and the connection is muted for it (0: no quota)")
	f.Int64Var(&cfg.Quota.FetchBytesPerSec, "quota-fetch-bytes-per-sec", 0, "fetched record bytes per second each client id (or user) may receive (0: no quota)")
	f.StringVar(quotaBy, "quota-by", "client-id", "what quotas apply to: client-id or user (the authenticated principal)")
	f.IntVar(&cfg.Quota.Samples, "quota-window-samples", quota.DefaultSamples, "samples the quota rate is measured over (quota.window.num)")
	f.DurationVar(&cfg.Quota.SampleWindow, "quota-window-size", quota.DefaultSampleWindow, "length of one quota sample (quota.window.size.seconds)")
}

// securityFlags parses the listener flags into cfg.
func securityFlags(cmd *cobra.Command, cfg *run.Config, listeners, advertised []string, quotaBy string) error {
	if len(listeners) > 0 {
		if cmd.Flags().Changed("addr") {
			return fmt.Errorf("--addr and --listener are exclusive (use --listener PLAINTEXT://%s)", cfg.Addr)
		}
		for _, s := range listeners {
			l, err := run.ParseListener(s)
			if err != nil {
				return fmt.Errorf("--listener: %w", err)
			}
			cfg.Listeners = append(cfg.Listeners, l)
		}
		if err := run.ValidateListeners(cfg.Listeners); err != nil {
			return fmt.Errorf("--listener: %w", err)
		}
	}
	adv, err := run.ParseAdvertisedListeners(advertised)
	if err != nil {
		return err
	}
	cfg.AdvertisedListeners = adv
	switch strings.ToLower(quotaBy) {
	case "client-id":
	case "user":
		cfg.Quota.ByUser = true
	default:
		return fmt.Errorf("--quota-by must be client-id or user, not %q", quotaBy)
	}
	if cfg.Limits.MaxInflightBytes != 0 && cfg.Limits.MaxInflightBytes < int64(cfg.MaxRequestBytes) {
		return fmt.Errorf("--max-inflight-bytes %d is below --max-request-bytes %d", cfg.Limits.MaxInflightBytes, cfg.MaxRequestBytes)
	}
	return memoryFlags(cfg)
}

// memoryFlags checks the memory bounds: each is positive and large enough
// to serve a request, or -1 where "no limit" is allowed.
func memoryFlags(cfg *run.Config) error {
	checks := []struct {
		flag      string
		v, min    int64
		noLimitOK bool
	}{
		{"--max-queued-request-bytes", cfg.Limits.MaxQueuedRequestBytes, 1 << 20, true},
		{"--sasl-max-receive-size", int64(cfg.Limits.SASLMaxReceiveBytes), 1024, false},
		{"--fetch-max-bytes", int64(cfg.Broker.FetchMaxBytes), 1024, false},
		{"--fetch-memory-bytes", cfg.Broker.FetchMemoryBytes, 1 << 20, true},
	}
	for _, c := range checks {
		if c.v == -1 && c.noLimitOK {
			continue
		}
		if c.v < c.min {
			hint := ""
			if c.noLimitOK {
				hint = " (-1: no limit)"
			}
			return fmt.Errorf("%s %d is too small (minimum %d%s)", c.flag, c.v, c.min, hint)
		}
	}
	if cfg.Limits.WriteTimeout <= 0 {
		return fmt.Errorf("--response-write-timeout must be positive, not %s", cfg.Limits.WriteTimeout)
	}
	return nil
}
