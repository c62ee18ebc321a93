package ridersdb

// postgres.go is the PostgreSQL dialect (pgx/v5, a connection pool).
//
// WriteBatch runs one transaction. History rows are COPYed straight into
// rider_locations, the fastest way into PostgreSQL; if the batch was
// (partly) written before, a redelivery after a crash, the COPY fails on
// the primary key and the transaction is retried through a per-connection
// temporary staging table (ON COMMIT DELETE ROWS): a join finds the staged
// positions history holds with another leader epoch (truncate.go), older
// rows are moved to rider_locations_truncated, and INSERT ... ON CONFLICT
// replaces them, leaving same-epoch rows alone. rider_latest is upserted from arrays (unnest) of
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

	"github.com/courier-dev/courier/internal/pipeline/rider"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgLock is the advisory lock the schema is created and migrated under,
// so that processes opening a new database at once do not race.
const pgLock = `SELECT pg_advisory_xact_lock(7220513011)`

// pgSchema creates the tables. rider_latest leaves room in its pages so
// that most updates are HOT (no index change).
const pgSchema = `
CREATE TABLE IF NOT EXISTS rider_locations (` + pgHistoryDDL + `
	PRIMARY KEY (topic, kafka_partition, kafka_offset)
);
CREATE TABLE IF NOT EXISTS rider_locations_truncated (` + pgHistoryDDL + `
	noticed_at      timestamptz      NOT NULL,
	PRIMARY KEY (topic, kafka_partition, kafka_offset, leader_epoch)
);
CREATE TABLE IF NOT EXISTS rider_latest (
	rider_id        text             NOT NULL PRIMARY KEY,
	lat             double precision NOT NULL,
	lon             double precision NOT NULL,
	ts              timestamptz      NOT NULL,
	kafka_partition integer          NOT NULL,
	kafka_offset    bigint           NOT NULL,
	leader_epoch    integer          NOT NULL,
	updated_at      timestamptz      NOT NULL DEFAULT now()
) WITH (fillfactor = 70);`

// pgHistoryDDL are the columns rider_locations and
// rider_locations_truncated share.
const pgHistoryDDL = `
	topic           text             NOT NULL,
	kafka_partition integer          NOT NULL,
	kafka_offset    bigint           NOT NULL,
	leader_epoch    integer          NOT NULL,
	rider_id        text             NOT NULL,
	lat             double precision NOT NULL,
	lon             double precision NOT NULL,
	ts              timestamptz      NOT NULL,`

// pgStaging is the per-connection staging table.
const pgStaging = `CREATE TEMP TABLE IF NOT EXISTS rider_staging (
	topic text, kafka_partition integer, kafka_offset bigint, leader_epoch integer,
	rider_id text, lat double precision, lon double precision, ts timestamptz
) ON COMMIT DELETE ROWS`

// pgHistoryCols are rider_locations' and rider_staging's columns in COPY
// order.
var pgHistoryCols = []string{"topic", "kafka_partition", "kafka_offset", "leader_epoch", "rider_id", "lat", "lon", "ts"}

