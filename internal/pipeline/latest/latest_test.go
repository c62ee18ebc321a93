package latest

// latest_test.go checks Ensure (creates a compacted topic; warns about,
// and leaves alone, one that is not), Decode, and the Reader (catches up,
// skips and counts bad records, follows, survives a stall) against kfake.

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/rider"
	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testlog"
	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

// cluster starts kfake with topics seeded (2 partitions each).
func cluster(t *testing.T, topics ...string) (*kfake.Cluster, *kgo.Client) {
	t.Helper()
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(2, topics...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return c, cl
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// logger returns a logger writing text into a buffer.
func logger() (*slog.Logger, *testlog.Buffer) {
	buf := &testlog.Buffer{}
	return slog.New(slog.NewTextHandler(buf, nil)), buf
}

func policyOf(t *testing.T, adm *kadm.Client, topic string) map[string]string {
	t.Helper()
	rcs, err := adm.DescribeTopicConfigs(ctx(t), topic)
	if err != nil {
		t.Fatal(err)
	}
	rc, err := rcs.On(topic, nil)
	if err != nil || rc.Err != nil {
		t.Fatalf("describe %s: %v %v", topic, err, rc.Err)
	}
	out := map[string]string{}
	for _, c := range rc.Configs {
		out[c.Key] = c.MaybeValue()
	}
	return out
}

func TestEnsure(t *testing.T) {
	c, cl := cluster(t, "plain")
	adm := kadm.NewClient(cl)
	log, buf := logger()
	// A second process (client) checks again: this client's metadata
	// cache still says the topic it just created is unknown.
	adm2 := func() *kadm.Client {
		cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(cl.Close)
		return kadm.NewClient(cl)
	}

	if err := Ensure(ctx(t), adm, "missing", false, log); err == nil || !strings.Contains(err.Error(), "--config cleanup.policy=compact --config segment.ms=60000") {
		t.Errorf("Ensure without create of a missing topic: %v", err)
	}
	if err := Ensure(ctx(t), adm, DefaultTopic, true, log); err != nil {
		t.Fatal(err)
	}
	cfg := policyOf(t, adm, DefaultTopic)
	if cfg["cleanup.policy"] != "compact" || cfg["segment.ms"] != SegmentMs {
		t.Errorf("created with cleanup.policy=%q segment.ms=%q", cfg["cleanup.policy"], cfg["segment.ms"])
	}
	// Again: it exists, compacted; nothing to say.
	if err := Ensure(ctx(t), adm2(), DefaultTopic, true, log); err != nil {
		t.Fatal(err)
	}
	if s := buf.String(); s != "" {
		t.Errorf("logged for a compacted topic: %s", s)
	}

	// A topic of the user's, not compacted: used, one WARN, not altered.
	if err := Ensure(ctx(t), adm2(), "plain", true, log); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 1 || !strings.Contains(lines[0], "level=WARN") || !strings.Contains(lines[0], "not compacted") || !strings.Contains(lines[0], "topic=plain") {
		t.Errorf("want one WARN about topic plain, got:\n%s", buf.String())
	}
	if p := policyOf(t, adm, "plain")["cleanup.policy"]; p == "compact" {
		t.Errorf("Ensure altered the user's topic: cleanup.policy=%s", p)
	}
}

func TestDecode(t *testing.T) {
	for _, c := range []struct {
		name, key, value string
		null             bool
		errHas           string
	}{
		{name: "valid", key: "r1", value: `{"rider_id":"r1","lat":12.9,"lon":77.6,"ts":"2026-11-25T13:00:00.123Z"}`},
		{name: "tombstone", key: "r1", null: true},
		{name: "key mismatch", key: "r2", value: `{"rider_id":"r1","lat":12.9,"lon":77.6,"ts":"2026-11-25T13:00:00.123Z"}`, errHas: `not the key "r2"`},
		{name: "bad key", key: "r 1", null: true, errHas: "key:"},
		{name: "no key", key: "", value: `{"rider_id":"r1","lat":12.9,"lon":77.6,"ts":"2026-11-25T13:00:00.123Z"}`, errHas: "key:"},
		{name: "no ts", key: "r1", value: `{"rider_id":"r1","lat":12.9,"lon":77.6}`, errHas: "ts"},
		{name: "bad lat", key: "r1", value: `{"rider_id":"r1","lat":91,"lon":77.6,"ts":1}`, errHas: "lat"},
		{name: "not JSON", key: "r1", value: `x`, errHas: "invalid JSON"},
	} {
		t.Run(c.name, func(t *testing.T) {
			var v []byte
			if !c.null {
				v = []byte(c.value)
			}
			e, err := Decode([]byte(c.key), v)
			if c.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), c.errHas) {
					t.Fatalf("Decode: %v, want an error with %q", err, c.errHas)
				}
				return
			}
			if err != nil || e.Location.RiderID != c.key || e.Deleted != c.null {
				t.Fatalf("Decode: %+v %v", e, err)
			}
		})
	}
}

