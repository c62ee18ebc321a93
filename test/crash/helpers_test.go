package crash

// helpers_test.go: clients, topic creation and reading a whole topic back.

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// endOffsets returns each partition's high watermark.
func endOffsets(t *testing.T, addr, topic string) map[int32]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl := testclient.New(t, addr)
	defer cl.Close()
	ends, err := kadm.NewClient(cl).ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		t.Fatalf("list end offsets of %s: %v", topic, err)
	}
	out := make(map[int32]int64)
	ends.Each(func(o kadm.ListedOffset) { out[o.Partition] = o.Offset })
	return out
}

// consumeAll reads every partition of topic from offset 0 up to its current
// high watermark, without a consumer group, and returns the records by
// partition in offset order. It fails the test if that takes over 15s.
func consumeAll(t *testing.T, addr, topic string) map[int32][]*kgo.Record {
	t.Helper()
	ends := endOffsets(t, addr, topic)
	start := make(map[int32]kgo.Offset)
	for p := range ends {
		start[p] = kgo.NewOffset().AtStart()
	}
	cl := testclient.New(t, addr,
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: start}),
		kgo.FetchMaxWait(200*time.Millisecond))
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	got := make(map[int32][]*kgo.Record)
	done := func() bool {
		for p, end := range ends {
			if rs := got[p]; end > 0 && (len(rs) == 0 || rs[len(rs)-1].Offset < end-1) {
				return false
			}
		}
		return true
	}
	for !done() {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			have := make(map[int32]int)
			for p, rs := range got {
				have[p] = len(rs)
			}
			t.Fatalf("consume %s: only %v records by partition after 15s; end offsets %v", topic, have, ends)
		}
		fs.EachError(func(topic string, p int32, err error) {
			t.Fatalf("consume %s[%d]: %v", topic, p, err)
		})
		fs.EachRecord(func(r *kgo.Record) {
			if r.Offset < ends[r.Partition] {
				got[r.Partition] = append(got[r.Partition], r)
			}
		})
	}
	return got
}

// value is the sequential value with number n.
func value(n int) string { return fmt.Sprintf("%06d", n) }
