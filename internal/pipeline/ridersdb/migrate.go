package ridersdb

// migrate.go brings a database of the schema before topics and leader
// epochs (rider_locations keyed by (kafka_partition, kafka_offset), no
// rider_locations_truncated, rider_latest without leader_epoch) to the
// current one. It runs in the transaction that creates the schema, so a
// crash or error midway leaves the old schema whole, and it copies or
// alters rows, never drops any: SQLite's table rebuild checks that the new
// table holds as many rows as the old before dropping the old.
//
// Existing rows get:
//   - topic: the legacy topic (WithLegacyTopic: the sink's --topic they
//     came from); rows of InsertOne (kafka_partition -1) get DirectTopic;
//   - leader_epoch 0: the broker before leader epochs stamped every batch
//     with 0, so such a record delivered again arrives with epoch 0 and is
//     recognized as the same record (skipped). NoEpoch (-1) would make
//     every redelivered old record look like a truncation and move the
//     rows aside. Rows of InsertOne get NoEpoch, like new ones.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// maxTopicLen is Kafka's longest topic name.
const maxTopicLen = 249

// legacyTopic returns the checked legacy topic; it is written into SQL
// text by the PostgreSQL migration, so only Kafka's topic characters
// ([A-Za-z0-9._-]) are accepted.
func (o options) legacyTopic() (string, error) {
	t := o.legacyTopicName
	if t == "" {
		return "", errors.New("rider_locations has no topic and leader_epoch columns (a database written before Courier kept them): " +
			"open it with the topic its rows came from (courier sink --topic, ridersdb.WithLegacyTopic) to migrate it")
	}
	if len(t) > maxTopicLen {
		return "", fmt.Errorf("legacy topic %.20q...: longer than %d characters", t, maxTopicLen)
	}
	for i := 0; i < len(t); i++ {
		c := t[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-') {
			return "", fmt.Errorf("legacy topic %q: character %q is not allowed in a Kafka topic name", t, rune(c))
		}
	}
	return t, nil
}

// sqliteColumn reports whether table exists and has column.
func sqliteColumn(ctx context.Context, tx *sql.Tx, table, column string) (exists, has bool, err error) {
	rs, err := tx.QueryContext(ctx, `SELECT name FROM pragma_table_info(?)`, table)
	if err != nil {
		return false, false, fmt.Errorf("read the columns of %s: %w", table, err)
	}
	defer rs.Close()
	for rs.Next() {
		var name string
		if err := rs.Scan(&name); err != nil {
			return false, false, fmt.Errorf("read the columns of %s: %w", table, err)
		}
		exists = true
		has = has || name == column
	}
	return exists, has, rs.Err()
}

// sqliteMigrate migrates an older SQLite schema inside tx. SQLite cannot
// change a primary key in place, so rider_locations is rebuilt.
func sqliteMigrate(ctx context.Context, tx *sql.Tx, o options) error {
	exists, has, err := sqliteColumn(ctx, tx, "rider_locations", "topic")
	if err != nil {
		return err
	}
	if exists && !has {
		topic, err := o.legacyTopic()
		if err != nil {
			return err
		}
		start := time.Now()
		o.logger.Warn("migrating rider_locations to keys of (topic, partition, offset) with leader epochs; this copies the table once", "topic", topic)
		if _, err := tx.ExecContext(ctx, `CREATE TABLE rider_locations_v2 (`+sqliteHistoryCols+`
	PRIMARY KEY (topic, kafka_partition, kafka_offset)
) WITHOUT ROWID`); err != nil {
			return fmt.Errorf("migrate: create rider_locations_v2: %w", err)
		}
		r, err := tx.ExecContext(ctx, `INSERT INTO rider_locations_v2 (topic, kafka_partition, kafka_offset, leader_epoch, rider_id, lat, lon, ts)
SELECT CASE WHEN kafka_partition = ? THEN ? ELSE ? END, kafka_partition, kafka_offset,
	CASE WHEN kafka_partition = ? THEN ? ELSE 0 END, rider_id, lat, lon, ts
FROM rider_locations`, DirectPartition, DirectTopic, topic, DirectPartition, NoEpoch)
		if err != nil {
			return fmt.Errorf("migrate: copy rider_locations: %w", err)
		}
		copied, err := r.RowsAffected()
		if err != nil {
			return fmt.Errorf("migrate: copy rider_locations: %w", err)
		}
		var old int64
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM rider_locations`).Scan(&old); err != nil {
			return fmt.Errorf("migrate: count rider_locations: %w", err)
		}
		if copied != old {
			return fmt.Errorf("migrate: copied %d of %d rider_locations rows; the old table is left as it was", copied, old)
		}
		if _, err := tx.ExecContext(ctx, `DROP TABLE rider_locations; ALTER TABLE rider_locations_v2 RENAME TO rider_locations`); err != nil {
			return fmt.Errorf("migrate: replace rider_locations: %w", err)
		}
		o.logger.Warn("migrated rider_locations", "rows", copied, "topic", topic, "took", time.Since(start).Round(time.Millisecond))
	}
	exists, has, err = sqliteColumn(ctx, tx, "rider_latest", "leader_epoch")
	if err != nil {
		return err
	}
	if exists && !has {
		if _, err := tx.ExecContext(ctx, `ALTER TABLE rider_latest ADD COLUMN leader_epoch INTEGER NOT NULL DEFAULT 0`); err != nil {
			return fmt.Errorf("migrate: add rider_latest.leader_epoch: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE rider_latest SET leader_epoch = ? WHERE kafka_partition = ?`, NoEpoch, DirectPartition); err != nil {
			return fmt.Errorf("migrate: rider_latest epochs: %w", err)
		}
		o.logger.Warn("migrated rider_latest: added leader_epoch")
	}
	return nil
}

