package broker

// 01_fetch.go serves Fetch: stored batches are returned as they lie on disk,
// never re-encoded. A fetch that finds fewer than MinBytes waits (long poll)
// until enough arrives, MaxWaitMs passes or the connection ends. Fetch
// sessions (KIP-227) are not kept: the response's session id 0 tells
// clients to send full fetches.

import (
	"context"
	"errors"
	"reflect"
	"time"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/courier-dev/courier/internal/broker/storage"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// maxFetchWait caps a client's MaxWaitMs so a bad value cannot pin a
// connection's writer for long.
const maxFetchWait = 30 * time.Second

func (b *Broker) handleFetch(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.FetchRequest)
	denied := b.fetchDenied(req, r)
	return func(ctx context.Context) kmsg.Response {
		res := b.fetch(ctx, r, denied)
		// The records read stay in memory until the server has written
		// them to the socket (it writes them from these very buffers).
		req.OnDone(func() { b.fetchMem.Release(res.held) })
		return res.resp
	}
}

// fetchDenied marks the requested topics req may not READ (by index in
// r.Topics; nil when all are readable). A v13+ topic id that names no
// topic is left to answer UNKNOWN_TOPIC_ID.
func (b *Broker) fetchDenied(req *server.Request, r *kmsg.FetchRequest) []bool {
	if !b.cfg.AuthorizerEnabled {
		return nil
	}
	var denied []bool
	for i, rt := range r.Topics {
		name := b.fetchTopicName(r, rt)
		if name == "" && r.Version >= 13 {
			continue
		}
		if !b.allowed(req, opRead, rtTopic, name) {
			if denied == nil {
				denied = make([]bool, len(r.Topics))
			}
			denied[i] = true
		}
	}
	return denied
}

// fetch reads, and if need be waits, until the request can be answered.
// The common case, data already there, costs one read; only a fetch that
// must wait subscribes to the partitions' append notifications. A read
// that is not answered gives its fetch memory back before waiting.
func (b *Broker) fetch(ctx context.Context, r *kmsg.FetchRequest, denied []bool) fetchResult {
	res := b.fetchOnce(ctx, r, denied)
	if res.n >= int(r.MinBytes) || res.hadErr || ctxDone(ctx) {
		return res
	}
	wait := time.Duration(r.MaxWaitMillis) * time.Millisecond
	wait = min(max(wait, 0), maxFetchWait)
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		b.fetchMem.Release(res.held)
		// Subscribe, then read again, so that no append can slip between
		// the read and the wait.
		notify := b.fetchNotifiers(r, denied)
		res = b.fetchOnce(ctx, r, denied)
		if res.n >= int(r.MinBytes) || res.hadErr || len(notify) == 0 || ctxDone(ctx) {
			return res
		}
		cases := make([]reflect.SelectCase, 0, len(notify)+2)
		cases = append(cases,
			reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())},
			reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(deadline.C)})
		for _, ch := range notify {
			cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ch)})
		}
		if chosen, _, _ := reflect.Select(cases); chosen < 2 {
			b.fetchMem.Release(res.held)
			return b.fetchOnce(ctx, r, denied)
		}
	}
}

// fetchNotifiers returns the append notifications of the requested
// partitions.
func (b *Broker) fetchNotifiers(r *kmsg.FetchRequest, denied []bool) []<-chan struct{} {
	var out []<-chan struct{}
	for i, rt := range r.Topics {
		if denied != nil && denied[i] {
			continue
		}
		name := b.fetchTopicName(r, rt)
		for _, rp := range rt.Partitions {
			if p := b.lookup(name, rp.Partition); p != nil {
				out = append(out, p.log.Notify())
			}
		}
	}
	return out
}

// fetchTopicName resolves a fetch topic by name (before v13) or id.
func (b *Broker) fetchTopicName(r *kmsg.FetchRequest, rt kmsg.FetchRequestTopic) string {
	if r.Version >= 13 {
		name, _ := b.topicName(rt.TopicID)
		return name
	}
	return rt.Topic
}

// fetchResult is one read of every requested partition.
type fetchResult struct {
	resp *kmsg.FetchResponse
	// n is the record bytes in resp.
	n int
	// hadErr reports a partition error, which answers the fetch at once.
	hadErr bool
	// held is what the records hold of the fetch memory budget, to be
	// given back once resp is written or dropped.
	held int64
}

// fetchOnce reads every requested partition once, within the response
// limit (the client's MaxBytes capped by Config.FetchMaxBytes) and the
// fetch memory budget. Topics marked in denied answer
// TOPIC_AUTHORIZATION_FAILED.
func (b *Broker) fetchOnce(ctx context.Context, r *kmsg.FetchRequest, denied []bool) fetchResult {
	res := fetchResult{resp: r.ResponseKind().(*kmsg.FetchResponse)}
	budget := int64(r.MaxBytes)
	if r.Version < 3 || budget <= 0 {
		budget = 1<<31 - 1
	}
	budget = min(budget, int64(b.cfg.FetchMaxBytes))
	for i, rt := range r.Topics {
		st := kmsg.NewFetchResponseTopic()
		st.Topic = rt.Topic
		st.TopicID = rt.TopicID
		name := b.fetchTopicName(r, rt)
		for _, rp := range rt.Partitions {
			sp := kmsg.NewFetchResponseTopicPartition()
			sp.Partition = rp.Partition
			// Kafka always sends a records field; librdkafka rejects null.
			sp.RecordBatches = []byte{}
			if denied != nil && denied[i] {
				sp.ErrorCode = kerr.TopicAuthorizationFailed.Code
				sp.HighWatermark, sp.LastStableOffset, sp.LogStartOffset = -1, -1, -1
				res.hadErr = true
				st.Partitions = append(st.Partitions, sp)
				continue
			}
			n, held, err := b.fetchPartition(ctx, name, r, rp, &sp, budget, res.n == 0)
			if err != nil {
				res.hadErr = true
			}
			budget -= int64(n)
			res.n += n
			res.held += held
			st.Partitions = append(st.Partitions, sp)
		}
		res.resp.Topics = append(res.resp.Topics, st)
	}
	return res
}