// FuzzDecode: no input panics, and whatever Decode accepts is a valid
// location of the key's rider, or a tombstone of a valid key.
func FuzzDecode(f *testing.F) {
	f.Add([]byte("r1"), []byte(`{"rider_id":"r1","lat":12.9,"lon":77.6,"ts":"2026-11-25T13:00:00.123Z"}`), false)
	f.Add([]byte("r1"), []byte(nil), true)
	f.Add([]byte("r2"), []byte(`{"rider_id":"r1","lat":1,"lon":2,"ts":3}`), false)
	f.Fuzz(func(t *testing.T, key, value []byte, null bool) {
		if null {
			value = nil
		} else if value == nil {
			value = []byte{}
		}
		e, err := Decode(key, value)
		if err != nil {
			return
		}
		if e.Location.RiderID != string(key) || rider.ValidID(string(key)) != nil {
			t.Fatalf("accepted %q for key %q", e.Location.RiderID, key)
		}
		if e.Deleted != (value == nil) {
			t.Fatalf("deleted %v for value %q", e.Deleted, value)
		}
		if !e.Deleted {
			if err := e.Location.Validate(-1, time.Time{}, rider.Limits{}); err != nil {
				t.Fatalf("accepted an invalid location %+v: %v", e.Location, err)
			}
		}
	})
}

// collector gathers what a reader hands on.
type collector struct {
	mu sync.Mutex
	es []Entry
}

func (c *collector) apply(e Entry) { c.mu.Lock(); c.es = append(c.es, e); c.mu.Unlock() }

func (c *collector) keys() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var b []string
	for _, e := range c.es {
		s := e.Location.RiderID
		if e.Deleted {
			s += "(deleted)"
		}
		b = append(b, s)
	}
	return strings.Join(b, " ")
}

// run starts r, stopping and closing it when the test ends.
func run(t *testing.T, r *Reader, c *collector) {
	rctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(rctx, c.apply) }()
	t.Cleanup(func() { cancel(); <-done; r.Close() })
}

func value(id string, lat float64) []byte {
	l := rider.Location{RiderID: id, Lat: lat, Lon: 77.6, TS: time.UnixMilli(1764000000000).UTC()}
	return l.AppendJSON(nil)
}

