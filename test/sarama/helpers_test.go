package sarama_test

// helpers_test.go: sarama configurations, a producer that records what
// it wrote where, the broker's view of a group's committed offsets, and
// bounded waiting.

import (
	"fmt"
	"log"
	"os"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/courier-dev/courier/internal/testkit/testwait"
)

// kafkaVersion is the Kafka version sarama is told the broker runs; it
// picks each request's version. At 3.6 sarama sends Metadata v11, Produce
// v9, Fetch v12, FindCoordinator v3, JoinGroup v8 with subscription
// metadata v2 (owned partitions, KIP-429, and their generation, KIP-792,
// which cooperative-sticky uses), SyncGroup v5, Heartbeat v4,
// LeaveGroup v5 (with a reason), OffsetCommit v8, OffsetFetch v8 and
// InitProducerId v4: the newest sarama has of every group API, nearly all
// of them flexible versions, and every one within what the broker
// advertises, so sarama's ApiVersions clamping leaves them as they are.
var kafkaVersion = sarama.V3_6_0_0

func TestMain(m *testing.M) {
	// COURIER_SARAMA_LOG=1 shows sarama's own log, for debugging.
	if os.Getenv("COURIER_SARAMA_LOG") != "" {
		sarama.Logger = log.New(os.Stderr, "[sarama] ", log.Lmicroseconds)
	}
	os.Exit(m.Run())
}

// baseConfig is what every client shares: the version, short timeouts so
// that a broker that stops answering fails the test quickly, and quick
// metadata retries.
func baseConfig(clientID string) *sarama.Config {
	c := sarama.NewConfig()
	c.Version = kafkaVersion
	c.ClientID = clientID
	c.Net.DialTimeout = 5 * time.Second
	c.Net.ReadTimeout = 10 * time.Second
	c.Net.WriteTimeout = 5 * time.Second
	c.Metadata.Retry.Backoff = 50 * time.Millisecond
	c.Admin.Timeout = 5 * time.Second
	return c
}

// produced is what a test wrote, by partition and offset.
type produced map[int32][]record

// record is a key and value.
type record struct{ key, value string }

// end is the log end offset of p: the number of records written to it.
func (pr produced) end(p int32) int64 { return int64(len(pr[p])) }

// syncProducer is a sarama SyncProducer with acks=all and the manual
// partitioner, and what it wrote.
type syncProducer struct {
	sarama.SyncProducer
	topic string
	recs  produced
}

func newSyncProducer(t *testing.T, addr, topic string, edit func(*sarama.Config)) *syncProducer {
	t.Helper()
	c := baseConfig("producer")
	c.Producer.RequiredAcks = sarama.WaitForAll
	c.Producer.Partitioner = sarama.NewManualPartitioner
	c.Producer.Return.Successes = true
	if edit != nil {
		edit(c)
	}
	p, err := sarama.NewSyncProducer([]string{addr}, c)
	if err != nil {
		t.Fatalf("sarama.NewSyncProducer: %v", err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("close producer: %v", err)
		}
	})
	return &syncProducer{SyncProducer: p, topic: topic, recs: produced{}}
}

// produce sends n location updates of phase to each of parts in one
// SendMessages call and checks that each landed at the next offset of the
// partition it was meant for.
func (sp *syncProducer) produce(t *testing.T, phase string, n int, parts ...int32) {
	t.Helper()
	var msgs []*sarama.ProducerMessage
	var want []int32 // the partition of each message
	for _, p := range parts {
		for i := range n {
			k, v := riderUpdate(phase, p, len(sp.recs[p])+i)
			msgs = append(msgs, &sarama.ProducerMessage{
				Topic: sp.topic, Partition: p, Key: sarama.StringEncoder(k), Value: sarama.StringEncoder(v),
			})
			want = append(want, p)
		}
	}
	if err := sp.SendMessages(msgs); err != nil {
		t.Fatalf("SendMessages %s: %v", phase, err)
	}
	for i, m := range msgs {
		p := want[i]
		if m.Partition != p || m.Offset != sp.recs.end(p) {
			t.Fatalf("SendMessages %s: record %d went to %d@%d, want %d@%d", phase, i, m.Partition, m.Offset, p, sp.recs.end(p))
		}
		k, _ := m.Key.Encode()
		v, _ := m.Value.Encode()
		sp.recs[p] = append(sp.recs[p], record{string(k), string(v)})
	}
}

// riderUpdate is the n-th location update of phase on partition p: riders
// of the north region go to partition 0, of the south to partition 1, as
// in the seed notes.
func riderUpdate(phase string, p int32, n int) (key, value string) {
	region := [...]string{"north", "south"}[p]
	rider := fmt.Sprintf("rider-%s-%d", region, n%5)
	return rider, fmt.Sprintf(`{"phase":%q,"region":%q,"rider":%q,"seq":%d,"lat":%d.%04d,"lon":%d.%04d}`,
		phase, region, rider, n, 51+int(p), n*37%10000, -int(p), n*91%10000)
}

// newAdmin returns a sarama ClusterAdmin of the broker at addr.
func newAdmin(t *testing.T, addr string) sarama.ClusterAdmin {
	t.Helper()
	a, err := sarama.NewClusterAdmin([]string{addr}, baseConfig("admin"))
	if err != nil {
		t.Fatalf("sarama.NewClusterAdmin: %v", err)
	}
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Errorf("close admin: %v", err)
		}
	})
	return a
}

// committed returns group's committed offsets of topic's partitions
// 0..n-1 (-1 where none is), as the broker answers OffsetFetch.
func committed(t *testing.T, admin sarama.ClusterAdmin, group, topic string, n int32) map[int32]int64 {
	t.Helper()
	var parts []int32
	for p := range n {
		parts = append(parts, p)
	}
	resp, err := admin.ListConsumerGroupOffsets(group, map[string][]int32{topic: parts})
	if err == nil && resp.Err != sarama.ErrNoError {
		err = resp.Err
	}
	if err != nil {
		t.Fatalf("ListConsumerGroupOffsets %s: %v", group, err)
	}
	out := map[int32]int64{}
	for _, p := range parts {
		b := resp.GetBlock(topic, p)
		if b == nil {
			t.Fatalf("ListConsumerGroupOffsets %s: no block for %s-%d", group, topic, p)
		}
		if b.Err != sarama.ErrNoError {
			t.Fatalf("ListConsumerGroupOffsets %s: %s-%d: %v", group, topic, p, b.Err)
		}
		out[p] = b.Offset
	}
	return out
}

// waitFor is testwait.For, named for this package's tests.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() string) {
	t.Helper()
	testwait.For(t, timeout, what, cond)
}

// seq returns from, from+1, ..., to-1.
func seq(from, to int64) []int64 {
	var out []int64
	for o := from; o < to; o++ {
		out = append(out, o)
	}
	return out
}
