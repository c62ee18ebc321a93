package broker_test

// transactions_test.go drives transactions over TCP: franz-go's
// GroupTransactSession running consume-transform-produce (the exactly-once
// workload of package testtxn), and the answers Kafka gives to requests
// that break the rules, sent one by one with kmsg: a transactional write
// to a partition not added to the transaction, EndTxn in the wrong state,
// a fenced epoch (with the code each request version expects), a timeout
// above the maximum, a transaction the coordinator aborts when its
// producer goes silent, transactional offsets invisible until commit
// (OffsetFetch require_stable), and an open transaction across a restart.

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/run"
	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/courier-dev/courier/internal/testkit/testtxn"
	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/kversion"
)

// TestGroupTransactSessionExactlyOnce runs franz-go's
// GroupTransactSession over the testtxn workload, with two sessions in
// the group: each aborts its first transaction on purpose, then every
// input is transformed and committed with its offsets.
func TestGroupTransactSessionExactlyOnce(t *testing.T) {
	b := testbroker.Start(t, func(c *run.Config) { c.Broker.GroupInitialRebalanceDelay = 0 })
	w := testtxn.Workload{Addr: b.Addr, In: "eos-in", Out: "eos-out", Group: "eos", Records: 400, Partitions: 3}
	testtxn.Seed(t, w)
	s := testtxn.StartSessions(t, w, "eos-etl", 2)
	if err := s.Wait(t, 60*time.Second); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d transactions committed, %d aborted, %d errors carried on after", s.Commits.Load(), s.Aborts.Load(), s.Errors.Load())
	testtxn.Check(t, w, "franz-go GroupTransactSession")
}

// txnConn sends raw requests for the rule tests.
type txnConn struct {
	t  *testing.T
	cl *kgo.Client
}

func newTxnConn(t *testing.T, addr string) txnConn {
	return txnConn{t, testclient.New(t, addr)}
}

// send sends req and returns the response, failing the test on a
// transport error.
func send[R kmsg.Response](c txnConn, req kmsg.Request) R {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	resp, err := c.cl.Request(ctx, req)
	if err != nil {
		c.t.Fatalf("%s: %v", kmsg.NameForKey(req.Key()), err)
	}
	return resp.(R)
}

// initTxn gets a producer id and epoch for a transactional id.
func (c txnConn) initTxn(id string, timeoutMs int32) (int64, int16) {
	c.t.Helper()
	req := kmsg.NewPtrInitProducerIDRequest()
	req.TransactionalID, req.TransactionTimeoutMillis = &id, timeoutMs
	// Fencing an ongoing transaction answers CONCURRENT_TRANSACTIONS until
	// its abort is complete; clients retry, as this does.
	for try := 0; ; try++ {
		resp := send[*kmsg.InitProducerIDResponse](c, req)
		if resp.ErrorCode == kerr.ConcurrentTransactions.Code && try < 100 {
			time.Sleep(20 * time.Millisecond)
			continue
		}
		if err := kerr.ErrorForCode(resp.ErrorCode); err != nil {
			c.t.Fatalf("InitProducerId %s: %v", id, err)
		}
		return resp.ProducerID, resp.ProducerEpoch
	}
}

// addPartition adds topic's partition 0 to the transaction; it returns
// the code.
func (c txnConn) addPartition(id string, pid int64, epoch int16, topic string) int16 {
	req := kmsg.NewPtrAddPartitionsToTxnRequest()
	req.TransactionalID, req.ProducerID, req.ProducerEpoch = id, pid, epoch
	rt := kmsg.NewAddPartitionsToTxnRequestTopic()
	rt.Topic, rt.Partitions = topic, []int32{0}
	req.Topics = append(req.Topics, rt)
	return send[*kmsg.AddPartitionsToTxnResponse](c, req).Topics[0].Partitions[0].ErrorCode
}

// produce writes one transactional batch of values to topic's partition 0
// with sequence seq and returns the code.
func (c txnConn) produce(id string, pid int64, epoch int16, seq int32, topic string, values ...string) int16 {
	req := kmsg.NewPtrProduceRequest()
	req.TransactionID, req.Acks, req.TimeoutMillis = &id, -1, 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewProduceRequestTopicPartition()
	rp.Records = txnBatch(pid, epoch, seq, values...)
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return send[*kmsg.ProduceResponse](c, req).Topics[0].Partitions[0].ErrorCode
}

