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

	"github.com/courier-dev/courier/internal/server"
	"github.com/courier-dev/courier/internal/storage"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// maxFetchWait caps a client's MaxWaitMs so a bad value cannot pin a
// connection's writer for long.
const maxFetchWait = 30 * time.Second

func (b *Broker) handleFetch(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.FetchRequest)
	denied := b.fetchDenied(req, r)
	return func(ctx context.Context) kmsg.Response { return b.fetch(ctx, r, denied) }
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
// must wait subscribes to the partitions' append notifications.
func (b *Broker) fetch(ctx context.Context, r *kmsg.FetchRequest, denied []bool) kmsg.Response {
	resp, n, hadErr := b.fetchOnce(r, denied)
	if n >= int(r.MinBytes) || hadErr || ctxDone(ctx) {
		return resp
	}
	wait := time.Duration(r.MaxWaitMillis) * time.Millisecond
	wait = min(max(wait, 0), maxFetchWait)
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	for {
		// Subscribe, then read again, so that no append can slip between
		// the read and the wait.
		notify := b.fetchNotifiers(r, denied)
		resp, n, hadErr = b.fetchOnce(r, denied)
		if n >= int(r.MinBytes) || hadErr || len(notify) == 0 || ctxDone(ctx) {
			return resp
		}
		cases := make([]reflect.SelectCase, 0, len(notify)+2)
		cases = append(cases,
			reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())},
			reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(deadline.C)})
		for _, ch := range notify {
			cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ch)})
		}
		if chosen, _, _ := reflect.Select(cases); chosen < 2 {
			resp, _, _ = b.fetchOnce(r, denied)
			return resp
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

// fetchOnce reads every requested partition once. It returns the response,
// the record bytes in it, and whether any partition had an error (which
// answers the fetch at once). Topics marked in denied answer
// TOPIC_AUTHORIZATION_FAILED.
func (b *Broker) fetchOnce(r *kmsg.FetchRequest, denied []bool) (*kmsg.FetchResponse, int, bool) {
	resp := r.ResponseKind().(*kmsg.FetchResponse)
	budget := int64(r.MaxBytes)
	if r.Version < 3 || budget <= 0 {
		budget = 1<<31 - 1
	}
	total, hadErr := 0, false
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
				hadErr = true
				st.Partitions = append(st.Partitions, sp)
				continue
			}
			n, err := b.fetchPartition(name, r, rp, &sp, budget, total == 0)
			if err != nil {
				hadErr = true
			}
			budget -= int64(n)
			total += n
			st.Partitions = append(st.Partitions, sp)
		}
		resp.Topics = append(resp.Topics, st)
	}
	return resp, total, hadErr
}

// fetchPartition fills one partition's answer and returns the bytes added.
// Only the first partition with data may exceed the response budget (by
// returning its first batch whole, KIP-74), so a consumer always makes
// progress.
func (b *Broker) fetchPartition(topic string, r *kmsg.FetchRequest, rp kmsg.FetchRequestTopicPartition, sp *kmsg.FetchResponseTopicPartition, budget int64, first bool) (int, error) {
	p := b.lookup(topic, rp.Partition)
	if p == nil {
		sp.ErrorCode = kerr.UnknownTopicOrPartition.Code
		if r.Version >= 13 && topic == "" {
			sp.ErrorCode = kerr.UnknownTopicID.Code
		}
		return 0, errors.New("unknown partition")
	}
	if sp.ErrorCode = b.checkLeaderEpoch(rp.CurrentLeaderEpoch); sp.ErrorCode != 0 {
		return 0, errors.New("leader epoch mismatch")
	}
	sp.HighWatermark = p.log.HighWatermark()
	sp.LastStableOffset = sp.HighWatermark
	sp.LogStartOffset = p.log.LogStartOffset()
	if r.Version >= 12 && rp.LastFetchedEpoch >= 0 {
		// The fetcher says which epoch its last record came from (KIP-595):
		// if that epoch ended before its position, its log diverged, and
		// the answer says where instead of returning records.
		epoch, end := p.log.EndOffsetForEpoch(rp.LastFetchedEpoch)
		if epoch < rp.LastFetchedEpoch || end < rp.FetchOffset {
			sp.DivergingEpoch.Epoch, sp.DivergingEpoch.EndOffset = epoch, end
			return 0, nil
		}
	}
	limit := int64(rp.PartitionMaxBytes)
	if budget < limit {
		limit = budget
	}
	if limit <= 0 && !first {
		return 0, nil
	}
	if limit <= 0 {
		limit = 1
	}
	data, err := p.log.Read(rp.FetchOffset, int32(limit))
	if err != nil {
		sp.ErrorCode = errorCode(err)
		if !errors.Is(err, storage.ErrOffsetOutOfRange) {
			b.cfg.Logger.Error("fetch read failed", "topic", topic, "partition", rp.Partition, "offset", rp.FetchOffset, "err", err)
		}
		return 0, err
	}
	if len(data) > 0 {
		sp.RecordBatches = data
	}
	return len(data), nil
}
