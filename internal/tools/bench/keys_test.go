package bench

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/cleaner"
	"github.com/courier-dev/courier/internal/broker/run"
	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestCompacts(t *testing.T) {
	for policy, want := range map[string]bool{
		"compact":           true,
		"delete":            false,
		"compact,delete":    true,
		"delete, compact":   true,
		"[compact, delete]": true,
		"COMPACT":           true,
		"":                  false,
		"compaction":        false,
	} {
		if got := compacts(policy); got != want {
			t.Errorf("compacts(%q) = %v, want %v", policy, got, want)
		}
	}
}

func TestKeyedPoolRecords(t *testing.T) {
	const size, n = 32, 3
	p := newRecordPool("t", n, size, maxKeyLen, rand.NewChaCha8([32]byte{}))
	var recs []*kgo.Record
	for range n {
		r, err := p.get(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		recs = append(recs, r)
	}
	want := make([][]byte, n)
	for i, r := range recs {
		want[i] = append([]byte(nil), r.Value...)
	}
	// The longest keys stay in their room, out of the next value.
	recs[0].Key = appendKey(keyBuf(recs[0]), math.MaxInt-1, math.MaxInt)
	recs[1].Key = appendKey(keyBuf(recs[1]), math.MaxUint64, math.MaxInt)
	recs[2].Key = appendKey(keyBuf(recs[2]), 12345, 100)
	for i, r := range recs {
		if string(r.Value) != string(want[i]) {
			t.Errorf("record %d: writing keys changed its value", i)
		}
		if len(r.Value) != size {
			t.Errorf("record %d: value of %d bytes", i, len(r.Value))
		}
	}
	if got := string(recs[2].Key); got != "key-45" {
		t.Errorf("key = %q, want key-45", got)
	}
	if got := string(recs[0].Key); got != "key-9223372036854775806" {
		t.Errorf("longest key = %q", got)
	}
	if allocs := testing.AllocsPerRun(100, func() {
		recs[2].Key = appendKey(keyBuf(recs[2]), 99999, 10000)
	}); allocs != 0 {
		t.Errorf("keying a record allocates %v times", allocs)
	}
}

// seenOf returns a seen of records sequence numbers holding all but drop.
func seenOf(records int, drop ...int) *seen {
	s := newSeen(records)
	dropped := map[int]bool{}
	for _, d := range drop {
		dropped[d] = true
	}
	for seq := range records {
		if !dropped[seq] {
			s.mark(uint64(seq))
		}
	}
	return s
}

func TestKeysLost(t *testing.T) {
	for _, tc := range []struct {
		name                     string
		records, keys, producers int
		drop                     []int
		want                     int
	}{
		{"all there", 100, 10, 1, nil, 0},
		{"superseded records gone", 100, 10, 1, []int{0, 1, 2, 55, 89}, 0},
		// Seqs 90..99 are each key's last record.
		{"latest of one key gone", 100, 10, 1, []int{93}, 1},
		{"all but the latest gone", 100, 10, 1, []int{3, 13, 23, 33, 43, 53, 63, 73, 83}, 0},
		{"every record of a key gone", 100, 10, 1, []int{7, 17, 27, 37, 47, 57, 67, 77, 87, 97}, 1},
		// Two producers: [0,50) and [50,100). Key 3's candidates are 43
		// and 93: either may be the newest in the log.
		{"two producers, one candidate left", 100, 10, 2, []int{93}, 0},
		{"two producers, one candidate left (other)", 100, 10, 2, []int{43}, 0},
		{"two producers, both candidates gone", 100, 10, 2, []int{43, 93}, 1},
		// Uneven ranges: 3 producers over 10 records, 4 keys: ranges
		// [0,3) [3,6) [6,10). Key 0's candidates: 0, 4, 8.
		{"uneven ranges", 10, 4, 3, []int{0, 4}, 0},
		{"uneven ranges, key lost", 10, 4, 3, []int{0, 4, 8}, 1},
		// More keys than records: keys 5..9 have no record and no candidate.
		{"more keys than records", 5, 10, 1, []int{2}, 1},
		{"one key", 50, 1, 1, []int{1, 2, 3}, 0},
		{"one key lost", 50, 1, 1, []int{49}, 1},
	} {
		s := seenOf(tc.records, tc.drop...)
		if got := keysLost(s, tc.records, tc.keys, tc.producers); got != tc.want {
			t.Errorf("%s: keysLost = %d, want %d", tc.name, got, tc.want)
		}
	}
}

func TestCompactedCheck(t *testing.T) {
	base := Result{Records: 100, Keys: 10, Compacted: true}
	ok := base
	ok.ConsumeLoss = Loss{Missing: 80}
	ok.E2ELoss = Loss{Missing: 3}
	if err := ok.Check(); err != nil {
		t.Errorf("superseded records missing on a compacted topic: %v", err)
	}
	var text strings.Builder
	if err := ok.WriteText(&text); err != nil || !strings.Contains(text.String(), "passed; superseded records not read (the cleaner may remove them): 3 end-to-end, 80 consume") {
		t.Errorf("WriteText: %v\n%s", err, text.String())
	}
	for _, tc := range []struct {
		name string
		loss Loss
		want string
	}{
		{"key lost", Loss{Missing: 81, KeysLost: 1}, "the newest record of 1 of 10 keys missing"},
		{"duplicate", Loss{Duplicates: 2}, "2 duplicates"},
		{"invalid", Loss{Invalid: 1}, "1 invalid"},
	} {
		r := base
		r.ConsumeLoss = tc.loss
		if err := r.Check(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Check() = %v, want it to say %q", tc.name, err, tc.want)
		}
	}
	// The same losses on a topic that does not compact fail.
	exact := ok
	exact.Compacted = false
	if err := exact.Check(); err == nil {
		t.Error("missing records on a delete-policy topic passed the check")
	}
}

func TestKeyedConfigValidation(t *testing.T) {
	seeds := kgo.SeedBrokers("127.0.0.1:1")
	compact := "compact,delete"
	for _, cfg := range []Config{
		{ClientOpts: []kgo.Opt{seeds}, Keys: -1},
		{ClientOpts: []kgo.Opt{seeds}, TopicConfigs: map[string]*string{"cleanup.policy": &compact}},
	} {
		if err := cfg.Validate(); err == nil {
			t.Errorf("config %+v accepted", cfg)
		}
	}
	if err := (Config{Keys: 10, TopicConfigs: map[string]*string{"cleanup.policy": &compact}}).Validate(); err != nil {
		t.Errorf("keyed compacted config: %v", err)
	}
}

// TestKeyedRunKeys checks on kfake that record seq carries key
// key-(seq % Keys), and that a topic that does not compact still gets the
// exact check.
func TestKeyedRunKeys(t *testing.T) {
	seeds, _ := newCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	const records, keys = 2000, 7
	cfg := Config{ClientOpts: []kgo.Opt{seeds}, Topic: "keyed", Records: records, Keys: keys, Partitions: 3, Producers: 2, Keep: true}
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Check(); err != nil || res.Compacted || res.Keys != keys {
		t.Fatalf("check %v, result %+v", err, res)
	}
	partitionOf := map[string]int32{}
	n := readAll(t, ctx, seeds, cfg, func(r *kgo.Record) {
		seq, _, _ := ReadHeader(r.Value)
		if want := fmt.Sprintf("key-%d", seq%keys); string(r.Key) != want {
			t.Fatalf("record %d has key %q, want %q", seq, r.Key, want)
		}
		if p, ok := partitionOf[string(r.Key)]; ok && p != r.Partition {
			t.Fatalf("key %q in partitions %d and %d", r.Key, p, r.Partition)
		}
		partitionOf[string(r.Key)] = r.Partition
	})
	if n != records || len(partitionOf) != keys {
		t.Errorf("read %d records of %d keys", n, len(partitionOf))
	}
}

// readAll reads cfg.Topic from the start up to its log end (or for 30 s),
// calling each for every record; it returns how many it read.
func readAll(t *testing.T, ctx context.Context, seeds kgo.Opt, cfg Config, each func(*kgo.Record)) int {
	t.Helper()
	ends, err := endOffsets(ctx, newAdmin(t, seeds), cfg)
	if err != nil {
		t.Fatal(err)
	}
	cl, err := kgo.NewClient(seeds, kgo.ConsumeTopics(cfg.Topic), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	n := 0
	next := make([]int64, len(ends))
	deadline := time.Now().Add(30 * time.Second)
	for !reached(next, &ends) {
		if time.Now().After(deadline) {
			t.Fatalf("read %d records of %s in 30 s and not up to its end %v", n, cfg.Topic, ends)
		}
		pctx, pcancel := context.WithTimeout(ctx, time.Second)
		fs := cl.PollFetches(pctx)
		pcancel()
		fs.EachRecord(func(r *kgo.Record) {
			n++
			next[r.Partition] = r.Offset + 1
			each(r)
		})
	}
	return n
}

// TestCompactedRunOnCourier runs a keyed benchmark into a compacted topic
// of tiny segments on a Courier broker whose cleaner runs, waits until the
// cleaner has removed superseded records, and then reads the topic with
// the benchmark's consumer: it must stop at the log end (not wait out the
// idle timeout for records that are gone) and pass the compacted check.
func TestCompactedRunOnCourier(t *testing.T) {
	b := testbroker.Start(t, func(c *run.Config) {
		c.Broker.Cleaner = cleaner.Config{Threads: 1, Backoff: 20 * time.Millisecond}
	})
	seeds := kgo.SeedBrokers(b.Addr)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	str := func(s string) *string { return &s }
	const records, keys = 4000, 50
	cfg := Config{
		ClientOpts: []kgo.Opt{seeds},
		Topic:      "compacted",
		Records:    records,
		Keys:       keys,
		Partitions: 2,
		Producers:  2,
		TopicConfigs: map[string]*string{
			"cleanup.policy":            str("compact"),
			"internal.segment.bytes":    str("16384"),
			"min.cleanable.dirty.ratio": str("0.01"),
		},
		// Small batches, so that most of them fall in cleanable segments.
		BufferBytes: 1,
		IdleTimeout: time.Minute,
		Keep:        true,
	}
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := res.Check(); err != nil || !res.Compacted {
		t.Fatalf("check %v, compacted %v", err, res.Compacted)
	}

	// Wait until the cleaner has removed most superseded records.
	if cfg, err = cfg.withDefaults(); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, time.Minute, "the cleaner to compact the topic", func() string {
		n := readAll(t, ctx, seeds, cfg, func(*kgo.Record) {})
		if n > records/2 {
			return fmt.Sprintf("%d of %d records still in the log", n, records)
		}
		return ""
	})

	ends, err := endOffsets(ctx, newAdmin(t, seeds), cfg)
	if err != nil {
		t.Fatal(err)
	}
	pass := &consumePass{cfg: cfg, clk: newClock(), produced: closedChan()}
	pass.logEnd.Store(&ends)
	start := time.Now()
	st, err := pass.run(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took >= cfg.IdleTimeout {
		t.Errorf("the pass took %v: it waited for removed records instead of stopping at the log end", took)
	}
	if st.Missing < records/2 || st.KeysLost != 0 || st.Duplicates != 0 || st.Invalid != 0 {
		t.Errorf("pass over the compacted log: %+v", st.Loss)
	}
}

// newAdmin returns an admin client of the cluster seeds reach.
func newAdmin(t *testing.T, seeds kgo.Opt) *kadm.Client {
	t.Helper()
	cl, err := kgo.NewClient(seeds)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return kadm.NewClient(cl)
}
