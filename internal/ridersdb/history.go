package ridersdb

// history.go reads rider_locations back, in key order, for checks and
// exports (the sink's tests compare it with what was produced).

import (
	"context"
	"fmt"
	"time"
)

// ReadHistory calls fn with every rider_locations row in
// (partition, offset) order, stopping at fn's first error. db must come
// from Open.
func ReadHistory(ctx context.Context, db DB, fn func(Update) error) error {
	const q = `SELECT kafka_partition, kafka_offset, rider_id, lat, lon, ts FROM rider_locations ORDER BY kafka_partition, kafka_offset`
	switch d := db.(type) {
	case *sqliteDB:
		rows, err := d.r.QueryContext(ctx, q)
		if err != nil {
			return fmt.Errorf("ridersdb: read history: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var u Update
			var ts int64
			if err := rows.Scan(&u.Partition, &u.Offset, &u.RiderID, &u.Lat, &u.Lon, &ts); err != nil {
				return fmt.Errorf("ridersdb: read history: %w", err)
			}
			u.TS = time.UnixMicro(ts).UTC()
			if err := fn(u); err != nil {
				return err
			}
		}
		return rows.Err()
	case *pgDB:
		rows, err := d.pool.Query(ctx, q)
		if err != nil {
			return fmt.Errorf("ridersdb: read history: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var u Update
			if err := rows.Scan(&u.Partition, &u.Offset, &u.RiderID, &u.Lat, &u.Lon, &u.TS); err != nil {
				return fmt.Errorf("ridersdb: read history: %w", err)
			}
			u.TS = u.TS.UTC()
			if err := fn(u); err != nil {
				return err
			}
		}
		return rows.Err()
	}
	return fmt.Errorf("ridersdb: read history: %T is not a database from Open", db)
}