// endTxn ends the transaction.
func (c txnConn) endTxn(id string, pid int64, epoch int16, commit bool) int16 {
	req := kmsg.NewPtrEndTxnRequest()
	req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Commit = id, pid, epoch, commit
	return send[*kmsg.EndTxnResponse](c, req).ErrorCode
}

// txnBatch is a transactional v2 batch of values.
func txnBatch(pid int64, epoch int16, seq int32, values ...string) []byte {
	var recs []byte
	for i, v := range values {
		rec := kmsg.Record{Value: []byte(v), OffsetDelta: int32(i)}
		rec.Length = int32(len(rec.AppendTo(nil)) - 1)
		recs = rec.AppendTo(recs)
	}
	now := time.Now().UnixMilli()
	rb := kmsg.RecordBatch{Magic: 2, Attributes: 0x10, ProducerID: pid, ProducerEpoch: epoch, FirstSequence: seq,
		NumRecords: int32(len(values)), LastOffsetDelta: int32(len(values) - 1), FirstTimestamp: now, MaxTimestamp: now, Records: recs}
	raw := rb.AppendTo(nil)
	binary.BigEndian.PutUint32(raw[8:], uint32(len(raw)-12))
	binary.BigEndian.PutUint32(raw[17:], crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli)))
	return raw
}

