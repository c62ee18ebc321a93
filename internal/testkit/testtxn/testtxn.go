// Package testtxn is the exactly-once workload the transaction tests of
// every client share (kafkajs, confluent-kafka, Sarama, franz-go): input
// records seeded into a topic, a client that consumes them in a group and
// produces a transformed copy of each to an output topic in transactions
// that also commit the consumed offsets (and first aborts one transaction
// on purpose), and the check of the result with franz-go: a read_committed
// consumer sees every input's copy exactly once and nothing of the aborted
// transaction, a read_uncommitted one sees the aborted records too (so they
// were really written, and really filtered), the group's committed offsets
// are at the end of the input, and no partition's last stable offset is
// left behind its high watermark.
package testtxn

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Workload names the topics, group and size of one run.
type Workload struct {
	Addr       string
	In, Out    string // input and output topics, Partitions each
	Group      string // the transforming client's consumer group
	Records    int    // input records
	Partitions int32  // of each topic
	// SeedBatch, if set, seeds the input this many records per produce
	// request (small batches: each fetch, and so each transaction,
	// takes few records); otherwise all at once.
	SeedBatch int
	// Pause, if set, is how long each franz-go transformer
	// (StartSessions) waits after each transaction, to spread the work
	// over a crash test's kills.
	Pause time.Duration
}

// Transform is what the client must write for an input value: the output
// value. Clients implement it in their own language: "out:" + value.
func Transform(value string) string { return "out:" + value }

// AbortedPrefix starts the value of every record a client writes in the
// transaction it aborts on purpose.
const AbortedPrefix = "ABORTED:"

// Timeout bounds each franz-go step of the check.
const Timeout = 30 * time.Second

// Seed creates the topics and produces the input records, "in-0".."in-N-1"
// keyed "k-I", spread over the partitions.
func Seed(t testing.TB, w Workload) {
	t.Helper()
	testclient.CreateTopic(t, w.Addr, w.In, w.Partitions, nil)
	testclient.CreateTopic(t, w.Addr, w.Out, w.Partitions, nil)
	// Uncompressed: kafkajs reads no snappy (franz-go's default codec).
	cl := testclient.New(t, w.Addr, kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerBatchCompression(kgo.NoCompression()))
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	recs := make([]*kgo.Record, w.Records)
	for i := range recs {
		recs[i] = &kgo.Record{Topic: w.In, Partition: int32(i) % w.Partitions, Key: fmt.Appendf(nil, "k-%d", i), Value: fmt.Appendf(nil, "in-%d", i)}
	}
	step := w.SeedBatch
	if step <= 0 {
		step = len(recs)
	}
	for i := 0; i < len(recs); i += step {
		if err := cl.ProduceSync(ctx, recs[i:min(i+step, len(recs))]...).FirstErr(); err != nil {
			t.Fatalf("seed %s: %v", w.In, err)
		}
	}
}

// EndValue is the value of the sentinel record MarkEnd appends to every
// partition: a reader that reached it in each partition has read
// everything before, whatever transaction markers (which yield no record)
// end the partitions.
const EndValue = "END-OF-TEST"

// MarkEnd appends the sentinel to every partition of topic, outside any
// transaction. Call it once the writers have stopped, before Read.
func MarkEnd(t testing.TB, addr, topic string, partitions int32) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	cl := testclient.New(t, addr, kgo.RecordPartitioner(kgo.ManualPartitioner()))
	defer cl.Close()
	for p := range partitions {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Partition: p, Value: []byte(EndValue)}).FirstErr(); err != nil {
			t.Fatalf("end sentinel for %s-%d: %v", topic, p, err)
		}
	}
}

