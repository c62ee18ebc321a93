package simulate

// run_test.go checks pacing, counting and failure handling of Run against
// fake targets.

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/region"
	"github.com/courier-dev/courier/internal/pipeline/rider"
	"github.com/courier-dev/courier/internal/pipeline/ridersdb"
)

// countTarget counts what it is given; it can be slowed down or fail.
type countTarget struct {
	n, calls atomic.Int64
	maxBatch atomic.Int64
	delay    time.Duration
	// fail, if set, is asked before each call whether it fails.
	fail func(call int64) error
}

func (c *countTarget) Publish(ctx context.Context, locs []rider.Location) error {
	call := c.calls.Add(1)
	if c.delay > 0 {
		select {
		case <-time.After(c.delay):
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if c.fail != nil {
		if err := c.fail(call); err != nil {
			return err
		}
	}
	for {
		m := c.maxBatch.Load()
		if int64(len(locs)) <= m || c.maxBatch.CompareAndSwap(m, int64(len(locs))) {
			break
		}
	}
	for i := range locs {
		if locs[i].RiderID == "" || locs[i].TS.IsZero() {
			return errors.New("empty location")
		}
	}
	c.n.Add(int64(len(locs)))
	return nil
}

// runFor runs Run with a 30 s safety bound.
func runFor(t *testing.T, cfg Config, tg Target, st *Stats) (time.Duration, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	start := time.Now()
	err := Run(ctx, cfg, tg, st)
	return time.Since(start), err
}

func TestRunPacesToRate(t *testing.T) {
	var tg countTarget
	var st Stats
	took, err := runFor(t, Config{Riders: 500, Rate: 2000, Duration: time.Second, Seed: 1}, &tg, &st)
	if err != nil {
		t.Fatal(err)
	}
	sent := st.Sent.Load()
	if sent < 1700 || sent > 2300 {
		t.Errorf("sent %d in %v at 2000/s for 1s, want 2000 ±15%%", sent, took)
	}
	if sent != tg.n.Load() || st.Failed.Load() != 0 {
		t.Errorf("stats %d sent %d failed, target got %d", sent, st.Failed.Load(), tg.n.Load())
	}
	if took < time.Second || took > 2*time.Second {
		t.Errorf("1s run took %v", took)
	}
}

func TestRunStopsAtCount(t *testing.T) {
	var tg countTarget
	var st Stats
	_, err := runFor(t, Config{Rate: 200000, Count: 12345, BatchSize: 100, Seed: 1}, &tg, &st)
	if err != nil {
		t.Fatal(err)
	}
	if st.Sent.Load() != 12345 || tg.n.Load() != 12345 {
		t.Errorf("sent %d, target got %d, want exactly 12345", st.Sent.Load(), tg.n.Load())
	}
	if m := tg.maxBatch.Load(); m > 100 {
		t.Errorf("batch of %d, want at most 100", m)
	}
}

func TestRunSlowTargetLowersRate(t *testing.T) {
	// 2 publishers x 10 updates per 50 ms: at most ~400/s of the 5000/s.
	tg := countTarget{delay: 50 * time.Millisecond}
	var st Stats
	took, err := runFor(t, Config{Riders: 100, Rate: 5000, Duration: 500 * time.Millisecond, BatchSize: 10, Concurrency: 2}, &tg, &st)
	if err != nil {
		t.Fatal(err)
	}
	if sent := st.Sent.Load(); sent == 0 || sent > 400 {
		t.Errorf("sent %d, want 0 < sent <= 400", sent)
	}
	if st.Failed.Load() != 0 {
		t.Errorf("failed %d", st.Failed.Load())
	}
	if took > 2*time.Second {
		t.Errorf("took %v", took)
	}
}

func TestRunCountsFailuresAndGoesOn(t *testing.T) {
	tg := countTarget{fail: func(call int64) error {
		if call%2 == 0 {
			return errors.New("flaky")
		}
		return nil
	}}
	var st Stats
	_, err := runFor(t, Config{Rate: 100000, Count: 5000, BatchSize: 50}, &tg, &st)
	if err != nil {
		t.Fatal(err)
	}
	if st.Sent.Load()+st.Failed.Load() != 5000 || st.Failed.Load() == 0 || st.Sent.Load() == 0 {
		t.Errorf("sent %d + failed %d, want both and 5000 in all", st.Sent.Load(), st.Failed.Load())
	}
}

// setStallTimeout shortens stallTimeout for one test.
func setStallTimeout(t *testing.T, d time.Duration) {
	old := stallTimeout
	stallTimeout = d
	t.Cleanup(func() { stallTimeout = old })
}

func TestRunGivesUpWhenAllFail(t *testing.T) {
	setStallTimeout(t, 300*time.Millisecond)
	tg := countTarget{fail: func(int64) error { return errors.New("connection refused") }}
	var st Stats
	took, err := runFor(t, Config{Rate: 1000}, &tg, &st)
	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("err %v", err)
	}
	if st.Failed.Load() == 0 || st.Sent.Load() != 0 {
		t.Errorf("sent %d failed %d", st.Sent.Load(), st.Failed.Load())
	}
	if took > 5*time.Second {
		t.Errorf("took %v", took)
	}
}

func TestRunGivesUpWhenTargetHangs(t *testing.T) {
	setStallTimeout(t, 300*time.Millisecond)
	tg := countTarget{delay: time.Hour}
	took, err := runFor(t, Config{Rate: 1000}, &tg, nil)
	if err == nil || !strings.Contains(err.Error(), "does not answer") {
		t.Fatalf("err %v", err)
	}
	if took > 5*time.Second {
		t.Errorf("took %v", took)
	}
}

func TestRunStopsWithContext(t *testing.T) {
	var tg countTarget
	var st Stats
	ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := Run(ctx, Config{Rate: 10000}, &tg, &st); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("took %v", took)
	}
	if st.Sent.Load() == 0 || st.Failed.Load() != 0 {
		t.Errorf("sent %d failed %d", st.Sent.Load(), st.Failed.Load())
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	for _, cfg := range []Config{
		{Rate: -1},
		{Riders: -3},
		{Count: -1},
		{City: region.City{Box: region.BBox{MinLat: 1, MaxLat: 1, MinLon: 0, MaxLon: 1}}},
	} {
		if err := Run(t.Context(), cfg, &countTarget{}, nil); err == nil {
			t.Errorf("%+v: no error", cfg)
		}
	}
}

// fakeDB is a ridersdb.DB that records InsertOne calls.
type fakeDB struct {
	mu   sync.Mutex
	seqs map[int64]bool
	locs []rider.Location
}

func (f *fakeDB) InsertOne(_ context.Context, l rider.Location, seq int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.seqs == nil {
		f.seqs = map[int64]bool{}
	}
	if f.seqs[seq] {
		return errors.New("duplicate seq")
	}
	f.seqs[seq] = true
	f.locs = append(f.locs, l)
	return nil
}

func (f *fakeDB) WriteBatch(context.Context, []ridersdb.Update) (ridersdb.WriteResult, error) {
	return ridersdb.WriteResult{}, errors.New("not in a fake")
}
func (f *fakeDB) Latest(context.Context, int) ([]ridersdb.LatestRow, error) { return nil, nil }
func (f *fakeDB) Counts(context.Context) (int64, int64, error)              { return 0, 0, nil }
func (f *fakeDB) Riders(context.Context) (int64, error)                     { return 0, nil }
func (f *fakeDB) Close() error                                              { return nil }

func TestRunDirect(t *testing.T) {
	db := &fakeDB{}
	if cfg, _ := (Config{BatchSize: 500}).withDefaults(DirectTarget(db)); cfg.BatchSize != 1 {
		t.Errorf("direct batch size %d, want 1", cfg.BatchSize)
	}
	var st Stats
	_, err := runFor(t, Config{Riders: 10, Rate: 50000, Count: 300}, DirectTarget(db), &st)
	if err != nil {
		t.Fatal(err)
	}
	if st.Sent.Load() != 300 || len(db.locs) != 300 || len(db.seqs) != 300 {
		t.Errorf("sent %d, inserted %d with %d seqs, want 300", st.Sent.Load(), len(db.locs), len(db.seqs))
	}
}

// deafTarget blocks every Publish until release is closed, ignoring ctx,
// as a producer does with records it may already have sent.
type deafTarget struct{ release chan struct{} }

func (d *deafTarget) Publish(context.Context, []rider.Location) error {
	<-d.release
	return errors.New("released")
}

func TestRunAbandonsDeafPublishes(t *testing.T) {
	setStallTimeout(t, 300*time.Millisecond)
	old := drainGrace
	drainGrace = 200 * time.Millisecond
	t.Cleanup(func() { drainGrace = old })
	tg := &deafTarget{release: make(chan struct{})}
	defer close(tg.release)
	took, err := runFor(t, Config{Rate: 1000}, tg, nil)
	if err == nil || !strings.Contains(err.Error(), "does not answer") {
		t.Fatalf("err %v", err)
	}
	if took > 5*time.Second {
		t.Errorf("took %v", took)
	}
}
