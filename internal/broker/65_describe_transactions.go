package broker

// 65_describe_transactions.go describes transactional ids (KIP-664): state,
// producer id and epoch, timeout, start time and the partitions of the
// ongoing transaction. DESCRIBE on each TransactionalId. As in Kafka, a
// transaction that added a group's offsets lists the __consumer_offsets
// partition too.

import (
	"context"
	"sort"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/courier-dev/courier/internal/broker/txn"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleDescribeTransactions(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.DescribeTransactionsRequest)
	resp := r.ResponseKind().(*kmsg.DescribeTransactionsResponse)
	for _, id := range r.TransactionalIDs {
		ts := kmsg.NewDescribeTransactionsResponseTransactionState()
		ts.TransactionalID = id
		ts.ProducerID, ts.ProducerEpoch, ts.StartTimestamp = -1, -1, -1
		info, ok := b.txns.Describe(id)
		switch {
		case !b.allowed(req, opDescribe, rtTransactionalID, id):
			ts.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
		case !ok:
			ts.ErrorCode = kerr.TransactionalIDNotFound.Code
		default:
			fillTxnState(&ts, info)
		}
		resp.TransactionStates = append(resp.TransactionStates, ts)
	}
	return server.Immediate(resp)
}

// fillTxnState copies a transaction's description into ts.
func fillTxnState(ts *kmsg.DescribeTransactionsResponseTransactionState, info txn.TxnInfo) {
	ts.State = info.State
	ts.TimeoutMillis = info.TimeoutMs
	ts.ProducerID, ts.ProducerEpoch = info.ProducerID, info.ProducerEpoch
	if !info.StartTime.IsZero() {
		ts.StartTimestamp = info.StartTime.UnixMilli()
	}
	byTopic := map[string][]int32{}
	for _, p := range info.Partitions {
		byTopic[p.Topic] = append(byTopic[p.Topic], p.Partition)
	}
	if len(info.Groups) > 0 {
		byTopic[offsetsTopic] = append(byTopic[offsetsTopic], 0)
	}
	names := make([]string, 0, len(byTopic))
	for t := range byTopic {
		names = append(names, t)
	}
	sort.Strings(names)
	for _, t := range names {
		tt := kmsg.NewDescribeTransactionsResponseTransactionStateTopic()
		tt.Topic = t
		tt.Partitions = byTopic[t]
		sort.Slice(tt.Partitions, func(i, j int) bool { return tt.Partitions[i] < tt.Partitions[j] })
		ts.Topics = append(ts.Topics, tt)
	}
}
