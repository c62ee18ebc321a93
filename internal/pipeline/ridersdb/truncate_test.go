package ridersdb_test

// truncate_test.go checks, on both dialects, what happens when records
// arrive at a position already written: the same leader epoch is a
// redelivery (skipped), a newer epoch means the log was truncated (the old
// row is moved to rider_locations_truncated, the new one written), an
// older epoch is a record the log lost (kept aside only).

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"github.com/courier-dev/courier/internal/pipeline/ridersdb"
)

// ep is up in leader epoch e, for rider id at t0+sec.
func ep(id string, sec int, p int32, o int64, e int32) ridersdb.Update {
	u := up(id, sec, p, o)
	u.LeaderEpoch = e
	return u
}

// row names a stored row: position, epoch and rider.
type row struct {
	topic string
	p     int32
	o     int64
	e     int32
	id    string
}

func rowOf(u ridersdb.Update) row {
	return row{u.Topic, u.Partition, u.Offset, u.LeaderEpoch, u.RiderID}
}

// counts is a WriteResult's counts.
type counts struct{ ins, dup, repl, stale int }

// truncCase is a TestTruncation case.
type truncCase struct {
	name      string
	batches   [][]ridersdb.Update
	results   []counts
	history   []row
	truncated []row
	// truncs are the last batch's Truncations.
	truncs []ridersdb.Truncation
}

func TestTruncation(t *testing.T) {
	other := ep("o", 1, 0, 1, 0)
	other.Topic = "other-topic"
	cases := []truncCase{
		{
			name:    "redelivery in the same epoch is skipped",
			batches: [][]ridersdb.Update{{ep("a", 1, 0, 0, 3), ep("b", 2, 0, 1, 3)}, {ep("a", 1, 0, 0, 3), ep("b", 2, 0, 1, 3)}},
			results: []counts{{2, 0, 0, 0}, {0, 2, 0, 0}},
			history: []row{{testTopic, 0, 0, 3, "a"}, {testTopic, 0, 1, 3, "b"}},
		},
		{
			name: "newer epoch at an offset moves the old row aside",
			batches: [][]ridersdb.Update{
				{ep("a", 1, 0, 0, 0), ep("b", 2, 0, 1, 0), ep("c", 3, 0, 2, 0)},
				{ep("d", 4, 0, 1, 1), ep("e", 5, 0, 2, 1), ep("f", 6, 0, 3, 1)},
			},
			results:   []counts{{3, 0, 0, 0}, {1, 0, 2, 0}},
			history:   []row{{testTopic, 0, 0, 0, "a"}, {testTopic, 0, 1, 1, "d"}, {testTopic, 0, 2, 1, "e"}, {testTopic, 0, 3, 1, "f"}},
			truncated: []row{{testTopic, 0, 1, 0, "b"}, {testTopic, 0, 2, 0, "c"}},
			truncs:    []ridersdb.Truncation{{Topic: testTopic, Partition: 0, FirstOffset: 1, LastOffset: 2, Records: 2, LostEpoch: 0, KeptEpoch: 1}},
		},
		{
			name: "the lost records delivered again are stale, the new ones duplicates",
			batches: [][]ridersdb.Update{
				{ep("b", 2, 0, 1, 0)},
				{ep("d", 4, 0, 1, 1)},
				{ep("b", 2, 0, 1, 0), ep("d", 4, 0, 1, 1)},
			},
			results:   []counts{{1, 0, 0, 0}, {0, 0, 1, 0}, {0, 1, 0, 1}},
			history:   []row{{testTopic, 0, 1, 1, "d"}},
			truncated: []row{{testTopic, 0, 1, 0, "b"}},
			truncs:    []ridersdb.Truncation{{Topic: testTopic, Partition: 0, FirstOffset: 1, LastOffset: 1, Records: 1, LostEpoch: 0, KeptEpoch: 1}},
		},
		{
			name:      "an older epoch arriving after a newer one is kept aside",
			batches:   [][]ridersdb.Update{{ep("d", 4, 2, 7, 5)}, {ep("b", 2, 2, 7, 4), ep("c", 3, 2, 8, 4)}},
			results:   []counts{{1, 0, 0, 0}, {1, 0, 0, 1}},
			history:   []row{{testTopic, 2, 7, 5, "d"}, {testTopic, 2, 8, 4, "c"}},
			truncated: []row{{testTopic, 2, 7, 4, "b"}},
			truncs:    []ridersdb.Truncation{{Topic: testTopic, Partition: 2, FirstOffset: 7, LastOffset: 7, Records: 1, LostEpoch: 4, KeptEpoch: 5}},
		},
		{
			name:      "both epochs in one batch",
			batches:   [][]ridersdb.Update{{ep("x", 1, 1, 5, 0), ep("y", 2, 1, 6, 0), ep("z", 3, 1, 5, 1), ep("x", 1, 1, 5, 0)}},
			results:   []counts{{2, 1, 0, 1}},
			history:   []row{{testTopic, 1, 5, 1, "z"}, {testTopic, 1, 6, 0, "y"}},
			truncated: []row{{testTopic, 1, 5, 0, "x"}},
			truncs:    []ridersdb.Truncation{{Topic: testTopic, Partition: 1, FirstOffset: 5, LastOffset: 5, Records: 1, LostEpoch: 0, KeptEpoch: 1}},
		},
		{
			name:    "the same offset in another topic is another record",
			batches: [][]ridersdb.Update{{ep("a", 1, 0, 1, 0)}, {other}},
			results: []counts{{1, 0, 0, 0}, {1, 0, 0, 0}},
			history: []row{{"other-topic", 0, 1, 0, "o"}, {testTopic, 0, 1, 0, "a"}},
		},
	}
	eachCase(t, cases, func(c truncCase) string { return c.name }, func(t *testing.T, db ridersdb.DB, c truncCase) {
		var last ridersdb.WriteResult
		for i, b := range c.batches {
			res, err := db.WriteBatch(context.Background(), b)
			if err != nil {
				t.Fatal(err)
			}
			if got := (counts{res.Inserted, res.Duplicates, res.Replaced, res.Stale}); got != c.results[i] {
				t.Errorf("batch %d: %+v, want %+v", i, got, c.results[i])
			}
			last = res
		}
		if !reflect.DeepEqual(last.Truncations, c.truncs) {
			t.Errorf("Truncations = %+v, want %+v", last.Truncations, c.truncs)
		}
		checkRows(t, db, c.history, c.truncated)
	})
}

