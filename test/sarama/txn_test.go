package sarama_test

// txn_test.go: sarama's transactional producer runs the exactly-once
// workload of package testtxn: one transaction aborted on purpose, then a
// consumer group (read_committed) whose messages are transformed and
// produced in transactions that also commit the consumed offsets
// (AddMessageToTxn), checked with franz-go.

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testtxn"
)

// txnHandler transforms each claim's messages in transactions of up to
// txnBatch messages.
type txnHandler struct {
	t     *testing.T
	prod  sarama.SyncProducer
	w     testtxn.Workload
	txnMu sync.Mutex // one transaction at a time: the claims share the producer
	mu    sync.Mutex
	done  int
	all   chan struct{}
	close sync.Once
}

// txnBatch bounds the messages of one transaction.
const txnBatch = 50

func (h *txnHandler) Setup(sarama.ConsumerGroupSession) error   { return nil }
func (h *txnHandler) Cleanup(sarama.ConsumerGroupSession) error { return nil }

func (h *txnHandler) ConsumeClaim(sess sarama.ConsumerGroupSession, claim sarama.ConsumerGroupClaim) error {
	for {
		var batch []*sarama.ConsumerMessage
		select {
		case m, ok := <-claim.Messages():
			if !ok {
				return nil
			}
			batch = append(batch, m)
		case <-sess.Context().Done():
			return nil
		}
	drain:
		for len(batch) < txnBatch {
			select {
			case m, ok := <-claim.Messages():
				if !ok {
					break drain
				}
				batch = append(batch, m)
			default:
				break drain
			}
		}
		if err := h.transform(sess, batch); err != nil {
			h.t.Errorf("transaction: %v", err)
			return err
		}
	}
}

// transform writes batch's copies and commits its offsets in one
// transaction.
func (h *txnHandler) transform(sess sarama.ConsumerGroupSession, batch []*sarama.ConsumerMessage) error {
	h.txnMu.Lock()
	defer h.txnMu.Unlock()
	if err := h.prod.BeginTxn(); err != nil {
		return err
	}
	for _, m := range batch {
		out := &sarama.ProducerMessage{Topic: h.w.Out, Partition: m.Partition, Key: sarama.ByteEncoder(m.Key),
			Value: sarama.StringEncoder(testtxn.Transform(string(m.Value)))}
		if _, _, err := h.prod.SendMessage(out); err != nil {
			_ = h.prod.AbortTxn()
			return err
		}
		if err := h.prod.AddMessageToTxn(m, h.w.Group, nil); err != nil {
			_ = h.prod.AbortTxn()
			return err
		}
	}
	if err := h.prod.CommitTxn(); err != nil {
		return err
	}
	h.mu.Lock()
	h.done += len(batch)
	if h.done >= h.w.Records {
		h.close.Do(func() { close(h.all) })
	}
	h.mu.Unlock()
	return nil
}

func TestSaramaTransactions(t *testing.T) {
	b := testbroker.Start(t)
	w := testtxn.Workload{Addr: b.Addr, In: "sarama-in", Out: "sarama-out", Group: "sarama-eos", Records: 300, Partitions: 2}
	testtxn.Seed(t, w)

	pc := baseConfig("txn-producer")
	pc.Producer.RequiredAcks = sarama.WaitForAll
	pc.Producer.Partitioner = sarama.NewManualPartitioner
	pc.Producer.Return.Successes = true
	pc.Producer.Idempotent = true
	pc.Producer.Transaction.ID = "sarama-eos-txn"
	pc.Net.MaxOpenRequests = 1
	prod, err := sarama.NewSyncProducer([]string{b.Addr}, pc)
	if err != nil {
		t.Fatalf("sarama transactional producer: %v", err)
	}
	defer prod.Close()

	// The aborted transaction: one record per output partition.
	if err := prod.BeginTxn(); err != nil {
		t.Fatal(err)
	}
	for p := range w.Partitions {
		if _, _, err := prod.SendMessage(&sarama.ProducerMessage{Topic: w.Out, Partition: p,
			Value: sarama.StringEncoder(testtxn.AbortedPrefix + "doomed")}); err != nil {
			t.Fatal(err)
		}
	}
	if err := prod.AbortTxn(); err != nil {
		t.Fatalf("AbortTxn: %v", err)
	}

	cc := baseConfig("txn-consumer")
	cc.Consumer.IsolationLevel = sarama.ReadCommitted
	cc.Consumer.Offsets.Initial = sarama.OffsetOldest
	cc.Consumer.Offsets.AutoCommit.Enable = false
	group, err := sarama.NewConsumerGroup([]string{b.Addr}, w.Group, cc)
	if err != nil {
		t.Fatal(err)
	}
	defer group.Close()
	h := &txnHandler{t: t, prod: prod, w: w, all: make(chan struct{})}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	consumed := make(chan error, 1)
	go func() {
		for ctx.Err() == nil {
			if err := group.Consume(ctx, []string{w.In}, h); err != nil && ctx.Err() == nil {
				consumed <- err
				return
			}
		}
		consumed <- nil
	}()
	select {
	case <-h.all:
	case err := <-consumed:
		t.Fatalf("consumer group stopped: %v", err)
	case <-ctx.Done():
		t.Fatalf("transformed %d of %d records within the deadline", h.done, w.Records)
	}
	cancel()
	<-consumed
	testtxn.Check(t, w, "sarama")
}
