package scale

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/brokerproc"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// topicCount is how many single-partition topics the test creates
// (COURIER_SCALE_TOPICS overrides it).
func topicCount() int {
	if n, err := strconv.Atoi(os.Getenv("COURIER_SCALE_TOPICS")); err == nil && n > 0 {
		return n
	}
	return 10000
}

// TestManyTopics creates 10,000 single-partition topics in requests of 100
// (as a tool or a Terraform run would, several per request), restarts the
// broker, and checks every topic is there and takes a record. The targets
// are 10 s to create and 2 s to start again on this project's 2-core
// machines; the test fails only at three times those (a CI machine may be
// slower), which still catches a return to quadratic costs (2,000 topics
// once took 11 s, 10,000 took 207 s).
func TestManyTopics(t *testing.T) {
	n := topicCount()
	b := brokerproc.StartT(t, courierBin, t.TempDir(), brokerproc.Args("--max-partitions", strconv.Itoa(n+10)))
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr()), kgo.RequestTimeoutOverhead(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	start := time.Now()
	const perRequest = 100
	for i := 0; i < n; i += perRequest {
		var names []string
		for j := i; j < min(i+perRequest, n); j++ {
			names = append(names, fmt.Sprintf("scale-%05d", j))
		}
		resp, err := adm.CreateTopics(ctx, 1, 1, nil, names...)
		if err != nil {
			t.Fatal(err)
		}
		if err := resp.Error(); err != nil {
			t.Fatal(err)
		}
	}
	created := time.Since(start)
	t.Logf("created %d topics in %v (%.0f topics/s)", n, created.Round(time.Millisecond), float64(n)/created.Seconds())

	// A clean stop must fit brokerproc's 15 s before SIGKILL (it once
	// took that long: three fsyncs per partition).
	start = time.Now()
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	t.Logf("stopped with %d topics in %v", n, time.Since(start).Round(time.Millisecond))
	start = time.Now()
	if err := b.Restart(); err != nil {
		t.Fatal(err)
	}
	restarted := time.Since(start)
	t.Logf("restarted with %d topics in %v", n, restarted.Round(time.Millisecond))

	td, err := adm.ListTopics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(td) != n {
		t.Fatalf("%d topics after restart, want %d", len(td), n)
	}
	last := fmt.Sprintf("scale-%05d", n-1)
	if err := cl.ProduceSync(ctx, &kgo.Record{Topic: last, Value: []byte("x")}).FirstErr(); err != nil {
		t.Fatalf("produce to %s after restart: %v", last, err)
	}
	dirs, _ := filepath.Glob(filepath.Join(b.DataDir(), "logs", "scale-*"))
	if len(dirs) != n {
		t.Fatalf("%d partition directories, want %d", len(dirs), n)
	}
	scale := float64(n) / 10000
	if limit := time.Duration(30 * scale * float64(time.Second)); created > limit {
		t.Errorf("creating %d topics took %v, over %v", n, created, limit)
	}
	if limit := time.Duration(max(6*scale, 1) * float64(time.Second)); restarted > limit {
		t.Errorf("restarting with %d topics took %v, over %v", n, restarted, limit)
	}
}
