package ctl

// txn_test.go runs the transaction operations against franz-go's in-memory
// cluster (kfake), which implements transactions, ListTransactions,
// DescribeTransactions, DescribeProducers and WriteTxnMarkers: a
// transaction left open is listed, described and seen on its partition,
// and `txn abort` ends it for read_committed consumers.
//
// What kfake does not do, and so is not checked here (the integrator runs
// these tests against Courier too): it does not forget an aborted
// transaction's producer in DescribeProducers after WriteTxnMarkers (its
// coordinator state is not touched by a marker), and it reports every
// coordinator epoch as 0.

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// openTxn leaves a transaction of txnID open with n records on topic
// partition p, and returns its producer ID.
func openTxn(t *testing.T, c *kfake.Cluster, txnID, topic string, p int32, n int) int64 {
	t.Helper()
	values := make([]string, n)
	for i := range values {
		values[i] = "t" + strconv.Itoa(i)
	}
	return testclient.WriteTxn(t, c.ListenAddrs()[0], txnID, topic, p, testclient.TxnOpen, values...)
}

// stableOffsets returns the last stable offset (read_committed end) of
// each partition of topic.
func stableOffsets(t *testing.T, a *Admin, topic string) map[int32]int64 {
	t.Helper()
	listed, err := a.adm.ListCommittedOffsets(testCtx(t), topic)
	if err != nil {
		t.Fatal(err)
	}
	out := map[int32]int64{}
	for p, o := range listed[topic] {
		if o.Err != nil {
			t.Fatalf("partition %d: %v", p, o.Err)
		}
		out[p] = o.Offset
	}
	return out
}

func TestTxnListDescribeProducersAbort(t *testing.T) {
	c, a := newCluster(t)
	ctx := testCtx(t)

	pid := openTxn(t, c, "stuck", "seeded", 0, 3)
	produceN(t, c, "seeded", 0, 2, "plain") // after the open transaction: not readable committed yet

	txns, err := a.ListTransactions(ctx, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(txns) != 1 || txns[0] != (TxnSummary{TransactionalID: "stuck", Coordinator: txns[0].Coordinator, ProducerID: pid, State: "Ongoing"}) {
		t.Fatalf("list: %+v", txns)
	}
	for _, tc := range []struct {
		states []string
		pids   []int64
		want   int
	}{
		{[]string{"ongoing"}, nil, 1},
		{[]string{"Empty", "PrepareCommit"}, nil, 0},
		{nil, []int64{pid}, 1},
		{nil, []int64{pid + 1}, 0},
	} {
		got, err := a.ListTransactions(ctx, tc.states, tc.pids)
		if err != nil || len(got) != tc.want {
			t.Errorf("list states %v producer ids %v: %+v, %v; want %d", tc.states, tc.pids, got, err, tc.want)
		}
	}
	if _, err := a.ListTransactions(ctx, []string{"running"}, nil); err == nil || !strings.Contains(err.Error(), `unknown transaction state "running"`) {
		t.Errorf("list with a bad state: %v", err)
	}

	d, err := a.DescribeTransaction(ctx, "stuck")
	if err != nil {
		t.Fatal(err)
	}
	if d.TransactionalID != "stuck" || d.ProducerID != pid || d.State != "Ongoing" || d.TimeoutMs != 300000 ||
		d.StartMs <= 0 || len(d.Partitions) != 1 || d.Partitions[0] != (TopicPartition{"seeded", 0}) {
		t.Errorf("describe: %+v", d)
	}
	_, err = a.DescribeTransaction(ctx, "nope")
	if !errors.Is(err, kerr.TransactionalIDNotFound) || err.Error() != "no transactional id nope" {
		t.Errorf("describe unknown id: %v", err)
	}

	pps, err := a.DescribeProducers(ctx, "seeded", -1)
	if err != nil {
		t.Fatal(err)
	}
	if len(pps) != 2 || pps[0].Partition != 0 || pps[1].Partition != 1 || len(pps[1].Producers) != 0 {
		t.Fatalf("producers: %+v", pps)
	}
	var open ProducerState
	for _, p := range pps[0].Producers {
		if p.ProducerID == pid {
			open = p
		}
	}
	if open.TxnStartOffset != 0 || open.LastSequence != 2 || open.Topic != "seeded" || open.Partition != 0 {
		t.Errorf("the open transaction's producer on seeded-0: %+v (all: %+v)", open, pps[0].Producers)
	}
	if _, err := a.DescribeProducers(ctx, "seeded", 7); err == nil || !strings.Contains(err.Error(), "partition 7 does not exist") {
		t.Errorf("producers of a partition that does not exist: %v", err)
	}
	if _, err := a.DescribeProducers(ctx, "nosuch", -1); !errors.Is(err, kerr.UnknownTopicOrPartition) {
		t.Errorf("producers of an unknown topic: %v", err)
	}

	if lso := stableOffsets(t, a, "seeded")[0]; lso != 0 {
		t.Fatalf("last stable offset before the abort: %d, want 0 (the open transaction's start)", lso)
	}
	_, err = a.AbortTransaction(ctx, AbortSpec{Topic: "seeded", Partition: 0, StartOffset: 1})
	if err == nil || !strings.Contains(err.Error(), "no open transaction starts at offset 1; the open ones start at 0 (producer id ") {
		t.Errorf("abort at an offset where none starts: %v", err)
	}
	_, err = a.AbortTransaction(ctx, AbortSpec{Topic: "seeded", Partition: 1, StartOffset: 0})
	if err == nil || !strings.Contains(err.Error(), "the partition has no open transaction") {
		t.Errorf("abort on a partition without transactions: %v", err)
	}
	aborted, err := a.AbortTransaction(ctx, AbortSpec{Topic: "seeded", Partition: 0, StartOffset: 0})
	if err != nil {
		t.Fatal(err)
	}
	want := AbortedTxn{Topic: "seeded", Partition: 0, ProducerID: pid, ProducerEpoch: open.ProducerEpoch, CoordinatorEpoch: 0, StartOffset: 0}
	if aborted != want {
		t.Errorf("aborted %+v, want %+v", aborted, want)
	}
	// 3 aborted records, 2 plain ones, the marker: everything is stable.
	if lso := stableOffsets(t, a, "seeded")[0]; lso != 6 {
		t.Errorf("last stable offset after the abort: %d, want 6", lso)
	}
	if got := readCommitted(t, c, "seeded", 0, 2); strings.Join(got, ",") != "plain,plain" {
		t.Errorf("read_committed after the abort: %q, want the 2 plain records", got)
	}
}

// readCommitted reads partition p of topic from the start with isolation
// read_committed until n records came, and returns their values.
func readCommitted(t *testing.T, c *kfake.Cluster, topic string, p int32, n int) []string {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(c.ListenAddrs()...), kgo.FetchIsolationLevel(kgo.ReadCommitted()),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: {p: kgo.NewOffset().AtStart()}}))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx := testCtx(t)
	var got []string
	for len(got) < n && ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		fs.EachRecord(func(r *kgo.Record) { got = append(got, string(r.Value)) })
	}
	return got
}

