package crash

// compact_kill_test.go SIGKILLs the broker again and again while its log
// cleaner compacts a topic under a keyed, idempotent acks=all producer, and
// checks that nothing acknowledged is lost (the newest acknowledged record
// of every key is read back, where it was acknowledged), that offsets only
// grow, and that below the cleaner's checkpoint no key appears twice.

import (
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/brokerproc"
	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/courier-dev/courier/internal/testkit/testlog"
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
	var out testlog.Buffer
	b := brokerproc.StartT(t, courierBin, t.TempDir(), brokerproc.Output(&out),
		brokerproc.Args("--cleaner-backoff", "20ms", "--cleaner-io-max-bytes-per-second", "1000000"))
	const topic = "compact-crash"
	s := func(v string) *string { return &v }
	testclient.CreateTopic(t, b.Addr(), topic, 1, map[string]*string{
		"cleanup.policy":         s("compact"),
		"internal.segment.bytes": s("2048"),
	})
	p := startCrashProducer(t, b.Addr(), topic, 500, func(n int) *kgo.Record {
		return &kgo.Record{Key: []byte(compactKey(n)), Value: []byte(value(n))}
	})
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
	acked := p.finish(t, 200)
	runs := cleanerRuns(t, b.HTTPAddr())
	logs := out.String()
	t.Logf("%d cleanings since the last restart; %d kills interrupted a cleaning's write, %d its swap",
		runs, strings.Count(logs, ".log.cleaned.tmp"), strings.Count(logs, "finished a cleaner swap"))

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
