package run_test

// security_test.go runs the broker with TLS, SASL and quota settings and
// talks to it with franz-go.

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/run"
	"github.com/courier-dev/courier/internal/broker/users"
	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testcerts"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

func TestParseListener(t *testing.T) {
	l, err := run.ParseListener("sasl_ssl://0.0.0.0:9093")
	if err != nil || l.Name != "SASL_SSL" || l.Addr != "0.0.0.0:9093" {
		t.Fatalf("%+v %v", l, err)
	}
	for _, bad := range []string{"127.0.0.1:9092", "HTTP://127.0.0.1:1", "SSL://nohost", "SSL://"} {
		if _, err := run.ParseListener(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	if err := run.ValidateListeners([]run.Listener{{Name: "SSL", Addr: ":1"}, {Name: "SSL", Addr: ":2"}}); err == nil {
		t.Error("duplicate listeners accepted")
	}
}

func TestTLSListenerNeedsCertificate(t *testing.T) {
	err := run.Broker(context.Background(), run.Config{
		Listeners: []run.Listener{{Name: "SSL", Addr: "127.0.0.1:0"}},
	})
	if err == nil || !strings.Contains(err.Error(), "--tls-cert") {
		t.Fatalf("want a --tls-cert error, got %v", err)
	}
}

// roundTrip produces n records to topic through cl and consumes them back.
func roundTrip(t *testing.T, opts []kgo.Opt, topic string, n int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p, err := kgo.NewClient(append(opts, kgo.AllowAutoTopicCreation(), kgo.ClientID("roundtrip"))...)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	for i := range n {
		if err := p.ProduceSync(ctx, &kgo.Record{Topic: topic, Value: []byte{byte(i)}}).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
	}
	c, err := kgo.NewClient(append(opts, kgo.ConsumeTopics(topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))...)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := 0
	for got < n {
		fs := c.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("consume: %v", err)
		}
		got += fs.NumRecords()
	}
}

func TestAdvertisedListeners(t *testing.T) {
	b := testbroker.Start(t, testbroker.Listener("SASL_PLAINTEXT"), func(c *run.Config) {
		c.AdvertisedListeners = map[string]string{"SASL_PLAINTEXT": "broker.example:19093"}
		c.AdvertisedAddr = ""
	})
	// The PLAINTEXT listener advertises where it was reached.
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	bad := run.Config{AdvertisedListeners: map[string]string{"SSL": "x:1"}, Addr: "127.0.0.1:0"}
	if err := run.Broker(ctx, bad); err == nil {
		t.Fatal("advertised listener without a listener accepted")
	}
}

func TestSCRAMOverSASLSSL(t *testing.T) {
	dir := t.TempDir()
	certs, err := testcerts.New(dir)
	if err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	store, err := users.Open(filepath.Join(data, "meta"), nil)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := users.NewCredential(users.ScramSHA512, "alice-secret", 4096)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Set("alice", cred); err != nil {
		t.Fatal(err)
	}
	b := testbroker.StartAt(t, data, testbroker.Listener("SASL_SSL"), func(c *run.Config) {
		c.TLS = run.TLSConfig{CertFile: certs.ServerCert, KeyFile: certs.ServerKey}
		c.SASLReauthInterval = time.Minute
	})
	tlsCfg, _ := certs.ClientTLS("", "")
	opts := func(pass string) []kgo.Opt {
		return []kgo.Opt{kgo.SeedBrokers(b.Addrs["SASL_SSL"]), kgo.DialTLSConfig(tlsCfg),
			kgo.SASL(scram.Auth{User: "alice", Pass: pass}.AsSha512Mechanism())}
	}
	roundTrip(t, opts("alice-secret"), "scram", 20)

	cl, err := kgo.NewClient(append(opts("wrong"), kgo.RequestRetries(0))...)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := cl.Ping(ctx); err == nil || !strings.Contains(err.Error(), "SASL_AUTHENTICATION_FAILED") {
		t.Fatalf("wrong password: %v", err)
	}
}

// throttleHook counts throttles franz-go reports.
type throttleHook struct{ n atomic.Int64 }

func (h *throttleHook) OnBrokerThrottle(_ kgo.BrokerMetadata, d time.Duration, _ bool) {
	if d > 0 {
		h.n.Add(1)
	}
}

func TestProduceQuota(t *testing.T) {
	const quota = 200 << 10 // bytes/s
	b := testbroker.Start(t, func(c *run.Config) {
		c.Quota.ProduceBytesPerSec = quota
		c.Quota.SampleWindow = 100 * time.Millisecond // an 1.1 s window keeps the test short
	})
	// rate produces as fast as the client lets it for d and returns the
	// acknowledged bytes per second after the window's initial allowance.
	rate := func(clientID string, hook *throttleHook, d time.Duration) float64 {
		cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.ClientID(clientID), kgo.WithHooks(hook),
			kgo.AllowAutoTopicCreation(), kgo.ProducerLinger(0), kgo.ProducerBatchCompression(kgo.NoCompression()),
			kgo.ProducerBatchMaxBytes(32<<10), kgo.MaxBufferedRecords(64))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		ctx, cancel := context.WithTimeout(context.Background(), d)
		defer cancel()
		value := make([]byte, 4<<10)
		rand.Read(value) // incompressible
		var acked atomic.Int64
		var wg sync.WaitGroup
		measureFrom, measureTo := time.Now().Add(d/3), time.Now().Add(d)
		for ctx.Err() == nil {
			wg.Add(1)
			cl.Produce(ctx, &kgo.Record{Topic: "quota-" + clientID, Value: value}, func(r *kgo.Record, err error) {
				defer wg.Done()
				if now := time.Now(); err == nil && now.After(measureFrom) && now.Before(measureTo) {
					acked.Add(int64(len(r.Value)))
				}
			})
		}
		wg.Wait()
		return float64(acked.Load()) / measureTo.Sub(measureFrom).Seconds()
	}
	var greedy throttleHook
	got := rate("greedy", &greedy, 6*time.Second)
	t.Logf("greedy producer: %.0f B/s against a quota of %d B/s, %d throttled responses", got, quota, greedy.n.Load())
	if greedy.n.Load() == 0 {
		t.Fatal("never throttled")
	}
	if got > 1.3*quota || got < 0.7*quota {
		t.Fatalf("achieved %.0f B/s, want near %d", got, quota)
	}
	// Another client id starts with its own allowance.
	var other throttleHook
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.ClientID("polite"), kgo.WithHooks(&other), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for range 5 {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "quota-polite", Value: make([]byte, 1000)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
	if other.n.Load() != 0 {
		t.Fatalf("polite client throttled %d times", other.n.Load())
	}
}
