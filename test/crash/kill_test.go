package crash

// kill_test.go SIGKILLs the broker again and again under an idempotent
// acks=all producer and checks every acknowledged record survived, once,
// where it was acknowledged.

import (
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/brokerproc"
	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	// kills is how many times each run SIGKILLs the broker.
	kills = 4
	// killTopicPartitions is the produced topic's partition count.
	killTopicPartitions = 3
	// maxRecords bounds what one run produces.
	maxRecords = 200_000
	// flushTimeout bounds the wait for the last records' outcomes; it is
	// longer than the delivery timeout, after which every record has one.
	flushTimeout = 20 * time.Second
	// deliveryTimeout is how long a record may be retried across crashes.
	deliveryTimeout = 10 * time.Second
)

// ack is an acknowledged record: where the broker said it put it.
type ack struct {
	partition int32
	offset    int64
	value     string
}

// crashSeed returns the run's random seed: $COURIER_CRASH_SEED if set (to
// replay a failure), else a fresh one. Tests log it.
func crashSeed(t *testing.T) uint64 {
	if s := os.Getenv("COURIER_CRASH_SEED"); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("COURIER_CRASH_SEED=%q: %v", s, err)
		}
		return seed
	}
	return rand.Uint64()
}

func TestKillDuringProduce(t *testing.T) {
	for _, fsync := range []string{"always", "interval"} {
		t.Run("fsync="+fsync, func(t *testing.T) { killDuringProduce(t, fsync) })
	}
}

// killDuringProduce runs one kill loop against a broker with --fsync mode.
func killDuringProduce(t *testing.T, mode string) {
	seed := crashSeed(t)
	t.Logf("seed %d (set COURIER_CRASH_SEED to replay the kill timings)", seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))

	b := brokerproc.StartT(t, courierBin, t.TempDir(), brokerproc.Fsync(mode))
	const topic = "crash"
	testclient.CreateTopic(t, b.Addr(), topic, killTopicPartitions, nil)

	// The defaults are acks=all and idempotence; value n goes to partition
	// n % 3, so each partition's values must come back increasing.
	p := startCrashProducer(t, b.Addr(), topic, 2000, func(n int) *kgo.Record {
		return &kgo.Record{Partition: int32(n % killTopicPartitions), Value: []byte(value(n))}
	}, kgo.RecordPartitioner(kgo.ManualPartitioner()))

	time.Sleep(300 * time.Millisecond)
	for i := range kills {
		time.Sleep(time.Duration(200+rng.IntN(600)) * time.Millisecond)
		before := p.ackedCount()
		if err := b.Kill(); err != nil {
			t.Fatalf("kill %d: %v", i+1, err)
		}
		restart := time.Now()
		if err := b.Restart(); err != nil {
			t.Fatalf("restart after kill %d: %v", i+1, err)
		}
		t.Logf("kill %d: %d records acknowledged before it, %d produced; restart took %v", i+1, before, p.produced.Load(), time.Since(restart).Round(time.Millisecond))
	}
	acked := p.finish(t, 500)

	// A clean restart, then read everything back.
	if err := b.Stop(); err != nil {
		t.Fatalf("clean stop: %v", err)
	}
	if err := b.Restart(); err != nil {
		t.Fatalf("clean restart: %v", err)
	}
	checkLog(t, consumeAll(t, b.Addr(), topic), acked)
}

// checkLog checks the topic read back against the acknowledgements:
// offsets are dense from 0, every value sits in its partition (n % 3),
// values strictly increase per partition, no value appears twice, and every
// acknowledged record is at its acknowledged offset.
func checkLog(t *testing.T, got map[int32][]*kgo.Record, acked []ack) {
	t.Helper()
	seen := make(map[string]ack)
	errs := 0
	fail := func(format string, args ...any) {
		t.Helper()
		if errs++; errs <= 20 {
			t.Errorf(format, args...)
		}
	}
	total := 0
	for p := range int32(killTopicPartitions) {
		prev := -1
		for i, r := range got[p] {
			total++
			v := string(r.Value)
			if r.Offset != int64(i) {
				fail("partition %d: record %d has offset %d (offsets must be dense from 0)", p, i, r.Offset)
			}
			n, err := strconv.Atoi(v)
			if err != nil || len(v) != 6 {
				fail("partition %d offset %d: value %q is not a produced value", p, r.Offset, r.Value)
				continue
			}
			if int32(n%killTopicPartitions) != p {
				fail("partition %d offset %d: value %s belongs in partition %d", p, r.Offset, v, n%killTopicPartitions)
			}
			if first, dup := seen[v]; dup {
				fail("value %s is stored twice: partition %d offset %d and partition %d offset %d (idempotence broken)", v, first.partition, first.offset, p, r.Offset)
			} else if n <= prev {
				fail("partition %d offset %d: value %s after %s (values must strictly increase)", p, r.Offset, v, value(prev))
			}
			seen[v] = ack{p, r.Offset, v}
			prev = max(prev, n)
		}
	}
	lost := 0
	for _, a := range acked {
		s, ok := seen[a.value]
		switch {
		case !ok:
			lost++
			fail("acknowledged value %s (partition %d offset %d) is missing", a.value, a.partition, a.offset)
		case s.partition != a.partition || s.offset != a.offset:
			fail("acknowledged value %s was acknowledged at partition %d offset %d but is at partition %d offset %d", a.value, a.partition, a.offset, s.partition, s.offset)
		}
	}
	if errs > 20 {
		t.Errorf("... %d problems in all", errs)
	}
	t.Logf("read back %d records; %d acknowledged, %d acknowledged records missing", total, len(acked), lost)
}
