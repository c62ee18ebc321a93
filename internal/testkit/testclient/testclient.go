// Package testclient makes the franz-go clients tests use against a broker
// at an address (in-process with testbroker, or the real binary with
// brokerproc): a client closed when the test ends, and topic creation that
// fails the test with the reason.
package testclient

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// CreateTimeout bounds one CreateTopic, retries included.
const CreateTimeout = 30 * time.Second

// New returns a client seeded with addr and configured by opts. It is
// closed when the test ends; a test that closes it earlier (to stop a
// group member, say) may: closing twice is harmless.
func New(t testing.TB, addr string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr)}, opts...)...)
	if err != nil {
		t.Fatalf("new client for %s: %v", addr, err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// CreateTopic creates topic with the given partitions and configs (nil:
// the defaults) through the admin API, one replica, and fails the test if
// that does not succeed within CreateTimeout. Its client is closed before
// it returns. opts adjust the client (a retry timeout across restarts,
// security settings).
func CreateTopic(t testing.TB, addr, topic string, partitions int32, configs map[string]*string, opts ...kgo.Opt) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), CreateTimeout)
	defer cancel()
	cl := New(t, addr, opts...)
	defer cl.Close()
	resp, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, 1, configs, topic)
	if err == nil {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("create topic %s (%d partitions): %v", topic, partitions, err)
	}
}
