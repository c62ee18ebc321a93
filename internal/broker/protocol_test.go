package broker_test

// protocol_test.go sends hand-assembled (but kmsg-encoded) requests and
// broken frames over raw TCP: each bad input gets Kafka's error code or a
// closed connection, and the broker keeps serving other clients.

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"net"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// rawConn is a bare Kafka connection.
type rawConn struct {
	t    *testing.T
	conn net.Conn
	corr int32
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	return &rawConn{t: t, conn: c}
}

// frame encodes a request frame with kmsg.
func frame(req kmsg.Request, corr int32) []byte {
	f := &kmsg.RequestFormatter{}
	return f.AppendRequest(nil, req, corr)
}

// roundTrip sends req and decodes the response.
func (r *rawConn) roundTrip(req kmsg.Request) (kmsg.Response, error) {
	r.corr++
	if _, err := r.conn.Write(frame(req, r.corr)); err != nil {
		return nil, err
	}
	var size [4]byte
	if _, err := io.ReadFull(r.conn, size[:]); err != nil {
		return nil, err
	}
	body := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(r.conn, body); err != nil {
		return nil, err
	}
	if got := int32(binary.BigEndian.Uint32(body)); got != r.corr {
		r.t.Fatalf("correlation id %d, want %d", got, r.corr)
	}
	body = body[4:]
	resp := req.ResponseKind()
	if resp.IsFlexible() && req.Key() != kmsg.ApiVersions.Int16() {
		body = body[1:] // empty header tags
	}
	return resp, resp.ReadFrom(body)
}

// expectClosed checks that the broker closes the connection.
func (r *rawConn) expectClosed() {
	r.t.Helper()
	_ = r.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var b [1]byte
	if _, err := r.conn.Read(b[:]); err == nil {
		r.t.Fatal("connection still open")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		r.t.Fatal("connection not closed within 10s")
	}
}

// stillServing checks that a normal client still works.
func stillServing(t *testing.T, addr string) {
	t.Helper()
	cl := testclient.New(t, addr, kgo.DefaultProduceTopic("alive"), kgo.AllowAutoTopicCreation())
	if err := cl.ProduceSync(testCtx(t), &kgo.Record{Value: []byte("ok")}).FirstErr(); err != nil {
		t.Fatalf("broker stopped serving: %v", err)
	}
}

func TestBrokenFramesCloseOnlyTheirConnection(t *testing.T) {
	b := testbroker.Start(t, func(c *runConfig) { c.MaxRequestBytes = 1 << 20 })
	cases := map[string][]byte{
		"oversized frame": binary.BigEndian.AppendUint32(nil, 2<<20),
		"negative size":   binary.BigEndian.AppendUint32(nil, 0xffffffff),
		"tiny frame":      {0, 0, 0, 2, 0, 1},
		"unknown api key": append([]byte{0, 0, 0, 10}, 0x7f, 0x00, 0, 0, 0, 0, 0, 1, 0xff, 0xff),
		"truncated produce": func() []byte {
			f := frame(&kmsg.ProduceRequest{Version: 9, Acks: -1}, 1)
			f = f[:len(f)-2]
			binary.BigEndian.PutUint32(f, uint32(len(f)-4))
			return f
		}(),
	}
	for name, bad := range cases {
		t.Run(name, func(t *testing.T) {
			rc := dialRaw(t, b.Addr)
			if _, err := rc.conn.Write(bad); err != nil {
				t.Fatal(err)
			}
			rc.expectClosed()
			stillServing(t, b.Addr)
		})
	}
}

func TestApiVersionsUnsupportedVersion(t *testing.T) {
	b := testbroker.Start(t)
	rc := dialRaw(t, b.Addr)
	req := kmsg.NewPtrApiVersionsRequest()
	req.Version = 0
	// Encode as v0 but claim v99 in the header, as a newer client would.
	f := frame(req, 1)
	binary.BigEndian.PutUint16(f[6:], 99)
	if _, err := rc.conn.Write(f); err != nil {
		t.Fatal(err)
	}
	rc.corr = 1
	var size [4]byte
	io.ReadFull(rc.conn, size[:])
	body := make([]byte, binary.BigEndian.Uint32(size[:]))
	io.ReadFull(rc.conn, body)
	resp := kmsg.NewPtrApiVersionsResponse()
	resp.Version = 0
	if err := resp.ReadFrom(body[4:]); err != nil {
		t.Fatal(err)
	}
	if resp.ErrorCode != kerr.UnsupportedVersion.Code || len(resp.ApiKeys) == 0 {
		t.Fatalf("got error %d and %d keys; want UNSUPPORTED_VERSION with ApiVersions' range", resp.ErrorCode, len(resp.ApiKeys))
	}
}

