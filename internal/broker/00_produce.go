package broker

// 00_produce.go appends producers' record batches. The append happens in
// request order on the connection's reader; the wait for durability (with
// --fsync always) happens in the reply, so the next request is already
// being appended while this one's fsync runs, and concurrent producers
// share fsyncs.
//
// Validation follows Kafka's order: a transactional batch without a
// transactional id, or with one the requester may not WRITE, refuses the
// whole request (KafkaApis); then per partition authorization, existence,
// the records field (one v2 batch: storage.ProducedBatch), acks
// (INVALID_REQUIRED_ACKS for every partition still standing, as
// ReplicaManager), an internal topic (INVALID_TOPIC_EXCEPTION: only the
// broker writes __consumer_offsets and __transaction_state, as
// ReplicaManager.appendToLocalLog refuses a client), for a transactional
// batch that the partition is in the producer's ongoing transaction
// (KIP-890: INVALID_TXN_STATE otherwise, or the coordinator's fencing
// code), and the batch itself (Log.Append, Kafka's LogValidator). A
// refused batch is counted by reason, logged, and answered with Kafka's
// code, a message and, for timestamps, the records at fault.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/courier-dev/courier/internal/broker/storage"
	"github.com/courier-dev/courier/internal/broker/topics"
	"github.com/courier-dev/courier/internal/broker/txn"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Reasons of refusals decided here rather than by storage: the request's
