// Package ridersdb is the database side of the pipeline: the schema of rider
// locations and the writes the sink and the simulator make, for SQLite (the
// embedded default) and PostgreSQL (production).
//
// Two tables:
//   - rider_locations: every update, keyed by (kafka_partition,
//     kafka_offset), so that a batch delivered twice is written once;
//   - rider_latest: one row per rider, its latest location, which only
//     moves forward in ts, so that writes may arrive in any order.
//
// DSNs: "sqlite:PATH" (also "sqlite://PATH" and "file:PATH") and
// "postgres://..." / "postgresql://...".
package ridersdb

import (
	"context"
	"time"

	"github.com/courier-dev/courier/internal/rider"
)

// Update is a location read from the topic, with its place in the log.
type Update struct {
	rider.Location
	Partition int32
	Offset    int64
}

// LatestRow is a rider's latest known location.
type LatestRow struct {
	RiderID   string
	Lat, Lon  float64
	TS        time.Time
	Partition int32
}

// DirectPartition is the kafka_partition of rows written by InsertOne,
// which bypass Kafka: their offsets are the writer's own sequence.
const DirectPartition = -1

// DB is an open rider database. Methods are safe for concurrent use.
type DB interface {
	// WriteBatch writes updates in one transaction: each into
	// rider_locations unless its (partition, offset) is already there, and
	// each rider's newest update into rider_latest if newer than the stored
	// one. It returns how many history rows were new.
	WriteBatch(ctx context.Context, updates []Update) (inserted int, err error)
	// InsertOne writes one update the naive way, in its own transaction:
	// the "before" picture of the seed (simulate --direct). seq must be
	// unique per writer; the row's key is (DirectPartition, seq).
	InsertOne(ctx context.Context, l rider.Location, seq int64) error
	// Latest returns up to limit riders' latest locations, newest first.
	Latest(ctx context.Context, limit int) ([]LatestRow, error)
	// Counts returns the number of history rows and of riders. It counts
	// the history table whole: cheap for a check, slow on a large table.
	Counts(ctx context.Context) (history, riders int64, err error)
	// Riders returns the number of riders (rows of rider_latest).
	Riders(ctx context.Context) (int64, error)
	// Close closes the database.
	Close() error
}

// Open opens (creating if needed) the database named by dsn and its schema.
func Open(ctx context.Context, dsn string) (DB, error) {
	return open(ctx, dsn)
}
