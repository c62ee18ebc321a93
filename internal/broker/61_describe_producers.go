package broker

// 61_describe_producers.go lists each partition's active producers (KIP-664,
// `kafka-transactions.sh describe-producers`): id, epoch, last sequence and
// timestamp, the coordinator epoch of its last marker and, for a producer
// in a transaction, the offset the transaction started at, which is what
// holds the partition's last stable offset back. READ on the topic.

import (
	"context"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleDescribeProducers(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.DescribeProducersRequest)
	resp := r.ResponseKind().(*kmsg.DescribeProducersResponse)
	for _, rt := range r.Topics {
		st := kmsg.NewDescribeProducersResponseTopic()
		st.Topic = rt.Topic
		readable := b.allowed(req, opRead, rtTopic, rt.Topic)
		for _, p := range rt.Partitions {
			sp := kmsg.NewDescribeProducersResponseTopicPartition()
			sp.Partition = p
			part := b.lookup(rt.Topic, p)
			switch {
			case !readable:
				sp.ErrorCode = kerr.TopicAuthorizationFailed.Code
			case part == nil:
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
			default:
				for _, pi := range part.log.Producers() {
					ap := kmsg.NewDescribeProducersResponseTopicPartitionActiveProducer()
					ap.ProducerID, ap.ProducerEpoch = pi.ProducerID, int32(pi.ProducerEpoch)
					ap.LastSequence, ap.LastTimestamp = pi.LastSequence, pi.LastTimestamp
					ap.CoordinatorEpoch, ap.CurrentTxnStartOffset = pi.CoordinatorEpoch, pi.CurrentTxnStartOffset
					sp.ActiveProducers = append(sp.ActiveProducers, ap)
				}
			}
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return server.Immediate(resp)
}
