package sarama_test

// idempotent_test.go: sarama's idempotent producer (InitProducerId, then
// Produce with a producer ID, epoch and sequence numbers) writes records
// that sarama's partition consumer reads back unchanged, stored in batches
// that carry that producer ID and consecutive sequence numbers.

import (
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/courier-dev/courier/internal/testkit/testbroker"
)

func TestSaramaIdempotentProducer(t *testing.T) {
	const topic = "rider-updates-idempotent"
	b := testbroker.Start(t)
	if err := newAdmin(t, b.Addr).CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 2, ReplicationFactor: 1}, false); err != nil {
		t.Fatalf("CreateTopic %s: %v", topic, err)
	}
	prod := newSyncProducer(t, b.Addr, topic, func(c *sarama.Config) {
		c.Producer.Idempotent = true
		c.Net.MaxOpenRequests = 1
	})
	// Several requests per partition, so that sequence numbers go on
	// from one batch to the next.
	for _, phase := range []string{"first", "second", "third"} {
		prod.produce(t, phase, 7, 0, 1)
	}
	for _, p := range []int32{0, 1} {
		k, v := riderUpdate("single", p, len(prod.recs[p]))
		off0 := prod.recs.end(p)
		part, off, err := prod.SendMessage(&sarama.ProducerMessage{Topic: topic, Partition: p, Key: sarama.StringEncoder(k), Value: sarama.StringEncoder(v)})
		if err != nil || part != p || off != off0 {
			t.Fatalf("SendMessage to partition %d: %d@%d, %v; want %d@%d", p, part, off, err, p, off0)
		}
		prod.recs[p] = append(prod.recs[p], record{k, v})
	}

	// sarama's consumer reads every record back, in order.
	c := baseConfig("reader")
	c.Consumer.MaxWaitTime = 200 * time.Millisecond
	consumer, err := sarama.NewConsumer([]string{b.Addr}, c)
	if err != nil {
		t.Fatalf("sarama.NewConsumer: %v", err)
	}
	defer consumer.Close()
	for _, p := range []int32{0, 1} {
		pc, err := consumer.ConsumePartition(topic, p, sarama.OffsetOldest)
		if err != nil {
			t.Fatalf("ConsumePartition %d: %v", p, err)
		}
		timeout := time.After(wait)
		for o := range prod.recs.end(p) {
			select {
			case m := <-pc.Messages():
				want := prod.recs[p][o]
				if m.Offset != o || string(m.Key) != want.key || string(m.Value) != want.value {
					t.Fatalf("partition %d: read %d = %q:%q, want %d = %q:%q", p, m.Offset, m.Key, m.Value, o, want.key, want.value)
				}
			case err := <-pc.Errors():
				t.Fatalf("partition %d: %v", p, err)
			case <-timeout:
				t.Fatalf("partition %d: read %d records within %v, want %d", p, o, wait, prod.recs.end(p))
			}
		}
		if hw := pc.HighWaterMarkOffset(); hw != prod.recs.end(p) {
			t.Errorf("partition %d: high watermark %d, want %d", p, hw, prod.recs.end(p))
		}
		if err := pc.Close(); err != nil {
			t.Errorf("close partition consumer %d: %v", p, err)
		}
	}

	// The stored batches carry the producer ID and epoch sarama got from
	// InitProducerId and the sequence numbers it gave them: a batch's
	// first sequence is its first offset, as this producer alone wrote
	// each partition from its start. sarama's consumer does not show
	// batches; a Fetch sent through sarama's Broker does.
	client, err := sarama.NewClient([]string{b.Addr}, baseConfig("batches"))
	if err != nil {
		t.Fatalf("sarama.NewClient: %v", err)
	}
	defer client.Close()
	pid, epoch := int64(-1), int16(-1)
	for _, p := range []int32{0, 1} {
		leader, err := client.Leader(topic, p)
		if err != nil {
			t.Fatalf("Leader of partition %d: %v", p, err)
		}
		req := &sarama.FetchRequest{Version: 12, MaxWaitTime: 100, MinBytes: 1, MaxBytes: 1 << 20, SessionEpoch: -1}
		req.AddBlock(topic, p, 0, 1<<20, -1)
		resp, err := leader.Fetch(req)
		if err != nil {
			t.Fatalf("Fetch of partition %d: %v", p, err)
		}
		block := resp.GetBlock(topic, p)
		if block == nil || block.Err != sarama.ErrNoError {
			t.Fatalf("Fetch of partition %d: block %+v", p, block)
		}
		next := int64(0)
		for _, rs := range block.RecordsSet {
			rb := rs.RecordBatch
			if rb == nil {
				t.Fatalf("partition %d: a legacy message set at offset %d, want record batches", p, next)
			}
			if pid == -1 {
				pid, epoch = rb.ProducerID, rb.ProducerEpoch
			}
			if rb.FirstOffset != next || rb.ProducerID != pid || rb.ProducerEpoch != epoch || rb.ProducerID < 0 ||
				int64(rb.FirstSequence) != rb.FirstOffset || int(rb.LastOffsetDelta)+1 != len(rb.Records) {
				t.Fatalf("partition %d: batch at %d: first offset %d, producer %d epoch %d, first sequence %d, last offset delta %d, %d records; want first offset and sequence %d, producer %d epoch %d (not negative), one record per delta",
					p, next, rb.FirstOffset, rb.ProducerID, rb.ProducerEpoch, rb.FirstSequence, rb.LastOffsetDelta, len(rb.Records), next, pid, epoch)
			}
			next += int64(len(rb.Records))
		}
		if next != prod.recs.end(p) {
			t.Fatalf("partition %d: batches hold %d records, want %d", p, next, prod.recs.end(p))
		}
	}
	t.Logf("sarama's idempotent producer wrote as producer %d, epoch %d", pid, epoch)
}