// fetchPartition fills one partition's answer and returns the bytes added
// and what they hold of the fetch memory budget. Only the first partition
// with data may exceed the response budget (by returning its first batch
// whole, KIP-74), so a consumer always makes progress.
func (b *Broker) fetchPartition(ctx context.Context, topic string, r *kmsg.FetchRequest, rp kmsg.FetchRequestTopicPartition, sp *kmsg.FetchResponseTopicPartition, budget int64, first bool) (int, int64, error) {
	p := b.lookup(topic, rp.Partition)
	if p == nil {
		sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
		if r.Version >= 13 && topic == "" {
			sp.ErrorCode = kerr.UnknownTopicID.Code
		}
		return 0, 0, errors.New("unknown partition")
	}
	if sp.ErrorCode = b.checkLeaderEpoch(rp.CurrentLeaderEpoch); sp.ErrorCode != 0 {
		return 0, 0, errors.New("leader epoch mismatch")
	}
	sp.HighWatermark = p.log.HighWatermark()
	sp.LastStableOffset = p.log.LastStableOffset()
	sp.LogStartOffset = p.log.LogStartOffset()
	if r.Version >= 12 && rp.LastFetchedEpoch >= 0 {
		// The fetcher says which epoch its last record came from (KIP-595):
		// if that epoch ended before its position, its log diverged, and
		// the answer says where instead of returning records.
		epoch, end := p.log.EndOffsetForEpoch(rp.LastFetchedEpoch)
		if epoch < rp.LastFetchedEpoch || end < rp.FetchOffset {
			sp.DivergingEpoch.Epoch, sp.DivergingEpoch.EndOffset = epoch, end
			return 0, 0, nil
		}
	}
	limit := min(int64(rp.PartitionMaxBytes), budget, int64(b.cfg.FetchMaxBytes))
	if limit <= 0 && !first {
		return 0, 0, nil
	}
	limit = max(limit, 1)
	readMax, held, ok := b.reserveFetch(ctx, rp.FetchOffset, sp, limit, first)
	if !ok {
		return 0, 0, nil // the fetch memory budget is short: no records this time
	}
	data, aborted, err := b.readFor(p, r.IsolationLevel, rp.FetchOffset, int32(readMax), first)
	if err != nil {
		b.fetchMem.Release(held)
		sp.ErrorCode = errorCode(err)
		if !errors.Is(err, storage.ErrOffsetOutOfRange) {
			b.cfg.Logger.Error("fetch read failed", "topic", topic, "partition", rp.Partition, "offset", rp.FetchOffset, "err", err)
		}
		return 0, 0, err
	}
	if !first && int64(len(data)) > limit {
		// Only the response's first batch may exceed the limits (KIP-74):
		// a later partition whose next batch does not fit sends nothing
		// this time (readFor's ReadWithin did not even read it, unless
		// the fetch memory budget gave more than the limit).
		b.fetchMem.Release(held)
		return 0, 0, nil
	}
	held = b.fetchMem.HoldRead(held, len(data))
	if len(data) > 0 {
		sp.RecordBatches = data
		b.metrics.RecordsFetched(storage.CountRecords(data))
	}
	sp.AbortedTransactions = aborted
	return len(data), held, nil
}

// readFor reads a partition for a fetch at its isolation level: read_committed
// (1) stops at the last stable offset and lists the aborted transactions
// the client must drop from what it got; read_uncommitted reads to the high
// watermark. Only the response's first partition with data (first) gets
// its first batch whole whatever its size; the others only what fits in
// maxBytes, and a batch that does not fit is not read.
func (b *Broker) readFor(p *partition, isolation int8, offset int64, maxBytes int32, first bool) ([]byte, []kmsg.FetchResponseTopicPartitionAbortedTransaction, error) {
	committed := isolation == isolationReadCommitted
	var (
		data    []byte
		aborted []storage.AbortedTxn
		err     error
	)
	switch {
	case !first:
		data, aborted, err = p.log.ReadWithin(offset, maxBytes, committed)
	case committed:
		data, aborted, err = p.log.ReadCommitted(offset, maxBytes)
	default:
		data, err = p.log.Read(offset, maxBytes)
	}
	if err != nil || len(aborted) == 0 {
		return data, nil, err
	}
	out := make([]kmsg.FetchResponseTopicPartitionAbortedTransaction, len(aborted))
	for i, a := range aborted {
		out[i] = kmsg.NewFetchResponseTopicPartitionAbortedTransaction()
		out[i].ProducerID, out[i].FirstOffset = a.ProducerID, a.FirstOffset
	}
	return data, out, nil
}

// isolationReadCommitted is the isolation level of read_committed
// consumers (Fetch, ListOffsets).
const isolationReadCommitted = 1
