package ridersdb_test

// ridersdb_test.go runs the same table of cases against SQLite and
// PostgreSQL (a private server from pgtest, shared by the package's tests,
// one database per test).

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/rider"
	"github.com/courier-dev/courier/internal/pipeline/ridersdb"
	"github.com/courier-dev/courier/internal/testkit/pgtest"
)

var (
	pgOnce   sync.Once
	pgServer *pgtest.Server
	pgErr    error
	pgDBs    atomic.Int64
)

func TestMain(m *testing.M) {
	code := m.Run()
	if pgServer != nil {
		if err := pgServer.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
	}
	os.Exit(code)
}

// dialects name the DSN makers the tests run against.
var dialects = []struct {
	name string
	dsn  func(testing.TB) string
}{
	{"sqlite", func(t testing.TB) string { return "sqlite:" + filepath.Join(t.TempDir(), "riders.db") }},
	{"postgres", pgDSN},
}

// pgDSN returns a new database on the shared server, skipping (or failing,
// per pgtest.RequireEnv) without PostgreSQL.
func pgDSN(t testing.TB) string {
	t.Helper()
	pgOnce.Do(func() { pgServer, pgErr = pgtest.StartServer("") })
	if pgErr == pgtest.ErrNotInstalled && os.Getenv(pgtest.RequireEnv) != "1" {
		t.Skip(pgErr)
	}
	if pgErr != nil {
		t.Fatal(pgErr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	dsn, err := pgServer.NewDatabase(ctx, fmt.Sprintf("t%d", pgDBs.Add(1)))
	if err != nil {
		t.Fatal(err)
	}
	return dsn
}

// open opens a fresh database of the dialect, closed at the test's end.
func open(t testing.TB, dsn func(testing.TB) string) ridersdb.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := ridersdb.Open(ctx, dsn(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

var t0 = time.Date(2026, 11, 25, 13, 0, 0, 0, time.UTC)

// testTopic is the topic of the tests' updates.
const testTopic = "rider-updates"

// up is an update of rider id at t0+sec seconds, at (p, o) of testTopic,
// written in leader epoch 0.
func up(id string, sec int, p int32, o int64) ridersdb.Update {
	return ridersdb.Update{
		Location: rider.Location{RiderID: id, Lat: 12.9 + float64(o)/1e4, Lon: 77.5 + float64(sec)/1e3, TS: t0.Add(time.Duration(sec) * time.Second)},
		Topic:    testTopic, Partition: p, Offset: o,
	}
}

// want is a rider's expected latest row.
type want struct {
	id  string
	sec int
	p   int32
	o   int64
}

// writeCase is a TestWrites case.
type writeCase struct {
	name     string
	batches  [][]ridersdb.Update
	inserted []int
	history  int64
	latest   []want // newest first
}

func TestWrites(t *testing.T) {
	cases := []writeCase{
		{
			name:     "duplicate partition offset written once",
			batches:  [][]ridersdb.Update{{up("a", 1, 0, 0), up("b", 2, 0, 1)}, {up("a", 1, 0, 0), up("b", 2, 0, 1), up("a", 3, 0, 2)}},
			inserted: []int{2, 1},
			history:  3,
			latest:   []want{{"a", 3, 0, 2}, {"b", 2, 0, 1}},
		},
		{
			name:     "older update arriving later does not regress",
			batches:  [][]ridersdb.Update{{up("a", 10, 1, 5)}, {up("a", 5, 2, 9)}},
			inserted: []int{1, 1},
			history:  2,
			latest:   []want{{"a", 10, 1, 5}},
		},
		{
			name:     "newest in a batch wins whatever its place",
			batches:  [][]ridersdb.Update{{up("a", 1, 0, 0), up("a", 9, 3, 1), up("a", 4, 0, 2), up("b", 2, 1, 0)}},
			inserted: []int{4},
			history:  4,
			latest:   []want{{"a", 9, 3, 1}, {"b", 2, 1, 0}},
		},
		{
			name:     "equal ts: higher partition offset wins in any order",
			batches:  [][]ridersdb.Update{{up("a", 7, 1, 3)}, {up("a", 7, 1, 2)}, {up("a", 7, 0, 9)}, {up("b", 7, 0, 1), up("b", 7, 0, 4), up("b", 7, 0, 2)}},
			inserted: []int{1, 1, 1, 3},
			history:  6,
			latest:   []want{{"a", 7, 1, 3}, {"b", 7, 0, 4}},
		},
		{
			name:     "empty batch",
			batches:  [][]ridersdb.Update{{}},
			inserted: []int{0},
		},
	}
	eachCase(t, cases, func(c writeCase) string { return c.name }, func(t *testing.T, db ridersdb.DB, c writeCase) {
		for i, b := range c.batches {
			n, err := db.WriteBatch(context.Background(), b)
			if err != nil {
				t.Fatal(err)
			}
			if n.Inserted != c.inserted[i] || n.Inserted+n.Duplicates != len(b) {
				t.Errorf("batch %d: %+v, want %d inserted and the rest duplicates", i, n, c.inserted[i])
			}
		}
		checkCounts(t, db, c.history, int64(len(c.latest)))
		checkLatest(t, db, c.latest, c.batches)
	})
}

// eachCase runs fn for every case on a fresh database of every dialect.
func eachCase[C any](t *testing.T, cases []C, name func(C) string, fn func(*testing.T, ridersdb.DB, C)) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			for _, c := range cases {
				t.Run(name(c), func(t *testing.T) { fn(t, open(t, d.dsn), c) })
			}
		})
	}
}

