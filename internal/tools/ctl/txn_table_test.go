package ctl

// txn_table_test.go pins the layout of the transaction tables.

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestTxnTables(t *testing.T) {
	now := time.UnixMilli(1_748_764_812_345)
	start := now.Add(-90*time.Second - 400*time.Millisecond)
	for _, tc := range []struct {
		name  string
		write func(*strings.Builder) error
		want  string
	}{
		{"list", func(b *strings.Builder) error {
			return WriteTxnList(b, []TxnSummary{{"orders-tx", 1, 4000, "Ongoing"}, {"x", 0, -1, ""}})
		}, "" +
			"TRANSACTIONAL-ID  COORDINATOR  PRODUCER-ID  STATE\n" +
			"orders-tx         1            4000         Ongoing\n" +
			"x                 0            -            -\n"},
		{"describe ongoing", func(b *strings.Builder) error {
			return WriteTxnDescription(b, TxnDescription{CoordinatorID: 1, TransactionalID: "orders-tx", ProducerID: 4000, ProducerEpoch: 2,
				State: "Ongoing", TimeoutMs: 60000, StartMs: start.UnixMilli(),
				Partitions: []TopicPartition{{"orders", 0}, {"orders", 3}}}, now)
		}, "" +
			"CoordinatorId:                1\n" +
			"TransactionalId:              orders-tx\n" +
			"ProducerId:                   4000\n" +
			"ProducerEpoch:                2\n" +
			"TransactionState:             Ongoing\n" +
			"TransactionTimeoutMs:         60000\n" +
			"CurrentTransactionStartTime:  2025-06-01T07:58:41.945Z (1748764721945)\n" +
			"TransactionDuration:          1m30s\n" +
			"TopicPartitions:              orders-0,orders-3\n"},
		{"describe empty", func(b *strings.Builder) error {
			return WriteTxnDescription(b, TxnDescription{TransactionalID: "idle", ProducerID: 5, State: "Empty", TimeoutMs: 60000, StartMs: -1}, now)
		}, "" +
			"CoordinatorId:                0\n" +
			"TransactionalId:              idle\n" +
			"ProducerId:                   5\n" +
			"ProducerEpoch:                0\n" +
			"TransactionState:             Empty\n" +
			"TransactionTimeoutMs:         60000\n" +
			"CurrentTransactionStartTime:  -\n" +
			"TransactionDuration:          -\n" +
			"TopicPartitions:              -\n"},
		{"producers", func(b *strings.Builder) error {
			return WriteProducers(b, []PartitionProducers{
				{Partition: 0, Producers: []ProducerState{
					{ProducerID: 4000, ProducerEpoch: 2, LastSequence: 9, LastTimestamp: 1748764800000, CoordinatorEpoch: 3, TxnStartOffset: 120},
					{ProducerID: 4001, ProducerEpoch: 0, LastSequence: -1, LastTimestamp: -1, CoordinatorEpoch: -1, TxnStartOffset: -1},
				}},
				{Partition: 1},
				{Partition: 2, Err: errors.New("NOT_LEADER_OR_FOLLOWER")},
			})
		}, "" +
			"PARTITION  PRODUCER-ID  EPOCH  LAST-SEQUENCE  LAST-TIMESTAMP  COORDINATOR-EPOCH  TXN-START-OFFSET\n" +
			"0          4000         2      9              1748764800000   3                  120\n" +
			"0          4001         0      -              -               -                  -\n" +
			"2          -            -      -              -               -                  -  NOT_LEADER_OR_FOLLOWER\n"},
		{"no producers", func(b *strings.Builder) error {
			return WriteProducers(b, []PartitionProducers{{Partition: 0}, {Partition: 1}})
		}, "" +
			"PARTITION  PRODUCER-ID  EPOCH  LAST-SEQUENCE  LAST-TIMESTAMP  COORDINATOR-EPOCH  TXN-START-OFFSET\n" +
			"(no active producers)\n"},
		{"hanging", func(b *strings.Builder) error {
			return WriteHanging(b, []ProducerState{
				{Topic: "orders", Partition: 3, ProducerID: 4000, ProducerEpoch: 2, CoordinatorEpoch: -1, TxnStartOffset: 120, LastTimestamp: now.Add(-20 * time.Minute).UnixMilli()},
				{Topic: "orders", Partition: 4, ProducerID: 4001, ProducerEpoch: 0, CoordinatorEpoch: 1, TxnStartOffset: 0, LastTimestamp: now.Add(time.Second).UnixMilli()},
			}, now)
		}, "" +
			"TOPIC   PARTITION  PRODUCER-ID  EPOCH  COORDINATOR-EPOCH  START-OFFSET  LAST-TIMESTAMP  DURATION\n" +
			"orders  3          4000         2      -                  120           1748763612345   20m0s\n" +
			"orders  4          4001         0      1                  0             1748764813345   0s\n" +
			"\nabort one with: courier txn abort --topic orders --partition 3 --start-offset 120\n"},
		{"no hanging", func(b *strings.Builder) error { return WriteHanging(b, nil, now) }, "no hanging transactions\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := tc.write(&b); err != nil {
				t.Fatal(err)
			}
			if b.String() != tc.want {
				t.Errorf("got\n%s\nwant\n%s", b.String(), tc.want)
			}
		})
	}
}
