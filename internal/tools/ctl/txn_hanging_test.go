package ctl

// txn_hanging_test.go pins find-hanging's decision, which needs no
// cluster: given what the leaders and the coordinators said, which open
// transactions hang.

import (
	"errors"
	"testing"
	"time"
)

func TestTxnHangingDecision(t *testing.T) {
	open := ProducerState{Topic: "orders", Partition: 2, ProducerID: 7, ProducerEpoch: 3, TxnStartOffset: 40, LastTimestamp: 1}
	running := TxnDescription{TransactionalID: "tx", ProducerID: 7, ProducerEpoch: 3, State: "Ongoing",
		Partitions: []TopicPartition{{"orders", 1}, {"orders", 2}}}
	owners := map[int64]string{7: "tx"}
	with := func(f func(*TxnDescription)) map[string]TxnDescription {
		d := running
		d.Partitions = append([]TopicPartition(nil), running.Partitions...)
		f(&d)
		return map[string]TxnDescription{"tx": d}
	}
	same := func(*TxnDescription) {}
	for _, tc := range []struct {
		name   string
		owners map[int64]string
		txns   map[string]TxnDescription
		hangs  bool
	}{
		{"ongoing with the partition", owners, with(same), false},
		{"committing the partition", owners, with(func(d *TxnDescription) { d.State = "PrepareCommit" }), false},
		{"aborting the partition", owners, with(func(d *TxnDescription) { d.State = "PrepareAbort" }), false},
		{"aborted on timeout with a bumped epoch", owners, with(func(d *TxnDescription) { d.State = "PrepareAbort"; d.ProducerEpoch = 4 }), false},
		{"fencing with a bumped epoch", owners, with(func(d *TxnDescription) { d.State = "PrepareEpochFence"; d.ProducerEpoch = 4 }), false},
		{"no transactional id uses the producer id", map[int64]string{}, with(same), true},
		{"the coordinator does not know the id", owners, map[string]TxnDescription{}, true},
		{"the id moved to another producer id", owners, with(func(d *TxnDescription) { d.ProducerID = 8 }), true},
		{"the id has no transaction", owners, with(func(d *TxnDescription) { d.State = "Empty"; d.Partitions = nil }), true},
		{"the id's transaction was committed", owners, with(func(d *TxnDescription) { d.State = "CompleteCommit" }), true},
		{"the id's transaction was aborted", owners, with(func(d *TxnDescription) { d.State = "CompleteAbort" }), true},
		{"the id is dead", owners, with(func(d *TxnDescription) { d.State = "Dead" }), true},
		{"ongoing under a newer epoch", owners, with(func(d *TxnDescription) { d.ProducerEpoch = 4 }), true},
		{"aborting two epochs ahead", owners, with(func(d *TxnDescription) { d.State = "PrepareAbort"; d.ProducerEpoch = 5 }), true},
		{"committing under a newer epoch", owners, with(func(d *TxnDescription) { d.State = "PrepareCommit"; d.ProducerEpoch = 4 }), true},
		{"ongoing under an older epoch", owners, with(func(d *TxnDescription) { d.ProducerEpoch = 2 }), true},
		{"ongoing without the partition", owners, with(func(d *TxnDescription) { d.Partitions = d.Partitions[:1] }), true},
		{"the partition's marker is written", owners, with(func(d *TxnDescription) { d.State = "PrepareCommit"; d.Partitions = nil }), true},
		{"the same partition of another topic", owners, with(func(d *TxnDescription) { d.Partitions = []TopicPartition{{"other", 2}} }), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := hanging([]ProducerState{open}, tc.owners, tc.txns)
			if hangs := len(got) == 1 && got[0] == open; hangs != tc.hangs || len(got) > 1 {
				t.Errorf("hanging = %+v, want hanging %v", got, tc.hangs)
			}
		})
	}
}

func TestTxnHangingOrder(t *testing.T) {
	cands := []ProducerState{
		{Topic: "b", Partition: 0, ProducerID: 1},
		{Topic: "a", Partition: 10, ProducerID: 2},
		{Topic: "a", Partition: 9, ProducerID: 5},
		{Topic: "a", Partition: 9, ProducerID: 3},
	}
	got := hanging(cands, nil, nil)
	want := []ProducerState{cands[3], cands[2], cands[1], cands[0]}
	if len(got) != len(want) {
		t.Fatalf("hanging = %+v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("hanging[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestTxnStaleOpenTxns(t *testing.T) {
	now := time.UnixMilli(10_000_000)
	max := 15 * time.Minute
	old := now.Add(-max - time.Millisecond).UnixMilli()
	edge := now.Add(-max).UnixMilli()
	pps := []PartitionProducers{
		{Topic: "t", Partition: 0, Producers: []ProducerState{
			{ProducerID: 1, TxnStartOffset: 5, LastTimestamp: old},  // open and old: a candidate
			{ProducerID: 2, TxnStartOffset: -1, LastTimestamp: old}, // no open transaction
			{ProducerID: 3, TxnStartOffset: 0, LastTimestamp: edge}, // exactly the max timeout: not older
		}},
		{Topic: "t", Partition: 1, Err: errors.New("leader not available")},
		{Topic: "t", Partition: 2, Producers: []ProducerState{
			{ProducerID: 4, TxnStartOffset: 0, LastTimestamp: -1}, // never wrote a timestamp: as old as can be
		}},
	}
	got := staleOpenTxns(pps, now, max)
	if len(got) != 2 || got[0].ProducerID != 1 || got[1].ProducerID != 4 {
		t.Errorf("candidates = %+v, want producers 1 and 4", got)
	}
}