const (
	// pgInsertHistory writes the staged rows: new positions are
	// inserted, positions held by an older epoch (moved aside first by
	// pgMoveAside) are replaced, the rest left alone.
	pgInsertHistory = `INSERT INTO rider_locations (topic, kafka_partition, kafka_offset, leader_epoch, rider_id, lat, lon, ts)
SELECT topic, kafka_partition, kafka_offset, leader_epoch, rider_id, lat, lon, ts FROM pg_temp.rider_staging
ON CONFLICT (topic, kafka_partition, kafka_offset) DO UPDATE SET
	leader_epoch = excluded.leader_epoch, rider_id = excluded.rider_id,
	lat = excluded.lat, lon = excluded.lon, ts = excluded.ts
WHERE rider_locations.leader_epoch < excluded.leader_epoch`
	// pgEpochConflicts lists the staged positions history holds with
	// another epoch: staged epoch, then held epoch.
	pgEpochConflicts = `SELECT s.topic, s.kafka_partition, s.kafka_offset, s.leader_epoch, l.leader_epoch
FROM pg_temp.rider_staging s JOIN rider_locations l USING (topic, kafka_partition, kafka_offset)
WHERE s.leader_epoch <> l.leader_epoch`
	pgTruncatedInsert = `INSERT INTO rider_locations_truncated
	(topic, kafka_partition, kafka_offset, leader_epoch, rider_id, lat, lon, ts, noticed_at)
`
	// pgMoveAside copies the history rows a staged row of a newer epoch
	// is about to replace.
	pgMoveAside = pgTruncatedInsert + `SELECT l.topic, l.kafka_partition, l.kafka_offset, l.leader_epoch, l.rider_id, l.lat, l.lon, l.ts, now()
FROM rider_locations l JOIN pg_temp.rider_staging s USING (topic, kafka_partition, kafka_offset)
WHERE l.leader_epoch < s.leader_epoch
ON CONFLICT DO NOTHING`
	// pgKeepStale copies the staged rows older than what history holds.
	pgKeepStale = pgTruncatedInsert + `SELECT s.topic, s.kafka_partition, s.kafka_offset, s.leader_epoch, s.rider_id, s.lat, s.lon, s.ts, now()
FROM pg_temp.rider_staging s JOIN rider_locations l USING (topic, kafka_partition, kafka_offset)
WHERE s.leader_epoch < l.leader_epoch
ON CONFLICT DO NOTHING`
	pgInsertTruncated = pgTruncatedInsert + `VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now()) ON CONFLICT DO NOTHING`
	// pgUpsertTail is the rule of newer: ts, then (partition, leader
	// epoch, offset).
	pgUpsertTail = `
ON CONFLICT (rider_id) DO UPDATE SET
	lat = excluded.lat, lon = excluded.lon, ts = excluded.ts,
	kafka_partition = excluded.kafka_partition, kafka_offset = excluded.kafka_offset,
	leader_epoch = excluded.leader_epoch, updated_at = excluded.updated_at
WHERE (excluded.ts, excluded.kafka_partition, excluded.leader_epoch, excluded.kafka_offset) >
	(rider_latest.ts, rider_latest.kafka_partition, rider_latest.leader_epoch, rider_latest.kafka_offset)`
	pgUpsertLatest = `INSERT INTO rider_latest (rider_id, lat, lon, ts, kafka_partition, kafka_offset, leader_epoch, updated_at)
SELECT r, la, lo, t, p, o, e, now()
FROM unnest($1::text[], $2::float8[], $3::float8[], $4::timestamptz[], $5::int[], $6::bigint[], $7::int[]) AS u(r, la, lo, t, p, o, e)` + pgUpsertTail
	pgInsertOneHistory = `INSERT INTO rider_locations (topic, kafka_partition, kafka_offset, leader_epoch, rider_id, lat, lon, ts)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`
	pgInsertOneLatest = `INSERT INTO rider_latest (rider_id, lat, lon, ts, kafka_partition, kafka_offset, leader_epoch, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, now())` + pgUpsertTail
)

// pgDB implements DB on PostgreSQL.
type pgDB struct {
	pool *pgxpool.Pool
}

// openPostgres connects a pool, migrates an older schema and creates the
// schema.
func openPostgres(ctx context.Context, dsn string, o options) (DB, error) {
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
		if _, err := tx.Exec(ctx, pgLock); err != nil {
			return err
		}
		if err := pgMigrate(ctx, tx, o); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, pgSchema)
		return err
	})
	if err != nil {
		pool.Close()
		return nil, fmt.Errorf("ridersdb: create schema: %w", err)
	}
	return &pgDB{pool: pool}, nil
}

// WriteBatch implements DB.
func (d *pgDB) WriteBatch(ctx context.Context, us []Update) (WriteResult, error) {
	if len(us) == 0 {
		return WriteResult{}, nil
	}
	keep, stale, dups := splitBatch(us)
	latest := latestArrays(us)
	res, err := d.writeBatch(ctx, keep, stale, latest, false)
	if isUniqueViolation(err) {
		// Some positions are already there: a redelivered batch, or a
		// truncation.
		res, err = d.writeBatch(ctx, keep, stale, latest, true)
	}
	if err != nil {
		return WriteResult{}, fmt.Errorf("ridersdb: write batch: %w", err)
	}
	res.Duplicates += dups
	return res, nil
}

