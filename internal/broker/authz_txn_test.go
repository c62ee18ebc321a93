package broker

// authz_txn_test.go checks the TransactionalId resource in every
// transactional API (KafkaApis' checks): WRITE to use an id, DESCRIBE to
// find its coordinator or describe it, WRITE on the topics added, READ on
// the group whose offsets are added, CLUSTER_ACTION for WriteTxnMarkers,
// READ on a topic for DescribeProducers.

import (
	"encoding/binary"
	"hash/crc32"
	"testing"

	"github.com/courier-dev/courier/internal/broker/acl"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestAuthzTransactions(t *testing.T) {
	b := openAuthzBroker(t, true)
	tina := func(op kmsg.ACLOperation, rt kmsg.ACLResourceType, pt kmsg.ACLResourcePatternType, name string) acl.Binding {
		return acl.Binding{Principal: "User:tina", Host: "*", Permission: kmsg.ACLPermissionTypeAllow, Operation: op, ResourceType: rt, PatternType: pt, ResourceName: name}
	}
	lit, pre := kmsg.ACLResourcePatternTypeLiteral, kmsg.ACLResourcePatternTypePrefixed
	for i, err := range b.acls.Create([]acl.Binding{
		tina(opWrite, rtTransactionalID, pre, "tx-"),
		tina(opDescribe, rtTransactionalID, pre, "tx-"),
		tina(opWrite, rtTopic, lit, "a-1"),
		tina(opRead, rtGroup, lit, "g-1"),
	}) {
		if err != nil {
			t.Fatalf("ACL %d: %v", i, err)
		}
	}

	find := func(who, id string) int16 {
		r := kmsg.NewPtrFindCoordinatorRequest()
		r.Version, r.CoordinatorType, r.CoordinatorKeys = 4, 1, []string{id}
		return as[*kmsg.FindCoordinatorResponse](t, b, who, r).Coordinators[0].ErrorCode
	}
	expect(t, "find coordinator tina tx-1", find("tina", "tx-1"), nil)
	expect(t, "find coordinator tina other", find("tina", "other"), kerr.TransactionalIDAuthorizationFailed)
	expect(t, "find coordinator mallory tx-1", find("mallory", "tx-1"), kerr.TransactionalIDAuthorizationFailed)

	init := func(who, id string) *kmsg.InitProducerIDResponse {
		r := kmsg.NewPtrInitProducerIDRequest()
		r.Version, r.TransactionalID, r.TransactionTimeoutMillis = 4, &id, 60000
		return as[*kmsg.InitProducerIDResponse](t, b, who, r)
	}
	ok := init("tina", "tx-1")
	expect(t, "init pid tina tx-1", ok.ErrorCode, nil)
	expect(t, "init pid tina other", init("tina", "other").ErrorCode, kerr.TransactionalIDAuthorizationFailed)
	expect(t, "init pid erin tx-1 (WRITE on a topic is not enough)", init("erin", "tx-1").ErrorCode, kerr.TransactionalIDAuthorizationFailed)

	add := func(who, id string, topics ...string) []int16 {
		r := kmsg.NewPtrAddPartitionsToTxnRequest()
		r.Version, r.TransactionalID, r.ProducerID, r.ProducerEpoch = 3, id, ok.ProducerID, ok.ProducerEpoch
		for _, topic := range topics {
			rt := kmsg.NewAddPartitionsToTxnRequestTopic()
			rt.Topic, rt.Partitions = topic, []int32{0}
			r.Topics = append(r.Topics, rt)
		}
		var codes []int16
		for _, rt := range as[*kmsg.AddPartitionsToTxnResponse](t, b, who, r).Topics {
			codes = append(codes, rt.Partitions[0].ErrorCode)
		}
		return codes
	}
	codes := add("tina", "tx-1", "a-1", "secret")
	expect(t, "add partitions: a-1 not attempted", codes[0], kerr.OperationNotAttempted)
	expect(t, "add partitions: secret", codes[1], kerr.TopicAuthorizationFailed)
	expect(t, "add partitions tina a-1", add("tina", "tx-1", "a-1")[0], nil)
	expect(t, "add partitions tina other", add("tina", "other", "a-1")[0], kerr.TransactionalIDAuthorizationFailed)

	addOffsets := func(group string) int16 {
		r := kmsg.NewPtrAddOffsetsToTxnRequest()
		r.TransactionalID, r.ProducerID, r.ProducerEpoch, r.Group = "tx-1", ok.ProducerID, ok.ProducerEpoch, group
		return as[*kmsg.AddOffsetsToTxnResponse](t, b, "tina", r).ErrorCode
	}
	expect(t, "add offsets g-1", addOffsets("g-1"), nil)
	expect(t, "add offsets g-2 (no READ)", addOffsets("g-2"), kerr.GroupAuthorizationFailed)

	produce := func(id string) int16 {
		r := kmsg.NewPtrProduceRequest()
		r.Version, r.Acks, r.TimeoutMillis, r.TransactionID = 9, -1, 5000, &id
		rt := kmsg.NewProduceRequestTopic()
		rt.Topic = "a-1"
		rp := kmsg.NewProduceRequestTopicPartition()
		rp.Records = txnRecordBatch(ok.ProducerID, ok.ProducerEpoch)
		rt.Partitions = append(rt.Partitions, rp)
		r.Topics = append(r.Topics, rt)
		return as[*kmsg.ProduceResponse](t, b, "tina", r).Topics[0].Partitions[0].ErrorCode
	}
	expect(t, "transactional produce with another id", produce("other"), kerr.TransactionalIDAuthorizationFailed)
	expect(t, "transactional produce", produce("tx-1"), nil)

	describe := func(who string) int16 {
		r := kmsg.NewPtrDescribeTransactionsRequest()
		r.TransactionalIDs = []string{"tx-1"}
		return as[*kmsg.DescribeTransactionsResponse](t, b, who, r).TransactionStates[0].ErrorCode
	}
	expect(t, "describe tina", describe("tina"), nil)
	expect(t, "describe mallory", describe("mallory"), kerr.TransactionalIDAuthorizationFailed)
	list := func(who string) int {
		return len(as[*kmsg.ListTransactionsResponse](t, b, who, kmsg.NewPtrListTransactionsRequest()).TransactionStates)
	}
	if n := list("tina"); n != 1 {
		t.Errorf("tina lists %d transactional ids, want 1", n)
	}
	if n := list("mallory"); n != 0 {
		t.Errorf("mallory lists %d transactional ids, want none", n)
	}

	producers := func(who, topic string) int16 {
		r := kmsg.NewPtrDescribeProducersRequest()
		rt := kmsg.NewDescribeProducersRequestTopic()
		rt.Topic, rt.Partitions = topic, []int32{0}
		r.Topics = append(r.Topics, rt)
		return as[*kmsg.DescribeProducersResponse](t, b, who, r).Topics[0].Partitions[0].ErrorCode
	}
	expect(t, "describe producers bob a-1", producers("bob", "a-1"), nil)
	expect(t, "describe producers mallory secret", producers("mallory", "secret"), kerr.TopicAuthorizationFailed)

	markers := func(who string) int16 {
		r := kmsg.NewPtrWriteTxnMarkersRequest()
		m := kmsg.NewWriteTxnMarkersRequestMarker()
		m.ProducerID, m.ProducerEpoch, m.Committed = ok.ProducerID, ok.ProducerEpoch, false
		mt := kmsg.NewWriteTxnMarkersRequestMarkerTopic()
		mt.Topic, mt.Partitions = "a-1", []int32{0}
		m.Topics = append(m.Topics, mt)
		r.Markers = append(r.Markers, m)
		return as[*kmsg.WriteTxnMarkersResponse](t, b, who, r).Markers[0].Topics[0].Partitions[0].ErrorCode
	}
	expect(t, "write markers tina", markers("tina"), kerr.ClusterAuthorizationFailed)
	expect(t, "write markers alice (ALL on the cluster)", markers("alice"), nil)
}

// txnRecordBatch is a transactional v2 batch of one record from a
// producer, sequence 0.
func txnRecordBatch(pid int64, epoch int16) []byte {
	raw := recordBatch([]byte("t"))
	binary.BigEndian.PutUint16(raw[21:], 0x10) // attributes: transactional
	binary.BigEndian.PutUint64(raw[43:], uint64(pid))
	binary.BigEndian.PutUint16(raw[51:], uint16(epoch))
	binary.BigEndian.PutUint32(raw[53:], 0) // base sequence
	binary.BigEndian.PutUint32(raw[17:], crc32.Checksum(raw[21:], crc32.MakeTable(crc32.Castagnoli)))
	return raw
}
