package broker_test

// poison_test.go sends the poison batches of issue 10 over TCP with a raw
// kmsg ProduceRequest through franz-go (kgo.Client.Request) and checks that
// each gets Kafka's error code and that a normal consumer still reads every
// good record produced before and after them.

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// encodeBatch encodes rb as a producer does (magic 2, length, CRC32C).
func encodeBatch(rb kmsg.RecordBatch) []byte {
	rb.Magic, rb.PartitionLeaderEpoch = 2, -1
	raw := rb.AppendTo(nil)
	binary.BigEndian.PutUint32(raw[8:], uint32(len(raw)-12))
	binary.BigEndian.PutUint32(raw[17:], crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli)))
	return raw
}

// recordsBatch is a well-formed uncompressed batch of the values, stamped
// now, that edit may then change (the CRC is computed after).
func recordsBatch(edit func(rb *kmsg.RecordBatch), values ...string) []byte {
	now := time.Now().UnixMilli()
	var recs []byte
	for i, v := range values {
		r := kmsg.Record{OffsetDelta: int32(i), Value: []byte(v)}
		r.Length = int32(len(r.AppendTo(nil)) - 1)
		recs = r.AppendTo(recs)
	}
	rb := kmsg.RecordBatch{LastOffsetDelta: int32(len(values) - 1), FirstTimestamp: now, MaxTimestamp: now,
		ProducerID: -1, ProducerEpoch: -1, FirstSequence: -1, NumRecords: int32(len(values)), Records: recs}
	if edit != nil {
		edit(&rb)
	}
	return encodeBatch(rb)
}

func TestPoisonBatchesRefusedConsumersReadOn(t *testing.T) {
	b := testbroker.Start(t)
	const topic = "poison"
	testclient.CreateTopic(t, b.Addr, topic, 1, nil)
	cl := testclient.New(t, b.Addr, kgo.DefaultProduceTopic(topic))
	ctx := testCtx(t)
	produced := 0
	produceGood := func() {
		t.Helper()
		v := "good-" + strconv.Itoa(produced)
		if err := cl.ProduceSync(ctx, &kgo.Record{Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatalf("produce %s: %v", v, err)
		}
		produced++
	}

	cases := []struct {
		name    string
		records []byte
		want    error
		says    string // in the error message
	}{
		{name: "record count above the records", want: kerr.InvalidRecord, says: "record 2",
			records: recordsBatch(func(rb *kmsg.RecordBatch) { rb.NumRecords, rb.LastOffsetDelta = 3, 2 }, "a-long-enough-value", "b-long-enough-value")},
		{name: "garbage record bytes", want: kerr.InvalidRecord,
			records: recordsBatch(func(rb *kmsg.RecordBatch) { rb.Records = bytes.Repeat([]byte{0xfe}, 40) }, "a", "b")},
		{name: "gzip flag on plain records", want: kerr.CorruptMessage, says: "gzip",
			records: recordsBatch(func(rb *kmsg.RecordBatch) { rb.Attributes = 1 }, "a")},
		{name: "codec 7", want: kerr.CorruptMessage, says: "codec 7",
			records: recordsBatch(func(rb *kmsg.RecordBatch) { rb.Attributes = 7 }, "a")},
		{name: "control bit", want: kerr.InvalidRecord, says: "control records",
			records: recordsBatch(func(rb *kmsg.RecordBatch) { rb.Attributes = 0x20 }, "a")},
		{name: "NumRecords 2^31-1", want: kerr.InvalidRecord, says: "2147483647",
			records: recordsBatch(func(rb *kmsg.RecordBatch) { rb.NumRecords, rb.LastOffsetDelta = math.MaxInt32, math.MaxInt32-1 }, "a")},
		{name: "offset deltas out of order", want: kerr.InvalidRecord, says: "offset delta",
			records: recordsBatch(func(rb *kmsg.RecordBatch) {
				var recs []byte
				for _, d := range []int32{1, 0} {
					r := kmsg.Record{OffsetDelta: d, Value: []byte("x")}
					r.Length = int32(len(r.AppendTo(nil)) - 1)
					recs = r.AppendTo(recs)
				}
				rb.Records = recs
			}, "a", "b")},
		{name: "timestamp two hours ahead", want: kerr.InvalidTimestamp, says: "out of range",
			records: recordsBatch(func(rb *kmsg.RecordBatch) { rb.FirstTimestamp += 2 * 3_600_000; rb.MaxTimestamp = rb.FirstTimestamp }, "a")},
		{name: "two batches in one partition", want: kerr.InvalidRecord, says: "exactly one record batch",
			records: append(recordsBatch(nil, "a"), recordsBatch(nil, "b")...)},
		{name: "transactional bit without a transactional id", want: kerr.TransactionalIDAuthorizationFailed,
			records: recordsBatch(func(rb *kmsg.RecordBatch) {
				rb.Attributes = 0x10
				rb.ProducerID, rb.ProducerEpoch, rb.FirstSequence = 1, 0, 0
			}, "a")},
	}
	produceGood()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// kgo picks the version and sets its own acks.
			resp, err := produceRequest(0, -1, topic, tc.records).RequestWith(ctx, cl)
			if err != nil {
				t.Fatal(err)
			}
			p := resp.Topics[0].Partitions[0]
			if got := kerr.ErrorForCode(p.ErrorCode); got != tc.want {
				t.Fatalf("error %v, want %v (message %v)", got, tc.want, deref(p.ErrorMessage))
			}
			if p.BaseOffset != -1 {
				t.Fatalf("refused batch got base offset %d", p.BaseOffset)
			}
			if !strings.Contains(deref(p.ErrorMessage), tc.says) {
				t.Fatalf("message %q does not say %q", deref(p.ErrorMessage), tc.says)
			}
			if tc.want == kerr.InvalidTimestamp && (len(p.ErrorRecords) != 1 || p.ErrorRecords[0].RelativeOffset != 0) {
				t.Fatalf("record errors %+v, want record 0", p.ErrorRecords)
			}
		})
		produceGood()
	}

	recs := consumeN(t, b.Addr, topic, produced)
	for i, r := range recs {
		if want := "good-" + strconv.Itoa(i); string(r.Value) != want || r.Offset != int64(i) {
			t.Fatalf("record %d: offset %d value %q, want offset %d value %q", i, r.Offset, r.Value, i, want)
		}
	}
}

