package share

// fetch.go serves ShareFetch and ShareAcknowledge (KIP-932, KIP-1206,
// KIP-1222). Each is split as the broker's handlers are: the ordered part
// (the session's epoch, the piggybacked acknowledgements) runs when the
// request is read, so that a member's next request sees its effect; the
// rest (acquiring records, waiting for some to arrive, waiting for the
// journal) runs in the reply. A response is sent only once every state
// change it reports is durable: acknowledgements, and the acquisitions
// with their delivery counts.

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"time"

	"github.com/courier-dev/courier/internal/broker/storage"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Fetch bounds.
const (
	// DefaultMaxRecords is what a fetch asking for none acquires at most
	// (KIP-1206's default).
	DefaultMaxRecords = 500
	// maxFetchBytes caps one response's record bytes.
	maxFetchBytes = 64 << 20
	// maxFetchWait caps a client's MaxWaitMillis.
	maxFetchWait = 30 * time.Second
)

// Conn identifies the connection a request came on: sessions end with it.
type Conn struct {
	ID uint64
	// Ctx ends when the connection closes.
	Ctx context.Context
}

// Readable reports whether the requester may READ a topic (ACLs).
type Readable func(topic string) bool

// partAcks is one partition's acknowledgement batches.
type partAcks struct {
	tp      TopicPartition
	batches []AckBatch
	// dup: the request names the partition more than once; none of its
	// batches is applied (INVALID_REQUEST).
	dup bool
}

// ackSet collects a request's acknowledgements by partition.
type ackSet struct {
	acks []partAcks
	at   map[TopicPartition]int
}

// add adds one partition's batches; a partition already added is marked
// a duplicate instead.
func (s *ackSet) add(tp TopicPartition, batches []AckBatch) {
	if s.at == nil {
		s.at = map[TopicPartition]int{}
	}
	if i, ok := s.at[tp]; ok {
		s.acks[i].dup = true
		return
	}
	s.at[tp] = len(s.acks)
	s.acks = append(s.acks, partAcks{tp: tp, batches: batches})
}

// ackResult is one partition's acknowledgement outcome.
type ackResult struct {
	tp   TopicPartition
	code int16
	msg  string
}