// pgMigrate migrates an older PostgreSQL schema inside tx, which holds the
// schema's advisory lock. Adding a column with a constant default does not
// rewrite the table; the new primary key builds one index.
func pgMigrate(ctx context.Context, tx pgx.Tx, o options) error {
	const q = `SELECT to_regclass('rider_locations') IS NOT NULL,
	EXISTS (SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1 AND column_name = $2)`
	var exists, has bool
	if err := tx.QueryRow(ctx, q, "rider_locations", "topic").Scan(&exists, &has); err != nil {
		return fmt.Errorf("migrate: read the schema: %w", err)
	}
	if exists && !has {
		topic, err := o.legacyTopic()
		if err != nil {
			return err
		}
		start := time.Now()
		o.logger.Warn("migrating rider_locations to keys of (topic, partition, offset) with leader epochs", "topic", topic)
		var pkey string
		if err := tx.QueryRow(ctx, `SELECT conname FROM pg_constraint WHERE conrelid = 'rider_locations'::regclass AND contype = 'p'`).Scan(&pkey); err != nil {
			return fmt.Errorf("migrate: find rider_locations' primary key: %w", err)
		}
		// topic holds only [A-Za-z0-9._-] (legacyTopic), so quoting it
		// is safe; DDL takes no parameters.
		stmts := []string{
			`ALTER TABLE rider_locations ADD COLUMN topic text NOT NULL DEFAULT '` + topic + `'`,
			`ALTER TABLE rider_locations ALTER COLUMN topic DROP DEFAULT`,
			`ALTER TABLE rider_locations ADD COLUMN leader_epoch integer NOT NULL DEFAULT 0`,
			`ALTER TABLE rider_locations ALTER COLUMN leader_epoch DROP DEFAULT`,
			fmt.Sprintf(`UPDATE rider_locations SET topic = '', leader_epoch = %d WHERE kafka_partition = %d`, NoEpoch, DirectPartition),
			`ALTER TABLE rider_locations DROP CONSTRAINT ` + pgx.Identifier{pkey}.Sanitize() + `, ADD PRIMARY KEY (topic, kafka_partition, kafka_offset)`,
		}
		for _, s := range stmts {
			if _, err := tx.Exec(ctx, s); err != nil {
				return fmt.Errorf("migrate rider_locations: %s: %w", s, err)
			}
		}
		var rows int64
		if err := tx.QueryRow(ctx, `SELECT count(*) FROM rider_locations`).Scan(&rows); err != nil {
			return fmt.Errorf("migrate: count rider_locations: %w", err)
		}
		o.logger.Warn("migrated rider_locations", "rows", rows, "topic", topic, "took", time.Since(start).Round(time.Millisecond))
	}
	if err := tx.QueryRow(ctx, strings.Replace(q, "'rider_locations'", "'rider_latest'", 1), "rider_latest", "leader_epoch").Scan(&exists, &has); err != nil {
		return fmt.Errorf("migrate: read the schema: %w", err)
	}
	if exists && !has {
		for _, s := range []string{
			`ALTER TABLE rider_latest ADD COLUMN leader_epoch integer NOT NULL DEFAULT 0`,
			fmt.Sprintf(`UPDATE rider_latest SET leader_epoch = %d WHERE kafka_partition = %d`, NoEpoch, DirectPartition),
		} {
			if _, err := tx.Exec(ctx, s); err != nil {
				return fmt.Errorf("migrate rider_latest: %s: %w", s, err)
			}
		}
		o.logger.Warn("migrated rider_latest: added leader_epoch")
	}
	return nil
}
