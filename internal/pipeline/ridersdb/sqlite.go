package ridersdb

// sqlite.go is the SQLite dialect (modernc.org/sqlite, pure Go).
//
// Durability: the database runs in WAL mode with synchronous=FULL (the
// default): the WAL is fsynced at every commit, so a committed transaction
// survives a power loss or kernel crash too. This matters because the sink
// commits its Kafka offsets after the database commit: a commit that a
// power loss could undo would lose those updates for good.
// "?synchronous=normal" in the DSN skips the fsync (a committed transaction
// still survives a crash of the process) for throughput where losing the
// last transactions is acceptable.
//
// All writes go through one connection (SQLite has a single writer
// anyway); reads use a separate small pool, which WAL lets run beside a
// write. Rows are written by multi-row INSERT statements of up to
// sqliteChunk rows, prepared once: in modernc.org/sqlite the cost per
// statement, not per row, dominates.
//
// ts and updated_at are INTEGER Unix microseconds (UTC), which sort and
// compare like the times they stand for.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/rider"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// sqliteChunk is the number of rows per multi-row INSERT statement.
const sqliteChunk = 250

// sqliteSchema creates the tables; WITHOUT ROWID clusters each table on
// its primary key, so no second index is kept.
const sqliteSchema = `
CREATE TABLE IF NOT EXISTS rider_locations (` + sqliteHistoryCols + `
	PRIMARY KEY (topic, kafka_partition, kafka_offset)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rider_locations_truncated (` + sqliteHistoryCols + `
	noticed_at      INTEGER NOT NULL,
	PRIMARY KEY (topic, kafka_partition, kafka_offset, leader_epoch)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS rider_latest (
	rider_id        TEXT    NOT NULL PRIMARY KEY,
	lat             REAL    NOT NULL,
	lon             REAL    NOT NULL,
	ts              INTEGER NOT NULL,
	kafka_partition INTEGER NOT NULL,
	kafka_offset    INTEGER NOT NULL,
	leader_epoch    INTEGER NOT NULL,
	updated_at      INTEGER NOT NULL
) WITHOUT ROWID;`

// sqliteHistoryCols are the columns rider_locations and
// rider_locations_truncated share.
const sqliteHistoryCols = `
	topic           TEXT    NOT NULL,
	kafka_partition INTEGER NOT NULL,
	kafka_offset    INTEGER NOT NULL,
	leader_epoch    INTEGER NOT NULL,
	rider_id        TEXT    NOT NULL,
	lat             REAL    NOT NULL,
	lon             REAL    NOT NULL,
	ts              INTEGER NOT NULL,`

const (
	sqliteHistoryHead = `INSERT INTO rider_locations (topic, kafka_partition, kafka_offset, leader_epoch, rider_id, lat, lon, ts) VALUES `
	sqliteHistoryRow  = `(?,?,?,?,?,?,?,?)`
	sqliteHistoryTail = ` ON CONFLICT DO NOTHING`
	sqliteLatestHead  = `INSERT INTO rider_latest (rider_id, lat, lon, ts, kafka_partition, kafka_offset, leader_epoch, updated_at) VALUES `
	sqliteLatestRow   = `(?,?,?,?,?,?,?,?)`
	// The row-value comparison is the rule of newer: ts, then
	// (partition, leader epoch, offset).
	sqliteLatestTail = ` ON CONFLICT (rider_id) DO UPDATE SET
	lat = excluded.lat, lon = excluded.lon, ts = excluded.ts,
	kafka_partition = excluded.kafka_partition, kafka_offset = excluded.kafka_offset,
	leader_epoch = excluded.leader_epoch, updated_at = excluded.updated_at
WHERE (excluded.ts, excluded.kafka_partition, excluded.leader_epoch, excluded.kafka_offset) >
	(rider_latest.ts, rider_latest.kafka_partition, rider_latest.leader_epoch, rider_latest.kafka_offset)`
	// The statements of a truncation, rare enough to run row by row.
	sqliteMoveAside = `INSERT INTO rider_locations_truncated
	(topic, kafka_partition, kafka_offset, leader_epoch, rider_id, lat, lon, ts, noticed_at)
SELECT topic, kafka_partition, kafka_offset, leader_epoch, rider_id, lat, lon, ts, ? FROM rider_locations
WHERE topic = ? AND kafka_partition = ? AND kafka_offset = ?
ON CONFLICT DO NOTHING`
	sqliteReplace = `UPDATE rider_locations SET leader_epoch = ?, rider_id = ?, lat = ?, lon = ?, ts = ?
WHERE topic = ? AND kafka_partition = ? AND kafka_offset = ?`
	sqliteInsertTruncated = `INSERT INTO rider_locations_truncated
	(topic, kafka_partition, kafka_offset, leader_epoch, rider_id, lat, lon, ts, noticed_at)
VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING`
)

