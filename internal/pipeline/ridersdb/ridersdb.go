// Package ridersdb is the database side of the pipeline: the schema of rider
// locations and the writes the sink and the simulator make, for SQLite (the
// embedded default) and PostgreSQL (production).
//
// Three tables:
//   - rider_locations: every update, keyed by (topic, kafka_partition,
//     kafka_offset) and recording the record's leader epoch, so that a
//     batch delivered twice is written once;
//   - rider_locations_truncated: records the log lost (truncate.go). When
//     a record arrives at a position already held by a record of an older
//     leader epoch, the broker lost its log's tail in a crash and reused
//     the offset: the older row is moved here, not overwritten or deleted,
//     and the newer one takes its place; a record arriving with an older
//     epoch than the one held goes here directly;
//   - rider_latest: one row per rider, its latest location, which only
//     moves forward (ts, then partition, leader epoch and offset), so that
//     writes may arrive in any order.
//
// A database of the schema before topics and epochs is migrated when
// opened (migrate.go), in one transaction.
//
// DSNs: "sqlite:PATH" (also "sqlite://PATH" and "file:PATH") and
// "postgres://..." / "postgresql://...".
package ridersdb

import (
	"context"
	"log/slog"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/rider"
)

// Update is a location read from the topic, with its place in the log.
type Update struct {
	rider.Location
	// Topic, Partition and Offset are the record's position, the
	// history row's key.
	Topic     string
	Partition int32
	Offset    int64
	// LeaderEpoch is the partition leader epoch the record was written
	// in (kgo.Record.LeaderEpoch; NoEpoch when unknown). Two records at
	// one position with different epochs mean the log was truncated in
	// between.
	LeaderEpoch int32
}

// NoEpoch is the leader epoch of rows with none: written by InsertOne,
// which bypasses Kafka, or by a producer of the old message format.
const NoEpoch = -1

// WriteResult says what WriteBatch did with each update; the four counts
// add up to the batch's length.
type WriteResult struct {
	// Inserted counts history rows written at positions that had none.
	Inserted int
	// Duplicates counts updates whose record was already there (same
	// position and epoch): a redelivery, skipped.
	Duplicates int
	// Replaced counts updates written over a history row of an older
	// leader epoch, which was moved to rider_locations_truncated.
	Replaced int
	// Stale counts updates of an older leader epoch than the record kept
	// at their position (in the database or the same batch): written to
	// rider_locations_truncated only.
	Stale int
	// Truncations say where Replaced and Stale happened, one per topic
	// partition, in order.
	Truncations []Truncation
}

// Truncation describes the positions of one partition at which records of
// two leader epochs were seen: the older ones are lost from the log.
type Truncation struct {
	Topic                   string
	Partition               int32
	FirstOffset, LastOffset int64
	// Records is the number of lost records noticed in the range.
	Records int
	// LostEpoch is the oldest epoch moved aside, KeptEpoch the newest kept.
	LostEpoch, KeptEpoch int32
}

// TruncatedRow is a row of rider_locations_truncated.
type TruncatedRow struct {
	Update
	// NoticedAt is when the sink noticed the record was lost.
	NoticedAt time.Time
}

// LatestRow is a rider's latest known location.
type LatestRow struct {
	RiderID   string
	Lat, Lon  float64
	TS        time.Time
	Partition int32
}

// DirectPartition and DirectTopic are the kafka_partition and topic of
// rows written by InsertOne, which bypass Kafka: their offsets are the
// writer's own sequence and their epoch NoEpoch.
const (
	DirectPartition = -1
	DirectTopic     = ""
)

// DB is an open rider database. Methods are safe for concurrent use.
type DB interface {
	// WriteBatch writes updates in one transaction: each into
	// rider_locations unless its position is already there with the same
	// or a newer leader epoch (a position held by an older epoch is moved
	// to rider_locations_truncated first; an update older than what is
	// held goes there instead), and each rider's newest update into
	// rider_latest if newer than the stored one.
	WriteBatch(ctx context.Context, updates []Update) (WriteResult, error)
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

// Option adjusts Open.
type Option func(*options)

// options are Open's settings.
type options struct {
	legacyTopicName string
	logger          *slog.Logger
}

// WithLegacyTopic names the topic the rows of a database of the schema
// before topics and epochs came from (the sink's --topic): migrating such a
// database needs it, as its rows do not say.
func WithLegacyTopic(topic string) Option {
	return func(o *options) { o.legacyTopicName = topic }
}

// WithLogger sets where Open logs a migration (default slog.Default()).
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// Open opens (creating if needed) the database named by dsn and its
// schema, migrating an older schema (see WithLegacyTopic).
func Open(ctx context.Context, dsn string, opts ...Option) (DB, error) {
	o := options{logger: slog.Default()}
	for _, opt := range opts {
		opt(&o)
	}
	return open(ctx, dsn, o)
}