// acks, and a batch for an internal topic.
const (
	reasonRequiredAcks  = "required_acks"
	reasonInternalTopic = "internal_topic"
	reasonTxnState      = "txn_state"
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
	if hasTransactionalBatch(r) && (r.TransactionID == nil || !b.allowed(req, opWrite, rtTransactionalID, *r.TransactionID)) {
		refuseTransactional(r, resp)
		if r.Acks == 0 {
			return noResponse // an acks=0 producer reads no response
		}
		return server.Immediate(resp)
	}
	validAcks := r.Acks == -1 || r.Acks == 0 || r.Acks == 1
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
			sp.BaseOffset = -1
			if !writable {
				sp.ErrorCode = kerr.TopicAuthorizationFailed.Code
				continue
			}
			p := b.lookup(rt.Topic, rp.Partition)
			if p == nil {
				sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
				continue
			}
			batch, err := storage.ProducedBatch(r.Version, rp.Records)
			if err == nil && !validAcks {
				err = fmt.Errorf("%w: acks %d, want -1, 0 or 1", errInvalidRequiredAcks, r.Acks)
			}
			if err == nil && topics.IsInternal(rt.Topic) {
				err = fmt.Errorf("%w %s", errInternalTopic, rt.Topic)
			}
			if err == nil && storage.IsTransactional(batch) {
				err = b.verifyTransactional(*r.TransactionID, batch, rt.Topic, rp.Partition)
			}
			if err == nil {
				var res storage.AppendResult
				if res, err = p.log.Append(batch); err == nil {
					sp.BaseOffset, sp.LogAppendTime, sp.LogStartOffset = res.BaseOffset, res.LogAppendTime, res.LogStartOffset
					waits = append(waits, durableWait{log: p.log, offset: res.LastOffset, resp: sp})
					continue
				}
			}
			b.refuseBatch(req, p, err, sp)
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
		return noResponse
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

// noResponse answers nothing: the reply to an acks=0 produce. (Kafka also
// closes the connection when such a request failed, so that the producer
// notices; the server package has no way to do that yet.)
func noResponse(context.Context) kmsg.Response { return nil }

// errInvalidRequiredAcks is Kafka's INVALID_REQUIRED_ACKS.
var errInvalidRequiredAcks = errors.New("invalid required acks")

// errInternalTopic is a produce to an internal topic, refused with
// INVALID_TOPIC_EXCEPTION and Kafka's message.
//
//lint:ignore ST1005 Kafka's message, which clients show verbatim
var errInternalTopic = errors.New("Cannot append to internal topic")

// refuseBatch fills a partition's answer for a batch that was not
// appended. A batch refused by validation (or for the request's acks) is
// counted and logged; its message names the problem and the partition, as
// Kafka's do, and timestamp errors list the records at fault (v8+).
func (b *Broker) refuseBatch(req *server.Request, p *partition, err error, sp *kmsg.ProduceResponseTopicPartition) {
	sp.BaseOffset = -1
	if errors.Is(err, errInvalidRequiredAcks) {
		sp.ErrorCode = kerr.InvalidRequiredAcks.Code
		b.rejected(req, p, reasonRequiredAcks, err)
		return
	}
	var te *txnStateError
	if errors.As(err, &te) {
		sp.ErrorCode = te.code
		sp.ErrorMessage = errorMessage(err)
		b.rejected(req, p, reasonTxnState, err)
		return
	}
	if errors.Is(err, errInternalTopic) {
		sp.ErrorCode = kerr.InvalidTopicException.Code
		sp.ErrorMessage = errorMessage(err)
		b.rejected(req, p, reasonInternalTopic, err)
		return
	}
	sp.ErrorCode = errorCode(err)
	var be *storage.BatchError
	if !errors.As(err, &be) {
		sp.ErrorMessage = errorMessage(err)
		return
	}
	msg := fmt.Sprintf("%s in topic partition %s-%d", be.Error(), p.topic, p.index)
	sp.ErrorMessage = &msg
	for _, re := range be.Records {
		er := kmsg.NewProduceResponseTopicPartitionErrorRecord()
		er.RelativeOffset = re.Index
		m := re.Message
		er.ErrorMessage = &m
		sp.ErrorRecords = append(sp.ErrorRecords, er)
	}
	b.rejected(req, p, be.Reason, be)
}

// rejected counts and logs one refused batch.
func (b *Broker) rejected(req *server.Request, p *partition, reason string, err error) {
	b.metrics.BatchRejected(reason)
	attrs := []any{"topic", p.topic, "partition", p.index, "reason", reason, "client_id", req.ClientID, "err", err}
	if req.Conn != nil {
		attrs = append(attrs, "remote", req.Conn.RemoteHost())
	}
	b.rejects.log(b.cfg.Logger, time.Now(), attrs)
}

// rejectLog logs refused batches: each at debug level, and at most one
// warning a minute (saying how many were refused since the last), so that
// a client resending a poison batch cannot flood the log.
type rejectLog struct {
	mu         sync.Mutex
	next       time.Time // no warning before this
	suppressed int       // refusals since the last warning
}

// rejectWarnEvery is the least time between two warnings.
const rejectWarnEvery = time.Minute

func (r *rejectLog) log(logger *slog.Logger, now time.Time, attrs []any) {
	logger.Debug("produced batch refused", attrs...)
	r.mu.Lock()
	if now.Before(r.next) {
		r.suppressed++
		r.mu.Unlock()
		return
	}
	r.next = now.Add(rejectWarnEvery)
	suppressed := r.suppressed
	r.suppressed = 0
	r.mu.Unlock()
	logger.Warn("produced batch refused (further refusals within a minute are logged at debug level; see courier_produce_rejected_batches_total)",
		append(attrs, "refused_since_last_warning", suppressed)...)
}

// hasTransactionalBatch reports whether any partition's records start with
// a transactional batch (Kafka's RequestUtils.hasTransactionalRecords).
func hasTransactionalBatch(r *kmsg.ProduceRequest) bool {
	for _, rt := range r.Topics {
		for _, rp := range rt.Partitions {
			if storage.IsTransactional(rp.Records) {
				return true
			}
		}
	}
	return false
}

// refuseTransactional answers a request with a transactional batch but no
// transactional id, or one the requester may not WRITE:
// TRANSACTIONAL_ID_AUTHORIZATION_FAILED for every partition, as Kafka.
func refuseTransactional(r *kmsg.ProduceRequest, resp *kmsg.ProduceResponse) {
	msg := "not authorized to write with this transactional id"
	if r.TransactionID == nil {
		msg = "a transactional batch needs a transactional id"
	}
	for _, rt := range r.Topics {
		st := kmsg.NewProduceResponseTopic()
		st.Topic = rt.Topic
		for _, rp := range rt.Partitions {
			sp := kmsg.NewProduceResponseTopicPartition()
			sp.Partition = rp.Partition
			sp.BaseOffset = -1
			sp.ErrorCode = kerr.TransactionalIDAuthorizationFailed.Code
			sp.ErrorMessage = &msg
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
}

// txnStateError is a transactional batch the coordinator does not expect
// on this partition.
type txnStateError struct {
	code int16
	msg  string
}

func (e *txnStateError) Error() string { return e.msg }

// verifyTransactional checks that the partition was added to the batch's
// producer's ongoing transaction (KIP-890 part 1): without this check a
// late or stray write would open a transaction that no marker ever ends,
// and the partition's last stable offset would stop for good.
func (b *Broker) verifyTransactional(id string, batch []byte, topic string, partition int32) error {
	pid, epoch := storage.BatchProducer(batch)
	tp := txn.Partition{Topic: topic, Partition: partition}
	code := b.txns.VerifyPartitions(id, pid, epoch, []txn.Partition{tp})[tp]
	if code == 0 {
		return nil
	}
	return &txnStateError{code: code, msg: fmt.Sprintf("transactional batch of producer %d epoch %d (transactional id %q) refused for %s-%d: %s: the partition is not in the producer's ongoing transaction",
		pid, epoch, id, topic, partition, kerr.ErrorForCode(code))}
}
