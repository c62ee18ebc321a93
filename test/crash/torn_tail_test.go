package crash

// torn_tail_test.go appends what a crash mid-write can leave at the end of
// the active segment, restarts the broker and checks that the tail is cut
// off: every whole record stays, producing continues at the next offset,
// and what is produced afterwards survives another restart.

import (
	"context"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/brokerproc"
	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/twmb/franz-go/pkg/kgo"
)

// batchHeaderLen is a v2 record batch's size before its first record.
const batchHeaderLen = 61

// tornTails are the endings a crash can leave. Each gets the segment's
// bytes, its last whole batch, and the next offset, and returns the bytes
// to append.
var tornTails = []struct {
	name string
	tail func(rng *rand.Rand, last []byte, next int64) []byte
}{
	{"random bytes", func(rng *rand.Rand, _ []byte, _ int64) []byte {
		b := make([]byte, 37)
		for i := range b {
			b[i] = byte(rng.UintN(256))
		}
		return b
	}},
	{"zeros", func(*rand.Rand, []byte, int64) []byte {
		return make([]byte, 4096) // a file extended but never written
	}},
	{"length prefix only", func(_ *rand.Rand, _ []byte, next int64) []byte {
		b := binary.BigEndian.AppendUint64(nil, uint64(next))
		return binary.BigEndian.AppendUint32(b, 1<<20)
	}},
	{"header without records", func(_ *rand.Rand, last []byte, next int64) []byte {
		return nextBatch(last, next)[:batchHeaderLen]
	}},
	{"batch cut short", func(_ *rand.Rand, last []byte, next int64) []byte {
		b := nextBatch(last, next)
		return b[:len(b)-5]
	}},
	{"whole batch, bad CRC", func(_ *rand.Rand, last []byte, next int64) []byte {
		b := nextBatch(last, next)
		b[len(b)-3] ^= 0xff
		return b
	}},
}

// nextBatch returns a copy of batch re-addressed to base offset next: a
// batch that would be valid there (the CRC does not cover the base offset).
func nextBatch(batch []byte, next int64) []byte {
	b := slices.Clone(batch)
	binary.BigEndian.PutUint64(b, uint64(next))
	return b
}

func TestTornTail(t *testing.T) {
	seed := crashSeed(t)
	t.Logf("seed %d", seed)
	for i, tc := range tornTails {
		t.Run(tc.name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, uint64(i)))
			tornTail(t, func(last []byte, next int64) []byte { return tc.tail(rng, last, next) })
		})
	}
}

// tornTail produces, stops the broker, appends tail(last batch, next
// offset) to the active segment, restarts and checks.
func tornTail(t *testing.T, tail func(last []byte, next int64) []byte) {
	dataDir := t.TempDir()
	b := brokerproc.StartT(t, courierBin, dataDir, brokerproc.Fsync("always"))
	const topic = "torn"
	testclient.CreateTopic(t, b.Addr(), topic, 1, nil)

	const first, more = 100, 10
	var want []string
	for n := 1; n <= first+more; n++ {
		want = append(want, value(n))
	}
	produce(t, b.Addr(), topic, want[:first], 0)
	if err := b.Stop(); err != nil {
		t.Fatalf("clean stop: %v", err)
	}

	seg := activeSegment(t, filepath.Join(dataDir, "logs", topic+"-0"))
	data, err := os.ReadFile(seg)
	if err != nil {
		t.Fatal(err)
	}
	batches := splitBatches(t, data)
	garbage := tail(batches[len(batches)-1], first)
	f, err := os.OpenFile(seg, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Write(garbage); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("appended %d bytes to %s (%d bytes, %d batches)", len(garbage), filepath.Base(seg), len(data), len(batches))

	if err := b.Restart(); err != nil {
		t.Fatalf("restart over the torn tail: %v", err)
	}
	checkValues(t, consumeAll(t, b.Addr(), topic)[0], want[:first])
	produce(t, b.Addr(), topic, want[first:], first)
	checkValues(t, consumeAll(t, b.Addr(), topic)[0], want)

	// What was produced after the repair must survive a restart too: a
	// log that appended after the garbage would lose it now.
	if err := b.Stop(); err != nil {
		t.Fatalf("clean stop after the repair: %v", err)
	}
	if err := b.Restart(); err != nil {
		t.Fatalf("restart after the repair: %v", err)
	}
	checkValues(t, consumeAll(t, b.Addr(), topic)[0], want)
	if end := endOffsets(t, b.Addr(), topic)[0]; end != first+more {
		t.Errorf("high watermark %d, want %d", end, first+more)
	}
}

// produce writes values to partition 0 of topic in batches of ten with an
// idempotent acks=all producer, and checks they land at firstOffset on.
func produce(t *testing.T, addr, topic string, values []string, firstOffset int64) {
	t.Helper()
	cl := testclient.New(t, addr, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	for i := 0; i < len(values); i += 10 {
		var rs []*kgo.Record
		for _, v := range values[i:min(i+10, len(values))] {
			rs = append(rs, &kgo.Record{Partition: 0, Value: []byte(v)})
		}
		if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
			t.Fatalf("produce: %v", err)
		}
		for j, r := range rs {
			if want := firstOffset + int64(i+j); r.Offset != want {
				t.Fatalf("value %s acknowledged at offset %d, want %d", r.Value, r.Offset, want)
			}
		}
	}
}

// checkValues checks a partition holds exactly want, at offsets 0, 1, ...
func checkValues(t *testing.T, got []*kgo.Record, want []string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("read back %d records, want %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if r := got[i]; r.Offset != int64(i) || string(r.Value) != want[i] {
			t.Fatalf("record %d: offset %d value %q, want offset %d value %q", i, r.Offset, r.Value, i, want[i])
		}
	}
}

// activeSegment returns the segment with the highest base offset in dir
// (segments are named %020d.log by base offset).
func activeSegment(t *testing.T, dir string) string {
	t.Helper()
	segs, err := filepath.Glob(filepath.Join(dir, "*.log"))
	if err != nil || len(segs) == 0 {
		t.Fatalf("no segment in %s: %v", dir, err)
	}
	sort.Strings(segs)
	return segs[len(segs)-1]
}

// splitBatches cuts a segment into its batches by their length prefix and
// fails the test unless that covers it exactly.
func splitBatches(t *testing.T, data []byte) [][]byte {
	t.Helper()
	var out [][]byte
	for rest := data; len(rest) > 0; {
		if len(rest) < batchHeaderLen {
			t.Fatalf("segment ends in %d stray bytes before the test touched it", len(rest))
		}
		n := 12 + int(binary.BigEndian.Uint32(rest[8:12]))
		if n < batchHeaderLen || n > len(rest) {
			t.Fatalf("segment holds a batch of %d bytes with %d left", n, len(rest))
		}
		out = append(out, rest[:n])
		rest = rest[n:]
	}
	if len(out) == 0 {
		t.Fatal("segment is empty")
	}
	return out
}
