package pgtest_test

// pgtest_test.go checks that a server starts, answers and stops.

import (
	"context"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/pgtest"
	"github.com/jackc/pgx/v5"
)

func TestStart(t *testing.T) {
	dsn := pgtest.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	var fsync string
	if err := conn.QueryRow(ctx, "SHOW fsync").Scan(&fsync); err != nil {
		t.Fatal(err)
	}
	if fsync != "on" {
		t.Fatalf("fsync = %q, want on", fsync)
	}
}
