package group

// txn.go is a group's transactional offset commits (KIP-98, KIP-447), the
// part of Kafka's GroupMetadata that keeps "pending transactional offset
// commits" per producer id. A TxnOffsetCommit's offsets are recorded
// (kindTxnOffset) but stay invisible to OffsetFetch; the transaction
// coordinator later completes the transaction in the group with a marker
// (kindTxnMarker): COMMIT applies them as the group's committed offsets,
// ABORT drops them.
//
// Kafka's ordering rule for a partition committed both ways: when the
// transaction commits, its offset replaces the partition's committed one
// only if its record came later in the log than the committed one's
// (GroupMetadata.completePendingTxnOffsetCommit, and the new coordinator's
// replayEndTransactionMarker comparing record offsets). Offset.seq is that
// log position, numbered as records become durable (and again, in the same
// order, at replay). A deletion of a partition's offset (OffsetDelete,
// expiry, a deleted topic) drops its pending transactional offsets too, as
// Kafka's tombstone does; a group deletion drops all of them.
//
// The same fold (txnSet) serves the group, which shows it, and the
// durable state (state.go), which snapshots it, so the two cannot
// disagree.

import (
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// TxnCommitRequest is a TxnOffsetCommit's group part.
type TxnCommitRequest struct {
	ProducerID    int64
	ProducerEpoch int16
	// Generation is the member's generation, or -1: no group-membership
	// check (v0-2 clients, or a producer outside the group).
	Generation int32
	// MemberID is the committing member ("" with generation -1).
	MemberID   string
	InstanceID *string
	Offsets    []Commit
}

// ErrInvalidProducerEpoch is returned by CompleteTxn for a marker whose
// producer epoch is older than that of the pending offsets it would
// complete: a zombie's, which Kafka's log refuses the same way.
var ErrInvalidProducerEpoch = errors.New("producer epoch older than its pending transactional offsets'")

// txnOffsets is one producer's open transaction in one group.
type txnOffsets struct {
	// epoch is the highest producer epoch among its durable records; -1
	// before the first.
	epoch int16
	// offsets are the durable transactional offsets waiting for the
	// transaction's marker.
	offsets map[TopicPartition]Offset
	// inflight and markers count the producer's offset and marker records
	// not yet durable: the group's bookkeeping, always zero in the durable
	// state.
	inflight map[TopicPartition]int
	markers  int
}

// txnSet is the open transactions of one group, by producer id.
type txnSet map[int64]*txnOffsets

// get returns pid's transaction, creating an empty one.
func (s txnSet) get(pid int64) *txnOffsets {
	t := s[pid]
	if t == nil {
		t = &txnOffsets{epoch: -1, offsets: map[TopicPartition]Offset{}, inflight: map[TopicPartition]int{}}
		s[pid] = t
	}
	return t
}

// tidy forgets pid once nothing of it is pending or on its way.
func (s txnSet) tidy(pid int64) {
	if t := s[pid]; t != nil && len(t.offsets) == 0 && len(t.inflight) == 0 && t.markers == 0 {
		delete(s, pid)
	}
}

// add folds a durable kindTxnOffset record, numbered seq.
func (s txnSet) add(r record, seq uint64) {
	t := s.get(r.pid)
	o := r.offset
	o.seq = seq
	t.offsets[r.tp] = o
	t.epoch = max(t.epoch, r.epoch)
}

// drop removes every producer's pending offset of tp.
func (s txnSet) drop(tp TopicPartition) {
	for pid, t := range s {
		delete(t.offsets, tp)
		s.tidy(pid)
	}
}

// dropAll removes every pending offset (a group deletion).
func (s txnSet) dropAll() {
	for pid, t := range s {
		clear(t.offsets)
		s.tidy(pid)
	}
}

// has reports whether some producer has a pending offset of tp.
func (s txnSet) has(tp TopicPartition) bool {
	for _, t := range s {
		if _, ok := t.offsets[tp]; ok {
			return true
		}
	}
	return false
}

// pendingOffsets is how many durable offsets wait for a marker.
func (s txnSet) pendingOffsets() int {
	n := 0
	for _, t := range s {
		n += len(t.offsets)
	}
	return n
}

// complete folds a durable marker for pid: on commit each pending offset
// replaces the committed one unless that one's record came later (Kafka's
// rule); on abort they are dropped. It returns how many it applied and the
// partitions whose offset a later commit superseded.
func (s txnSet) complete(pid int64, commit bool, committed map[TopicPartition]Offset) (applied int, superseded []TopicPartition) {
	t := s[pid]
	if t == nil {
		return 0, nil
	}
	if commit {
		for tp, o := range t.offsets {
			if cur, ok := committed[tp]; ok && cur.seq > o.seq {
				superseded = append(superseded, tp)
				continue
			}
			committed[tp] = o
			applied++
		}
	}
	clear(t.offsets)
	s.tidy(pid)
	return applied, superseded
}

// maxSeq is the highest record number among the pending offsets.
func (s txnSet) maxSeq() uint64 {
	var m uint64
	for _, t := range s {
		for _, o := range t.offsets {
			m = max(m, o.seq)
		}
	}
	return m
}

// TxnCommit produces the records of a TxnOffsetCommit. It returns an error
// code for the whole request (non-zero: nothing will be stored) and one
// per offset. The offsets stay pending, invisible to Offsets, until the
// transaction's COMMIT marker is durable (CompleteTxn).
func (g *Group) TxnCommit(now time.Time, req TxnCommitRequest) (int16, []int16) {
	switch {
	case req.ProducerID < 0:
		return kerr.InvalidProducerIDMapping.Code, nil
	case req.ProducerEpoch < 0:
		return kerr.InvalidProducerEpoch.Code, nil
	}
	if code := g.validateTxnCommit(req); code != 0 {
		return code, nil
	}
	if t := g.txns[req.ProducerID]; t != nil && req.ProducerEpoch < t.epoch {
		// An older epoch's offsets while a newer one's are pending: a
		// zombie producer, which Kafka's log refuses so.
		return kerr.InvalidProducerEpoch.Code, nil
	}
	codes := make([]int16, len(req.Offsets))
	for i, c := range req.Offsets {
		if c.Metadata != nil && len(*c.Metadata) > g.cfg.maxMetadataBytes {
			codes[i] = kerr.OffsetMetadataTooLarge.Code
			continue
		}
		t := g.txns.get(req.ProducerID)
		t.inflight[c.TopicPartition]++
		g.inflight[c.TopicPartition]++
		o := Offset{Offset: c.Offset, LeaderEpoch: c.LeaderEpoch, Metadata: c.Metadata, CommitTime: now}
		g.out = append(g.out, record{kind: kindTxnOffset, group: g.id, tp: c.TopicPartition, offset: o,
			pid: req.ProducerID, epoch: req.ProducerEpoch})
	}
	return 0, codes
}

// validateTxnCommit is KIP-447's check of a TxnOffsetCommit, as Kafka's
// ClassicGroup.validateOffsetCommit does it for a transactional commit:
// anyone may commit to an empty group with generation -1, and so may a
// request naming no member at all (v0-2 clients, producers outside the
// group); one naming a member must name a current member (and its static
// instance, if given) of this generation. Unlike a plain commit it is not
// refused while the group waits for its assignment, and it does not count
// as the member's sign of life.
func (g *Group) validateTxnCommit(req TxnCommitRequest) int16 {
	switch {
	case g.state == Dead:
		return kerr.CoordinatorNotAvailable.Code
	case g.cg != nil:
		return g.validateConsumerCommit(req.MemberID, req.Generation, 0, true)
	case req.Generation < 0 && g.state == Empty:
		return 0
	case req.Generation < 0 && req.MemberID == "" && req.InstanceID == nil:
		return 0
	}
	if req.InstanceID != nil {
		cur, ok := g.static[*req.InstanceID]
		switch {
		case !ok:
			return kerr.UnknownMemberID.Code
		case cur != req.MemberID:
			g.cfg.logger.Info("transactional offset commit fenced: static member replaced",
				"group", g.id, "instance", *req.InstanceID, "member", req.MemberID, "current", cur)
			return kerr.FencedInstanceID.Code
		}
	}
	if g.members[req.MemberID] == nil {
		return kerr.UnknownMemberID.Code
	}
	if req.Generation != g.generation {
		return kerr.IllegalGeneration.Code
	}
	return 0
}

// CompleteTxn produces the marker that ends pid's transaction in the
// group: its pending offsets are applied (commit) or dropped when the
// marker is durable. A producer with nothing pending or on its way needs
// no marker: nothing is produced and it returns nil, so completing a
// transaction again (after a crash) is harmless. A marker older than the
// pending offsets' epoch is refused with ErrInvalidProducerEpoch.
func (g *Group) CompleteTxn(pid int64, epoch int16, commit bool) error {
	t := g.txns[pid]
	if t == nil {
		return nil
	}
	if epoch < t.epoch {
		return fmt.Errorf("complete transaction of producer %d in group %s with epoch %d: %w (epoch %d)",
			pid, g.id, epoch, ErrInvalidProducerEpoch, t.epoch)
	}
	t.markers++
	g.out = append(g.out, record{kind: kindTxnMarker, group: g.id, pid: pid, epoch: epoch, commit: commit})
	return nil
}

// Unstable returns the partitions with a transactional offset pending or
// on its way: OffsetFetch with require_stable answers
// UNSTABLE_OFFSET_COMMIT for them until the transaction ends.
func (g *Group) Unstable() map[TopicPartition]bool {
	out := map[TopicPartition]bool{}
	for _, t := range g.txns {
		for tp := range t.offsets {
			out[tp] = true
		}
		for tp := range t.inflight {
			out[tp] = true
		}
	}
	return out
}

// txnPersisted settles the bookkeeping of a transactional record whose
// outcome is known, and folds it into the group if it is durable.
func (g *Group) txnPersisted(r record, durable bool) {
	if t := g.txns[r.pid]; t != nil {
		switch r.kind {
		case kindTxnOffset:
			if t.inflight[r.tp]--; t.inflight[r.tp] <= 0 {
				delete(t.inflight, r.tp)
			}
		case kindTxnMarker:
			t.markers = max(t.markers-1, 0)
		}
	}
	if durable {
		switch r.kind {
		case kindTxnOffset:
			g.seq++
			g.txns.add(r, g.seq)
		case kindTxnMarker:
			applied, superseded := g.txns.complete(r.pid, r.commit, g.offsets)
			g.cfg.logger.Debug("transaction completed in group", "group", g.id, "producer", r.pid,
				"commit", r.commit, "offsets_applied", applied)
			for _, tp := range superseded {
				g.cfg.logger.Info("transactional offset not applied: the partition's commit came later in the log",
					"group", g.id, "producer", r.pid, "topic", tp.Topic, "partition", tp.Partition)
			}
		}
	}
	g.txns.tidy(r.pid)
}
