package sink

// flush.go writes one batch: decode, write in one transaction (retrying),
// then commit the offsets of the partitions still owned.

import (
	"context"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/rider"
	"github.com/courier-dev/courier/internal/pipeline/ridersdb"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Retry backoff bounds for a failed database write.
const (
	retryMin = 100 * time.Millisecond
	retryMax = 5 * time.Second
)

// committer commits offsets: the group's *kgo.Client, or a test's fake.
type committer interface {
	CommitRecords(ctx context.Context, rs ...*kgo.Record) error
}

// flush writes batch and commits its offsets. If ctx ends before the
// write succeeds, nothing is committed and the records are redelivered to
// whoever owns their partitions next. Once the write succeeded, the commit
// runs under a context of its own (commitTimeout), not ctx: rows in the
// database whose offsets are not committed are written again later.
func (s *Sink) flush(ctx context.Context, cl committer, batch []*kgo.Record) {
	owned := s.ownedSet()
	d := s.decode(batch, func(p int32) bool { return owned[p] })
	if d.dropped > 0 {
		s.log.Warn("dropped records of partitions no longer owned", "records", d.dropped)
	}
	if len(d.last) == 0 {
		return
	}
	res, ok := s.write(ctx, d.updates)
	if !ok {
		return
	}
	committed := time.Now()
	recs := make([]*kgo.Record, 0, len(d.last))
	for _, r := range d.last {
		recs = append(recs, r)
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), commitTimeout)
	err := cl.CommitRecords(cctx, recs...)
	cancel()
	if err != nil {
		// The rows are in; the next owner rewrites them harmlessly.
		s.log.Warn("offset commit failed after the database commit", "err", err)
	}
	s.account(batch, d, res, committed)
}

// decoded is a batch split for writing: the valid updates, the last
// record of each partition (what a commit names), and how many records
// were invalid or dropped (their partition no longer owned).
type decoded struct {
	updates          []ridersdb.Update
	last             map[int32]*kgo.Record
	invalid, dropped int64
	isInvalid        []bool // by batch index
}

// decode decodes the records of batch whose partition keep accepts.
func (s *Sink) decode(batch []*kgo.Record, keep func(int32) bool) decoded {
	d := decoded{updates: make([]ridersdb.Update, 0, len(batch)), last: make(map[int32]*kgo.Record), isInvalid: make([]bool, len(batch))}
	for i, r := range batch {
		if !keep(r.Partition) {
			d.dropped++ // lost while polled: the new owner reads it again
			continue
		}
		d.last[r.Partition] = r
		l, err := rider.Decode(r.Value)
		if err != nil {
			d.invalid++
			d.isInvalid[i] = true
			s.logInvalid(r, err)
			continue
		}
		d.updates = append(d.updates, ridersdb.Update{Location: l, Topic: r.Topic, Partition: r.Partition, Offset: r.Offset, LeaderEpoch: r.LeaderEpoch})
	}
	return d
}

// account counts a batch written (and committed or acknowledged) at
// committed: the counters, the delays, the truncations noticed.
func (s *Sink) account(batch []*kgo.Record, d decoded, res ridersdb.WriteResult, committed time.Time) {
	s.noticeTruncations(res)
	s.consumed.Add(int64(len(batch)) - d.dropped)
	s.inserted.Add(int64(res.Inserted + res.Replaced))
	s.duplicates.Add(int64(res.Duplicates))
	s.truncated.Add(int64(res.Replaced))
	s.stale.Add(int64(res.Stale))
	s.invalid.Add(d.invalid)
	if len(d.updates) > 0 {
		s.txs.Add(1)
	}
	s.delays.add(committed, batch)
	s.lastCommit.Store(committed.UnixNano())
	if s.cfg.ObserveDelay != nil {
		for _, r := range batch {
			s.cfg.ObserveDelay(committed.Sub(r.Timestamp))
		}
	}
}

// write runs WriteBatch until it succeeds or ctx ends.
func (s *Sink) write(ctx context.Context, updates []ridersdb.Update) (ridersdb.WriteResult, bool) {
	if len(updates) == 0 {
		return ridersdb.WriteResult{}, true
	}
	backoff := retryMin
	for {
		res, err := s.cfg.DB.WriteBatch(ctx, updates)
		if err == nil {
			return res, true
		}
		if ctx.Err() != nil {
			s.log.Warn("batch not written: stopping", "rows", len(updates), "err", err)
			return ridersdb.WriteResult{}, false
		}
		s.log.Error("database write failed; retrying", "rows", len(updates), "retry_in", backoff, "err", err)
		select {
		case <-ctx.Done():
			return ridersdb.WriteResult{}, false
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, retryMax)
	}
}

// noticeTruncations logs each partition where the batch met records of
// two leader epochs at one offset: the broker lost that part of its log
// (a power loss with fsync by interval) and reused the offsets.
func (s *Sink) noticeTruncations(res ridersdb.WriteResult) {
	for _, t := range res.Truncations {
		s.log.Warn("log truncation noticed: records at these offsets were replaced by the broker; the lost ones are kept in rider_locations_truncated",
			"topic", t.Topic, "partition", t.Partition, "first_offset", t.FirstOffset, "last_offset", t.LastOffset,
			"lost_records", t.Records, "lost_epoch", t.LostEpoch, "kept_epoch", t.KeptEpoch)
	}
}

// logInvalid logs an invalid record, at most once per invalidLogEvery,
// with the number held back since the last line.
func (s *Sink) logInvalid(r *kgo.Record, err error) {
	s.invalidMu.Lock()
	defer s.invalidMu.Unlock()
	now := time.Now()
	if now.Sub(s.invalidLast) < invalidLogEvery {
		s.invalidHeld++
		return
	}
	s.log.Warn("skipping invalid record", "partition", r.Partition, "offset", r.Offset, "err", err, "not_logged_since_last", s.invalidHeld)
	s.invalidLast, s.invalidHeld = now, 0
}

// onAssigned records newly assigned partitions.
func (s *Sink) onAssigned(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range m[s.cfg.Topic] {
		s.owned[p] = true
	}
	s.log.Info("partitions assigned", "partitions", m[s.cfg.Topic])
}

// onRevoked forgets revoked partitions. With BlockRebalanceOnPoll it runs
// between batches, so no batch holds their records.
func (s *Sink) onRevoked(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	s.forget(m[s.cfg.Topic])
	s.log.Info("partitions revoked", "partitions", m[s.cfg.Topic])
}

// onLost forgets lost partitions: a batch in hand drops their records.
func (s *Sink) onLost(_ context.Context, _ *kgo.Client, m map[string][]int32) {
	s.forget(m[s.cfg.Topic])
	s.log.Warn("partitions lost", "partitions", m[s.cfg.Topic])
}

// forget removes partitions from the owned set.
func (s *Sink) forget(ps []int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, p := range ps {
		delete(s.owned, p)
	}
}

// setOwned replaces the owned set.
func (s *Sink) setOwned(m map[int32]bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.owned = make(map[int32]bool)
	for p := range m {
		s.owned[p] = true
	}
}

// ownedSet returns a copy of the owned set.
func (s *Sink) ownedSet() map[int32]bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[int32]bool, len(s.owned))
	for p := range s.owned {
		out[p] = true
	}
	return out
}
