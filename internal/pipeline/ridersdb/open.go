package ridersdb

// open.go parses a DSN and opens the matching dialect.

import (
	"context"
	"fmt"
	"strings"

	"github.com/courier-dev/courier/internal/pipeline/redact"
)

// Dialect names returned by DialectOf.
const (
	// SQLite is the embedded database (modernc.org/sqlite, pure Go).
	SQLite = "sqlite"
	// Postgres is PostgreSQL through pgx/v5.
	Postgres = "postgres"
)

// DialectOf returns SQLite or Postgres for a DSN Open accepts, or an
// error naming the accepted forms.
func DialectOf(dsn string) (string, error) {
	switch {
	case strings.HasPrefix(dsn, "postgres://"), strings.HasPrefix(dsn, "postgresql://"):
		return Postgres, nil
	case strings.HasPrefix(dsn, "sqlite:"), strings.HasPrefix(dsn, "file:"):
		return SQLite, nil
	}
	return "", fmt.Errorf("ridersdb: database %q: want sqlite:PATH, file:PATH or a postgres:// URL", redact.DSN(dsn))
}

// open dispatches on the DSN's scheme. Its errors never show the DSN's
// password: the drivers' errors are not ours to trust, so whatever they
// say passes through redact.Error.
func open(ctx context.Context, dsn string, o options) (DB, error) {
	d, err := DialectOf(dsn)
	if err != nil {
		return nil, err
	}
	var db DB
	if d == Postgres {
		db, err = openPostgres(ctx, dsn, o)
	} else {
		db, err = openSQLite(ctx, dsn, o)
	}
	return db, redact.Error(err, dsn)
}
