package ridersdb_test

// migrate_test.go writes a database in the schema before topics and leader
// epochs (the DDL below is that schema, as Courier created it), opens it,
// and checks every row survived with its topic and epoch, that old records
// delivered again are duplicates, not truncations, and that a newer epoch
// at an old offset is noticed.

import (
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/ridersdb"
	"github.com/jackc/pgx/v5"
)

// oldSQLiteSchema and oldPGSchema are the schema before topics and epochs.
const (
	oldSQLiteSchema = `
CREATE TABLE rider_locations (
	kafka_partition INTEGER NOT NULL, kafka_offset INTEGER NOT NULL,
	rider_id TEXT NOT NULL, lat REAL NOT NULL, lon REAL NOT NULL, ts INTEGER NOT NULL,
	PRIMARY KEY (kafka_partition, kafka_offset)
) WITHOUT ROWID;
CREATE TABLE rider_latest (
	rider_id TEXT NOT NULL PRIMARY KEY, lat REAL NOT NULL, lon REAL NOT NULL, ts INTEGER NOT NULL,
	kafka_partition INTEGER NOT NULL, kafka_offset INTEGER NOT NULL, updated_at INTEGER NOT NULL
) WITHOUT ROWID;`
	oldPGSchema = `
CREATE TABLE rider_locations (
	kafka_partition integer NOT NULL, kafka_offset bigint NOT NULL,
	rider_id text NOT NULL, lat double precision NOT NULL, lon double precision NOT NULL, ts timestamptz NOT NULL,
	PRIMARY KEY (kafka_partition, kafka_offset)
);
CREATE TABLE rider_latest (
	rider_id text NOT NULL PRIMARY KEY, lat double precision NOT NULL, lon double precision NOT NULL, ts timestamptz NOT NULL,
	kafka_partition integer NOT NULL, kafka_offset bigint NOT NULL, updated_at timestamptz NOT NULL DEFAULT now()
) WITH (fillfactor = 70);`
)

// oldRows are the rows written in the old schema: three records of the
// topic and one InsertOne row.
var oldRows = []ridersdb.Update{up("a", 1, 0, 0), up("b", 2, 0, 1), up("c", 3, 1, 0), up("d", 4, ridersdb.DirectPartition, 1)}

// writeOld creates the old schema in the database at dsn and fills it.
func writeOld(t *testing.T, dialect, dsn string) {
	t.Helper()
	ctx := context.Background()
	var exec func(q string, args ...any) error
	switch dialect {
	case "sqlite":
		db, err := sql.Open("sqlite", "file:"+strings.TrimPrefix(dsn, "sqlite:"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		exec = func(q string, args ...any) error { _, err := db.ExecContext(ctx, q, args...); return err }
		if err := exec(oldSQLiteSchema); err != nil {
			t.Fatal(err)
		}
	default:
		c, err := pgx.Connect(ctx, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close(ctx)
		exec = func(q string, args ...any) error { _, err := c.Exec(ctx, q, args...); return err }
		if err := exec(oldPGSchema); err != nil {
			t.Fatal(err)
		}
	}
	ph := func(n int) string { // placeholders
		var b strings.Builder
		for i := 1; i <= n; i++ {
			if i > 1 {
				b.WriteByte(',')
			}
			if dialect == "sqlite" {
				b.WriteByte('?')
			} else {
				b.WriteString("$" + string(rune('0'+i)))
			}
		}
		return b.String()
	}
	ts := func(u ridersdb.Update) any {
		if dialect == "sqlite" {
			return u.TS.UnixMicro()
		}
		return u.TS
	}
	for _, u := range oldRows {
		if err := exec(`INSERT INTO rider_locations (kafka_partition, kafka_offset, rider_id, lat, lon, ts) VALUES (`+ph(6)+`)`,
			u.Partition, u.Offset, u.RiderID, u.Lat, u.Lon, ts(u)); err != nil {
			t.Fatal(err)
		}
		if err := exec(`INSERT INTO rider_latest (rider_id, lat, lon, ts, kafka_partition, kafka_offset, updated_at) VALUES (`+ph(7)+`)`,
			u.RiderID, u.Lat, u.Lon, ts(u), u.Partition, u.Offset, ts(u)); err != nil {
			t.Fatal(err)
		}
	}
}

func TestMigrateOldSchema(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			dsn := d.dsn(t)
			writeOld(t, d.name, dsn)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()

			// The rows do not say their topic: opening without it is
			// refused, and so is a name that is no Kafka topic.
			for _, opts := range [][]ridersdb.Option{nil, {ridersdb.WithLegacyTopic("x'; DROP TABLE rider_latest; --")}} {
				if db, err := ridersdb.Open(ctx, dsn, opts...); err == nil {
					db.Close()
					t.Fatalf("Open(%v) of the old schema succeeded", opts)
				} else if !strings.Contains(err.Error(), "topic") {
					t.Fatalf("Open: %v, want it to be about the topic", err)
				}
			}
			db, err := ridersdb.Open(ctx, dsn, ridersdb.WithLegacyTopic(testTopic))
			if err != nil {
				t.Fatal(err)
			}
			checkRows(t, db, []row{
				{"", ridersdb.DirectPartition, 1, ridersdb.NoEpoch, "d"},
				{testTopic, 0, 0, 0, "a"}, {testTopic, 0, 1, 0, "b"}, {testTopic, 1, 0, 0, "c"},
			}, nil)
			checkCounts(t, db, 4, 4)

			// The old records delivered again, as the broker stamped
			// them (epoch 0), are duplicates; a newer epoch at an old
			// offset is a truncation.
			res, err := db.WriteBatch(ctx, []ridersdb.Update{up("a", 1, 0, 0), ep("e", 5, 0, 1, 1), up("f", 6, 1, 1)})
			if err != nil {
				t.Fatal(err)
			}
			if res.Inserted != 1 || res.Duplicates != 1 || res.Replaced != 1 || res.Stale != 0 {
				t.Fatalf("after migration: %+v, want 1 inserted, 1 duplicate, 1 replaced", res)
			}
			checkRows(t, db, []row{
				{"", ridersdb.DirectPartition, 1, ridersdb.NoEpoch, "d"},
				{testTopic, 0, 0, 0, "a"}, {testTopic, 0, 1, 1, "e"}, {testTopic, 1, 0, 0, "c"}, {testTopic, 1, 1, 0, "f"},
			}, []row{{testTopic, 0, 1, 0, "b"}})
			if err := db.InsertOne(ctx, up("g", 7, 0, 0).Location, 2); err != nil {
				t.Fatal(err)
			}
			db.Close()

			// Opening the migrated database again changes nothing.
			db = open(t, func(testing.TB) string { return dsn })
			checkCounts(t, db, 6, 7)
			checkLatest(t, db, []want{{"g", 7, ridersdb.DirectPartition, 0}, {"f", 6, 1, 1}, {"e", 5, 0, 1}, {"d", 4, ridersdb.DirectPartition, 1},
				{"c", 3, 1, 0}, {"b", 2, 0, 1}, {"a", 1, 0, 0}}, nil)
		})
	}
}