// ShareFetch does a ShareFetch's ordered part and returns its reply.
func (c *Coordinator) ShareFetch(req *kmsg.ShareFetchRequest, conn Conn, readable Readable) func(context.Context) *kmsg.ShareFetchResponse {
	resp := req.ResponseKind().(*kmsg.ShareFetchResponse)
	groupID, memberID := deref(req.GroupID), deref(req.MemberID)
	cfg := c.opts.Config(groupID)
	resp.AcquisitionLockTimeoutMillis = int32(cfg.LockDuration.Milliseconds())
	done := func(code int16) func(context.Context) *kmsg.ShareFetchResponse {
		resp.ErrorCode = code
		return func(context.Context) *kmsg.ShareFetchResponse { return resp }
	}
	if code := checkIDs(groupID, memberID); code != 0 {
		return done(code)
	}
	renewOnly := req.Version >= 2 && req.IsRenewAck
	var set ackSet
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			tp := TopicPartition{TopicID: t.TopicID, Partition: p.Partition}
			if len(p.AcknowledgementBatches) == 0 {
				if renewOnly {
					return done(kerr.InvalidRequest.Code) // KIP-1222: a renewal fetches nothing
				}
				continue
			}
			set.add(tp, ackBatches(p.AcknowledgementBatches))
		}
	}
	acks := set.acks
	if renewOnly && (req.MaxBytes != 0 || req.MinBytes != 0 || req.MaxRecords != 0 || req.MaxWaitMillis != 0 || cfg.RenewDisabled) {
		return done(kerr.InvalidRequest.Code) // share.renew.acknowledge.enable=false refuses renewals too
	}
	if req.ShareSessionEpoch == 0 && len(acks) > 0 {
		return done(kerr.InvalidRequest.Code) // a new session has nothing to acknowledge
	}
	if c.opts.OtherGroup(groupID) {
		return done(kerr.GroupIDNotFound.Code)
	}

	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return done(kerr.CoordinatorNotAvailable.Code)
	}
	g := c.groups[groupID]
	if g == nil {
		return done(kerr.GroupIDNotFound.Code)
	}
	var (
		s       *session
		waiters []*waiter
		err     error
	)
	switch epoch := req.ShareSessionEpoch; {
	case epoch == -1:
		if s, err = sessionLocked(g, memberID, g.sessionEpoch(memberID)); err != nil {
			return done(errCode(err))
		}
	case epoch == 0:
		var w *waiter
		s, w, err = c.openSessionLocked(g, memberID, conn.ID, conn.Ctx)
		waiters = append(waiters, w)
		if err != nil {
			return done(errCode(err))
		}
	default:
		if s, err = sessionLocked(g, memberID, epoch); err != nil {
			return done(errCode(err))
		}
	}
	results, w := c.acknowledgeLocked(g, memberID, acks, renewOnly, readable, now)
	waiters = append(waiters, w)
	if req.ShareSessionEpoch == -1 {
		waiters = append(waiters, c.releaseMemberLocked(g, memberID, s.parts))
		c.dropSessionLocked(g, memberID)
		return c.fetchReply(resp, results, nil, waiters, nil)
	}
	refused := c.updateSessionLocked(s, req)
	s.bump()
	if renewOnly {
		return c.fetchReply(resp, results, refused, waiters, nil)
	}
	f := &fetcher{c: c, g: g, s: s, member: memberID, cfg: cfg, readable: readable,
		maxRecords: int(req.MaxRecords), maxBytes: req.MaxBytes, batchSize: req.BatchSize,
		wait: min(time.Duration(max(req.MaxWaitMillis, 0))*time.Millisecond, maxFetchWait)}
	if f.maxRecords <= 0 {
		f.maxRecords = DefaultMaxRecords
	}
	if f.maxBytes <= 0 || f.maxBytes > maxFetchBytes {
		f.maxBytes = maxFetchBytes
	}
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			if p.PartitionMaxBytes > 0 {
				if f.partMax == nil {
					f.partMax = map[TopicPartition]int32{}
				}
				f.partMax[TopicPartition{TopicID: t.TopicID, Partition: p.Partition}] = p.PartitionMaxBytes
			}
		}
	}
	return c.fetchReply(resp, results, refused, waiters, f)
}

// updateSessionLocked adds the partitions a ShareFetch names to its
// session, fetched or only acknowledged, as in Kafka's ShareSession.update
// (clients mirror it), and takes out the forgotten ones. A partition of a
// topic id the broker does not know, or beyond its topic's partitions,
// does not join: it is answered UNKNOWN_TOPIC_ID or
// UNKNOWN_TOPIC_OR_PARTITION (refused) each time it is named, so a
// session holds only partitions that exist, however many a request names.
func (c *Coordinator) updateSessionLocked(s *session, req *kmsg.ShareFetchRequest) (refused []ackResult) {
	counts := map[[16]byte]int32{} // partitions per topic id; -1: unknown
	for _, t := range req.Topics {
		n, ok := counts[t.TopicID]
		if !ok {
			n = -1
			if name, ok := c.topics.TopicName(t.TopicID); ok {
				if _, parts, ok := c.topics.Topic(name); ok {
					n = parts
				}
			}
			counts[t.TopicID] = n
		}
		for _, p := range t.Partitions {
			tp := TopicPartition{TopicID: t.TopicID, Partition: p.Partition}
			switch {
			case n < 0:
				refused = append(refused, ackResult{tp: tp, code: kerr.UnknownTopicID.Code})
			case p.Partition < 0 || p.Partition >= n:
				refused = append(refused, ackResult{tp: tp, code: kerr.UnknownTopicOrPartition.Code})
			default:
				s.add(tp)
			}
		}
	}
	var gone map[TopicPartition]bool
	for _, f := range req.ForgottenTopicsData {
		for _, p := range f.Partitions {
			if gone == nil {
				gone = map[TopicPartition]bool{}
			}
			gone[TopicPartition{TopicID: f.TopicID, Partition: p}] = true
		}
	}
	s.forget(gone)
	return refused
}

// sessionEpoch is member's session's current epoch (or -2 without one),
// for requests that close it whatever its epoch.
func (g *shareGroup) sessionEpoch(memberID string) int32 {
	if s := g.sessions[memberID]; s != nil {
		return s.epoch
	}
	return -2
}

