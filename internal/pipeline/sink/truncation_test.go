package sink

// truncation_test.go drives flush with records as franz-go hands them
// over after a broker lost the tail of a partition: the offsets already
// written come again in a newer leader epoch. The sink must write the new
// records, keep the old ones aside, say so in its log and Stats, and still
// skip plain redeliveries. It also checks that kgo.ErrDataLoss is logged
// and counted.

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testlog"

	"github.com/courier-dev/courier/internal/pipeline/rider"
	"github.com/courier-dev/courier/internal/pipeline/ridersdb"
	"github.com/twmb/franz-go/pkg/kgo"
)

// fakeCommitter records the commits.
type fakeCommitter struct{ commits int }

func (f *fakeCommitter) CommitRecords(context.Context, ...*kgo.Record) error {
	f.commits++
	return nil
}

// record is a record of rider id at partition p, offset o, epoch e.
func record(id string, p int32, o int64, e int32) *kgo.Record {
	l := rider.Location{RiderID: id, Lat: 12.9, Lon: 77.6, TS: time.Date(2026, 11, 25, 13, 0, 0, 0, time.UTC).Add(time.Duration(o) * time.Second)}
	return &kgo.Record{Topic: "rider-updates", Partition: p, Offset: o, LeaderEpoch: e, Value: l.AppendJSON(nil), Timestamp: time.Now()}
}

func TestFlushNoticesTruncation(t *testing.T) {
	db, err := ridersdb.Open(context.Background(), "sqlite:"+filepath.Join(t.TempDir(), "riders.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	logs := &testlog.Buffer{}
	s, err := New(Config{DB: db, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	s.setOwned(map[int32]bool{0: true, 1: true})
	cl := &fakeCommitter{}
	ctx := context.Background()

	// Epoch 0 writes offsets 0-4 of partition 0 and 0-1 of partition 1.
	var first []*kgo.Record
	for o := range int64(5) {
		first = append(first, record(fmt.Sprintf("a%d", o), 0, o, 0))
	}
	first = append(first, record("p1a", 1, 0, 0), record("p1b", 1, 1, 0))
	s.flush(ctx, cl, first)
	// The broker lost offsets 2-4 of partition 0; epoch 1 reuses them and
	// goes on to 6. Partition 1's records come again unchanged.
	var second []*kgo.Record
	for o := int64(2); o <= 6; o++ {
		second = append(second, record(fmt.Sprintf("b%d", o), 0, o, 1))
	}
	second = append(second, record("p1a", 1, 0, 0), record("p1b", 1, 1, 0))
	s.flush(ctx, cl, second)

	st := s.Stats()
	if st.Consumed != 14 || st.Inserted != 12 || st.Truncated != 3 || st.Duplicates != 2 || st.Stale != 0 || cl.commits != 2 {
		t.Errorf("stats %+v after %d commits; want 14 consumed, 12 inserted (3 over lost records), 2 duplicates", st, cl.commits)
	}
	l := logs.String()
	if !strings.Contains(l, "log truncation noticed") || !strings.Contains(l, "partition=0 first_offset=2 last_offset=4 lost_records=3 lost_epoch=0 kept_epoch=1") {
		t.Errorf("no warning naming partition 0, offsets 2-4:\n%s", l)
	}
	if strings.Contains(l, "partition=1 first_offset") {
		t.Errorf("partition 1's redelivery reported as a truncation:\n%s", l)
	}
	var lost []string
	if err := ridersdb.ReadTruncated(ctx, db, func(r ridersdb.TruncatedRow) error {
		lost = append(lost, fmt.Sprintf("%d/%d/%d %s", r.Partition, r.Offset, r.LeaderEpoch, r.RiderID))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if want := []string{"0/2/0 a2", "0/3/0 a3", "0/4/0 a4"}; fmt.Sprint(lost) != fmt.Sprint(want) {
		t.Errorf("rider_locations_truncated = %q, want %q", lost, want)
	}
	var kept []string
	if err := ridersdb.ReadHistory(ctx, db, func(u ridersdb.Update) error {
		kept = append(kept, fmt.Sprintf("%d/%d/%d %s", u.Partition, u.Offset, u.LeaderEpoch, u.RiderID))
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	want := []string{"0/0/0 a0", "0/1/0 a1", "0/2/1 b2", "0/3/1 b3", "0/4/1 b4", "0/5/1 b5", "0/6/1 b6", "1/0/0 p1a", "1/1/0 p1b"}
	if fmt.Sprint(kept) != fmt.Sprint(want) {
		t.Errorf("rider_locations = %q, want %q", kept, want)
	}
}

func TestFetchErrorDataLoss(t *testing.T) {
	logs := &testlog.Buffer{}
	s := &Sink{log: slog.New(slog.NewTextHandler(logs, nil)), owned: map[int32]bool{}}
	s.fetchError("rider-updates", 3, &kgo.ErrDataLoss{Topic: "rider-updates", Partition: 3, ConsumedTo: 120, ConsumedToEpoch: 0, ResetTo: 100, ResetToEpoch: 0})
	s.fetchError("rider-updates", 3, context.DeadlineExceeded)
	if st := s.Stats(); st.DataLoss != 1 {
		t.Errorf("DataLoss = %d, want 1", st.DataLoss)
	}
	l := logs.String()
	if !strings.Contains(l, "broker lost records") || !strings.Contains(l, "partition=3 consumed_to=120") || !strings.Contains(l, "reset_to=100") {
		t.Errorf("data loss not logged with its range:\n%s", l)
	}
	if strings.Count(l, "\n") != 1 {
		t.Errorf("a deadline was logged too:\n%s", l)
	}
}