func produce(t *testing.T, cl *kgo.Client, recs ...*kgo.Record) {
	t.Helper()
	if err := cl.ProduceSync(ctx(t), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

func TestReaderCatchesUpAndFollows(t *testing.T) {
	c, cl := cluster(t, DefaultTopic)
	const topic = DefaultTopic
	produce(t, cl,
		&kgo.Record{Topic: topic, Partition: 0, Key: []byte("r1"), Value: value("r1", 12.1)},
		&kgo.Record{Topic: topic, Partition: 0, Key: []byte("r2"), Value: value("r1", 12.2)}, // key mismatch
		&kgo.Record{Topic: topic, Partition: 0, Key: []byte("r3"), Value: []byte("not json")},
		&kgo.Record{Topic: topic, Partition: 1, Key: []byte("r4"), Value: value("r4", 12.4)},
		&kgo.Record{Topic: topic, Partition: 1, Key: []byte("r4")}, // tombstone
		// The last record of partition 0 is invalid: caught up still
		// means read to the end, not "the last valid record seen".
		&kgo.Record{Topic: topic, Partition: 0, Key: []byte("r5"), Value: []byte("{}")},
	)
	log, buf := logger()
	r, err := NewReader(ctx(t), []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}, topic, log)
	if err != nil {
		t.Fatal(err)
	}
	col := &collector{}
	run(t, r, col)
	select {
	case <-r.CaughtUp():
	case <-time.After(30 * time.Second):
		t.Fatalf("not caught up within 30s; read %q", col.keys())
	}
	// Everything before the end is handed on by the time CaughtUp closes
	// (partitions interleave, so compare sorted).
	if got := sortedWords(col.keys()); got != "r1 r4 r4(deleted)" {
		t.Errorf("handed on %q", got)
	}
	if st := r.Stats(); st.Records != 3 || st.Invalid != 3 || !st.CaughtUp {
		t.Errorf("stats %+v", st)
	}
	if n := strings.Count(buf.String(), "record skipped"); n != 3 {
		t.Errorf("%d skipped records logged, want 3:\n%s", n, buf.String())
	}
	// Then it follows.
	produce(t, cl, &kgo.Record{Topic: topic, Partition: 1, Key: []byte("r6"), Value: value("r6", 12.6)})
	testwait.For(t, 30*time.Second, "r6 to be read", func() string {
		if !strings.Contains(col.keys(), "r6") {
			return col.keys()
		}
		return ""
	})
}

func sortedWords(s string) string {
	w := strings.Fields(s)
	slices.Sort(w)
	return strings.Join(w, " ")
}

func TestReaderEmptyTopicCaughtUpAtOnce(t *testing.T) {
	c, _ := cluster(t, DefaultTopic)
	log, _ := logger()
	r, err := NewReader(ctx(t), []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}, DefaultTopic, log)
	if err != nil {
		t.Fatal(err)
	}
	run(t, r, &collector{})
	select {
	case <-r.CaughtUp():
	case <-time.After(10 * time.Second):
		t.Fatal("an empty topic was not caught up within 10s")
	}
}

func TestReaderMissingTopic(t *testing.T) {
	c, _ := cluster(t, "other")
	log, _ := logger()
	if _, err := NewReader(ctx(t), []kgo.Opt{kgo.SeedBrokers(c.ListenAddrs()...)}, DefaultTopic, log); err == nil || !strings.Contains(err.Error(), DefaultTopic) {
		t.Errorf("NewReader of a missing topic: %v", err)
	}
}

// TestReaderStall (against Courier, whose DeleteRecords moves the log
// start) deletes the records the reader listed before it reads
// them: it can never read to the end it listed, and after StallTimeout
// takes the topic as read, with a WARN.
func TestReaderStall(t *testing.T) {
	b := testbroker.Start(t)
	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if resp, err := adm.CreateTopic(ctx(t), 2, 1, nil, DefaultTopic); err != nil || resp.Err != nil {
		t.Fatalf("create topic: %v %v", err, resp.Err)
	}
	produce(t, cl,
		&kgo.Record{Topic: DefaultTopic, Partition: 0, Key: []byte("r1"), Value: value("r1", 12.1)},
		&kgo.Record{Topic: DefaultTopic, Partition: 0, Key: []byte("r2"), Value: value("r2", 12.2)},
	)
	log, buf := logger()
	r, err := NewReader(ctx(t), []kgo.Opt{kgo.SeedBrokers(b.Addr)}, DefaultTopic, log)
	if err != nil {
		t.Fatal(err)
	}
	offsets := kadm.Offsets{}
	offsets.Add(kadm.Offset{Topic: DefaultTopic, Partition: 0, At: 2})
	if resp, err := adm.DeleteRecords(ctx(t), offsets); err != nil || resp.Error() != nil {
		t.Fatalf("delete records: %v %v", err, resp.Error())
	}
	r.StallTimeout = 2 * time.Second
	col := &collector{}
	start := time.Now()
	run(t, r, col)
	select {
	case <-r.CaughtUp():
	case <-time.After(30 * time.Second):
		t.Fatal("not taken as read within 30s")
	}
	if d := time.Since(start); d < r.StallTimeout {
		t.Errorf("taken as read after %v, before the stall timeout", d)
	}
	if !strings.Contains(buf.String(), "level=WARN") || !strings.Contains(buf.String(), "taking the topic as read") {
		t.Errorf("no WARN about the stall:\n%s", buf.String())
	}
	if col.keys() != "" {
		t.Errorf("handed on deleted records: %q", col.keys())
	}
}
