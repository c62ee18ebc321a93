package console

// broker_test.go produces and consumes against a real Courier broker
// (testbroker) what depends on the broker's own behaviour: topics created
// on demand, and start offsets outside a partition's log.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/run"
	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testlog"
	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/courier-dev/courier/internal/tools/reach"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// brokerAdmin starts a Courier broker (with opts) and returns the client
// options that reach it and an admin client for it.
func brokerAdmin(t *testing.T, opts ...testbroker.Option) ([]kgo.Opt, *kadm.Client) {
	t.Helper()
	return kadmFor(t, testbroker.Start(t, opts...).Addr)
}

// kadmFor returns the client options that reach addr and an admin client
// for it, closed when the test ends.
func kadmFor(t *testing.T, addr string) ([]kgo.Opt, *kadm.Client) {
	t.Helper()
	seeds := []kgo.Opt{kgo.SeedBrokers(addr)}
	cl, err := kgo.NewClient(seeds...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return seeds, kadm.NewClient(cl)
}

// createTopic creates topic with partitions through adm.
func createTopic(t *testing.T, adm *kadm.Client, topic string, partitions int32) {
	t.Helper()
	if _, err := adm.CreateTopic(testCtx(t), partitions, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
}

// TestProduceCreatesTopic: as other Kafka producers, produce lets a broker
// that creates topics on demand create the topic; a broker that does not
// gets an error that says so.
func TestProduceCreatesTopic(t *testing.T) {
	seeds, _ := brokerAdmin(t)
	st, err := Produce(testCtx(t), seeds, ProduceConfig{Topic: "new-topic", Partition: -1}, strings.NewReader("first\n"))
	if err != nil || st.Records != 1 {
		t.Fatalf("produce to a new topic: %v, %+v", err, st)
	}
	if got := consumeAll(t, seeds, ConsumeConfig{Topic: "new-topic", Partition: -1, FromBeginning: true, MaxRecords: 1}); got != "first\n" {
		t.Errorf("consumed %q", got)
	}

	seeds, adm := brokerAdmin(t, func(c *run.Config) { c.Broker.AutoCreateTopics = false })
	st, err = Produce(testCtx(t), seeds, ProduceConfig{Topic: "new-topic", Partition: -1}, strings.NewReader("a\nb\n"))
	want := "produce to new-topic: 2 of 2 records failed: unknown topic new-topic: the cluster did not create it"
	if err == nil || !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "courier topic create new-topic") ||
		!errors.Is(err, kerr.UnknownTopicOrPartition) || st.Failed != 2 {
		t.Errorf("produce without auto-creation: %v, %+v\nwant prefix %q", err, st, want)
	}
	// A partition that does not exist, of a topic that does.
	createTopic(t, adm, "two", 2)
	_, err = Produce(testCtx(t), seeds, ProduceConfig{Topic: "two", Partition: 5}, strings.NewReader("a\n"))
	if err == nil || !strings.HasSuffix(err.Error(), "1 of 1 records failed: partition 5 does not exist: topic two has 2 partitions") {
		t.Errorf("produce to partition 5 of 2: %v", err)
	}
}

// TestConsumeOffsetOutsideLog: a numeric --offset past the end starts at
// the end, saying so on one line, and waits for new records; one before
// the log start starts at the log start, saying so.
func TestConsumeOffsetOutsideLog(t *testing.T) {
	seeds, adm := brokerAdmin(t)
	createTopic(t, adm, "t", 2)
	if _, err := Produce(testCtx(t), seeds, ProduceConfig{Topic: "t", Partition: 1}, strings.NewReader("0\n1\n2\n3\n4\n")); err != nil {
		t.Fatal(err)
	}

	var warnings testlog.Buffer
	var out bytes.Buffer
	done := make(chan error, 1)
	go func() {
		_, err := Consume(testCtx(t), seeds, ConsumeConfig{Topic: "t", Partition: 1, Offset: "99", MaxRecords: 1, Timeout: 30 * time.Second, Warnings: &warnings}, &out)
		done <- err
	}()
	testwait.For(t, 10*time.Second, "the note that offset 99 is past the end", func() string {
		if warnings.String() != "courier: consume t: offset 99 is beyond the end of partition 1 (high watermark 5): waiting for new records from offset 5\n" {
			return fmt.Sprintf("warnings so far: %q", warnings.String())
		}
		return ""
	})
	// The consumer waits at the end; a record produced now is the one it
	// prints (not the five before it, which it would print if it had gone
	// back to the start).
	if _, err := Produce(testCtx(t), seeds, ProduceConfig{Topic: "t", Partition: 1}, strings.NewReader("new\n")); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil || out.String() != "new\n" {
		t.Errorf("consume from past the end: %v, printed %q", err, out.String())
	}

	// Records before offset 3 deleted: offset 1 starts at 3.
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	del := kadm.Offsets{}
	del.Add(kadm.Offset{Topic: "t", Partition: 1, At: 3})
	if res, err := adm.DeleteRecords(ctx, del); err != nil || res.Error() != nil {
		t.Fatalf("delete records: %v %v", err, res.Error())
	}
	warnings = testlog.Buffer{}
	got := consumeAll(t, seeds, ConsumeConfig{Topic: "t", Partition: 1, Offset: "1", MaxRecords: 2, Warnings: &warnings})
	if got != "3\n4\n" || warnings.String() != "courier: consume t: offset 1 is before the start of partition 1 (log start offset 3; older records were deleted): starting at 3\n" {
		t.Errorf("consume from before the start: %q, warnings %q", got, warnings.String())
	}
	// Offsets inside the log: no note.
	warnings = testlog.Buffer{}
	if got := consumeAll(t, seeds, ConsumeConfig{Topic: "t", Partition: 1, Offset: "4", MaxRecords: 1, Warnings: &warnings}); got != "4\n" || warnings.String() != "" {
		t.Errorf("consume from offset 4: %q, warnings %q", got, warnings.String())
	}
}

// TestConsumeSurvivesBrokerRestart: a group consumer whose broker stops
// and comes back keeps going (the client retries; a reach.Monitor in the
// client options says so), and prints what was produced meanwhile.
func TestConsumeSurvivesBrokerRestart(t *testing.T) {
	b := testbroker.Start(t)
	seeds := []kgo.Opt{kgo.SeedBrokers(b.Addr)}
	if _, err := Produce(testCtx(t), seeds, ProduceConfig{Topic: "t", Partition: -1}, strings.NewReader("before\n")); err != nil {
		t.Fatal(err)
	}
	var (
		events testlog.Buffer
		mu     sync.Mutex
		down   time.Duration // how long the latest outage has lasted, as last reported
	)
	// Every failure is reported (every: 0), with how long the outage lasts.
	m := reach.NewMonitor(0, 0, func(e reach.Event) {
		if !strings.Contains(events.String(), fmt.Sprintf("reachable=%v ", e.Reachable)) {
			fmt.Fprintf(&events, "reachable=%v %s\n", e.Reachable, e.Addr)
		}
		mu.Lock()
		down = e.At.Sub(e.Since)
		mu.Unlock()
	})
	var out testlog.Buffer
	done := make(chan error, 1)
	go func() {
		_, err := Consume(testCtx(t), append(seeds, kgo.WithHooks(m)),
			ConsumeConfig{Topic: "t", Partition: -1, Group: "g", FromBeginning: true, MaxRecords: 2, Timeout: 80 * time.Second}, &out)
		done <- err
	}()
	testwait.For(t, 20*time.Second, "the first record", func() string {
		if out.String() != "before\n" {
			return fmt.Sprintf("printed so far: %q", out.String())
		}
		return ""
	})
	// Committed (within a second), so that the restart does not deliver
	// it again.
	_, adm := kadmFor(t, b.Addr)
	testwait.For(t, 20*time.Second, "the first record's commit", func() string {
		if n := committed(t, adm, "g", "t"); n != 1 {
			return fmt.Sprintf("committed %d", n)
		}
		return ""
	})
	b.Stop(t)
	// Down long enough for the group's heartbeat and rejoin to fail: the
	// client then hands the consumer a "unable to join group session"
	// error, which used to end the run.
	testwait.For(t, 30*time.Second, "an outage of 8s", func() string {
		select {
		case err := <-done:
			t.Fatalf("consume ended while the broker was down: %v", err)
		default:
		}
		mu.Lock()
		defer mu.Unlock()
		if !strings.Contains(events.String(), "reachable=false "+b.Addr) || down < 8*time.Second {
			return fmt.Sprintf("down for %s; events so far: %q", down, events.String())
		}
		return ""
	})
	b = testbroker.StartAt(t, b.DataDir, func(c *run.Config) { c.Addr = b.Addr })
	if _, err := Produce(testCtx(t), seeds, ProduceConfig{Topic: "t", Partition: -1}, strings.NewReader("after\n")); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil || out.String() != "before\nafter\n" {
			t.Errorf("consume across a restart: %v, printed %q", err, out.String())
		}
	case <-time.After(80 * time.Second):
		t.Fatal("consume did not finish")
	}
	if !strings.Contains(events.String(), "reachable=true "+b.Addr) {
		t.Errorf("events:\n%s", events.String())
	}
}

