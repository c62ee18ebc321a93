package ridersdb

// postgres.go is the PostgreSQL dialect (pgx/v5, a connection pool).
//
// WriteBatch runs one transaction. History rows are COPYed straight into
// rider_locations, the fastest way into PostgreSQL; if the batch was
// (partly) written before, a redelivery after a crash, the COPY fails on
// the primary key and the transaction is retried through a per-connection
// temporary staging table (ON COMMIT DELETE ROWS) with INSERT ... ON
// CONFLICT DO NOTHING. rider_latest is upserted from arrays (unnest) of
// each rider's newest update, sorted by rider id so that concurrent
// writers lock rows in one order and cannot deadlock. Durability is the
// server's: with the default synchronous_commit=on a committed batch
// survives a crash of the server or the machine.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/courier-dev/courier/internal/rider"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgSchema creates the tables. rider_latest leaves room in its pages so
// that most updates are HOT (no index change). It runs under an advisory lock, so that
// processes opening a new database at once do not race.
const pgSchema = `
SELECT pg_advisory_xact_lock(7220513011);
CREATE TABLE IF NOT EXISTS rider_locations (
	kafka_partition integer          NOT NULL,
	kafka_offset    bigint           NOT NULL,
	rider_id        text             NOT NULL,
	lat             double precision NOT NULL,
	lon             double precision NOT NULL,
	ts              timestamptz      NOT NULL,
	PRIMARY KEY (kafka_partition, kafka_offset)
);
CREATE TABLE IF NOT EXISTS rider_latest (
	rider_id        text             NOT NULL PRIMARY KEY,
	lat             double precision NOT NULL,
	lon             double precision NOT NULL,
	ts              timestamptz      NOT NULL,
	kafka_partition integer          NOT NULL,
	kafka_offset    bigint           NOT NULL,
	updated_at      timestamptz      NOT NULL DEFAULT now()
) WITH (fillfactor = 70);`

// pgStaging is the per-connection staging table.
const pgStaging = `CREATE TEMP TABLE IF NOT EXISTS rider_staging (
	kafka_partition integer, kafka_offset bigint, rider_id text,
	lat double precision, lon double precision, ts timestamptz
) ON COMMIT DELETE ROWS`

// pgStagingCols are rider_staging's columns in COPY order.
var pgStagingCols = []string{"kafka_partition", "kafka_offset", "rider_id", "lat", "lon", "ts"}

const (
	pgInsertHistory = `INSERT INTO rider_locations (kafka_partition, kafka_offset, rider_id, lat, lon, ts)
SELECT kafka_partition, kafka_offset, rider_id, lat, lon, ts FROM pg_temp.rider_staging
ON CONFLICT DO NOTHING`
	// pgUpsertTail is the rule of newer: ts, then (partition, offset).
	pgUpsertTail = `
ON CONFLICT (rider_id) DO UPDATE SET
	lat = excluded.lat, lon = excluded.lon, ts = excluded.ts,
	kafka_partition = excluded.kafka_partition, kafka_offset = excluded.kafka_offset,
	updated_at = excluded.updated_at
WHERE (excluded.ts, excluded.kafka_partition, excluded.kafka_offset) >
	(rider_latest.ts, rider_latest.kafka_partition, rider_latest.kafka_offset)`
	pgUpsertLatest = `INSERT INTO rider_latest (rider_id, lat, lon, ts, kafka_partition, kafka_offset, updated_at)
SELECT r, la, lo, t, p, o, now()
FROM unnest($1::text[], $2::float8[], $3::float8[], $4::timestamptz[], $5::int[], $6::bigint[]) AS u(r, la, lo, t, p, o)` + pgUpsertTail
	pgInsertOneHistory = `INSERT INTO rider_locations (kafka_partition, kafka_offset, rider_id, lat, lon, ts)
VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`
	pgInsertOneLatest = `INSERT INTO rider_latest (rider_id, lat, lon, ts, kafka_partition, kafka_offset, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, now())` + pgUpsertTail
)

// pgDB implements DB on PostgreSQL.
type pgDB struct {
	pool *pgxpool.Pool
}

// openPostgres connects a pool and creates the schema.
func openPostgres(ctx context.Context, dsn string) (DB, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("ridersdb: %w", err)
	}
	cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
		_, err := c.Exec(ctx, pgStaging)
		return err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("ridersdb: connect: %w", err)
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, pgSchema)
		return err
	})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("ridersdb: create schema: %w", err)
	}
	return &pgDB{pool: pool}, nil
}

