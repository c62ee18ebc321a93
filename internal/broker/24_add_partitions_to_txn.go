package broker

// 24_add_partitions_to_txn.go adds partitions to a producer's transaction
// (KafkaApis handleAddPartitionsToTxnRequest). v0-v3 are a client's one
// transaction: WRITE on the TransactionalId, WRITE on each topic; when a
// partition is refused (not authorized, unknown) no partition is added
// and the others answer OPERATION_NOT_ATTEMPTED, as in Kafka. v4+ carry
// several transactions, sent by brokers (CLUSTER_ACTION), each either
// added or, with VerifyOnly, checked against the ongoing transaction
// (KIP-890).

import (
	"context"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/courier-dev/courier/internal/broker/txn"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// txnTopic is one topic of a transaction's partitions, whatever the
// request version's own type.
type txnTopic struct {
	topic string
	parts []int32
}

func (b *Broker) handleAddPartitionsToTxn(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.AddPartitionsToTxnRequest)
	resp := r.ResponseKind().(*kmsg.AddPartitionsToTxnResponse)
	if r.Version >= 4 {
		if !b.allowedCluster(req, opClusterAction) {
			resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
			return server.Immediate(resp)
		}
		return func(ctx context.Context) kmsg.Response {
			for _, t := range r.Transactions {
				topics := make([]txnTopic, len(t.Topics))
				for i, rt := range t.Topics {
					topics[i] = txnTopic{rt.Topic, rt.Partitions}
				}
				codes := b.addTxnPartitions(ctx, req, t.TransactionalID, t.ProducerID, t.ProducerEpoch, topics, t.VerifyOnly)
				rt := kmsg.NewAddPartitionsToTxnResponseTransaction()
				rt.TransactionalID = t.TransactionalID
				for _, tt := range topics {
					st := kmsg.NewAddPartitionsToTxnResponseTransactionTopic()
					st.Topic = tt.topic
					for _, p := range tt.parts {
						sp := kmsg.NewAddPartitionsToTxnResponseTransactionTopicPartition()
						sp.Partition, sp.ErrorCode = p, codes[txn.Partition{Topic: tt.topic, Partition: p}]
						st.Partitions = append(st.Partitions, sp)
					}
					rt.Topics = append(rt.Topics, st)
				}
				resp.Transactions = append(resp.Transactions, rt)
			}
			return resp
		}
	}
	topics := make([]txnTopic, len(r.Topics))
	for i, rt := range r.Topics {
		topics[i] = txnTopic{rt.Topic, rt.Partitions}
	}
	return func(ctx context.Context) kmsg.Response {
		codes := b.addTxnPartitions(ctx, req, r.TransactionalID, r.ProducerID, r.ProducerEpoch, topics, false)
		for _, tt := range topics {
			st := kmsg.NewAddPartitionsToTxnResponseTopic()
			st.Topic = tt.topic
			for _, p := range tt.parts {
				sp := kmsg.NewAddPartitionsToTxnResponseTopicPartition()
				sp.Partition = p
				sp.ErrorCode = fencedCode(codes[txn.Partition{Topic: tt.topic, Partition: p}], r.Version, 2)
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return resp
	}
}

// addTxnPartitions checks and adds (or only verifies) one transaction's
// partitions and returns each partition's code.
func (b *Broker) addTxnPartitions(ctx context.Context, req *server.Request, id string, pid int64, epoch int16, topics []txnTopic, verifyOnly bool) map[txn.Partition]int16 {
	codes := map[txn.Partition]int16{}
	setAll := func(code int16) map[txn.Partition]int16 {
		for _, t := range topics {
			for _, p := range t.parts {
				codes[txn.Partition{Topic: t.topic, Partition: p}] = code
			}
		}
		return codes
	}
	if !b.allowed(req, opWrite, rtTransactionalID, id) {
		return setAll(kerr.TransactionalIDAuthorizationFailed.Code)
	}
	var parts []txn.Partition
	refused := false
	for _, t := range topics {
		writable := b.allowed(req, opWrite, rtTopic, t.topic)
		for _, p := range t.parts {
			tp := txn.Partition{Topic: t.topic, Partition: p}
			switch {
			case !writable:
				codes[tp], refused = kerr.TopicAuthorizationFailed.Code, true
			case b.lookup(t.topic, p) == nil:
				codes[tp], refused = kerr.UnknownTopicOrPartition.Code, true
			default:
				parts = append(parts, tp)
			}
		}
	}
	if refused {
		for _, tp := range parts {
			codes[tp] = kerr.OperationNotAttempted.Code
		}
		return codes
	}
	var got map[txn.Partition]int16
	if verifyOnly {
		got = b.txns.VerifyPartitions(id, pid, epoch, parts)
	} else {
		got = b.txns.AddPartitions(ctx, id, pid, epoch, parts)
	}
	for _, tp := range parts {
		codes[tp] = got[tp]
	}
	return codes
}