// fetchReply is the reply of a ShareFetch: fetch (f nil: nothing to
// fetch), then wait until everything is durable, then answer with the
// acknowledgements' outcomes, the partitions refused from the session and
// what was fetched.
func (c *Coordinator) fetchReply(resp *kmsg.ShareFetchResponse, acks, refused []ackResult, waiters []*waiter, f *fetcher) func(context.Context) *kmsg.ShareFetchResponse {
	return func(ctx context.Context) *kmsg.ShareFetchResponse {
		b := newFetchBuilder(resp)
		for _, a := range acks {
			p := b.part(a.tp)
			p.AcknowledgeErrorCode = a.code
			if a.msg != "" {
				m := a.msg
				p.AcknowledgeErrorMessage = &m
			}
		}
		for _, r := range refused {
			b.part(r.tp).ErrorCode = r.code
		}
		var got []fetched
		if f != nil {
			got = f.run(ctx)
			for _, r := range got {
				waiters = append(waiters, r.w)
			}
		}
		storeErr := waitAll(ctx, waiters)
		if ctx.Err() != nil {
			return nil
		}
		for _, r := range got {
			if r.w != nil && r.w.err != nil {
				r.code, r.ranges, r.records = kerr.KafkaStorageError.Code, nil, nil
			}
			if r.code == 0 && len(r.ranges) == 0 {
				continue
			}
			p := b.part(r.tp)
			p.ErrorCode = r.code
			if len(r.ranges) > 0 {
				p.Records = r.records
				for _, rg := range splitRanges(r.ranges, f.batchSize) {
					ar := kmsg.NewShareFetchResponseTopicPartitionAcquiredRecord()
					ar.FirstOffset, ar.LastOffset, ar.DeliveryCount = rg.First, rg.Last, rg.DeliveryCount
					p.AcquiredRecords = append(p.AcquiredRecords, ar)
				}
			}
		}
		if storeErr != nil {
			for _, a := range acks {
				if p := b.part(a.tp); p.AcknowledgeErrorCode == 0 {
					p.AcknowledgeErrorCode = kerr.KafkaStorageError.Code
				}
			}
		}
		return resp
	}
}

