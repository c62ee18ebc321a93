package sink_test

// sink_test.go runs sinks against a real Courier broker and against a
// three-broker kfake cluster, and checks the database holds exactly what
// was produced.

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/publish"
	"github.com/courier-dev/courier/internal/pipeline/sink"
	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestWritesWhatWasProduced(t *testing.T) {
	b := testbroker.Start(t)
	p := publisher(t, b.Addr)
	locs := updates(0, 20000, 500)
	publishAll(t, p, locs)
	// A foreign producer's bad record: counted, skipped, not blocking.
	bad := &kgo.Record{Topic: publish.DefaultTopic, Partition: 2, Value: []byte(`{"rider_id":"x","lat":"north"}`)}
	// A ts no database can store must not block its partition either.
	far := &kgo.Record{Topic: publish.DefaultTopic, Partition: 1, Value: []byte(`{"rider_id":"x","lat":1,"lon":1,"ts":9999999999999999}`)}
	if err := p.Client().ProduceSync(context.Background(), bad, far).FirstErr(); err != nil {
		t.Fatal(err)
	}
	db := openSQLite(t)
	s := startSink(t, db, []string{b.Addr}, nil)
	waitHistory(t, db, int64(len(locs)), 30*time.Second)
	checkDB(t, db, locs)
	testwait.For(t, 10*time.Second, "stats", func() string {
		st := s.Stats()
		if st.Consumed != int64(len(locs))+2 || st.Inserted != int64(len(locs)) || st.Invalid != 2 || st.Duplicates != 0 || st.Transactions == 0 {
			return fmt.Sprintf("%+v", st)
		}
		if !slices.Equal(st.Partitions, []int32{0, 1, 2, 3}) || st.DelayP50 <= 0 || st.DelayP99 < st.DelayP50 {
			return fmt.Sprintf("%+v", st)
		}
		return ""
	})

	// A new sink in the same group resumes from the committed offsets: it
	// writes only what is produced next.
	s.stop(t)
	more := updates(len(locs), 3000, 500)
	publishAll(t, p, more)
	s2 := startSink(t, db, []string{b.Addr}, nil)
	waitHistory(t, db, int64(len(locs)+len(more)), 30*time.Second)
	checkDB(t, db, append(locs, more...))
	if st := s2.Stats(); st.Duplicates != 0 {
		t.Errorf("restarted sink rewrote %d committed records", st.Duplicates)
	}
}

func TestTwoSinksSplitAndTakeOver(t *testing.T) {
	b := testbroker.Start(t)
	p := publisher(t, b.Addr)
	db := openSQLite(t)
	a := startSink(t, db, []string{b.Addr}, nil)
	c := startSink(t, db, []string{b.Addr}, nil)
	testwait.For(t, 20*time.Second, "two sinks sharing 4 partitions", func() string {
		pa, pc := a.Stats().Partitions, c.Stats().Partitions
		if len(pa) != 2 || len(pc) != 2 {
			return fmt.Sprintf("partitions %v and %v", pa, pc)
		}
		return ""
	})
	first := updates(0, 10000, 300)
	publishAll(t, p, first)
	waitHistory(t, db, int64(len(first)), 30*time.Second)
	if a.Stats().Inserted == 0 || c.Stats().Inserted == 0 {
		t.Errorf("one sink did all the work: %+v / %+v", a.Stats(), c.Stats())
	}

	a.stop(t)
	testwait.For(t, 20*time.Second, "the remaining sink to take all partitions", func() string {
		if ps := c.Stats().Partitions; len(ps) != 4 {
			return fmt.Sprintf("partitions %v", ps)
		}
		return ""
	})
	second := updates(len(first), 10000, 300)
	publishAll(t, p, second)
	all := append(first, second...)
	waitHistory(t, db, int64(len(all)), 30*time.Second)
	checkDB(t, db, all)
}

func TestKfakeThreeBrokers(t *testing.T) {
	cluster, err := kfake.NewCluster(kfake.NumBrokers(3), kfake.SeedTopics(4, publish.DefaultTopic))
	if err != nil {
		t.Fatal(err)
	}
	defer cluster.Close()
	seeds := cluster.ListenAddrs()
	p := publisher(t, seeds...)
	db := openSQLite(t)
	locs := updates(0, 10000, 200)
	publishAll(t, p, locs[:5000])
	startSink(t, db, seeds, nil)
	startSink(t, db, seeds, nil)
	publishAll(t, p, locs[5000:])
	waitHistory(t, db, int64(len(locs)), 30*time.Second)
	checkDB(t, db, locs)
}

func TestNewNeedsDB(t *testing.T) {
	if _, err := sink.New(sink.Config{}); err == nil {
		t.Fatal("New without a DB succeeded")
	}
}
