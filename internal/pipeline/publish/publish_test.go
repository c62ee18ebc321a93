package publish

import (
	"context"
	"net"
	"strconv"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/region"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// freePort returns a loopback port nothing listens on (now).
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestNewWaitsForCluster starts a publisher before its cluster, as a
// script starting `courier broker &` and `courier gateway &` one after the
// other does: with OnUnreachable it waits, reports, and succeeds once the
// cluster is up.
func TestNewWaitsForCluster(t *testing.T) {
	port := freePort(t)
	addr := "127.0.0.1:" + strconv.Itoa(port)
	reported := make(chan error, 10)
	cfg := Config{
		ClientOpts:  []kgo.Opt{kgo.SeedBrokers(addr), kgo.RetryTimeout(time.Second)},
		City:        region.Bengaluru,
		CreateTopic: true,
		OnUnreachable: func(_ time.Duration, err error) {
			select {
			case reported <- err:
			default:
			}
		},
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	type result struct {
		p   *Publisher
		err error
	}
	done := make(chan result, 1)
	go func() {
		p, err := New(ctx, cfg)
		done <- result{p, err}
	}()
	select {
	case err := <-reported:
		if !Unreachable(err) {
			t.Errorf("reported %v, not an unreachable cluster", err)
		}
	case r := <-done:
		t.Fatalf("New returned before the cluster was up: %v", r.err)
	case <-ctx.Done():
		t.Fatal("no report within a minute")
	}
	c, err := kfake.NewCluster(kfake.Ports(port))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := <-done
	if r.err != nil {
		t.Fatalf("New after the cluster came up: %v", r.err)
	}
	r.p.Close()

	// Without OnUnreachable it fails at once.
	c.Close()
	cfg.OnUnreachable = nil
	start := time.Now()
	if p, err := New(ctx, cfg); err == nil || !Unreachable(err) {
		if p != nil {
			p.Close()
		}
		t.Fatalf("New without a cluster: %v, want an unreachable error", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Errorf("New without OnUnreachable took %v to fail", d)
	}
}