// waitAll waits for every waiter and returns the first failure.
func waitAll(ctx context.Context, ws []*waiter) error {
	var first error
	for _, w := range ws {
		if err := w.wait(ctx); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// ShareAcknowledge does a ShareAcknowledge's ordered part and returns its
// reply.
func (c *Coordinator) ShareAcknowledge(req *kmsg.ShareAcknowledgeRequest, readable Readable) func(context.Context) *kmsg.ShareAcknowledgeResponse {
	resp := req.ResponseKind().(*kmsg.ShareAcknowledgeResponse)
	groupID, memberID := deref(req.GroupID), deref(req.MemberID)
	resp.AcquisitionLockTimeoutMillis = int32(c.opts.Config(groupID).LockDuration.Milliseconds())
	done := func(code int16) func(context.Context) *kmsg.ShareAcknowledgeResponse {
		resp.ErrorCode = code
		return func(context.Context) *kmsg.ShareAcknowledgeResponse { return resp }
	}
	if code := checkIDs(groupID, memberID); code != 0 {
		return done(code)
	}
	renew := req.Version >= 2 && req.IsRenewAck
	if renew && c.opts.Config(groupID).RenewDisabled {
		return done(kerr.InvalidRequest.Code) // share.renew.acknowledge.enable=false
	}
	var set ackSet
	for _, t := range req.Topics {
		for _, p := range t.Partitions {
			batches := make([]kmsg.ShareFetchRequestTopicPartitionAcknowledgementBatch, len(p.AcknowledgementBatches))
			for i, b := range p.AcknowledgementBatches {
				batches[i] = kmsg.ShareFetchRequestTopicPartitionAcknowledgementBatch(b) // the same fields
			}
			set.add(TopicPartition{TopicID: t.TopicID, Partition: p.Partition}, ackBatches(batches))
		}
	}
	acks := set.acks
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return done(kerr.CoordinatorNotAvailable.Code)
	}
	g := c.groups[groupID]
	if g == nil {
		return done(kerr.GroupIDNotFound.Code)
	}
	epoch := req.ShareSessionEpoch
	if epoch == 0 {
		return done(kerr.InvalidShareSessionEpoch.Code) // sessions are opened by ShareFetch
	}
	if epoch == -1 {
		epoch = g.sessionEpoch(memberID)
	}
	s, err := sessionLocked(g, memberID, epoch)
	if err != nil {
		return done(errCode(err))
	}
	results, w := c.acknowledgeLocked(g, memberID, acks, renew, readable, now)
	waiters := []*waiter{w}
	if req.ShareSessionEpoch == -1 {
		waiters = append(waiters, c.releaseMemberLocked(g, memberID, s.parts))
		c.dropSessionLocked(g, memberID)
	} else {
		s.bump()
	}
	return func(ctx context.Context) *kmsg.ShareAcknowledgeResponse {
		storeErr := waitAll(ctx, waiters)
		if ctx.Err() != nil {
			return nil
		}
		idx := map[[16]byte]int{}
		for _, a := range results {
			i, ok := idx[a.tp.TopicID]
			if !ok {
				i = len(resp.Topics)
				idx[a.tp.TopicID] = i
				t := kmsg.NewShareAcknowledgeResponseTopic()
				t.TopicID = a.tp.TopicID
				resp.Topics = append(resp.Topics, t)
			}
			p := kmsg.NewShareAcknowledgeResponseTopicPartition()
			p.Partition, p.ErrorCode = a.tp.Partition, a.code
			if a.msg != "" {
				m := a.msg
				p.ErrorMessage = &m
			}
			if storeErr != nil && p.ErrorCode == 0 {
				p.ErrorCode = kerr.KafkaStorageError.Code
			}
			p.CurrentLeader.LeaderID, p.CurrentLeader.LeaderEpoch = -1, -1
			resp.Topics[i].Partitions = append(resp.Topics[i].Partitions, p)
		}
		return resp
	}
}

// acknowledgeLocked applies acknowledgements, partition by partition (each
// all or nothing), and persists them as one batch.
func (c *Coordinator) acknowledgeLocked(g *shareGroup, memberID string, acks []partAcks, renew bool, readable Readable, now time.Time) ([]ackResult, *waiter) {
	if len(acks) == 0 {
		return nil, nil
	}
	lim := c.opts.Config(g.id).limits()
	var (
		results []ackResult
		touched []TopicPartition
		woke    bool
	)
	for _, a := range acks {
		r := ackResult{tp: a.tp}
		name, ok := c.topics.TopicName(a.tp.TopicID)
		sp := g.parts[a.tp]
		switch {
		case a.dup:
			r.code, r.msg = kerr.InvalidRequest.Code, "the partition is named more than once in the request"
		case !ok:
			r.code = kerr.UnknownTopicID.Code
		case !readable(name):
			r.code = kerr.TopicAuthorizationFailed.Code
		case sp == nil && !c.partitionExists(name, a.tp.Partition):
			r.code = kerr.UnknownTopicOrPartition.Code
		case sp == nil:
			r.code, r.msg = kerr.InvalidRecordState.Code, "nothing of this partition was delivered to the group"
		default:
			n, err := sp.p.Acknowledge(memberID, a.batches, renew, now, lim)
			if err != nil {
				r.code, r.msg = errCode(err), err.Error()
				break
			}
			c.stats.accepted.Add(uint64(n.Accepted))
			c.stats.released.Add(uint64(n.Released))
			c.stats.rejected.Add(uint64(n.Rejected))
			c.stats.gaps.Add(uint64(n.Gaps))
			c.stats.renewed.Add(uint64(n.Renewed))
			c.stats.archivedAtLimit.Add(uint64(n.ArchivedAtLimit))
			woke = woke || n.Released > n.ArchivedAtLimit
			touched = append(touched, a.tp)
		}
		results = append(results, r)
	}
	if woke {
		g.wakeFetches()
	}
	return results, c.persistLocked(g, touched, nil, nil)
}

// partitionExists reports whether topic has partition p.
func (c *Coordinator) partitionExists(topic string, p int32) bool {
	_, n, ok := c.topics.Topic(topic)
	return ok && p >= 0 && p < n
}

// ackBatches converts a request's acknowledgement batches.
func ackBatches(in []kmsg.ShareFetchRequestTopicPartitionAcknowledgementBatch) []AckBatch {
	out := make([]AckBatch, len(in))
	for i, b := range in {
		out[i] = AckBatch{First: b.FirstOffset, Last: b.LastOffset, Types: b.AcknowledgeTypes}
	}
	return out
}

// checkIDs validates a share request's group and member ids.
func checkIDs(groupID, memberID string) int16 {
	if groupID == "" || memberID == "" || len(memberID) > 36 {
		return kerr.InvalidRequest.Code
	}
	return 0
}

// errCode maps an error to its Kafka code.
func errCode(err error) int16 {
	var ke *kerr.Error
	if errors.As(err, &ke) {
		return ke.Code
	}
	return kerr.UnknownServerError.Code
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// fetchBuilder adds partitions to a ShareFetch response, once each, in
// constant time each: a response to a request naming many partitions is
// built in time proportional to them.
type fetchBuilder struct {
	resp   *kmsg.ShareFetchResponse
	topics map[[16]byte]int       // index in resp.Topics
	parts  map[TopicPartition]int // index in its topic's Partitions
}

func newFetchBuilder(resp *kmsg.ShareFetchResponse) *fetchBuilder {
	return &fetchBuilder{resp: resp, topics: map[[16]byte]int{}, parts: map[TopicPartition]int{}}
}

// part returns tp's entry, adding it. The pointer is valid until the
// next call (appending may move the topic's partitions).
func (b *fetchBuilder) part(tp TopicPartition) *kmsg.ShareFetchResponseTopicPartition {
	ti, ok := b.topics[tp.TopicID]
	if !ok {
		t := kmsg.NewShareFetchResponseTopic()
		t.TopicID = tp.TopicID
		b.resp.Topics = append(b.resp.Topics, t)
		ti = len(b.resp.Topics) - 1
		b.topics[tp.TopicID] = ti
	}
	ps := &b.resp.Topics[ti].Partitions
	if pi, ok := b.parts[tp]; ok {
		return &(*ps)[pi]
	}
	p := kmsg.NewShareFetchResponseTopicPartition()
	p.Partition = tp.Partition
	p.CurrentLeader.LeaderID, p.CurrentLeader.LeaderEpoch = -1, -1
	*ps = append(*ps, p)
	b.parts[tp] = len(*ps) - 1
	return &(*ps)[len(*ps)-1]
}

// splitRanges splits acquired ranges into runs of at most size offsets
// (ShareFetch v1's BatchSize; 0: whole).
func splitRanges(rs []Range, size int32) []Range {
	if size <= 0 {
		return rs
	}
	var out []Range
	for _, r := range rs {
		for first := r.First; first <= r.Last; first += int64(size) {
			out = append(out, Range{First: first, Last: min(first+int64(size)-1, r.Last), DeliveryCount: r.DeliveryCount})
		}
	}
	return out
}

// fetched is what a fetch got from one partition.
type fetched struct {
	tp      TopicPartition
	code    int16
	records []byte
	ranges  []Range
	w       *waiter
}

// fetcher acquires records for one ShareFetch.
type fetcher struct {
	c          *Coordinator
	g          *shareGroup
	s          *session
	member     string
	cfg        GroupConfig
	readable   Readable
	maxRecords int
	maxBytes   int32
	batchSize  int32
	partMax    map[TopicPartition]int32
	wait       time.Duration
}

// run acquires from the session's partitions; when nothing is acquired
// it waits, until MaxWait, for an append to one of them or for records
// of the group to become available again, and tries again.
func (f *fetcher) run(ctx context.Context) []fetched {
	var deadline <-chan time.Time
	if f.wait > 0 {
		t := time.NewTimer(f.wait)
		defer t.Stop()
		deadline = t.C
	}
	for {
		// Subscribe first, then look, so nothing slips in between.
		wake := f.channels()
		got, any := f.once()
		if any || len(wake) == 0 || deadline == nil || ctx.Err() != nil {
			return got
		}
		cases := []reflect.SelectCase{
			{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ctx.Done())},
			{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(deadline)},
		}
		for _, ch := range wake {
			cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(ch)})
		}
		if chosen, _, _ := reflect.Select(cases); chosen < 2 {
			return got
		}
	}
}