// sqliteDB implements DB on SQLite.
type sqliteDB struct {
	w, r *sql.DB // w has one connection and takes every write

	mu        sync.Mutex // serializes writers and guards args
	args      []any
	histChunk *sql.Stmt // sqliteChunk rows
	latChunk  *sql.Stmt
	histOne   *sql.Stmt
	latOne    *sql.Stmt
}

// sqlitePath splits a DSN into a file path and the synchronous level.
func sqlitePath(dsn string) (path, level string, err error) {
	rest := dsn
	for _, p := range []string{"sqlite://", "sqlite:", "file:"} {
		if strings.HasPrefix(rest, p) {
			rest = rest[len(p):]
			break
		}
	}
	path, query, _ := strings.Cut(rest, "?")
	if path == "" || path == ":memory:" {
		return "", "", fmt.Errorf("ridersdb: %q: SQLite needs a file path", dsn)
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return "", "", fmt.Errorf("ridersdb: %q: %w", dsn, err)
	}
	level = "FULL"
	for k, v := range q {
		switch k {
		case "synchronous":
			switch s := strings.ToUpper(v[len(v)-1]); s {
			case "NORMAL", "FULL", "EXTRA":
				level = s
			default:
				return "", "", fmt.Errorf("ridersdb: %q: synchronous must be normal, full or extra", dsn)
			}
		default:
			return "", "", fmt.Errorf("ridersdb: %q: unknown parameter %q (known: synchronous)", dsn, k)
		}
	}
	return path, level, nil
}

// openSQLite opens the file named by dsn, creating it and the schema.
func openSQLite(ctx context.Context, dsn string, o options) (DB, error) {
	path, level, err := sqlitePath(dsn)
	if err != nil {
		return nil, err
	}
	base := "file:" + path + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(" + level + ")"
	w, err := sql.Open("sqlite", base+"&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	w.SetConnMaxIdleTime(0)
	d := &sqliteDB{w: w}
	if err := d.init(ctx, o); err != nil {
		w.Close()
		return nil, fmt.Errorf("ridersdb: open %s: %w", path, err)
	}
	d.r, err = sql.Open("sqlite", base+"&_pragma=query_only(1)")
	if err != nil {
		d.Close()
		return nil, err
	}
	d.r.SetMaxOpenConns(4)
	return d, nil
}

// init migrates an older schema, creates the schema and prepares the
// write statements.
func (d *sqliteDB) init(ctx context.Context, o options) error {
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := sqliteMigrate(ctx, tx, o); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, sqliteSchema); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	prep := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var s *sql.Stmt
		s, err = d.w.PrepareContext(ctx, q)
		return s
	}
	d.histChunk = prep(sqliteHistorySQL(sqliteChunk))
	d.latChunk = prep(sqliteLatestSQL(sqliteChunk))
	d.histOne = prep(sqliteHistorySQL(1))
	d.latOne = prep(sqliteLatestSQL(1))
	d.args = make([]any, 0, 8*sqliteChunk)
	return err
}

// sqliteHistorySQL is the history INSERT of n rows.
func sqliteHistorySQL(n int) string {
	return sqliteHistoryHead + strings.Repeat(sqliteHistoryRow+",", n-1) + sqliteHistoryRow + sqliteHistoryTail
}

// sqliteLatestSQL is the latest upsert of n rows.
func sqliteLatestSQL(n int) string {
	return sqliteLatestHead + strings.Repeat(sqliteLatestRow+",", n-1) + sqliteLatestRow + sqliteLatestTail
}