// batch builds a one-record v2 batch; pid < 0 means not idempotent.
func batch(value []byte, pid int64, seq int32) []byte {
	rec := kmsg.Record{Value: value}
	rec.Length = int32(len(rec.AppendTo(nil)) - 1) // the record's own length, less its one-byte zero placeholder
	rb := kmsg.RecordBatch{
		Magic: 2, ProducerID: pid, ProducerEpoch: 0, FirstSequence: seq, NumRecords: 1,
		FirstTimestamp: time.Now().UnixMilli(), MaxTimestamp: time.Now().UnixMilli(),
		Records: rec.AppendTo(nil),
	}
	if pid < 0 {
		rb.ProducerEpoch, rb.FirstSequence = -1, -1
	}
	raw := rb.AppendTo(nil)
	binary.BigEndian.PutUint32(raw[8:], uint32(len(raw)-12))
	binary.BigEndian.PutUint32(raw[17:], crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli)))
	return raw
}

// produceRaw sends one batch and returns the partition's error code and base offset.
func produceRaw(t *testing.T, rc *rawConn, topic string, records []byte) (int16, int64) {
	t.Helper()
	resp, err := rc.roundTrip(produceRequest(9, -1, topic, records))
	if err != nil {
		t.Fatal(err)
	}
	p := resp.(*kmsg.ProduceResponse).Topics[0].Partitions[0]
	return p.ErrorCode, p.BaseOffset
}

func TestProduceErrors(t *testing.T) {
	b := testbroker.Start(t)
	testclient.CreateTopic(t, b.Addr, "small", 1, map[string]*string{"max.message.bytes": strPtr("1000")})
	rc := dialRaw(t, b.Addr)

	good := batch([]byte("fine"), -1, -1)
	if code, off := produceRaw(t, rc, "small", good); code != 0 || off != 0 {
		t.Fatalf("good batch: code %d offset %d", code, off)
	}
	bad := append([]byte(nil), good...)
	bad[len(bad)-1] ^= 0xff
	if code, _ := produceRaw(t, rc, "small", bad); code != kerr.CorruptMessage.Code {
		t.Fatalf("bad CRC: code %d, want CORRUPT_MESSAGE", code)
	}
	if code, _ := produceRaw(t, rc, "small", good[:len(good)-3]); code != kerr.CorruptMessage.Code {
		t.Fatalf("truncated batch: code %d, want CORRUPT_MESSAGE", code)
	}
	if code, _ := produceRaw(t, rc, "small", batch(make([]byte, 2000), -1, -1)); code != kerr.MessageTooLarge.Code {
		t.Fatalf("large batch: code %d, want MESSAGE_TOO_LARGE", code)
	}
	if code, _ := produceRaw(t, rc, "no-such-topic-here", good); code != kerr.UnknownTopicOrPartition.Code {
		t.Fatalf("unknown topic: code %d", code)
	}

	// Idempotence: duplicates are acknowledged with the first offset, gaps refused.
	ipr, err := rc.roundTrip(&kmsg.InitProducerIDRequest{Version: 4, TransactionTimeoutMillis: 60000, ProducerID: -1, ProducerEpoch: -1})
	if err != nil {
		t.Fatal(err)
	}
	pid := ipr.(*kmsg.InitProducerIDResponse).ProducerID
	first := batch([]byte("once"), pid, 0)
	_, off1 := produceRaw(t, rc, "small", first)
	code, off2 := produceRaw(t, rc, "small", first)
	if code != 0 || off2 != off1 {
		t.Fatalf("duplicate: code %d offset %d, want 0 and %d", code, off2, off1)
	}
	if code, _ := produceRaw(t, rc, "small", batch([]byte("gap"), pid, 5)); code != kerr.OutOfOrderSequenceNumber.Code {
		t.Fatalf("sequence gap: code %d, want OUT_OF_ORDER_SEQUENCE_NUMBER", code)
	}
	if code, off := produceRaw(t, rc, "small", batch([]byte("next"), pid, 1)); code != 0 || off != off1+1 {
		t.Fatalf("next sequence: code %d offset %d", code, off)
	}
	stillServing(t, b.Addr)
}

func TestFetchOutOfRange(t *testing.T) {
	b := testbroker.Start(t)
	testclient.CreateTopic(t, b.Addr, "range", 1, nil)
	rc := dialRaw(t, b.Addr)
	req := kmsg.NewPtrFetchRequest()
	req.Version = 11
	req.MaxBytes = 1 << 20
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = "range"
	rp := kmsg.NewFetchRequestTopicPartition()
	rp.FetchOffset = 42
	rp.PartitionMaxBytes = 1 << 20
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	resp, err := rc.roundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if code := resp.(*kmsg.FetchResponse).Topics[0].Partitions[0].ErrorCode; code != kerr.OffsetOutOfRange.Code {
		t.Fatalf("fetch beyond end: %v", kerr.ErrorForCode(code))
	}
	if err := kerr.ErrorForCode(kerr.OffsetOutOfRange.Code); !errors.Is(err, kerr.OffsetOutOfRange) {
		t.Fatal(err)
	}
}

func strPtr(s string) *string { return &s }
