package sinkcrash

// share_test.go: three sinks in a share group (`courier sink
// --share-group`) on a two-partition topic, one SIGKILLed at random and
// restarted again and again while they write; the database must end up
// with every record exactly once, every sink having written.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/publish"
	"github.com/courier-dev/courier/internal/pipeline/region"
	"github.com/courier-dev/courier/internal/pipeline/rider"
	"github.com/courier-dev/courier/internal/testkit/brokerproc"
	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	shareTopic  = "rider-share"
	shareSinks  = 3
	shareTotal  = 100000
	shareKills  = 6
	shareGroups = "db-writers"
)

func TestKillShareSinksSQLite(t *testing.T) {
	b := brokerproc.StartT(t, courierBin, t.TempDir())
	testclient.CreateTopic(t, b.Addr(), shareTopic, 2, nil)
	locs := updates(shareTotal, riders)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	produced := make(chan error, 1)
	go func() { produced <- produceByRider(ctx, b.Addr(), locs) }()

	dsn := "sqlite:" + filepath.Join(t.TempDir(), "riders.db")
	db, history := openDB(t, ctx, dsn)
	out := &syncBuffer{}
	defer func() {
		if t.Failed() {
			t.Logf("sinks' output (tail):\n%s", out.String())
			m, err := b.MetricLines("courier_share_lock_expiries_total", "courier_share_acknowledgements_total")
			t.Logf("the broker's share metrics: %s %v", m, err)
		}
	}()
	start := func() *sinkProc {
		return startSinkArgs(t, out, "--brokers", b.Addr(), "--db", dsn, "--topic", shareTopic, "--share-group", shareGroups,
			"--batch-rows", "500", "--log-level", "warn")
	}
	sinks := make([]*sinkProc, shareSinks)
	for i := range sinks {
		sinks[i] = start()
	}
	defer func() {
		for _, p := range sinks {
			p.kill(t)
		}
	}()
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 2))
	for i := range shareKills {
		waitWrites(t, fmt.Sprintf("the sinks to write before kill %d", i+1), history, sinks...)
		time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond)
		s := rng.IntN(shareSinks)
		sinks[s].kill(t)
		t.Logf("kill %d (sink %d): %d history rows", i+1, s, history())
		sinks[s] = start()
	}
	if err := <-produced; err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 60*time.Second, fmt.Sprintf("%d history rows", shareTotal), func() string {
		if h := history(); h != shareTotal {
			return fmt.Sprintf("%d rows", h)
		}
		return ""
	})
	check(t, db, readTopicOf(t, b.Addr(), shareTopic, shareTotal))
}

// produceByRider publishes locs to the share topic, placed by rider (the
// topic has fewer partitions than regions), in chunks spread over the
// kills.
func produceByRider(ctx context.Context, addr string, locs []rider.Location) error {
	p, err := publish.New(ctx, publish.Config{ClientOpts: []kgo.Opt{kgo.SeedBrokers(addr)}, Topic: shareTopic, City: region.Bengaluru, Mode: region.ByRider})
	if err != nil {
		return err
	}
	defer p.Close()
	for i := 0; i < len(locs); i += 1000 {
		if err := p.Publish(ctx, locs[i:min(i+1000, len(locs))]); err != nil {
			return err
		}
		time.Sleep(5 * time.Millisecond)
	}
	return nil
}