// offsets returns topic's partition 0 high watermark and last stable
// offset.
func offsets(t *testing.T, addr, topic string) (hw, lso int64) {
	t.Helper()
	adm := kadm.NewClient(testclient.New(t, addr))
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	end, err := adm.ListEndOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	stable, err := adm.ListCommittedOffsets(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := end.Lookup(topic, 0)
	s, _ := stable.Lookup(topic, 0)
	return e.Offset, s.Offset
}

// TestTransactionRules checks Kafka's codes for transactional requests
// that break the rules.
func TestTransactionRules(t *testing.T) {
	b := testbroker.Start(t, func(c *run.Config) { c.Broker.TransactionMaxTimeout = time.Minute })
	testclient.CreateTopic(t, b.Addr, "rules", 1, nil)
	testclient.CreateTopic(t, b.Addr, "other", 1, nil)
	c := newTxnConn(t, b.Addr)

	pid, epoch := c.initTxn("rules", 30000)
	// KIP-890: a partition not added to the transaction refuses the write.
	if code := c.produce("rules", pid, epoch, 0, "rules", "stray"); code != kerr.InvalidTxnState.Code {
		t.Fatalf("transactional produce to a partition not in the transaction: %v, want INVALID_TXN_STATE", kerr.ErrorForCode(code))
	}
	// EndTxn with nothing begun.
	if code := c.endTxn("rules", pid, epoch, true); code != kerr.InvalidTxnState.Code {
		t.Fatalf("EndTxn in state Empty: %v, want INVALID_TXN_STATE", kerr.ErrorForCode(code))
	}
	if code := c.addPartition("rules", pid, epoch, "rules"); code != 0 {
		t.Fatalf("AddPartitionsToTxn: %v", kerr.ErrorForCode(code))
	}
	if code := c.produce("rules", pid, epoch, 0, "rules", "a", "b"); code != 0 {
		t.Fatalf("transactional produce: %v", kerr.ErrorForCode(code))
	}
	if hw, lso := offsets(t, b.Addr, "rules"); hw != 2 || lso != 0 {
		t.Fatalf("open transaction: high watermark %d, last stable offset %d; want 2 and 0", hw, lso)
	}
	// A second InitProducerId fences the first producer: its transaction
	// is aborted and its epoch is stale.
	pid2, epoch2 := c.initTxn("rules", 30000)
	if pid2 != pid || epoch2 <= epoch {
		t.Fatalf("re-init: producer %d epoch %d after %d epoch %d; want the same id with a higher epoch", pid2, epoch2, pid, epoch)
	}
	// kgo sends the newest version both sides know: a client that knows
	// only Kafka 2.6's (EndTxn v1, before KIP-588) gets the old code.
	old := txnConn{t, testclient.New(t, b.Addr, kgo.MaxVersions(kversion.V2_6_0()))}
	for _, v := range []struct {
		conn txnConn
		want *kerr.Error
	}{{old, kerr.InvalidProducerEpoch}, {c, kerr.ProducerFenced}} {
		if code := v.conn.endTxn("rules", pid, epoch, true); code != v.want.Code {
			t.Fatalf("EndTxn with the fenced epoch: %v, want %v", kerr.ErrorForCode(code), v.want)
		}
	}
	if hw, lso := offsets(t, b.Addr, "rules"); lso != hw || hw != 3 {
		t.Fatalf("after fencing: high watermark %d, last stable offset %d; want 3 and 3 (the records and an ABORT marker)", hw, lso)
	}
	// A timeout above transaction.max.timeout.ms.
	id := "too-long"
	req := kmsg.NewPtrInitProducerIDRequest()
	req.TransactionalID, req.TransactionTimeoutMillis = &id, int32(2*time.Minute/time.Millisecond)
	if code := send[*kmsg.InitProducerIDResponse](c, req).ErrorCode; code != kerr.InvalidTransactionTimeout.Code {
		t.Fatalf("timeout above the maximum: %v, want INVALID_TRANSACTION_TIMEOUT", kerr.ErrorForCode(code))
	}
}

// TestTransactionTimeoutAbortsAndFences leaves a transaction open past its
// timeout: the coordinator aborts it (the last stable offset moves on) and
// fences the silent producer.
func TestTransactionTimeoutAbortsAndFences(t *testing.T) {
	b := testbroker.Start(t)
	testclient.CreateTopic(t, b.Addr, "silent", 1, nil)
	c := newTxnConn(t, b.Addr)
	pid, epoch := c.initTxn("silent", 200)
	if code := c.addPartition("silent", pid, epoch, "silent"); code != 0 {
		t.Fatal(kerr.ErrorForCode(code))
	}
	if code := c.produce("silent", pid, epoch, 0, "silent", "never committed"); code != 0 {
		t.Fatal(kerr.ErrorForCode(code))
	}
	testwait.For(t, 30*time.Second, "the timed-out transaction aborted", func() string {
		if hw, lso := offsets(t, b.Addr, "silent"); hw != 2 || lso != 2 {
			return fmt.Sprintf("high watermark %d, last stable offset %d; want 2 and 2 (the record and an ABORT marker)", hw, lso)
		}
		return ""
	})
	if code := c.endTxn("silent", pid, epoch, true); code != kerr.ProducerFenced.Code {
		t.Fatalf("commit after the coordinator aborted on timeout: %v, want PRODUCER_FENCED", kerr.ErrorForCode(code))
	}
	w := testtxn.Workload{Addr: b.Addr, Out: "silent", Partitions: 1}
	testtxn.MarkEnd(t, w.Addr, w.Out, 1)
	if got := testtxn.Read(t, w.Addr, w.Out, 1, true); len(got) != 0 {
		t.Fatalf("read_committed read the aborted record: %q", got)
	}
}

// TestTransactionalOffsetsRequireStable commits offsets in a transaction:
// invisible (and, with require_stable, UNSTABLE_OFFSET_COMMIT) until the
// transaction commits.
func TestTransactionalOffsetsRequireStable(t *testing.T) {
	b := testbroker.Start(t)
	testclient.CreateTopic(t, b.Addr, "src", 1, nil)
	c := newTxnConn(t, b.Addr)
	pid, epoch := c.initTxn("offsets", 30000)
	add := kmsg.NewPtrAddOffsetsToTxnRequest()
	add.TransactionalID, add.ProducerID, add.ProducerEpoch, add.Group = "offsets", pid, epoch, "g"
	if code := send[*kmsg.AddOffsetsToTxnResponse](c, add).ErrorCode; code != 0 {
		t.Fatalf("AddOffsetsToTxn: %v", kerr.ErrorForCode(code))
	}
	commit := kmsg.NewPtrTxnOffsetCommitRequest()
	commit.TransactionalID, commit.Group, commit.ProducerID, commit.ProducerEpoch = "offsets", "g", pid, epoch
	commit.Generation = -1
	ct := kmsg.NewTxnOffsetCommitRequestTopic()
	ct.Topic = "src"
	cp := kmsg.NewTxnOffsetCommitRequestTopicPartition()
	cp.Partition, cp.Offset = 0, 42
	ct.Partitions = append(ct.Partitions, cp)
	commit.Topics = append(commit.Topics, ct)
	if code := send[*kmsg.TxnOffsetCommitResponse](c, commit).Topics[0].Partitions[0].ErrorCode; code != 0 {
		t.Fatalf("TxnOffsetCommit: %v", kerr.ErrorForCode(code))
	}
	fetch := func(stable bool) (int64, int16) {
		req := kmsg.NewPtrOffsetFetchRequest()
		req.Group, req.RequireStable = "g", stable
		ft := kmsg.NewOffsetFetchRequestTopic()
		ft.Topic, ft.Partitions = "src", []int32{0}
		req.Topics = append(req.Topics, ft)
		p := send[*kmsg.OffsetFetchResponse](c, req).Topics[0].Partitions[0]
		return p.Offset, p.ErrorCode
	}
	if off, code := fetch(false); off != -1 || code != 0 {
		t.Fatalf("offset before commit: %d, %v; want -1 (pending offsets are invisible)", off, kerr.ErrorForCode(code))
	}
	if _, code := fetch(true); code != kerr.UnstableOffsetCommit.Code {
		t.Fatalf("require_stable before commit: %v, want UNSTABLE_OFFSET_COMMIT", kerr.ErrorForCode(code))
	}
	if code := c.endTxn("offsets", pid, epoch, true); code != 0 {
		t.Fatalf("EndTxn: %v", kerr.ErrorForCode(code))
	}
	if off, code := fetch(true); off != 42 || code != 0 {
		t.Fatalf("offset after commit: %d, %v; want 42", off, kerr.ErrorForCode(code))
	}
}

// TestOpenTransactionSurvivesRestart restarts the broker with a
// transaction open: the records stay invisible to read_committed, the
// transaction is still Ongoing, and committing it after the restart makes
// them visible.
func TestOpenTransactionSurvivesRestart(t *testing.T) {
	dir := t.TempDir()
	b := testbroker.StartAt(t, dir)
	testclient.CreateTopic(t, b.Addr, "restart", 1, nil)
	c := newTxnConn(t, b.Addr)
	pid, epoch := c.initTxn("restart", 60000)
	if code := c.addPartition("restart", pid, epoch, "restart"); code != 0 {
		t.Fatal(kerr.ErrorForCode(code))
	}
	for i := range 3 {
		if code := c.produce("restart", pid, epoch, int32(i), "restart", fmt.Sprintf("v%d", i)); code != 0 {
			t.Fatal(kerr.ErrorForCode(code))
		}
	}
	b.Stop(t)
	b = testbroker.StartAt(t, dir)
	c = newTxnConn(t, b.Addr)
	if hw, lso := offsets(t, b.Addr, "restart"); hw != 3 || lso != 0 {
		t.Fatalf("after restart: high watermark %d, last stable offset %d; want 3 and 0", hw, lso)
	}
	d := send[*kmsg.DescribeTransactionsResponse](c, &kmsg.DescribeTransactionsRequest{TransactionalIDs: []string{"restart"}})
	if s := d.TransactionStates[0]; s.ErrorCode != 0 || s.State != "Ongoing" || s.ProducerID != pid {
		t.Fatalf("after restart the transaction is %+v, want Ongoing for producer %d", s, pid)
	}
	if code := c.endTxn("restart", pid, epoch, true); code != 0 {
		t.Fatalf("commit after restart: %v", kerr.ErrorForCode(code))
	}
	testtxn.MarkEnd(t, b.Addr, "restart", 1)
	if got := testtxn.Read(t, b.Addr, "restart", 1, true); len(got) != 3 {
		t.Fatalf("read_committed after commit: %q, want v0 v1 v2", got)
	}
}