// pgHistoryCols are rider_locations' columns in COPY order.
var pgHistoryCols = pgStagingCols

// WriteBatch implements DB.
func (d *pgDB) WriteBatch(ctx context.Context, us []Update) (int, error) {
	if len(us) == 0 {
		return 0, nil
	}
	latest := latestArrays(us)
	inserted, err := d.writeBatch(ctx, us, latest, false)
	if isUniqueViolation(err) {
		// Some rows are already there: a redelivered batch.
		inserted, err = d.writeBatch(ctx, us, latest, true)
	}
	if err != nil {
		return 0, fmt.Errorf("ridersdb: write batch: %w", err)
	}
	return inserted, nil
}

// writeBatch runs the batch's transaction: COPY into history directly, or
// through staging (skipping rows already there) when redelivered is set.
func (d *pgDB) writeBatch(ctx context.Context, us []Update, latest []any, redelivered bool) (int, error) {
	var inserted int64
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		src := pgx.CopyFromSlice(len(us), func(i int) ([]any, error) {
			u := &us[i]
			return []any{u.Partition, u.Offset, u.RiderID, u.Lat, u.Lon, u.TS}, nil
		})
		if !redelivered {
			n, err := tx.CopyFrom(ctx, pgx.Identifier{"rider_locations"}, pgHistoryCols, src)
			if err != nil {
				return fmt.Errorf("copy to history: %w", err)
			}
			inserted = n
		} else {
			if _, err := tx.CopyFrom(ctx, pgx.Identifier{"pg_temp", "rider_staging"}, pgStagingCols, src); err != nil {
				return fmt.Errorf("copy to staging: %w", err)
			}
			tag, err := tx.Exec(ctx, pgInsertHistory)
			if err != nil {
				return fmt.Errorf("insert history: %w", err)
			}
			inserted = tag.RowsAffected()
		}
		if _, err := tx.Exec(ctx, pgUpsertLatest, latest...); err != nil {
			return fmt.Errorf("upsert latest: %w", err)
		}
		return nil
	})
	return int(inserted), err
}

// latestArrays returns the upsert's parameters: column arrays of each
// rider's newest update, sorted by rider id.
func latestArrays(us []Update) []any {
	newest := newestPerRider(us)
	slices.SortFunc(newest, func(a, b *Update) int { return strings.Compare(a.RiderID, b.RiderID) })
	ids := make([]string, len(newest))
	lats := make([]float64, len(newest))
	lons := make([]float64, len(newest))
	tss := make([]time.Time, len(newest))
	parts := make([]int32, len(newest))
	offs := make([]int64, len(newest))
	for i, u := range newest {
		ids[i], lats[i], lons[i], tss[i], parts[i], offs[i] = u.RiderID, u.Lat, u.Lon, u.TS, u.Partition, u.Offset
	}
	return []any{ids, lats, lons, tss, parts, offs}
}

// isUniqueViolation reports a primary key conflict (SQLSTATE 23505).
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// InsertOne implements DB.
func (d *pgDB) InsertOne(ctx context.Context, l rider.Location, seq int64) error {
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, pgInsertOneHistory, DirectPartition, seq, l.RiderID, l.Lat, l.Lon, l.TS); err != nil {
			return fmt.Errorf("insert history: %w", err)
		}
		if _, err := tx.Exec(ctx, pgInsertOneLatest, l.RiderID, l.Lat, l.Lon, l.TS, DirectPartition, seq); err != nil {
			return fmt.Errorf("upsert latest: %w", err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("ridersdb: insert one: %w", err)
	}
	return nil
}

// Latest implements DB.
func (d *pgDB) Latest(ctx context.Context, limit int) ([]LatestRow, error) {
	rs, err := d.pool.Query(ctx, latestSQL+"$1", limit)
	if err != nil {
		return nil, fmt.Errorf("ridersdb: latest: %w", err)
	}
	defer rs.Close()
	var ts time.Time
	return scanLatest(rs, &ts, func() time.Time { return ts })
}

// Counts implements DB. Both are full counts, linear in the table sizes.
func (d *pgDB) Counts(ctx context.Context) (history, riders int64, err error) {
	return scanCounts(d.pool.QueryRow(ctx, countsSQL))
}

// Riders implements DB.
func (d *pgDB) Riders(ctx context.Context) (int64, error) {
	return scanRiders(d.pool.QueryRow(ctx, ridersSQL))
}

// Close implements DB.
func (d *pgDB) Close() error {
	d.pool.Close()
	return nil
}