// Read returns the values of every record of topic before MarkEnd's
// sentinels, read from the start at the given isolation level.
func Read(t testing.TB, addr, topic string, partitions int32, committed bool) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	level := kgo.ReadUncommitted()
	if committed {
		level = kgo.ReadCommitted()
	}
	cl := testclient.New(t, addr, kgo.ConsumeTopics(topic), kgo.FetchIsolationLevel(level),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	defer cl.Close()
	var values []string
	for ended := map[int32]bool{}; int32(len(ended)) < partitions; {
		fs := cl.PollFetches(ctx)
		if err := ctx.Err(); err != nil {
			t.Fatalf("read %s (read_committed=%v): the end sentinel of only %d of %d partitions came within %v (%d records read): the last stable offset is stuck, or records are missing",
				topic, committed, len(ended), partitions, Timeout, len(values))
		}
		fs.EachError(func(tp string, p int32, err error) { t.Fatalf("read %s-%d: %v", tp, p, err) })
		fs.EachRecord(func(r *kgo.Record) {
			switch {
			case ended[r.Partition]:
			case string(r.Value) == EndValue:
				ended[r.Partition] = true
			default:
				values = append(values, string(r.Value))
			}
		})
	}
	return values
}

// Check verifies a finished run (see the package comment). who names the
// client in failures.
func Check(t testing.TB, w Workload, who string) {
	t.Helper()
	MarkEnd(t, w.Addr, w.Out, w.Partitions)
	committed := Read(t, w.Addr, w.Out, w.Partitions, true)
	seen := map[string]int{}
	for _, v := range committed {
		if strings.HasPrefix(v, AbortedPrefix) {
			t.Fatalf("%s: a read_committed consumer saw a record of the aborted transaction: %q", who, v)
		}
		seen[v]++
	}
	for i := range w.Records {
		v := Transform(fmt.Sprintf("in-%d", i))
		if seen[v] != 1 {
			t.Fatalf("%s: %q read %d times by a read_committed consumer, want exactly once (%d records read)", who, v, seen[v], len(committed))
		}
		delete(seen, v)
	}
	if len(seen) > 0 {
		t.Fatalf("%s: a read_committed consumer read records nobody should have written: %v", who, seen)
	}
	aborted := 0
	for _, v := range Read(t, w.Addr, w.Out, w.Partitions, false) {
		if strings.HasPrefix(v, AbortedPrefix) {
			aborted++
		}
	}
	if aborted == 0 {
		t.Fatalf("%s: a read_uncommitted consumer saw no record of the aborted transaction: the client did not write it, so abort was not tested", who)
	}
	ctx, cancel := context.WithTimeout(context.Background(), Timeout)
	defer cancel()
	adm := kadm.NewClient(testclient.New(t, w.Addr))
	offs, err := adm.FetchOffsets(ctx, w.Group)
	if err == nil {
		err = offs.Error()
	}
	if err != nil {
		t.Fatalf("%s: fetch the offsets of group %s: %v", who, w.Group, err)
	}
	ends, err := adm.ListEndOffsets(ctx, w.In)
	if err != nil {
		t.Fatalf("end offsets of %s: %v", w.In, err)
	}
	ends.Each(func(e kadm.ListedOffset) {
		o, ok := offs.Lookup(w.In, e.Partition)
		if !ok || o.At != e.Offset {
			t.Fatalf("%s: group %s committed %+v for %s-%d, want the end of the input, %d", who, w.Group, o, w.In, e.Partition, e.Offset)
		}
	})
	if why := Unstable(t, w.Addr, w.Out); why != "" {
		t.Fatalf("%s: %s", who, why)
	}
}

// Unstable says which partition of topic has its last stable offset
// behind its high watermark (a transaction open), or "" if none has.
func Unstable(t testing.TB, addr, topic string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	adm := kadm.NewClient(testclient.New(t, addr))
	hw, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return fmt.Sprintf("end offsets of %s: %v", topic, err)
	}
	lso, err := adm.ListCommittedOffsets(ctx, topic)
	if err != nil {
		return fmt.Sprintf("last stable offsets of %s: %v", topic, err)
	}
	why := ""
	hw.Each(func(h kadm.ListedOffset) {
		if l, ok := lso.Lookup(topic, h.Partition); why == "" && (!ok || l.Offset != h.Offset) {
			why = fmt.Sprintf("%s-%d: last stable offset %d, high watermark %d: a transaction is still open", topic, h.Partition, l.Offset, h.Offset)
		}
	})
	return why
}