// channels returns what wakes a waiting fetch: the group's releases and
// appends to the session's partitions. None: the session is gone.
func (f *fetcher) channels() []<-chan struct{} {
	f.c.mu.Lock()
	if f.c.groups[f.g.id] != f.g || f.g.sessions[f.member] != f.s {
		f.c.mu.Unlock()
		return nil
	}
	out := []<-chan struct{}{f.g.wake}
	parts := append([]TopicPartition(nil), f.s.parts...)
	f.c.mu.Unlock()
	for _, tp := range parts {
		if name, ok := f.c.topics.TopicName(tp.TopicID); ok {
			if l := f.c.topics.Log(name, tp.Partition); l != nil {
				out = append(out, l.Notify())
			}
		}
	}
	return out
}

// once tries every partition of the session once, starting at the
// session's turn. any reports records acquired or an error to tell.
func (f *fetcher) once() (got []fetched, any bool) {
	f.c.mu.Lock()
	if f.c.groups[f.g.id] != f.g || f.g.sessions[f.member] != f.s {
		f.c.mu.Unlock()
		return nil, true // the session was replaced or closed: answer empty
	}
	parts := append([]TopicPartition(nil), f.s.parts...)
	if len(parts) == 0 {
		f.c.mu.Unlock()
		return nil, true // nothing to wait for
	}
	start := f.s.turn % len(parts)
	f.s.turn++
	f.c.mu.Unlock()
	records, bytes := 0, int32(0)
	for i := range parts {
		tp := parts[(start+i)%len(parts)]
		if records >= f.maxRecords || bytes >= f.maxBytes {
			break
		}
		r := f.partition(tp, f.maxRecords-records, f.maxBytes-bytes)
		if r.code == 0 && len(r.ranges) == 0 && r.w == nil {
			continue
		}
		for _, rg := range r.ranges {
			records += int(rg.Last - rg.First + 1)
		}
		bytes += int32(len(r.records))
		any = any || r.code != 0 || len(r.ranges) > 0
		got = append(got, r)
	}
	return got, any
}

