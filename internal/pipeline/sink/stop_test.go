package sink_test

// stop_test.go: an orderly stop that arrives while a batch is being
// written lets the write finish and commits its offsets.

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/publish"
	"github.com/courier-dev/courier/internal/pipeline/ridersdb"
	"github.com/courier-dev/courier/internal/pipeline/sink"
	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testlog"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// heldDB holds the first WriteBatch until released, so that a test can
// stop the sink in the middle of a write.
type heldDB struct {
	ridersdb.DB
	once             sync.Once
	started, release chan struct{}
}

// WriteBatch implements ridersdb.DB.
func (d *heldDB) WriteBatch(ctx context.Context, us []ridersdb.Update) (ridersdb.WriteResult, error) {
	d.once.Do(func() {
		close(d.started)
		<-d.release
	})
	return d.DB.WriteBatch(ctx, us)
}

func TestStopDuringWriteCommits(t *testing.T) {
	b := testbroker.Start(t)
	p := publisher(t, b.Addr)
	locs := updates(0, 3000, 100)
	publishAll(t, p, locs)

	db := &heldDB{DB: openSQLite(t), started: make(chan struct{}), release: make(chan struct{})}
	logs := &testlog.Buffer{}
	s := startSink(t, db, []string{b.Addr}, func(c *sink.Config) {
		c.BatchRows = 10000 // one batch holds all of it
		c.BatchDelay = 300 * time.Millisecond
		c.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	select {
	case <-db.started:
	case <-time.After(30 * time.Second):
		t.Fatal("the sink wrote nothing within 30s")
	}
	// The stop comes while the batch is being written.
	s.cancel()
	close(db.release)
	s.stop(t)

	if strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("an orderly stop logged a warning:\n%s", logs.String())
	}
	rows, _, err := db.Counts(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if committed := committedSum(t, b.Addr, sink.DefaultGroup); rows == 0 || committed != rows {
		t.Errorf("%d rows written, %d offsets committed: want equal and not zero\n%s", rows, committed, logs.String())
	}
}

// committedSum returns the sum of group's committed offsets on the
// rider-updates topic: the number of records it consumed from a fresh
// topic.
func committedSum(t *testing.T, addr, group string) int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	offs, err := kadm.NewClient(cl).FetchOffsets(ctx, group)
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	offs.Each(func(o kadm.OffsetResponse) {
		if o.Err != nil {
			t.Fatalf("offset of %s/%d: %v", o.Topic, o.Partition, o.Err)
		}
		if o.Topic == publish.DefaultTopic {
			sum += o.At
		}
	})
	return sum
}
