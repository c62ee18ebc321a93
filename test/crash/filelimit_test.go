package crash

// filelimit_test.go: one client must not be able to make the broker unable
// to start again. Each partition keeps its active segment file open, so a
// topic wider than the open-file limit allows is refused before anything
// is created; and when a creation does fail on the limit (the operator
// raised --max-partitions past it), it leaves nothing behind.

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/brokerproc"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// admin returns an admin client of b, closed with the test.
func admin(t *testing.T, b *brokerproc.Broker) (*kadm.Client, *kgo.Client) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl), cl
}

// noTrace checks that a refused topic left no metadata and no directory.
func noTrace(t *testing.T, adm *kadm.Client, dataDir, topic string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	td, err := adm.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if td.Has(topic) {
		t.Fatalf("refused topic %s is listed", topic)
	}
	if m, _ := filepath.Glob(filepath.Join(dataDir, "logs", topic+"-*")); len(m) > 0 {
		t.Fatalf("refused topic %s left %d directories", topic, len(m))
	}
}

func TestFileLimitNeverStopsARestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	t.Run("refused before anything is created", func(t *testing.T) {
		dir := t.TempDir()
		b := brokerproc.StartT(t, courierBin, dir, brokerproc.FileLimit(300))
		adm, _ := admin(t, b)
		resp, _ := adm.CreateTopic(ctx, 400, 1, nil, "wide")
		if !errors.Is(resp.Err, kerr.PolicyViolation) {
			t.Fatalf("400 partitions under ulimit -n 300: %v %s, want POLICY_VIOLATION", resp.Err, resp.ErrMessage)
		}
		noTrace(t, adm, dir, "wide")
		if resp, err := adm.CreateTopic(ctx, 100, 1, nil, "fits"); err != nil || resp.Err != nil {
			t.Fatalf("100 partitions: %v %v", err, resp.Err)
		}
		if err := b.Stop(); err != nil {
			t.Fatal(err)
		}
		if err := b.Restart(); err != nil {
			t.Fatalf("restart under the same limit: %v", err)
		}
	})

	t.Run("a creation failing on the limit leaves nothing", func(t *testing.T) {
		dir := t.TempDir()
		b := brokerproc.StartT(t, courierBin, dir, brokerproc.FileLimit(300), brokerproc.Args("--max-partitions", "100000"))
		adm, cl := admin(t, b)
		if resp, err := adm.CreateTopic(ctx, 4, 1, nil, "live"); err != nil || resp.Err != nil {
			t.Fatalf("create live: %v %v", err, resp.Err)
		}
		resp, _ := adm.CreateTopic(ctx, 400, 1, nil, "wide")
		if resp.Err == nil {
			t.Fatal("400 partitions under ulimit -n 300 were created")
		}
		noTrace(t, adm, dir, "wide")
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "live", Value: []byte("still works")}).FirstErr(); err != nil {
			t.Fatalf("produce after the failed creation: %v", err)
		}
		if err := b.Stop(); err != nil {
			t.Fatal(err)
		}
		if err := b.Restart(); err != nil {
			t.Fatalf("restart after a creation failed on the file limit: %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, "logs", "live-3")); err != nil {
			t.Fatal(err)
		}
	})
}