// checkRows compares rider_locations and rider_locations_truncated with
// the rows wanted, each row's content with the update it came from.
func checkRows(t *testing.T, db ridersdb.DB, history, truncated []row) {
	t.Helper()
	ctx := context.Background()
	var got []row
	err := ridersdb.ReadHistory(ctx, db, func(u ridersdb.Update) error {
		if w := up(u.RiderID, 0, u.Partition, u.Offset); u.Lat != w.Lat {
			return fmt.Errorf("row %+v: lat %v, want %v", rowOf(u), u.Lat, w.Lat)
		}
		got = append(got, rowOf(u))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, history) && (len(got) > 0 || len(history) > 0) {
		t.Errorf("history = %+v, want %+v", got, history)
	}
	got = nil
	err = ridersdb.ReadTruncated(ctx, db, func(r ridersdb.TruncatedRow) error {
		if r.NoticedAt.IsZero() || r.NoticedAt.Before(t0) {
			return fmt.Errorf("truncated row %+v noticed at %v", rowOf(r.Update), r.NoticedAt)
		}
		got = append(got, rowOf(r.Update))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, truncated) && (len(got) > 0 || len(truncated) > 0) {
		t.Errorf("truncated = %+v, want %+v", got, truncated)
	}
}

// TestLatestAcrossTruncation: on equal ts, a record of a newer epoch is
// newer than a lost one at a higher offset, in either order of arrival; a
// lost record that was newest stays the rider's latest.
func TestLatestAcrossTruncation(t *testing.T) {
	for _, d := range dialects {
		t.Run(d.name, func(t *testing.T) {
			for _, order := range [][]ridersdb.Update{
				{ep("a", 7, 0, 5, 0), ep("a", 7, 0, 3, 1)},
				{ep("a", 7, 0, 3, 1), ep("a", 7, 0, 5, 0)},
			} {
				db := open(t, d.dsn)
				for _, u := range order {
					if _, err := db.WriteBatch(context.Background(), []ridersdb.Update{u}); err != nil {
						t.Fatal(err)
					}
				}
				checkLatest(t, db, []want{{"a", 7, 0, 3}}, nil)
			}
			db := open(t, d.dsn)
			for _, b := range [][]ridersdb.Update{{ep("b", 9, 0, 4, 0)}, {ep("b", 8, 0, 4, 1)}} {
				if _, err := db.WriteBatch(context.Background(), b); err != nil {
					t.Fatal(err)
				}
			}
			checkLatest(t, db, []want{{"b", 9, 0, 4}}, nil)
		})
	}
}