func TestTxnAbortExplicitProducer(t *testing.T) {
	c, a := newCluster(t)
	ctx := testCtx(t)
	pid := openTxn(t, c, "old-broker-style", "seeded", 1, 1)
	aborted, err := a.AbortTransaction(ctx, AbortSpec{Topic: "seeded", Partition: 1, StartOffset: -1, ProducerID: pid, ProducerEpoch: 0, CoordinatorEpoch: 0})
	if err != nil {
		t.Fatal(err)
	}
	if aborted.String() != "aborted the transaction of producer id "+strconv.FormatInt(pid, 10)+" (epoch 0, coordinator epoch 0) on seeded-1" {
		t.Errorf("aborted: %s", aborted)
	}
	if lso := stableOffsets(t, a, "seeded")[1]; lso != 2 {
		t.Errorf("last stable offset after the abort: %d, want 2", lso)
	}
	_, err = a.AbortTransaction(ctx, AbortSpec{Topic: "seeded", Partition: 9, StartOffset: -1, ProducerID: pid})
	if err == nil || !strings.Contains(err.Error(), "partition 9 does not exist") {
		t.Errorf("abort on a partition that does not exist: %v", err)
	}
}

func TestTxnFindHanging(t *testing.T) {
	c, a := newCluster(t)
	ctx := testCtx(t)
	pid := openTxn(t, c, "slow", "seeded", 1, 2)
	later := time.Now().Add(time.Hour)

	// Younger than the max timeout: not even a candidate.
	if hs, err := a.FindHanging(ctx, HangingSpec{Partition: -1}); err != nil || hs != nil {
		t.Errorf("find hanging now: %+v, %v", hs, err)
	}
	// Old enough, but its coordinator still runs it on that partition.
	if hs, err := a.FindHanging(ctx, HangingSpec{Partition: -1, Now: later}); err != nil || hs != nil {
		t.Errorf("find hanging an hour later: %+v, %v", hs, err)
	}

	// The coordinator forgets the transactional id (as a coordinator that
	// lost its state would): the open transaction hangs.
	c.ControlKey(int16(kmsg.ListTransactions), func(req kmsg.Request) (kmsg.Response, error, bool) {
		c.KeepControl()
		return req.(*kmsg.ListTransactionsRequest).ResponseKind(), nil, true
	})
	for _, spec := range []HangingSpec{
		{Partition: -1, Now: later},
		{Topic: "seeded", Partition: -1, Now: later},
		{Topic: "seeded", Partition: 1, Now: later, MaxTimeout: 30 * time.Minute},
	} {
		hs, err := a.FindHanging(ctx, spec)
		if err != nil {
			t.Fatalf("%+v: %v", spec, err)
		}
		if len(hs) != 1 || hs[0].ProducerID != pid || hs[0].Topic != "seeded" || hs[0].Partition != 1 || hs[0].TxnStartOffset != 0 {
			t.Errorf("%+v: hanging %+v", spec, hs)
		}
	}
	if hs, err := a.FindHanging(ctx, HangingSpec{Topic: "seeded", Partition: 0, Now: later}); err != nil || hs != nil {
		t.Errorf("find hanging on the other partition: %+v, %v", hs, err)
	}
	if hs, err := a.FindHanging(ctx, HangingSpec{Partition: -1, Now: later, MaxTimeout: 2 * time.Hour}); err != nil || hs != nil {
		t.Errorf("find hanging with a longer max timeout: %+v, %v", hs, err)
	}
	if _, err := a.FindHanging(ctx, HangingSpec{Partition: 0}); err == nil || !strings.Contains(err.Error(), "--partition needs --topic") {
		t.Errorf("--partition without --topic: %v", err)
	}
}