// partition acquires up to maxRecords records of one partition within
// maxBytes: it finds where to read, reads whole batches, and acquires
// what is available of them.
func (f *fetcher) partition(tp TopicPartition, maxRecords int, maxBytes int32) fetched {
	out := fetched{tp: tp}
	name, ok := f.c.topics.TopicName(tp.TopicID)
	if !ok {
		out.code = kerr.UnknownTopicID.Code
		return out
	}
	if !f.readable(name) {
		out.code = kerr.TopicAuthorizationFailed.Code
		return out
	}
	log := f.c.topics.Log(name, tp.Partition)
	if log == nil {
		out.code = kerr.UnknownTopicOrPartition.Code
		return out
	}
	if pm := f.partMax[tp]; pm > 0 {
		maxBytes = min(maxBytes, pm)
	}
	lim := f.cfg.limits()
	f.c.mu.Lock()
	sp := f.c.sharePartLocked(f.g, name, tp, log, f.cfg)
	if sp == nil {
		f.c.mu.Unlock()
		return fetched{tp: tp} // the group is gone
	}
	sp.p.TrimTo(log.LogStartOffset())
	end := log.HighWatermark()
	if f.cfg.ReadCommitted {
		end = log.LastStableOffset()
	}
	from, ok := sp.p.FetchOffset(end, lim)
	if !ok {
		out.w = f.c.persistLocked(f.g, []TopicPartition{tp}, nil, nil)
		f.c.mu.Unlock()
		return out
	}
	f.c.mu.Unlock()

	var (
		data    []byte
		aborted []storage.AbortedTxn
		err     error
	)
	if f.cfg.ReadCommitted {
		data, aborted, err = log.ReadCommitted(from, max(maxBytes, 1))
	} else {
		data, err = log.Read(from, max(maxBytes, 1))
	}
	if err != nil {
		f.c.log.Warn("share fetch read failed", "group", f.g.id, "topic", name, "partition", tp.Partition, "offset", from, "err", err)
		return out // retried on the next fetch; the log start may have moved
	}
	batches, raws, err := parseBatches(data, aborted)
	if err != nil {
		f.c.log.Error("share fetch: unreadable batches", "group", f.g.id, "topic", name, "partition", tp.Partition, "offset", from, "err", err)
		out.code = kerr.CorruptMessage.Code
		return out
	}

	now := f.c.clock.Now()
	f.c.mu.Lock()
	defer f.c.mu.Unlock()
	if f.c.groups[f.g.id] != f.g || f.g.parts[tp] != sp || f.g.sessions[f.member] != f.s {
		return fetched{tp: tp}
	}
	ranges, archived := sp.p.Acquire(f.member, from, batches, maxRecords, now, lim)
	f.c.stats.archivedAtLimit.Add(uint64(archived))
	out.w = f.c.persistLocked(f.g, []TopicPartition{tp}, nil, nil)
	if len(ranges) == 0 {
		return out
	}
	n := 0
	for _, r := range ranges {
		n += int(r.Last - r.First + 1)
	}
	f.c.stats.acquired.Add(uint64(n))
	out.ranges = ranges
	out.records = trimBatches(data, batches, raws, ranges[0].First, ranges[len(ranges)-1].Last)
	return out
}

