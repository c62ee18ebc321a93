package ridersdb

// open.go parses a DSN and opens the matching dialect.

import (
	"context"
	"fmt"
	"strings"
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
	return "", fmt.Errorf("ridersdb: database %q: want sqlite:PATH, file:PATH or a postgres:// URL", dsn)
}

// open dispatches on the DSN's scheme.
func open(ctx context.Context, dsn string, o options) (DB, error) {
	d, err := DialectOf(dsn)
	if err != nil {
		return nil, err
	}
	if d == Postgres {
		return openPostgres(ctx, dsn, o)
	}
	return openSQLite(ctx, dsn, o)
}