// checkCounts compares Counts.
func checkCounts(t *testing.T, db ridersdb.DB, history, riders int64) {
	t.Helper()
	h, r, err := db.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if h != history || r != riders {
		t.Errorf("Counts = %d history, %d riders; want %d, %d", h, r, history, riders)
	}
	if n, err := db.Riders(context.Background()); err != nil || n != riders {
		t.Errorf("Riders = %d, %v; want %d", n, err, riders)
	}
}

// checkLatest compares Latest with w, finding each wanted row's lat/lon in
// the batches.
func checkLatest(t *testing.T, db ridersdb.DB, w []want, batches [][]ridersdb.Update) {
	t.Helper()
	got, err := db.Latest(context.Background(), 100)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(w) {
		t.Fatalf("Latest = %+v, want %d rows", got, len(w))
	}
	for i, x := range w {
		e := up(x.id, x.sec, x.p, x.o)
		g := got[i]
		if g.RiderID != e.RiderID || !g.TS.Equal(e.TS) || g.Partition != e.Partition || g.Lat != e.Lat || g.Lon != e.Lon {
			t.Errorf("Latest[%d] = %+v, want %+v", i, g, e)
		}
	}
}

func TestInsertOneAndReadHistory(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			db := open(t, d.dsn)
			ctx := context.Background()
			l := up("z", 3, 0, 0).Location
			if err := db.InsertOne(ctx, l, 1); err != nil {
				t.Fatal(err)
			}
			older := up("z", 1, 0, 0).Location
			if err := db.InsertOne(ctx, older, 2); err != nil {
				t.Fatal(err)
			}
			checkCounts(t, db, 2, 1)
			got, err := db.Latest(ctx, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || !got[0].TS.Equal(l.TS) || got[0].Partition != ridersdb.DirectPartition {
				t.Fatalf("Latest = %+v, want z at %v in partition %d", got, l.TS, ridersdb.DirectPartition)
			}
			var rows []ridersdb.Update
			if err := ridersdb.ReadHistory(ctx, db, func(u ridersdb.Update) error { rows = append(rows, u); return nil }); err != nil {
				t.Fatal(err)
			}
			if len(rows) != 2 || rows[0].Offset != 1 || rows[1].Offset != 2 || !rows[1].TS.Equal(older.TS) || rows[1].Lat != older.Lat {
				t.Fatalf("history = %+v", rows)
			}
		})
	}
}

func TestLatestLimitAndOrder(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			db := open(t, d.dsn)
			var b []ridersdb.Update
			for i := range 20 {
				b = append(b, up(fmt.Sprintf("r%02d", i), i, 0, int64(i)))
			}
			if _, err := db.WriteBatch(context.Background(), b); err != nil {
				t.Fatal(err)
			}
			got, err := db.Latest(context.Background(), 5)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 5 || got[0].RiderID != "r19" || got[4].RiderID != "r15" {
				t.Fatalf("Latest(5) = %+v, want r19..r15", got)
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	for _, dsn := range []string{"mysql://x", "sqlite:", "sqlite::memory:", "sqlite:x.db?nosuch=1", "sqlite:x.db?synchronous=maybe"} {
		if db, err := ridersdb.Open(context.Background(), dsn); err == nil {
			db.Close()
			t.Errorf("Open(%q) succeeded", dsn)
		}
	}
	if d, _ := ridersdb.DialectOf("postgresql://h/db"); d != ridersdb.Postgres {
		t.Errorf("DialectOf(postgresql://) = %q", d)
	}
}