// TestProduceKeysAndTombstones: --key-separator splits lines into key and
// value, --null-empty sends an empty value as a tombstone, a line without
// the separator fails alone, and a compacted topic takes the keyed records
// and refuses a keyless one with the broker's reason.
func TestProduceKeysAndTombstones(t *testing.T) {
	seeds, adm := brokerAdmin(t)
	compact := "compact"
	if _, err := adm.CreateTopic(testCtx(t), 1, 1, map[string]*string{"cleanup.policy": &compact}, "accounts"); err != nil {
		t.Fatal(err)
	}
	cfg := ProduceConfig{Topic: "accounts", Partition: -1, KeySeparator: ":", NullEmpty: true}
	st, err := Produce(testCtx(t), seeds, cfg, strings.NewReader("alice:1\nbob:\nno separator\nalice:2\n"))
	if st.Records != 3 || st.Failed != 1 || !errors.Is(err, errNoKeySeparator) {
		t.Fatalf("produce: %v, %+v", err, st)
	}
	got := consumeAll(t, seeds, ConsumeConfig{Topic: "accounts", Partition: -1, FromBeginning: true, MaxRecords: 3, Format: "%k=%v %o\n"})
	if want := "alice=1 0\nbob= 1\nalice=2 2\n"; got != want {
		t.Errorf("consumed %q, want %q", got, want)
	}
	// A keyless record: the broker refuses it (INVALID_RECORD).
	_, err = Produce(testCtx(t), seeds, ProduceConfig{Topic: "accounts", Partition: -1}, strings.NewReader("no key\n"))
	if !errors.Is(err, kerr.InvalidRecord) || !strings.Contains(err.Error(), "needs a key on every record") {
		t.Errorf("keyless record on a compacted topic: %v", err)
	}
	if err := (ProduceConfig{Topic: "x", Key: []byte("k"), KeySeparator: ":"}).Validate(); err == nil {
		t.Error("--key with --key-separator accepted")
	}
}
