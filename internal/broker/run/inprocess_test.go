package run_test

// inprocess_test.go tests Config.Embed: the in-process connections a
// component inside the broker's process gets (users' sessions on a SASL
// listener or anonymous, the service identity a super user no client can
// be), and that the broker waits for the component and stops on its error.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker"
	"github.com/courier-dev/courier/internal/broker/run"
	"github.com/courier-dev/courier/internal/broker/users"
	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// dialOpt makes a kgo client dial through an in-process dial function.
func dialOpt(dial func(context.Context) (net.Conn, error)) kgo.Opt {
	return kgo.Dialer(func(ctx context.Context, _, _ string) (net.Conn, error) { return dial(ctx) })
}

// embedRun runs check inside the broker once it serves and returns its
// error after the broker stopped.
func embedRun(t *testing.T, dataDir string, opts []testbroker.Option, check func(ctx context.Context, ip run.InProcess) error) {
	t.Helper()
	result := make(chan error, 1)
	stopped := make(chan struct{})
	opts = append(opts, func(c *run.Config) {
		c.Embed = func(ctx context.Context, ip run.InProcess) error {
			result <- check(ctx, ip)
			<-ctx.Done()
			close(stopped)
			return nil
		}
	})
	b := testbroker.StartAt(t, dataDir, opts...)
	var err error
	select {
	case err = <-result:
	case <-time.After(30 * time.Second):
		t.Fatal("the embedded check did not finish")
	}
	b.Stop(t)
	select {
	case <-stopped:
	default:
		t.Fatal("the broker stopped without waiting for the embedded component")
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestEmbedInProcessSASL: on a broker with SASL listeners, users'
// in-process connections authenticate as the user (whose ACLs then apply),
// and the service connections are Internal:console, a super user, listed
// in super.users.
func TestEmbedInProcessSASL(t *testing.T) {
	data := t.TempDir()
	store, err := users.Open(filepath.Join(data, "meta"), nil)
	if err != nil {
		t.Fatal(err)
	}
	cred, err := users.NewCredential(users.ScramSHA256, "alice-secret", 4096)
	if err != nil {
		t.Fatal(err)
	}
	if err := store.Set("alice", cred); err != nil {
		t.Fatal(err)
	}
	opts := []testbroker.Option{testbroker.Listener("SASL_PLAINTEXT"), func(c *run.Config) {
		c.Broker.AuthorizerEnabled = true
		c.Broker.SuperUsers = []string{"User:admin"}
	}}
	embedRun(t, data, opts, func(ctx context.Context, ip run.InProcess) error {
		ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if len(ip.SASLMechanisms) == 0 || ip.Listeners["SASL_PLAINTEXT"] == "" || ip.Metrics == nil {
			return errors.New("in-process access without mechanisms, listeners or metrics")
		}
		seed := kgo.SeedBrokers(ip.Listeners["PLAINTEXT"])
		svc, err := kgo.NewClient(seed, dialOpt(ip.DialService))
		if err != nil {
			return err
		}
		defer svc.Close()
		sadm := kadm.NewClient(svc)
		if _, err := sadm.CreateTopic(ctx, 1, 1, nil, "made-by-service"); err != nil {
			return errors.New("the service identity could not create a topic: " + err.Error())
		}
		meta, err := sadm.BrokerMetadata(ctx)
		if err != nil || len(meta.Brokers) == 0 {
			return errors.New("broker metadata: " + errString(err))
		}
		bc, err := sadm.DescribeBrokerConfigs(ctx, meta.Brokers[0].NodeID)
		if err != nil {
			return err
		}
		found := false
		for _, rc := range bc {
			for _, c := range rc.Configs {
				if c.Key == "super.users" && c.Value != nil && strings.Contains(*c.Value, run.ServicePrincipal.String()) {
					found = true
				}
			}
		}
		if !found {
			return errors.New("super.users does not show " + run.ServicePrincipal.String())
		}
		user, err := kgo.NewClient(seed, dialOpt(ip.DialUser), kgo.SASL(scram.Auth{User: "alice", Pass: "alice-secret"}.AsSha256Mechanism()))
		if err != nil {
			return err
		}
		defer user.Close()
		uadm := kadm.NewClient(user)
		// The broker advertises to in-process users what it advertises to
		// the SASL listener's clients.
		umeta, err := uadm.BrokerMetadata(ctx)
		if err != nil || len(umeta.Brokers) != 1 {
			return errors.New("alice's broker metadata: " + errString(err))
		}
		if got := net.JoinHostPort(umeta.Brokers[0].Host, fmt.Sprint(umeta.Brokers[0].Port)); got != ip.Listeners["SASL_PLAINTEXT"] {
			return errors.New("in-process users are told the broker is at " + got + ", not the SASL listener's " + ip.Listeners["SASL_PLAINTEXT"])
		}
		topics, err := uadm.ListTopics(ctx)
		if err != nil {
			return errors.New("alice could not list topics: " + err.Error())
		}
		if len(topics.Names()) != 0 {
			return errors.New("alice, without ACLs, sees topics " + strings.Join(topics.Names(), ","))
		}
		if _, err := uadm.CreateTopic(ctx, 1, 1, nil, "made-by-alice"); !errors.Is(err, kerr.TopicAuthorizationFailed) {
			return errors.New("alice's create topic: want TOPIC_AUTHORIZATION_FAILED, got " + errString(err))
		}
		bad, err := kgo.NewClient(seed, dialOpt(ip.DialUser), kgo.SASL(scram.Auth{User: "alice", Pass: "wrong"}.AsSha256Mechanism()))
		if err != nil {
			return err
		}
		defer bad.Close()
		if err := bad.Ping(ctx); !errors.Is(err, kerr.SaslAuthenticationFailed) {
			return errors.New("a wrong password: want SASL_AUTHENTICATION_FAILED, got " + errString(err))
		}
		return nil
	})
}

// TestEmbedInProcessAnonymous: without SASL listeners, users' in-process
// connections are anonymous (the ACLs of User:ANONYMOUS apply) and no
// mechanisms are offered.
func TestEmbedInProcessAnonymous(t *testing.T) {
	opts := []testbroker.Option{func(c *run.Config) { c.Broker.AuthorizerEnabled = true }}
	embedRun(t, t.TempDir(), opts, func(ctx context.Context, ip run.InProcess) error {
		ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		if ip.SASLMechanisms != nil {
			return errors.New("mechanisms offered without SASL listeners")
		}
		cl, err := kgo.NewClient(kgo.SeedBrokers(ip.Listeners["PLAINTEXT"]), dialOpt(ip.DialUser))
		if err != nil {
			return err
		}
		defer cl.Close()
		if _, err := kadm.NewClient(cl).CreateTopic(ctx, 1, 1, nil, "anon"); !errors.Is(err, kerr.TopicAuthorizationFailed) {
			return errors.New("anonymous create topic without ACLs: want TOPIC_AUTHORIZATION_FAILED, got " + errString(err))
		}
		return nil
	})
}

// TestEmbedErrorStopsBroker: an embedded component that fails stops the
// broker with its error.
func TestEmbedErrorStopsBroker(t *testing.T) {
	boom := errors.New("console: boom")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := run.Broker(ctx, run.Config{
		Addr:   "127.0.0.1:0",
		Broker: broker.Config{DataDir: t.TempDir()},
		Embed:  func(context.Context, run.InProcess) error { return boom },
	})
	if !errors.Is(err, boom) {
		t.Fatalf("broker returned %v, want the component's error", err)
	}
}

func errString(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}
