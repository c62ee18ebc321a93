package chaos

// chaos_test.go is the chaos test itself: it sets up the tmpfs and the
// broker, starts the load, carries out the faults, stops everything, and
// runs the checks on a cleanly restarted broker.

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/brokerproc"
	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	// tmpfsSize is the size of the test's filesystem: small, so that a
	// filler fills it in a moment.
	tmpfsSize = 64 << 20
	// mainPartitions is the partition count of each main topic.
	mainPartitions = 2
	// produceInterval paces the main producer: one record per main topic
	// per tick, 600 records a second, slower for runs so long that
	// maxRecords would end production early.
	produceInterval = 5 * time.Millisecond
	// maxRecords bounds what the main producer writes (about 15 MiB on
	// disk, a quarter of the tmpfs), whatever the duration.
	maxRecords = 150_000
	// maxRSS bounds the broker's resident memory at every scrape.
	maxRSS = 256 << 20
)

// mainTopics are the produced and consumed topics; their segments are
// small so that rolls happen under every fault.
var mainTopics = []string{"chaos-a", "chaos-b", "chaos-c"}

func TestChaos(t *testing.T) {
	set := readSettings(t)
	t.Logf("seed %d, duration %v (set COURIER_CHAOS_SEED to replay the schedule of faults, COURIER_CHAOS_DURATION to change its length)", set.seed, set.duration)

	root := t.TempDir()
	if err := mountTmpfs(root, tmpfsSize); err != nil {
		if set.require {
			t.Fatalf("%v (COURIER_REQUIRE_CHAOS=1: the chaos test must run)", err)
		}
		t.Skipf("the chaos test needs a tmpfs of its own: %v", err)
	}
	t.Cleanup(func() {
		if err := unmountTmpfs(root); err != nil {
			t.Error(err)
		}
	})
	dataDir := filepath.Join(root, "data")
	blog := newBrokerLog()
	b, err := brokerproc.Start(courierBin, dataDir,
		brokerproc.Fsync("always"),
		brokerproc.Args("--auto-create-topics=false", "--group-initial-rebalance-delay=100ms"),
		brokerproc.Output(blog),
		brokerproc.ReadyTimeout(60*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	// Cleanups run last first: the load stops, then the broker, then the
	// tmpfs is unmounted.
	t.Cleanup(func() {
		if err := b.Stop(); err != nil {
			t.Errorf("stop the broker: %v", err)
		}
		if t.Failed() {
			t.Logf("broker log (tail):\n%s", blog.String())
		}
	})
	addr := b.Addr()

	wantTopics := map[string]int32{probeTopic: 1}
	for _, topic := range mainTopics {
		wantTopics[topic] = mainPartitions
	}
	createTopics(t, addr, wantTopics)

	led := newLedger()
	probeCl, err := kgo.NewClient(producerOpts(addr)...)
	if err != nil {
		t.Fatal(err)
	}
	defer probeCl.Close()
	f := &faults{t: t, b: b, root: root, size: tmpfsSize, led: led, probeCl: probeCl,
		modes: map[string]int{}, startup: totals{}, runtime: totals{}}

	mem := startMemWatch(b.HTTPAddr())
	t.Cleanup(func() { mem.finish() })
	// stopLoad stops whatever load runs: at the end, or in a cleanup after
	// a t.Fatal.
	var (
		prod    *producer
		members []*member
		ch      *churn
		stopped bool
	)
	stopLoad := func() {
		if stopped {
			return
		}
		stopped = true
		if ch != nil {
			if err := ch.stop(30 * time.Second); err != nil {
				t.Error(err)
			}
		}
		if prod != nil {
			if err := prod.finish(60 * time.Second); err != nil {
				t.Error(err)
			}
		}
		for _, m := range members {
			if err := m.stop(30 * time.Second); err != nil {
				t.Error(err)
			}
		}
	}
	t.Cleanup(stopLoad)
	interval := max(produceInterval, set.duration*time.Duration(len(mainTopics))/maxRecords)
	if prod, err = startProducer(addr, led, mainTopics, mainPartitions, interval, maxRecords); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"member-1", "member-2"} {
		m, err := startMember(t, addr, name, mainTopics, led)
		if err != nil {
			t.Fatal(err)
		}
		members = append(members, m)
	}
	if ch, err = startChurn(t, addr, led, f, set.seed); err != nil {
		t.Fatal(err)
	}

	f.probe("the start")
	plan := schedule(set.seed, set.duration)
	var sb strings.Builder
	for i, fl := range plan {
		fmt.Fprintf(&sb, "\n  %d. %s", i+1, fl)
	}
	t.Logf("schedule of faults:%s", sb.String())
	start := time.Now()
	f.run(plan, start, set.duration)
	ran := time.Since(start)

	stopLoad()
	consumed := int64(0)
	for _, m := range members {
		consumed += m.consumed.Load()
	}

	// A clean stop, a start with nothing to recover, then the checks.
	f.scrapeRuntime()
	if err := b.Stop(); err != nil {
		t.Fatalf("clean stop: %v", err)
	}
	tornBefore := f.startup[`courier_log_recovery_events_total{kind="torn_tail"}`]
	f.restart("always")
	if torn := f.startup[`courier_log_recovery_events_total{kind="torn_tail"}`]; torn != tornBefore {
		t.Errorf("the start after a clean stop cut %g torn tails; a clean stop must leave none", torn-tornBefore)
	}
	// A new client: franz-go does not retry a request written to a
	// connection the stopped broker left behind.
	adm := newAdmin(t, addr)

	var stats recordStats
	for topic, parts := range wantTopics {
		st := checkRecords(t, topic, parts, readTopic(t, adm, addr, topic), led.ackedIn(topic))
		stats.stored += st.stored
		stats.acked += st.acked
		stats.unacked += st.unacked
	}
	names, churned := ch.snapshot()
	live := 0
	for _, name := range names {
		if churned[name].state == topicLive {
			live++
			st := checkRecords(t, name, 1, readTopic(t, adm, addr, name), led.ackedIn(name))
			stats.stored += st.stored
			stats.acked += st.acked
		}
	}
	checkCommits(t, adm, group, led.groupCommits(group))
	checkCommits(t, adm, probeGroup, led.groupCommits(probeGroup))
	checkTopics(t, adm, wantTopics, names, churned)
	tornTails, quarantine := checkDataDir(t, dataDir, churned, f.startup[`courier_log_recovery_events_total{kind="torn_tail"}`])
	checkRecoveryTotals(t, f.startup, f.runtime, quarantine)
	if n := blog.panicCount(); n != 0 {
		t.Errorf("the broker's log tells of %d panics", n)
	}
	rss, heap, scrapes := mem.finish()
	if scrapes < 5 {
		t.Errorf("the broker's memory was measured only %d times", scrapes)
	}
	if rss > maxRSS {
		t.Errorf("the broker's resident memory peaked at %.0f MiB, over the %d MiB bound", rss/(1<<20), maxRSS>>20)
	}

	acked, failed, commits := led.counts()
	uncertain := 0
	for _, name := range names {
		if churned[name].uncertain {
			uncertain++
		}
	}
	t.Logf("summary after %v of faults (seed %d):\n"+
		"  records: %d sent by the main producer, %d acknowledged in all, %d failed (unacknowledged), %d stored, %d of them never acknowledged; %d consumed by the group\n"+
		"  commits: %d acknowledged commit requests\n"+
		"  topics: %d churn topics created, %d deleted, %d live at the end, %d with an unanswered operation\n"+
		"  faults: %s\n"+
		"  recovery (all starts):\n%s"+
		"  runtime counters (before each kill or stop):\n%s"+
		"  quarantine: %d torn tails, %d DATA/quarantine entries\n"+
		"  memory: peak RSS %.0f MiB, peak heap in use %.0f MiB (%d scrapes)\n"+
		"  broker warnings and errors by message:\n%s",
		ran.Round(time.Second), set.seed,
		prod.sent.Load(), acked, failed, stats.stored, stats.unacked, consumed,
		commits,
		ch.created.Load(), ch.deleted.Load(), live, uncertain,
		f.summary(),
		f.startup, f.runtime,
		tornTails, quarantine,
		rss/(1<<20), heap/(1<<20), scrapes,
		blog.summary())
}

// newAdmin returns an admin client for addr, closed when the test ends,
// that retries for up to 30 s (the broker restarts under it).
func newAdmin(t *testing.T, addr string) *kadm.Client {
	t.Helper()
	return kadm.NewClient(testclient.New(t, addr, kgo.RetryTimeout(30*time.Second)))
}

// createTopics creates the test's fixed topics, with small segments so
// that recovery and retention meet many of them (internal.segment.bytes:
// Kafka 4's segment.bytes is at least 1 MiB).
func createTopics(t *testing.T, addr string, topics map[string]int32) {
	t.Helper()
	seg := "262144"
	for name, parts := range topics {
		testclient.CreateTopic(t, addr, name, parts, map[string]*string{"internal.segment.bytes": &seg}, kgo.RetryTimeout(30*time.Second))
	}
}
