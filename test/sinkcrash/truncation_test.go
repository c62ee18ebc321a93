package sinkcrash

// truncation_test.go: the broker loses the end of its logs (a power loss
// with --fsync interval, simulated by cutting the segment files) after the
// sink wrote those records, and the same offsets are then written again.
// The broker's new leader epoch lets the sink's consumer find out; the
// sink keeps both versions: the new records in rider_locations, the lost
// ones moved to rider_locations_truncated. Nothing either producer had
// acknowledged is missing from the database.

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/storage"
	"github.com/courier-dev/courier/internal/pipeline/publish"
	"github.com/courier-dev/courier/internal/pipeline/rider"
	"github.com/courier-dev/courier/internal/pipeline/ridersdb"
	"github.com/courier-dev/courier/internal/testkit/brokerproc"
	"github.com/courier-dev/courier/internal/testkit/testwait"
)

func TestSinkKeepsRecordsTheBrokerLost(t *testing.T) {
	const first, second = 8000, 12000
	dataDir := t.TempDir()
	b := brokerproc.StartT(t, courierBin, dataDir, brokerproc.Fsync("interval"), brokerproc.Args("--group-initial-rebalance-delay", "100ms"))
	dsn := "sqlite:" + filepath.Join(t.TempDir(), "riders.db")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	db, history := openDB(t, ctx, dsn)

	all := updates(first+second, 500)
	if err := produce(ctx, b.Addr(), all[:first]); err != nil {
		t.Fatal(err)
	}
	out := &syncBuffer{}
	defer func() {
		if t.Failed() {
			t.Logf("sink output (tail):\n%s", out.String())
		}
	}()
	sink := startSink(t, b.Addr(), dsn, out)
	testwait.For(t, 30*time.Second, "the sink to write the first updates", func() string {
		if h := history(); h != first {
			return fmt.Sprintf("%d of %d rows", h, first)
		}
		return ""
	})
	before := readTopic(t, b.Addr(), first)
	sink.kill(t)

	// The power loss: every partition loses the second half of its log.
	if err := b.Stop(); err != nil {
		t.Fatal(err)
	}
	lost := 0
	for p := 0; p < 4; p++ {
		lost += cutHalf(t, filepath.Join(dataDir, "logs", fmt.Sprintf("%s-%d", publish.DefaultTopic, p)))
	}
	if err := b.Restart(); err != nil {
		t.Fatal(err)
	}
	if err := produce(ctx, b.Addr(), all[first:]); err != nil {
		t.Fatal(err)
	}
	after := readTopic(t, b.Addr(), first-lost+second)

	sink = startSink(t, b.Addr(), dsn, out)
	defer sink.kill(t)
	testwait.For(t, 40*time.Second, "the sink to write the records written after the loss", func() string {
		if h := history(); h != int64(len(after)) {
			return fmt.Sprintf("%d of %d rows", h, len(after))
		}
		return ""
	})

	// rider_locations holds the topic as it is now.
	check(t, db, after)
	// Every record of the first run is in one table or the other.
	moved := map[pos]rider.Location{}
	err := ridersdb.ReadTruncated(ctx, db, func(r ridersdb.TruncatedRow) error {
		moved[pos{r.Partition, r.Offset}] = r.Location
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for k, w := range before {
		if now, ok := after[k]; ok && now == w {
			continue
		}
		if m, ok := moved[k]; !ok || m.RiderID != w.RiderID || !m.TS.Equal(w.TS) {
			t.Fatalf("record %d/%d of the first run, lost by the broker, is not in rider_locations_truncated", k.p, k.o)
		}
	}
	if len(moved) != lost {
		t.Fatalf("%d rows moved aside, the broker lost %d records", len(moved), lost)
	}
	t.Logf("the broker lost %d records; the sink moved %d rows aside and holds %d", lost, len(moved), len(after))
	if !strings.Contains(out.String(), "truncat") {
		t.Error("the sink did not log the truncation")
	}
}

// cutHalf cuts a partition's log after the first half of its batches, as
// a power loss that took the rest would, and returns the records cut.
func cutHalf(t *testing.T, dir string) int {
	t.Helper()
	segs, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	if len(segs) != 1 {
		t.Fatalf("%s: %d segments, want 1", dir, len(segs))
	}
	data, err := os.ReadFile(segs[0])
	if err != nil {
		t.Fatal(err)
	}
	batches, err := storage.SplitBatches(data)
	if err != nil || len(batches) < 2 {
		t.Fatalf("%s: %d batches: %v", dir, len(batches), err)
	}
	keep := len(batches) / 2
	size, cut := 0, 0
	for i, bt := range batches {
		if i < keep {
			size += len(bt)
			continue
		}
		cut += int(int32(uint32(bt[57])<<24 | uint32(bt[58])<<16 | uint32(bt[59])<<8 | uint32(bt[60])))
	}
	if err := os.Truncate(segs[0], int64(size)); err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{".index", ".timeindex"} {
		os.Remove(strings.TrimSuffix(segs[0], ".log") + ext)
	}
	return cut
}
