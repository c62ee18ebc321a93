package sinkcrash

// crash_test.go: SIGKILL the sink while it writes, restart it, and check
// the database ends up with every record exactly once.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/rider"
	"github.com/courier-dev/courier/internal/pipeline/ridersdb"
	"github.com/courier-dev/courier/internal/testkit/brokerproc"
	"github.com/courier-dev/courier/internal/testkit/pgtest"
	"github.com/courier-dev/courier/internal/testkit/testwait"
)

const (
	total  = 200000 // updates produced
	riders = 5000
	kills  = 5 // SIGKILLs of the sink, each while it writes
)

func TestKillSinkSQLite(t *testing.T) {
	testKillSink(t, "sqlite:"+filepath.Join(t.TempDir(), "riders.db"))
}

func TestKillSinkPostgres(t *testing.T) {
	testKillSink(t, pgtest.Start(t))
}

func testKillSink(t *testing.T, dsn string) {
	b := brokerproc.StartT(t, courierBin, t.TempDir(), brokerproc.Args("--group-initial-rebalance-delay", "100ms"))
	locs := updates(total, riders)
	ctx, cancel := context.WithTimeout(context.Background(), 40*time.Second)
	defer cancel()
	produced := make(chan error, 1)
	go func() { produced <- produce(ctx, b.Addr(), locs) }()

	db, history := openDB(t, ctx, dsn)

	out := &syncBuffer{}
	defer func() {
		if t.Failed() {
			t.Logf("sink output (tail):\n%s", out.String())
		}
	}()
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 1))
	for i := range kills {
		p := startSink(t, b.Addr(), dsn, out)
		waitWrites(t, fmt.Sprintf("sink %d to write", i), history, p)
		time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond)
		p.kill(t)
		t.Logf("kill %d: %d history rows", i+1, history())
	}
	if err := <-produced; err != nil {
		t.Fatal(err)
	}
	p := startSink(t, b.Addr(), dsn, out)
	defer p.kill(t)
	testwait.For(t, 30*time.Second, fmt.Sprintf("%d history rows", total), func() string {
		if h := history(); h != total {
			return fmt.Sprintf("%d rows", h)
		}
		return ""
	})
	check(t, db, readTopic(t, b.Addr(), total))
}

// check asserts the database holds each record of the topic exactly once
// at its position with its content, and each rider's newest as latest.
func check(t *testing.T, db ridersdb.DB, topic map[pos]rider.Location) {
	t.Helper()
	ctx := context.Background()
	seen := make(map[pos]bool, len(topic))
	err := ridersdb.ReadHistory(ctx, db, func(u ridersdb.Update) error {
		k := pos{u.Partition, u.Offset}
		w, ok := topic[k]
		switch {
		case !ok:
			return fmt.Errorf("row at %d/%d is not in the topic", u.Partition, u.Offset)
		case seen[k]:
			return fmt.Errorf("row at %d/%d twice", u.Partition, u.Offset)
		case u.RiderID != w.RiderID || u.Lat != w.Lat || u.Lon != w.Lon || !u.TS.Equal(w.TS):
			return fmt.Errorf("row at %d/%d = %+v, want %+v", u.Partition, u.Offset, u.Location, w)
		}
		seen[k] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != len(topic) {
		t.Fatalf("%d of %d records written", len(seen), len(topic))
	}
	newest := make(map[string]rider.Location)
	for _, l := range topic {
		if n, ok := newest[l.RiderID]; !ok || l.TS.After(n.TS) {
			newest[l.RiderID] = l
		}
	}
	latest, err := db.Latest(ctx, len(newest)+10)
	if err != nil {
		t.Fatal(err)
	}
	if len(latest) != len(newest) {
		t.Fatalf("%d riders in rider_latest, want %d", len(latest), len(newest))
	}
	for _, g := range latest {
		w := newest[g.RiderID]
		if !g.TS.Equal(w.TS) || g.Lat != w.Lat || g.Lon != w.Lon {
			t.Fatalf("latest of %s = %+v, want %+v", g.RiderID, g, w)
		}
	}
}
