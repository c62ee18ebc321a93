package testclient

// txn.go writes records in a transaction, committed, aborted or left open,
// for tests of what transactions leave in a partition: read_committed
// reads, the last stable offset, the transaction admin requests.

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// TxnEnd says how WriteTxn ends its transaction.
type TxnEnd int

// The ways WriteTxn ends a transaction.
const (
	TxnCommit TxnEnd = iota // TxnCommit commits it.
	TxnAbort                // TxnAbort aborts it.
	TxnOpen                 // TxnOpen leaves it open: its producer stays until the test ends.
)

// TxnTimeout is the transaction timeout WriteTxn's producers ask for: long
// enough that a transaction left open outlives the test.
const TxnTimeout = 5 * time.Minute

// WriteTxn writes values to partition of topic in one transaction of the
// transactional id id, ends it as end says, and returns the producer id.
// Its client is closed when the test ends; every step must succeed within
// CreateTimeout or the test fails.
func WriteTxn(t testing.TB, addr, id, topic string, partition int32, end TxnEnd, values ...string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), CreateTimeout)
	defer cancel()
	cl := New(t, addr, kgo.TransactionalID(id), kgo.TransactionTimeout(TxnTimeout), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err := cl.BeginTransaction(); err != nil {
		t.Fatalf("transactional id %s: begin: %v", id, err)
	}
	for _, v := range values {
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: topic, Partition: partition, Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatalf("transactional id %s: produce to %s-%d: %v", id, topic, partition, err)
		}
	}
	pid, _, err := cl.ProducerID(ctx)
	if err != nil {
		t.Fatalf("transactional id %s: producer id: %v", id, err)
	}
	if end != TxnOpen {
		if err := cl.EndTransaction(ctx, kgo.TransactionEndTry(end == TxnCommit)); err != nil {
			t.Fatalf("transactional id %s: end the transaction (commit %v): %v", id, end == TxnCommit, err)
		}
	}
	return pid
}
