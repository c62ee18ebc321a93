package crash

// compact_kill_test.go SIGKILLs the broker again and again while its log
// cleaner compacts a topic under a keyed, idempotent acks=all producer, and
// checks that nothing acknowledged is lost (the newest acknowledged record
// of every key is read back, where it was acknowledged), that offsets only
// grow, and that below the cleaner's checkpoint no key appears twice.

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/brokerproc"
	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	// compactKills is how many times the broker is killed while it cleans.
	compactKills = 20
	// compactKeys is the key space: value n has key n % compactKeys.
	compactKeys = 40
)

func TestKillDuringCompaction(t *testing.T) {
	seed := crashSeed(t)
	t.Logf("seed %d (set COURIER_CRASH_SEED to replay the kill timings)", seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x51ed27))

	// The throttle stretches each cleaning so that kills land inside them;
	// the broker's log says how many did.
	var out lockedBuffer
	b := brokerproc.StartT(t, courierBin, t.TempDir(), brokerproc.Output(&out),
		brokerproc.Args("--cleaner-backoff", "20ms", "--cleaner-io-max-bytes-per-second", "1000000"))
	const topic = "compact-crash"
	s := func(v string) *string { return &v }
	testclient.CreateTopic(t, b.Addr(), topic, 1, map[string]*string{
		"cleanup.policy":         s("compact"),
		"internal.segment.bytes": s("2048"),
	})
	cl := testclient.New(t, b.Addr(),
		kgo.DefaultProduceTopic(topic),
		kgo.RecordDeliveryTimeout(deliveryTimeout),
		kgo.RetryTimeout(deliveryTimeout),
		kgo.ProduceRequestTimeout(5*time.Second),
		kgo.RetryBackoffFn(func(int) time.Duration { return 50 * time.Millisecond }),
		kgo.MaxBufferedRecords(500),
		kgo.MetadataMinAge(100*time.Millisecond),
	)
	closeOnce := sync.OnceFunc(cl.Close)
	defer closeOnce()

	var (
		mu       sync.Mutex
		acked    []ack
		failed   []error
		produced atomic.Int64
		stop     atomic.Bool
	)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		for n := 1; n <= maxRecords && !stop.Load() && ctx.Err() == nil; n++ {
			r := &kgo.Record{Key: []byte(compactKey(n)), Value: []byte(value(n))}
			cl.Produce(ctx, r, func(r *kgo.Record, err error) {
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					failed = append(failed, fmt.Errorf("value %s: %w", r.Value, err))
					return
				}
				acked = append(acked, ack{r.Partition, r.Offset, string(r.Value)})
			})
			produced.Store(int64(n))
			if n%10 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}()
	ackedCount := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(acked)
	}

	time.Sleep(300 * time.Millisecond)
	for i := range compactKills {
		time.Sleep(time.Duration(50+rng.IntN(250)) * time.Millisecond)
		if err := b.Kill(); err != nil {
			t.Fatalf("kill %d: %v", i+1, err)
		}
		if err := b.Restart(); err != nil {
			t.Fatalf("restart after kill %d: %v", i+1, err)
		}
	}
	afterLastKill := ackedCount()
	deadline := time.Now().Add(10 * time.Second)
	for ackedCount() < afterLastKill+200 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	stop.Store(true)
	<-done
	fctx, fcancel := context.WithTimeout(context.Background(), flushTimeout)
	defer fcancel()
	if err := cl.Flush(fctx); err != nil {
		t.Fatalf("flush: %v", err)
	}
	closeOnce()
	mu.Lock()
	defer mu.Unlock()
	for i, err := range failed {
		if i == 5 {
			break
		}
		t.Errorf("record failed: %v", err)
	}
	runs := cleanerRuns(t, b.HTTPAddr())
	logs := out.String()
	t.Logf("produced %d records, %d acknowledged, %d failed; %d cleanings since the last restart; %d kills interrupted a cleaning's write, %d its swap",
		produced.Load(), len(acked), len(failed), runs, strings.Count(logs, ".log.cleaned.tmp"), strings.Count(logs, "finished a cleaner swap"))

	if err := b.Stop(); err != nil {
		t.Fatalf("clean stop: %v", err)
	}
	checkpoint := cleanerCheckpoint(t, filepath.Join(b.DataDir(), "logs", topic+"-0"))
	if err := b.Restart(); err != nil {
		t.Fatalf("clean restart: %v", err)
	}
	got := consumeAll(t, b.Addr(), topic)[0]
	checkCompacted(t, got, acked, checkpoint)
}

// compactKey is value n's key.
func compactKey(n int) string { return "key-" + strconv.Itoa(n%compactKeys) }

// checkCompacted checks a compacted partition read back against the
// acknowledgements.
func checkCompacted(t *testing.T, got []*kgo.Record, acked []ack, checkpoint int64) {
	t.Helper()
	newest := map[string]ack{} // key -> newest acknowledged record
	byValue := map[string]ack{}
	for _, a := range acked {
		n, _ := strconv.Atoi(a.value)
		k := compactKey(n)
		if a.offset > newest[k].offset || newest[k].value == "" {
			newest[k] = a
		}
		byValue[a.value] = a
	}
	prev := int64(-1)
	seen := map[string]int64{}
	below := map[string]bool{}
	for _, r := range got {
		if r.Offset <= prev {
			t.Fatalf("offset %d after %d", r.Offset, prev)
		}
		prev = r.Offset
		n, err := strconv.Atoi(string(r.Value))
		if err != nil || string(r.Key) != compactKey(n) {
			t.Fatalf("offset %d: key %q value %q was never produced", r.Offset, r.Key, r.Value)
		}
		if a, ok := byValue[string(r.Value)]; ok && a.offset != r.Offset {
			t.Fatalf("value %s acknowledged at offset %d, read at %d", r.Value, a.offset, r.Offset)
		}
		if r.Offset < checkpoint {
			if below[string(r.Key)] {
				t.Fatalf("key %s appears twice below the clean point %d", r.Key, checkpoint)
			}
			below[string(r.Key)] = true
		}
		seen[string(r.Value)] = r.Offset
	}
	for k, a := range newest {
		if off, ok := seen[a.value]; !ok || off != a.offset {
			t.Fatalf("newest acknowledged record of %s (value %s, offset %d) not read back", k, a.value, a.offset)
		}
	}
	if checkpoint <= 0 || len(got) >= len(acked) {
		t.Fatalf("nothing was compacted: clean point %d, %d records read of %d acknowledged", checkpoint, len(got), len(acked))
	}
	t.Logf("read back %d records of %d acknowledged; clean point %d", len(got), len(acked), checkpoint)
}

// cleanerCheckpoint reads a partition's cleaner checkpoint (0 if none).
func cleanerCheckpoint(t *testing.T, dir string) int64 {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "cleaner-offset-checkpoint"))
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	v, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil {
		t.Fatalf("cleaner checkpoint %q: %v", b, err)
	}
	return v
}

// cleanerRuns reads courier_cleaner_runs_total from /metrics.
func cleanerRuns(t *testing.T, httpAddr string) int {
	t.Helper()
	resp, err := http.Get("http://" + httpAddr + "/metrics")
	if err != nil {
		t.Fatalf("metrics: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^courier_cleaner_runs_total (\d+)`).FindSubmatch(body)
	if m == nil {
		t.Fatalf("no courier_cleaner_runs_total in /metrics")
	}
	n, _ := strconv.Atoi(string(m[1]))
	return n
}

// lockedBuffer collects the broker's output across restarts.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
