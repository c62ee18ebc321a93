package ridersdb

// history.go reads rider_locations and rider_locations_truncated back, in
// key order, for checks and exports (the sink's tests compare history with
// what was produced).

import (
	"context"
	"fmt"
	"time"
)

const (
	historySQL   = `SELECT topic, kafka_partition, kafka_offset, leader_epoch, rider_id, lat, lon, ts FROM rider_locations ORDER BY topic, kafka_partition, kafka_offset`
	truncatedSQL = `SELECT topic, kafka_partition, kafka_offset, leader_epoch, rider_id, lat, lon, ts, noticed_at FROM rider_locations_truncated ORDER BY topic, kafka_partition, kafka_offset, leader_epoch`
)

// ReadHistory calls fn with every rider_locations row in (topic,
// partition, offset) order, stopping at fn's first error. db must come
// from Open.
func ReadHistory(ctx context.Context, db DB, fn func(Update) error) error {
	return readUpdates(ctx, db, historySQL, false, func(u Update, _ time.Time) error { return fn(u) })
}

// ReadTruncated calls fn with every rider_locations_truncated row in
// (topic, partition, offset, leader epoch) order, stopping at fn's first
// error. db must come from Open.
func ReadTruncated(ctx context.Context, db DB, fn func(TruncatedRow) error) error {
	return readUpdates(ctx, db, truncatedSQL, true, func(u Update, noticed time.Time) error {
		return fn(TruncatedRow{Update: u, NoticedAt: noticed})
	})
}

// readUpdates runs q, whose columns are an Update's and, if noticed is
// set, noticed_at, and calls fn with each row.
func readUpdates(ctx context.Context, db DB, q string, noticed bool, fn func(Update, time.Time) error) error {
	var (
		rs      rows
		ts, nts any
		tsOf    func(any) time.Time
	)
	switch d := db.(type) {
	case *sqliteDB:
		r, err := d.r.QueryContext(ctx, q)
		if err != nil {
			return fmt.Errorf("ridersdb: read history: %w", err)
		}
		defer r.Close()
		rs, ts, nts = r, new(int64), new(int64)
		tsOf = func(v any) time.Time { return time.UnixMicro(*v.(*int64)) }
	case *pgDB:
		r, err := d.pool.Query(ctx, q)
		if err != nil {
			return fmt.Errorf("ridersdb: read history: %w", err)
		}
		defer r.Close()
		rs, ts, nts = r, new(time.Time), new(time.Time)
		tsOf = func(v any) time.Time { return *v.(*time.Time) }
	default:
		return fmt.Errorf("ridersdb: read history: %T is not a database from Open", db)
	}
	for rs.Next() {
		var u Update
		dest := []any{&u.Topic, &u.Partition, &u.Offset, &u.LeaderEpoch, &u.RiderID, &u.Lat, &u.Lon, ts}
		if noticed {
			dest = append(dest, nts)
		}
		if err := rs.Scan(dest...); err != nil {
			return fmt.Errorf("ridersdb: read history: %w", err)
		}
		u.TS = tsOf(ts).UTC()
		var n time.Time
		if noticed {
			n = tsOf(nts).UTC()
		}
		if err := fn(u, n); err != nil {
			return err
		}
	}
	return rs.Err()
}