// writeBatch runs the batch's transaction: COPY into history directly, or
// through staging (comparing epochs with the rows already there) when
// redelivered is set.
func (d *pgDB) writeBatch(ctx context.Context, keep []Update, stale []lost, latest []any, redelivered bool) (WriteResult, error) {
	var res WriteResult
	var replaced, staleHeld []lost
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		res, replaced, staleHeld = WriteResult{}, nil, nil
		src := pgx.CopyFromSlice(len(keep), func(i int) ([]any, error) {
			u := &keep[i]
			return []any{u.Topic, u.Partition, u.Offset, u.LeaderEpoch, u.RiderID, u.Lat, u.Lon, u.TS}, nil
		})
		if !redelivered {
			n, err := tx.CopyFrom(ctx, pgx.Identifier{"rider_locations"}, pgHistoryCols, src)
			if err != nil {
				return fmt.Errorf("copy to history: %w", err)
			}
			res.Inserted = int(n)
		} else {
			var err error
			if replaced, staleHeld, err = pgResolve(ctx, tx, src); err != nil {
				return err
			}
			tag, err := tx.Exec(ctx, pgInsertHistory)
			if err != nil {
				return fmt.Errorf("insert history: %w", err)
			}
			res.Inserted = int(tag.RowsAffected()) - len(replaced)
			res.Duplicates = len(keep) - int(tag.RowsAffected()) - len(staleHeld)
		}
		for _, l := range stale {
			u := l.u
			if _, err := tx.Exec(ctx, pgInsertTruncated, u.Topic, u.Partition, u.Offset, u.LeaderEpoch, u.RiderID, u.Lat, u.Lon, u.TS); err != nil {
				return fmt.Errorf("keep a truncated record: %w", err)
			}
		}
		if _, err := tx.Exec(ctx, pgUpsertLatest, latest...); err != nil {
			return fmt.Errorf("upsert latest: %w", err)
		}
		return nil
	})
	if err != nil {
		return WriteResult{}, err
	}
	res.Replaced, res.Stale = len(replaced), len(stale)+len(staleHeld)
	res.Truncations = summarize(append(append(replaced, stale...), staleHeld...))
	return res, nil
}

// pgResolve stages the batch and compares its epochs with history's: rows
// about to be replaced by a newer epoch are moved aside, staged rows older
// than history's are kept aside; it returns both. A plain redelivery (same
// epochs) costs one join that finds nothing.
func pgResolve(ctx context.Context, tx pgx.Tx, src pgx.CopyFromSource) (replaced, stale []lost, err error) {
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"pg_temp", "rider_staging"}, pgHistoryCols, src); err != nil {
		return nil, nil, fmt.Errorf("copy to staging: %w", err)
	}
	rows, err := tx.Query(ctx, pgEpochConflicts)
	if err != nil {
		return nil, nil, fmt.Errorf("compare epochs: %w", err)
	}
	for rows.Next() {
		var p position
		var staged, held int32
		if err := rows.Scan(&p.topic, &p.partition, &p.offset, &staged, &held); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("compare epochs: %w", err)
		}
		if staged > held {
			replaced = append(replaced, lost{pos: p, lostEpoch: held, keptEpoch: staged})
		} else {
			stale = append(stale, lost{pos: p, lostEpoch: staged, keptEpoch: held})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("compare epochs: %w", err)
	}
	if len(replaced) > 0 {
		if _, err := tx.Exec(ctx, pgMoveAside); err != nil {
			return nil, nil, fmt.Errorf("move truncated records aside: %w", err)
		}
	}
	if len(stale) > 0 {
		if _, err := tx.Exec(ctx, pgKeepStale); err != nil {
			return nil, nil, fmt.Errorf("keep stale records aside: %w", err)
		}
	}
	return replaced, stale, nil
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
	epochs := make([]int32, len(newest))
	for i, u := range newest {
		ids[i], lats[i], lons[i], tss[i], parts[i], offs[i], epochs[i] = u.RiderID, u.Lat, u.Lon, u.TS, u.Partition, u.Offset, u.LeaderEpoch
	}
	return []any{ids, lats, lons, tss, parts, offs, epochs}
}

// isUniqueViolation reports a primary key conflict (SQLSTATE 23505).
func isUniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// InsertOne implements DB.
func (d *pgDB) InsertOne(ctx context.Context, l rider.Location, seq int64) error {
	err := pgx.BeginFunc(ctx, d.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, pgInsertOneHistory, DirectTopic, DirectPartition, seq, NoEpoch, l.RiderID, l.Lat, l.Lon, l.TS); err != nil {
			return fmt.Errorf("insert history: %w", err)
		}
		if _, err := tx.Exec(ctx, pgInsertOneLatest, l.RiderID, l.Lat, l.Lon, l.TS, DirectPartition, seq, NoEpoch); err != nil {
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
