package ridersdb

// read.go holds the reads both dialects make alike: the queries are the
// same SQL, and pgx's and database/sql's rows scan the same way; only the
// type ts is stored as differs.

import (
	"fmt"
	"time"
)

const (
	// latestSQL lists riders' latest locations, newest first; its one
	// parameter (the limit) is the dialect's placeholder.
	latestSQL = `SELECT rider_id, lat, lon, ts, kafka_partition FROM rider_latest ORDER BY ts DESC, rider_id LIMIT `
	countsSQL = `SELECT (SELECT count(*) FROM rider_locations), (SELECT count(*) FROM rider_latest)`
	ridersSQL = `SELECT count(*) FROM rider_latest`
)

// row is a single-row result (pgx.Row, *sql.Row).
type row interface{ Scan(dest ...any) error }

// rows is a result set (pgx.Rows, *sql.Rows).
type rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
}

// scanLatest reads latestSQL's rows. ts is where the dialect scans the ts
// column, and tsOf turns what was scanned into a time.
func scanLatest(rs rows, ts any, tsOf func() time.Time) ([]LatestRow, error) {
	var out []LatestRow
	for rs.Next() {
		var r LatestRow
		if err := rs.Scan(&r.RiderID, &r.Lat, &r.Lon, ts, &r.Partition); err != nil {
			return nil, fmt.Errorf("ridersdb: latest: %w", err)
		}
		r.TS = tsOf().UTC()
		out = append(out, r)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("ridersdb: latest: %w", err)
	}
	return out, nil
}

// scanCounts reads countsSQL's row.
func scanCounts(r row) (history, riders int64, err error) {
	if err = r.Scan(&history, &riders); err != nil {
		err = fmt.Errorf("ridersdb: counts: %w", err)
	}
	return history, riders, err
}

// scanRiders reads ridersSQL's row.
func scanRiders(r row) (n int64, err error) {
	if err = r.Scan(&n); err != nil {
		err = fmt.Errorf("ridersdb: count riders: %w", err)
	}
	return n, err
}
