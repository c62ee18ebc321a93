package sink_test

// share_test.go runs sinks in a share group (KIP-932) against a Courier
// broker: three sinks on a two-partition topic all write, and the database
// ends with every update exactly once, also when one sink stops halfway.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/publish"
	"github.com/courier-dev/courier/internal/pipeline/region"
	"github.com/courier-dev/courier/internal/pipeline/sink"
	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// sharePublisher creates topic with partitions and returns a publisher
// that places updates by rider (regions need one partition each).
func sharePublisher(t *testing.T, addr, topic string, partitions int32) *publish.Publisher {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if _, err := kadm.NewClient(cl).CreateTopic(ctx, partitions, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	p, err := publish.New(ctx, publish.Config{ClientOpts: []kgo.Opt{kgo.SeedBrokers(addr)}, Topic: topic, City: region.Bengaluru, Mode: region.ByRider})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	return p
}

func TestShareGroupSinksOutnumberPartitions(t *testing.T) {
	addr := testbroker.Start(t).Addr
	const topic = "rider-share"
	p := sharePublisher(t, addr, topic, 2)
	db := openSQLite(t)
	// Updates published before any sink started are written too: the
	// group starts at the earliest offset.
	locs := updates(0, 12000, 400)
	sent := 500
	publishAll(t, p, locs[:sent])
	var sinks []*running
	for range 3 {
		sinks = append(sinks, startSink(t, db, []string{addr}, func(c *sink.Config) {
			c.Topic, c.ShareGroup, c.BatchRows = topic, "db-writers", 50
		}))
	}

	// Publish in small chunks until every sink has written some (all
	// three are in the group and share the two partitions), then the
	// rest; stop one sink halfway through the rest.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	allWrote := func() bool {
		for _, s := range sinks {
			if s.Stats().Inserted == 0 {
				return false
			}
		}
		return true
	}
	deadline := time.Now().Add(30 * time.Second)
	for sent < len(locs)/2 || !allWrote() {
		if sent == len(locs) || time.Now().After(deadline) {
			for i, s := range sinks {
				t.Logf("sink %d: %+v", i, s.Stats())
			}
			t.Fatalf("after %d updates not every sink wrote", sent)
		}
		n := min(100, len(locs)-sent)
		if err := p.Publish(ctx, locs[sent:sent+n]); err != nil {
			t.Fatal(err)
		}
		sent += n
		time.Sleep(5 * time.Millisecond) // spread the records over several fetches
	}
	sinks[2].stop(t)
	for sent < len(locs) {
		n := min(1000, len(locs)-sent)
		if err := p.Publish(ctx, locs[sent:sent+n]); err != nil {
			t.Fatal(err)
		}
		sent += n
	}
	waitHistory(t, db, int64(len(locs)), 30*time.Second)
	checkDB(t, db, locs)
	var inserted, consumed int64
	for i, s := range sinks {
		st := s.Stats()
		t.Logf("sink %d: inserted %d, duplicates %d, ack errors %d, partitions %v", i, st.Inserted, st.Duplicates, st.AckErrors, st.Partitions)
		inserted += st.Inserted
		consumed += st.Consumed
		if st.Invalid != 0 || st.Truncated != 0 || st.Stale != 0 {
			t.Errorf("sink %d: %+v", i, st)
		}
	}
	if inserted != int64(len(locs)) || consumed < inserted {
		t.Errorf("inserted %d, consumed %d; want %d inserted", inserted, consumed, len(locs))
	}
	// Nothing is left for the group: a new member gets no record.
	testwait.For(t, 20*time.Second, "share-partitions at the end", func() string {
		return shareLag(ctx, addr, "db-writers", topic)
	})
}

// shareLag returns "" once the share group's start offset of every
// partition of topic is its end offset, else what is left.
func shareLag(ctx context.Context, addr, group, topic string) string {
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		return err.Error()
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	ends, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return err.Error()
	}
	offs, err := adm.DescribeShareGroupOffsets(ctx, group)
	if err != nil {
		return err.Error()
	}
	left := ""
	ends.Each(func(e kadm.ListedOffset) {
		o, ok := offs[group].Offsets.Lookup(topic, e.Partition)
		if !ok || o.StartOffset != e.Offset {
			left += fmt.Sprintf(" partition %d: start %d of %d;", e.Partition, o.StartOffset, e.Offset)
		}
	})
	return left
}

func TestShareGroupConfig(t *testing.T) {
	if _, err := sink.New(sink.Config{DB: openSQLite(t), ShareGroup: "w", InstanceID: "i"}); err == nil {
		t.Error("ShareGroup with InstanceID: no error")
	}
}
