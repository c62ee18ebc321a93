package ridersdb_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/ridersdb"
)

// TestOpenErrorsHidePassword opens databases that cannot be opened with a
// password in their DSN: the error names the database, never the password.
func TestOpenErrorsHidePassword(t *testing.T) {
	const secret = "s3cretpw"
	for _, dsn := range []string{
		"postgres://user:" + secret + "@127.0.0.1:1/x",                  // refused connection
		"postgres://user:" + secret + "@127.0.0.1:port/x",               // unparsable
		"postgres://user@127.0.0.1:1/x?password=" + secret,              // in the query
		"host=127.0.0.1 port=1 user=u password=" + secret + " dbname=x", // not a form Open takes
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		db, err := ridersdb.Open(ctx, dsn)
		cancel()
		if err == nil {
			db.Close()
			t.Errorf("Open(%s) succeeded", dsn)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("Open error shows the password: %v", err)
		}
	}
}