// sharePartLocked returns g's share-partition of tp, starting one where
// share.auto.offset.reset says when the group has none.
func (c *Coordinator) sharePartLocked(g *shareGroup, topic string, tp TopicPartition, log Log, cfg GroupConfig) *sharePart {
	if c.groups[g.id] != g {
		return nil
	}
	if sp := g.parts[tp]; sp != nil {
		return sp
	}
	start := log.HighWatermark()
	switch cfg.Reset {
	case ResetEarliest:
		start = log.LogStartOffset()
	case ResetByDuration:
		ts := c.clock.Now().Add(-cfg.ResetDuration).UnixMilli()
		if off, _, err := log.OffsetForTime(ts); err == nil && off >= 0 {
			start = off
		}
	}
	sp := &sharePart{topic: topic, p: NewPartition(start)}
	g.parts[tp] = sp
	c.log.Info("share-partition initialized", "group", g.id, "topic", topic, "partition", tp.Partition, "start_offset", start)
	return sp
}

// parseBatches reads the batch headers of a read: their offsets, and
// whether each is never to be delivered (a control batch, or a batch of an
// aborted transaction listed in aborted). raws are the batches' bytes.
func parseBatches(data []byte, aborted []storage.AbortedTxn) ([]Batch, [][]byte, error) {
	raws, err := storage.SplitBatches(data)
	if err != nil {
		return nil, nil, err
	}
	out := make([]Batch, 0, len(raws))
	open := map[int64]bool{} // producers whose aborted transaction has begun
	next := 0
	for _, raw := range raws {
		var rb kmsg.RecordBatch
		if err := rb.ReadFrom(raw); err != nil {
			return nil, nil, fmt.Errorf("read batch header: %w", err)
		}
		b := Batch{First: rb.FirstOffset, Last: rb.FirstOffset + int64(rb.LastOffsetDelta)}
		for next < len(aborted) && aborted[next].FirstOffset <= b.Last {
			open[aborted[next].ProducerID] = true
			next++
		}
		control := rb.Attributes&0x20 != 0
		transactional := rb.Attributes&0x10 != 0
		switch {
		case control:
			b.Skip = true
			delete(open, rb.ProducerID) // its marker ends the aborted transaction
		case transactional && open[rb.ProducerID]:
			b.Skip = true
		}
		out = append(out, b)
	}
	return out, raws, nil
}

// trimBatches returns the part of data holding the batches that overlap
// [first, last]: what a client needs for the offsets it acquired.
func trimBatches(data []byte, batches []Batch, raws [][]byte, first, last int64) []byte {
	lo, hi := -1, -1
	pos, start, end := 0, 0, 0
	for i, b := range batches {
		if b.Last >= first && b.First <= last {
			if lo < 0 {
				lo, start = i, pos
			}
			hi, end = i, pos+len(raws[i])
		}
		pos += len(raws[i])
	}
	if lo < 0 || hi < 0 {
		return nil
	}
	return data[start:end:end]
}
