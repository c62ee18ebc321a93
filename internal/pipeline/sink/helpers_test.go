package sink_test

// helpers_test.go: producing known updates, running sinks, and checking
// the database against what was produced.

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/publish"
	"github.com/courier-dev/courier/internal/pipeline/region"
	"github.com/courier-dev/courier/internal/pipeline/rider"
	"github.com/courier-dev/courier/internal/pipeline/ridersdb"
	"github.com/courier-dev/courier/internal/pipeline/sink"
	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kgo"
)

var t0 = time.Now().Add(-time.Hour).Truncate(time.Millisecond).UTC()

// updates returns n known updates numbered from first, over riders riders,
// spread over the city so every region (partition) gets some.
func updates(first, n, riders int) []rider.Location {
	box := region.Bengaluru.Box
	out := make([]rider.Location, n)
	for i := range out {
		k := first + i
		r := k % riders
		out[i] = rider.Location{
			RiderID: fmt.Sprintf("r%04d", r),
			Lat:     box.MinLat + (box.MaxLat-box.MinLat)*float64((k*7919)%1000)/1000,
			Lon:     box.MinLon + (box.MaxLon-box.MinLon)*float64((k*104729)%1000)/1000,
			TS:      t0.Add(time.Duration(k) * time.Millisecond),
		}
	}
	return out
}

// publisher returns a Publisher on the seeds, creating the topic.
func publisher(t *testing.T, seeds ...string) *publish.Publisher {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	p, err := publish.New(ctx, publish.Config{ClientOpts: []kgo.Opt{kgo.SeedBrokers(seeds...)}, City: region.Bengaluru, CreateTopic: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

// publishAll publishes locs in chunks.
func publishAll(t *testing.T, p *publish.Publisher, locs []rider.Location) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := 0; i < len(locs); i += 1000 {
		if err := p.Publish(ctx, locs[i:min(i+1000, len(locs))]); err != nil {
			t.Fatal(err)
		}
	}
}

// openSQLite opens a fresh SQLite database, closed at the test's end.
func openSQLite(t *testing.T) ridersdb.DB {
	t.Helper()
	db, err := ridersdb.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "riders.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// running is a sink running in the background.
type running struct {
	*sink.Sink
	cancel context.CancelFunc
	done   chan error
}

// startSink runs a sink until stop or the test's end.
func startSink(t *testing.T, db ridersdb.DB, seeds []string, mod func(*sink.Config)) *running {
	t.Helper()
	cfg := sink.Config{ClientOpts: []kgo.Opt{kgo.SeedBrokers(seeds...)}, DB: db, BatchRows: 2000, BatchDelay: 50 * time.Millisecond}
	if mod != nil {
		mod(&cfg)
	}
	s, err := sink.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{Sink: s, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- s.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop ends the sink and waits for Run to return.
func (r *running) stop(t *testing.T) {
	t.Helper()
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("sink Run: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Error("sink did not stop within 30s")
	}
}

// waitHistory waits until the database holds n history rows.
func waitHistory(t *testing.T, db ridersdb.DB, n int64, timeout time.Duration) {
	t.Helper()
	testwait.For(t, timeout, fmt.Sprintf("%d history rows", n), func() string {
		h, _, err := db.Counts(context.Background())
		if err != nil {
			return err.Error()
		}
		if h != n {
			return fmt.Sprintf("%d rows", h)
		}
		return ""
	})
}

// checkDB asserts the database holds exactly locs, once each, and each
// rider's newest as its latest.
func checkDB(t *testing.T, db ridersdb.DB, locs []rider.Location) {
	t.Helper()
	ctx := context.Background()
	type key struct {
		id string
		ts int64
	}
	want := make(map[key]rider.Location, len(locs))
	newest := make(map[string]rider.Location)
	for _, l := range locs {
		want[key{l.RiderID, l.TS.UnixMicro()}] = l
		if n, ok := newest[l.RiderID]; !ok || l.TS.After(n.TS) {
			newest[l.RiderID] = l
		}
	}
	seen := make(map[key]bool, len(locs))
	rows := 0
	err := ridersdb.ReadHistory(ctx, db, func(u ridersdb.Update) error {
		rows++
		k := key{u.RiderID, u.TS.UnixMicro()}
		w, ok := want[k]
		switch {
		case !ok:
			return fmt.Errorf("row %+v was never produced", u)
		case seen[k]:
			return fmt.Errorf("update %v written twice (again at %d/%d)", k, u.Partition, u.Offset)
		case w.Lat != u.Lat || w.Lon != u.Lon:
			return fmt.Errorf("row %+v: want lat/lon %v,%v", u, w.Lat, w.Lon)
		}
		seen[k] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rows != len(locs) {
		t.Fatalf("history has %d rows, want %d", rows, len(locs))
	}
	latest, err := db.Latest(ctx, len(newest)+10)
	if err != nil {
		t.Fatal(err)
	}
	if len(latest) != len(newest) {
		t.Fatalf("latest has %d riders, want %d", len(latest), len(newest))
	}
	for _, g := range latest {
		w := newest[g.RiderID]
		if !g.TS.Equal(w.TS) || g.Lat != w.Lat || g.Lon != w.Lon {
			t.Fatalf("latest of %s = %+v, want %+v", g.RiderID, g, w)
		}
	}
}
