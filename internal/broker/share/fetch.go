package share

// fetch.go serves ShareFetch (KIP-932, KIP-1206, KIP-1222): its share
// session, its piggybacked acknowledgements (acknowledge.go, which also
// serves ShareAcknowledge), its acquisitions (acquire.go), and its
// response. Both requests are split as the broker's handlers are: the
// ordered part (the session's epoch, the acknowledgements) runs when the
// request is read, so that a member's next request sees its effect; the
// rest (acquiring records, waiting for some to arrive, waiting for the
// journal) runs in the reply. A response is sent only once every state
// change it reports is durable: acknowledgements, and the acquisitions
// with their delivery counts.

import (
	"context"
	"errors"
	"time"

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

// FetchReply is the rest of a ShareFetch: it acquires records (waiting
// for some up to MaxWait), waits until every change it reports is
// durable, and returns the response (nil when ctx ended first) and the
// function that gives back the fetch memory its records hold, to be
// called once the response has been written or dropped.
type FetchReply func(ctx context.Context) (resp *kmsg.ShareFetchResponse, release func())

// ShareFetch does a ShareFetch's ordered part and returns its reply.
func (c *Coordinator) ShareFetch(req *kmsg.ShareFetchRequest, conn Conn, readable Readable) FetchReply {
	resp := req.ResponseKind().(*kmsg.ShareFetchResponse)
	groupID, memberID := deref(req.GroupID), deref(req.MemberID)
	cfg := c.opts.Config(groupID)
	resp.AcquisitionLockTimeoutMillis = int32(cfg.LockDuration.Milliseconds())
	done := func(code int16) FetchReply {
		resp.ErrorCode = code
		return func(context.Context) (*kmsg.ShareFetchResponse, func()) { return resp, func() {} }
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
	g, code := c.groupLocked(groupID)
	if code != 0 {
		return done(code)
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
	f := &fetcher{c: c, g: g, s: s, member: memberID, cfg: cfg, readable: readable, mem: c.opts.FetchMemory,
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
func (c *Coordinator) fetchReply(resp *kmsg.ShareFetchResponse, acks, refused []ackResult, waiters []*waiter, f *fetcher) FetchReply {
	return func(ctx context.Context) (*kmsg.ShareFetchResponse, func()) {
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
		var (
			got  []fetched
			held int64
		)
		if f != nil {
			got = f.run(ctx)
			for _, r := range got {
				waiters = append(waiters, r.w)
				held += r.held
			}
		}
		release := func() { f.mem.Release(held) }
		storeErr := waitAll(ctx, waiters)
		if ctx.Err() != nil {
			release()
			return nil, func() {}
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
		if f == nil {
			return resp, func() {}
		}
		return resp, release
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
