// Package pipebench measures the seed's comparison: how many rider updates
// per second a database absorbs when each update is its own transaction
// (the "before" picture, simulate --direct), against the pipeline (updates
// into a topic, a sink writing them in batches), and how long an update
// takes from being sent to being visible in the database.
//
// Both sides are measured with the same simulated riders (package simulate)
// and the same database code (package ridersdb), so the difference is the
// batching that the topic makes possible.
package pipebench

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/ridersdb"
	"github.com/courier-dev/courier/internal/pipeline/simulate"
)

// DirectResult is the naive path's throughput.
type DirectResult struct {
	DB          string  `json:"db"`
	Concurrency int     `json:"concurrency"`
	Writes      int64   `json:"writes"`
	Failed      int64   `json:"failed"`
	Seconds     float64 `json:"seconds"`
	PerSec      float64 `json:"per_sec"`
}

// Direct writes updates as fast as the database takes them, each in its
// own transaction, for d, with concurrency writers.
func Direct(ctx context.Context, dsn string, riders, concurrency int, d time.Duration) (DirectResult, error) {
	db, err := ridersdb.Open(ctx, dsn)
	if err != nil {
		return DirectResult{}, fmt.Errorf("open database: %w", err)
	}
	defer db.Close()
	var st simulate.Stats
	start := time.Now()
	err = simulate.Run(ctx, simulate.Config{Riders: riders, Rate: 1e9, Duration: d, BatchSize: 1, Concurrency: concurrency, Seed: 1},
		simulate.DirectTarget(db), &st)
	el := time.Since(start).Seconds()
	res := DirectResult{DB: Dialect(dsn), Concurrency: concurrency, Writes: st.Sent.Load(), Failed: st.Failed.Load(), Seconds: el}
	res.PerSec = float64(res.Writes) / el
	return res, err
}

// Dialect names a DSN's database for reports.
func Dialect(dsn string) string {
	if strings.HasPrefix(dsn, "postgres") {
		return "PostgreSQL"
	}
	return "SQLite"
}

// delayHistogram records delays in 1 ms buckets up to a minute.
type delayHistogram struct {
	mu      sync.Mutex
	buckets [60001]int64
	n       int64
	max     time.Duration
}

func (h *delayHistogram) observe(d time.Duration) {
	ms := d.Milliseconds()
	if ms < 0 {
		ms = 0
	}
	if ms > 60000 {
		ms = 60000
	}
	h.mu.Lock()
	h.buckets[ms]++
	h.n++
	h.max = max(h.max, d)
	h.mu.Unlock()
}

// quantile returns the q-quantile's bucket upper bound.
func (h *delayHistogram) quantile(q float64) time.Duration {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n == 0 {
		return 0
	}
	want := int64(q*float64(h.n) + 0.5)
	var seen int64
	for ms, c := range h.buckets {
		seen += c
		if seen >= want && c > 0 {
			return time.Duration(ms+1) * time.Millisecond
		}
	}
	return h.max
}
