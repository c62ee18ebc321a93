package broker

// 00_produce.go appends producers' record batches. The append happens in
// request order on the connection's reader; the wait for durability (with
// --fsync always) happens in the reply, so the next request is already
// being appended while this one's fsync runs, and concurrent producers
// share fsyncs.

import (
	"context"
	"fmt"

	"github.com/courier-dev/courier/internal/server"
	"github.com/courier-dev/courier/internal/storage"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// durableWait is an appended partition whose answer waits for fsync.
type durableWait struct {
	log    *storage.Log
	offset int64
	resp   *kmsg.ProduceResponseTopicPartition
}

func (b *Broker) handleProduce(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.ProduceRequest)
	resp := r.ResponseKind().(*kmsg.ProduceResponse)
	if r.TransactionID != nil {
		for _, rt := range r.Topics {
			st := kmsg.NewProduceResponseTopic()
			st.Topic = rt.Topic
			for _, rp := range rt.Partitions {
				sp := kmsg.NewProduceResponseTopicPartition()
				sp.Partition = rp.Partition
				sp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
				msg := "transactions are not supported by this Courier version"
				sp.ErrorMessage = &msg
				st.Partitions = append(st.Partitions, sp)
			}
			resp.Topics = append(resp.Topics, st)
		}
		return server.Immediate(resp)
	}
	var waits []durableWait
	resp.Topics = make([]kmsg.ProduceResponseTopic, len(r.Topics))
	for i, rt := range r.Topics {
		st := &resp.Topics[i]
		*st = kmsg.NewProduceResponseTopic()
		st.Topic = rt.Topic
		st.Partitions = make([]kmsg.ProduceResponseTopicPartition, len(rt.Partitions))
		// WRITE on the topic; it also covers idempotent batches (KIP-679).
		writable := b.allowed(req, opWrite, rtTopic, rt.Topic)
		for j, rp := range rt.Partitions {
			sp := &st.Partitions[j]
			*sp = kmsg.NewProduceResponseTopicPartition()
			sp.Partition = rp.Partition
			if !writable {
				sp.ErrorCode = kerr.TopicAuthorizationFailed.Code
				sp.BaseOffset = -1
				continue
			}
			p := b.lookup(rt.Topic, rp.Partition)
			if p == nil {
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
				continue
			}
			last, err := b.appendPartition(p, rp.Records, sp)
			if err != nil {
				sp.ErrorCode = errorCode(err)
				sp.ErrorMessage = errorMessage(err)
				sp.BaseOffset = -1
				continue
			}
			waits = append(waits, durableWait{log: p.log, offset: last, resp: sp})
		}
	}
	if r.Acks == 0 {
		if b.cfg.Sync == storage.SyncAlways && len(waits) > 0 {
			// Nobody waits for the answer, but consumers see the records
			// only once fsynced: fsync now rather than at the next flush.
			return func(context.Context) kmsg.Response {
				for _, w := range waits {
					_ = w.log.WaitDurable(w.offset)
				}
				return nil
			}
		}
		return func(context.Context) kmsg.Response { return nil }
	}
	if b.cfg.Sync != storage.SyncAlways || len(waits) == 0 {
		return server.Immediate(resp)
	}
	return func(context.Context) kmsg.Response {
		for _, w := range waits {
			if err := w.log.WaitDurable(w.offset); err != nil {
				b.cfg.Logger.Error("fsync failed", "err", err)
				w.resp.ErrorCode = kerr.KafkaStorageError.Code
				w.resp.ErrorMessage = errorMessage(err)
				w.resp.BaseOffset = -1
			}
		}
		return resp
	}
}

// appendPartition appends every batch of a partition's records, filling the
// response's offsets, and returns the last offset written.
func (b *Broker) appendPartition(p *partition, records []byte, sp *kmsg.ProduceResponseTopicPartition) (int64, error) {
	batches, err := storage.SplitBatches(records)
	if err != nil {
		return 0, err
	}
	if len(batches) == 0 {
		return 0, fmt.Errorf("%w: produce request with no record batch", storage.ErrInvalidRecord)
	}
	var last int64
	for i, batch := range batches {
		res, err := p.log.Append(batch)
		if err != nil {
			return 0, err
		}
		if i == 0 {
			sp.BaseOffset = res.BaseOffset
			sp.LogAppendTime = res.LogAppendTime
		}
		sp.LogStartOffset = res.LogStartOffset
		last = res.LastOffset
	}
	return last, nil
}