// WriteBatch implements DB. The history rows go in by multi-row INSERT ...
// ON CONFLICT DO NOTHING; only if some were already there (a redelivery,
// or a truncation) are their epochs read back and compared.
func (d *sqliteDB) WriteBatch(ctx context.Context, us []Update) (WriteResult, error) {
	var res WriteResult
	if len(us) == 0 {
		return res, nil
	}
	keep, stale, dups := splitBatch(us)
	d.mu.Lock()
	defer d.mu.Unlock()
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return res, fmt.Errorf("ridersdb: begin: %w", err)
	}
	defer tx.Rollback()
	for i := 0; i < len(keep); i += sqliteChunk {
		chunk := keep[i:min(i+sqliteChunk, len(keep))]
		args := d.args[:0]
		for j := range chunk {
			u := &chunk[j]
			args = append(args, u.Topic, u.Partition, u.Offset, u.LeaderEpoch, u.RiderID, u.Lat, u.Lon, u.TS.UnixMicro())
		}
		n, err := d.exec(ctx, tx, d.histChunk, sqliteHistorySQL, len(chunk), args)
		if err != nil {
			return res, fmt.Errorf("ridersdb: insert history: %w", err)
		}
		res.Inserted += int(n)
	}
	now := time.Now()
	var replaced []lost
	if res.Inserted < len(keep) {
		held, err := d.heldEpochs(ctx, tx, keep)
		if err != nil {
			return res, err
		}
		var moreStale []lost
		if replaced, moreStale, err = d.resolve(ctx, tx, keep, held, now); err != nil {
			return res, err
		}
		stale = append(stale, moreStale...)
		res.Duplicates = len(keep) - res.Inserted - len(replaced) - len(moreStale)
	}
	res.Duplicates += dups
	res.Replaced, res.Stale = len(replaced), len(stale)
	res.Truncations = summarize(append(replaced, stale...))
	for _, l := range stale {
		u := l.u
		if _, err := tx.ExecContext(ctx, sqliteInsertTruncated, u.Topic, u.Partition, u.Offset, u.LeaderEpoch,
			u.RiderID, u.Lat, u.Lon, u.TS.UnixMicro(), now.UnixMicro()); err != nil {
			return res, fmt.Errorf("ridersdb: keep a truncated record: %w", err)
		}
	}
	latest := newestPerRider(us)
	for i := 0; i < len(latest); i += sqliteChunk {
		chunk := latest[i:min(i+sqliteChunk, len(latest))]
		args := d.args[:0]
		for _, u := range chunk {
			args = append(args, u.RiderID, u.Lat, u.Lon, u.TS.UnixMicro(), u.Partition, u.Offset, u.LeaderEpoch, now.UnixMicro())
		}
		if _, err := d.exec(ctx, tx, d.latChunk, sqliteLatestSQL, len(chunk), args); err != nil {
			return res, fmt.Errorf("ridersdb: upsert latest: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return WriteResult{}, fmt.Errorf("ridersdb: commit: %w", err)
	}
	return res, nil
}

// heldEpochs returns the leader epoch rider_locations holds at each
// position of keep (all of them, as keep was just inserted).
func (d *sqliteDB) heldEpochs(ctx context.Context, tx *sql.Tx, keep []Update) (map[position]int32, error) {
	held := make(map[position]int32, len(keep))
	for i := 0; i < len(keep); i += sqliteChunk {
		chunk := keep[i:min(i+sqliteChunk, len(keep))]
		args := d.args[:0]
		for j := range chunk {
			args = append(args, chunk[j].Topic, chunk[j].Partition, chunk[j].Offset)
		}
		q := `SELECT topic, kafka_partition, kafka_offset, leader_epoch FROM rider_locations
WHERE (topic, kafka_partition, kafka_offset) IN (VALUES ` + strings.Repeat("(?,?,?),", len(chunk)-1) + `(?,?,?))`
		rs, err := tx.QueryContext(ctx, q, args...)
		if err != nil {
			return nil, fmt.Errorf("ridersdb: read epochs: %w", err)
		}
		for rs.Next() {
			var p position
			var e int32
			if err := rs.Scan(&p.topic, &p.partition, &p.offset, &e); err != nil {
				rs.Close()
				return nil, fmt.Errorf("ridersdb: read epochs: %w", err)
			}
			held[p] = e
		}
		if err := errors.Join(rs.Err(), rs.Close()); err != nil {
			return nil, fmt.Errorf("ridersdb: read epochs: %w", err)
		}
	}
	return held, nil
}

// resolve compares each update of keep with the epoch held at its
// position: an older one is moved aside and replaced; a newer one makes
// the update stale (returned, for the caller to keep aside). Equal epochs
// are the update itself or a redelivery of it.
func (d *sqliteDB) resolve(ctx context.Context, tx *sql.Tx, keep []Update, held map[position]int32, now time.Time) (replaced, stale []lost, err error) {
	for i := range keep {
		u := &keep[i]
		p := posOf(u)
		e, ok := held[p]
		switch {
		case !ok:
			return nil, nil, fmt.Errorf("ridersdb: history row %s/%d/%d missing after its insert", p.topic, p.partition, p.offset)
		case e == u.LeaderEpoch:
			continue
		case e > u.LeaderEpoch:
			stale = append(stale, lost{pos: p, lostEpoch: u.LeaderEpoch, keptEpoch: e, u: u})
			continue
		}
		if _, err := tx.ExecContext(ctx, sqliteMoveAside, now.UnixMicro(), p.topic, p.partition, p.offset); err != nil {
			return nil, nil, fmt.Errorf("ridersdb: move a truncated record aside: %w", err)
		}
		if _, err := tx.ExecContext(ctx, sqliteReplace, u.LeaderEpoch, u.RiderID, u.Lat, u.Lon, u.TS.UnixMicro(), p.topic, p.partition, p.offset); err != nil {
			return nil, nil, fmt.Errorf("ridersdb: replace a truncated record: %w", err)
		}
		replaced = append(replaced, lost{pos: p, lostEpoch: e, keptEpoch: u.LeaderEpoch})
	}
	return replaced, stale, nil
}

// exec runs a statement of n rows: the prepared full-chunk one, or a
// statement built for a shorter tail. It returns the rows changed.
func (d *sqliteDB) exec(ctx context.Context, tx *sql.Tx, full *sql.Stmt, build func(int) string, n int, args []any) (int64, error) {
	var res sql.Result
	var err error
	if n == sqliteChunk {
		res, err = tx.StmtContext(ctx, full).ExecContext(ctx, args...)
	} else {
		res, err = tx.ExecContext(ctx, build(n), args...)
	}
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// InsertOne implements DB.
func (d *sqliteDB) InsertOne(ctx context.Context, l rider.Location, seq int64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("ridersdb: begin: %w", err)
	}
	defer tx.Rollback()
	ts := l.TS.UnixMicro()
	if _, err := tx.StmtContext(ctx, d.histOne).ExecContext(ctx, DirectTopic, DirectPartition, seq, NoEpoch, l.RiderID, l.Lat, l.Lon, ts); err != nil {
		return fmt.Errorf("ridersdb: insert history: %w", err)
	}
	if _, err := tx.StmtContext(ctx, d.latOne).ExecContext(ctx, l.RiderID, l.Lat, l.Lon, ts, DirectPartition, seq, NoEpoch, time.Now().UnixMicro()); err != nil {
		return fmt.Errorf("ridersdb: upsert latest: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("ridersdb: commit: %w", err)
	}
	return nil
}

// Latest implements DB.
func (d *sqliteDB) Latest(ctx context.Context, limit int) ([]LatestRow, error) {
	rs, err := d.r.QueryContext(ctx, latestSQL+"?", limit)
	if err != nil {
		return nil, fmt.Errorf("ridersdb: latest: %w", err)
	}
	defer rs.Close()
	var ts int64
	return scanLatest(rs, &ts, func() time.Time { return time.UnixMicro(ts) })
}

// Counts implements DB. Both are full counts, linear in the table sizes.
func (d *sqliteDB) Counts(ctx context.Context) (history, riders int64, err error) {
	return scanCounts(d.r.QueryRowContext(ctx, countsSQL))
}

// Riders implements DB.
func (d *sqliteDB) Riders(ctx context.Context) (int64, error) {
	return scanRiders(d.r.QueryRowContext(ctx, ridersSQL))
}

// Close implements DB.
func (d *sqliteDB) Close() error {
	var err error
	if d.r != nil {
		err = d.r.Close()
	}
	if e := d.w.Close(); err == nil {
		err = e
	}
	return err
}
