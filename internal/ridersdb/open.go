package ridersdb

import (
	"context"
	"errors"
)

// open is replaced by the real SQLite/PostgreSQL implementation.
func open(ctx context.Context, dsn string) (DB, error) {
	return nil, errors.New("ridersdb: not implemented yet")
}
