// Package testbroker starts a real Courier broker, listening on a free
// loopback port with a temporary data directory, for tests in any package.
// The broker is the same assembly the binary runs (package run), reached
// over TCP.
package testbroker

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker"
	"github.com/courier-dev/courier/internal/broker/run"
)

// Broker is a running test broker.
type Broker struct {
	// Addr is the first Kafka listener (the PLAINTEXT one unless the
	// options configure others), "127.0.0.1:PORT".
	Addr string
	// Addrs are all Kafka listeners' addresses by name (PLAINTEXT, SSL,
	// SASL_PLAINTEXT, SASL_SSL).
	Addrs map[string]string
	// DataDir is the broker's data directory.
	DataDir string

	cancel context.CancelFunc
	done   chan error
}

// Option adjusts the broker's configuration.
type Option func(*run.Config)

// Start runs a broker until the test ends (or Stop is called).
func Start(t testing.TB, opts ...Option) *Broker {
	t.Helper()
	return StartAt(t, t.TempDir(), opts...)
}

// StartAt runs a broker on dataDir, e.g. to restart on an earlier one's data.
func StartAt(t testing.TB, dataDir string, opts ...Option) *Broker {
	t.Helper()
	cfg := run.Config{
		Addr:            "127.0.0.1:0",
		MaxRequestBytes: 100 << 20,
		// A short initial rebalance delay keeps group tests quick.
		Broker: broker.Config{DataDir: dataDir, AutoCreateTopics: true, GroupInitialRebalanceDelay: 100 * time.Millisecond},
	}
	for _, o := range opts {
		o(&cfg)
	}
	ready := make(chan net.Addr, 1)
	readyAll := make(chan map[string]net.Addr, 1)
	cfg.Ready = func(a net.Addr) { ready <- a }
	cfg.ReadyListeners = func(m map[string]net.Addr) { readyAll <- m }
	ctx, cancel := context.WithCancel(context.Background())
	b := &Broker{DataDir: dataDir, cancel: cancel, done: make(chan error, 1)}
	go func() { b.done <- run.Broker(ctx, cfg) }()
	select {
	case a := <-ready:
		b.Addr = a.String()
		b.Addrs = make(map[string]string)
		for name, a := range <-readyAll {
			b.Addrs[name] = a.String()
		}
	case err := <-b.done:
		cancel()
		t.Fatalf("broker did not start: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("broker did not start within 30s")
	}
	t.Cleanup(func() { b.Stop(t) })
	return b
}

// Stop shuts the broker down cleanly and waits for it; it is safe to call
// more than once.
func (b *Broker) Stop(t testing.TB) {
	if b.cancel == nil {
		return
	}
	b.cancel()
	b.cancel = nil
	select {
	case err := <-b.done:
		if err != nil {
			t.Errorf("broker shutdown: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("broker did not stop within 30s")
	}
}

// Listener adds a listener of protocol proto (SSL, SASL_PLAINTEXT,
// SASL_SSL) on a free loopback port beside the PLAINTEXT one, which stays
// Addr; Addrs[proto] is its address. TLS listeners also need the run
// config's TLS files, SASL ones users in the broker's store.
func Listener(proto string) Option {
	return func(c *run.Config) {
		if len(c.Listeners) == 0 {
			c.Listeners = []run.Listener{{Name: "PLAINTEXT", Addr: c.Addr}}
		}
		c.Listeners = append(c.Listeners, run.Listener{Name: proto, Addr: "127.0.0.1:0"})
	}
}