// produceRequest is a produce request of one topic whose partitions 0, 1,
// ... carry the given records fields.
func produceRequest(version, acks int16, topic string, records ...[]byte) *kmsg.ProduceRequest {
	req := kmsg.NewPtrProduceRequest()
	req.Version, req.Acks, req.TimeoutMillis = version, acks, 5000
	rt := kmsg.NewProduceRequestTopic()
	rt.Topic = topic
	for i, r := range records {
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Partition, rp.Records = int32(i), r
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	return req
}

// TestProduceInvalidRequiredAcks sends acks=5 over a raw connection (kgo
// rewrites a request's acks to its own): as in Kafka's ReplicaManager,
// every partition that passed the earlier checks gets
// INVALID_REQUIRED_ACKS and nothing is appended, while an unknown partition
// and a malformed records field keep their own errors.
func TestProduceInvalidRequiredAcks(t *testing.T) {
	b := testbroker.Start(t)
	testclient.CreateTopic(t, b.Addr, "acks", 2, nil)
	rc := dialRaw(t, b.Addr)
	resp, err := rc.roundTrip(produceRequest(9, 5, "acks", recordsBatch(nil, "a"), nil, recordsBatch(nil, "b")))
	if err != nil {
		t.Fatal(err)
	}
	want := []error{kerr.InvalidRequiredAcks, kerr.InvalidRecord, kerr.UnknownTopicOrPartition}
	for i, p := range resp.(*kmsg.ProduceResponse).Topics[0].Partitions {
		if got := kerr.ErrorForCode(p.ErrorCode); got != want[i] || p.BaseOffset != -1 {
			t.Errorf("partition %d: %v at offset %d, want %v at -1", p.Partition, got, p.BaseOffset, want[i])
		}
	}
	if code, off := produceRaw(t, rc, "acks", recordsBatch(nil, "c")); code != 0 || off != 0 {
		t.Fatalf("after acks=5: code %d offset %d, want 0 at offset 0 (nothing appended)", code, off)
	}
}

// TestProduceZstdNeedsV7 sends a zstd batch in Produce v6, which Kafka
// refuses with UNSUPPORTED_COMPRESSION_TYPE.
func TestProduceZstdNeedsV7(t *testing.T) {
	b := testbroker.Start(t)
	testclient.CreateTopic(t, b.Addr, "z", 1, nil)
	rc := dialRaw(t, b.Addr)
	resp, err := rc.roundTrip(produceRequest(6, -1, "z", recordsBatch(func(rb *kmsg.RecordBatch) { rb.Attributes = 4 }, "a")))
	if err != nil {
		t.Fatal(err)
	}
	if code := resp.(*kmsg.ProduceResponse).Topics[0].Partitions[0].ErrorCode; code != kerr.UnsupportedCompressionType.Code {
		t.Fatalf("zstd in Produce v6: %v, want UNSUPPORTED_COMPRESSION_TYPE", kerr.ErrorForCode(code))
	}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// TestProduceAcksZeroRefusedSilently sends refused batches with acks=0: no
// response may come (the producer reads none, and a stray one would be
// taken for the answer to its next request), and nothing is appended.
func TestProduceAcksZeroRefusedSilently(t *testing.T) {
	b := testbroker.Start(t)
	testclient.CreateTopic(t, b.Addr, "quiet", 1, nil)
	rc := dialRaw(t, b.Addr)
	for _, records := range [][]byte{
		recordsBatch(func(rb *kmsg.RecordBatch) {
			rb.Attributes = 0x10
			rb.ProducerID, rb.ProducerEpoch, rb.FirstSequence = 1, 0, 0
		}, "txn"),
		recordsBatch(func(rb *kmsg.RecordBatch) { rb.Attributes = 0x20 }, "control"),
	} {
		rc.corr++
		if _, err := rc.conn.Write(frame(produceRequest(9, 0, "quiet", records), rc.corr)); err != nil {
			t.Fatal(err)
		}
	}
	// roundTrip fails the test if the next response is not this request's.
	if code, off := produceRaw(t, rc, "quiet", recordsBatch(nil, "fine")); code != 0 || off != 0 {
		t.Fatalf("after refused acks=0 batches: code %d offset %d, want 0 at offset 0", code, off)
	}
}
