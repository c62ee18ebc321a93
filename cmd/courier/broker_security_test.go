package main

import (
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/run"
)

// TestMemoryFlagsRefused: each memory bound refuses values that could not
// serve a request, with the flag's name, and "no limit" only where allowed.
func TestMemoryFlagsRefused(t *testing.T) {
	valid := func() run.Config {
		var c run.Config
		c.Limits.MaxQueuedRequestBytes = 512 << 20
		c.Limits.SASLMaxReceiveBytes = 512 << 10
		c.Limits.WriteTimeout = time.Second
		c.Broker.FetchMaxBytes = 55 << 20
		c.Broker.FetchMemoryBytes = 256 << 20
		return c
	}
	c := valid()
	if err := memoryFlags(&c); err != nil {
		t.Fatalf("defaults refused: %v", err)
	}
	c.Limits.MaxQueuedRequestBytes, c.Broker.FetchMemoryBytes = -1, -1
	if err := memoryFlags(&c); err != nil {
		t.Fatalf("-1 (no limit) refused: %v", err)
	}
	tests := []struct {
		flag string
		set  func(*run.Config)
	}{
		{"--max-queued-request-bytes", func(c *run.Config) { c.Limits.MaxQueuedRequestBytes = 1000 }},
		{"--sasl-max-receive-size", func(c *run.Config) { c.Limits.SASLMaxReceiveBytes = -1 }},
		{"--fetch-max-bytes", func(c *run.Config) { c.Broker.FetchMaxBytes = 0 }},
		{"--fetch-memory-bytes", func(c *run.Config) { c.Broker.FetchMemoryBytes = -5 }},
		{"--response-write-timeout", func(c *run.Config) { c.Limits.WriteTimeout = 0 }},
	}
	for _, tc := range tests {
		c := valid()
		tc.set(&c)
		if err := memoryFlags(&c); err == nil || !strings.Contains(err.Error(), tc.flag) {
			t.Errorf("%s: got %v", tc.flag, err)
		}
	}
}

// TestClientAuthFlag: --tls-client-auth takes Kafka's three modes and
// refuses anything else before the broker starts.
func TestClientAuthFlag(t *testing.T) {
	cmd := newBrokerCommand()
	if err := cmd.Flags().Set("tls-client-auth", "Requested"); err != nil {
		t.Fatalf("requested refused: %v", err)
	}
	if f := cmd.Flags().Lookup("tls-client-auth"); f.Value.String() != string(run.ClientAuthRequested) {
		t.Fatalf("flag holds %q", f.Value.String())
	}
	if err := cmd.Flags().Set("tls-client-auth", "want"); err == nil || !strings.Contains(err.Error(), "none, requested or required") {
		t.Fatalf("a bad mode: %v", err)
	}
}
