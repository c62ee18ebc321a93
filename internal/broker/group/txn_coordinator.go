package group

// txn_coordinator.go is the coordinator's side of transactional offset
// commits (txn.go): TxnOffsetCommit, the transaction coordinator's
// completion of a transaction in a group, OffsetFetch's require_stable,
// and the counters /metrics shows.

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// TxnCommitOffsets stores pid's pending transactional offsets (see
// Group.TxnCommit for KIP-447's checks: an unknown member gets
// UNKNOWN_MEMBER_ID, a wrong generation ILLEGAL_GENERATION, a replaced
// static member FENCED_INSTANCE_ID, as in Kafka). A group that does not
// exist is created empty for a request with generation -1, as Kafka does
// for TxnOffsetCommit; with a generation it gets ILLEGAL_GENERATION. The
// records are durable when wait returns nil (map an error with
// ErrorCode); wait is nil when the request was refused. The offsets stay
// invisible to FetchOffsets until CompleteTxn(commit).
//
// The caller (the TxnOffsetCommit handler) is expected to have checked
// with the transaction coordinator that the group is part of the
// producer's ongoing transaction at this epoch (AddOffsetsToTxn, KIP-890
// part 1's verification); this checks the epoch only against the
// producer's offsets already pending in the group.
func (c *Coordinator) TxnCommitOffsets(group string, req TxnCommitRequest) (code int16, codes []int16, wait func(context.Context) error) {
	return c.changeOffsets(group, req.Generation < 0, kerr.IllegalGeneration.Code, func(g *Group, now time.Time) (int16, []int16) { return g.TxnCommit(now, req) })
}

// CompleteTxn applies (commit) or drops (abort) pid's pending offsets in
// group, durably: one journal record, the marker, and it returns once that
// is durable (and the offsets visible) or with why not. It is idempotent:
// completing a producer with nothing pending is a no-op that returns nil,
// so the transaction coordinator may call it for every group the
// transaction added, again after a crash. A marker whose epoch is older
// than the pending offsets' is refused (ErrInvalidProducerEpoch).
func (c *Coordinator) CompleteTxn(ctx context.Context, group string, pid int64, epoch int16, commit bool) error {
	var refused error
	found, p, err := c.do(group, false, func(g *Group, _ time.Time) { refused = g.CompleteTxn(pid, epoch, commit) })
	switch {
	case err != nil:
		return fmt.Errorf("complete transaction of producer %d in group %s: %w", pid, group, err)
	case !found:
		return nil
	case refused != nil:
		return refused
	}
	if err := p.wait(ctx); err != nil {
		return fmt.Errorf("complete transaction of producer %d in group %s: write marker: %w", pid, group, err)
	}
	return nil
}

// FetchOffsetsStable is FetchOffsets plus the partitions that have a
// pending transactional commit: OffsetFetch with require_stable answers
// UNSTABLE_OFFSET_COMMIT for those (clients retry), as Kafka does.
func (c *Coordinator) FetchOffsetsStable(group string) (offsets map[TopicPartition]Offset, unstable map[TopicPartition]bool, ok bool) {
	found, _, _ := c.do(group, false, func(g *Group, _ time.Time) {
		offsets, unstable = g.Offsets(), g.Unstable()
	})
	return offsets, unstable, found
}

// TxnStats is what the coordinator did with transactional offsets, for
// /metrics.
type TxnStats struct {
	// OpenTransactions counts (group, producer) pairs with transactional
	// offsets pending or on their way; PendingOffsets the durable offsets
	// among them waiting for a marker.
	OpenTransactions int
	PendingOffsets   int
	// Committed and Aborted count the markers made durable since Open.
	Committed, Aborted int64
	// OffsetsApplied counts the transactional offsets committed markers
	// made the groups' offsets; OffsetsSuperseded those left out because
	// their partition was committed again later in the log.
	OffsetsApplied, OffsetsSuperseded int64
}

// txnCounters are TxnStats' counters, updated on the journal's writer
// goroutine and read from anywhere.
type txnCounters struct {
	committed, aborted, applied, superseded atomic.Int64
}

// add counts a durable record and what folding it did.
func (t *txnCounters) add(r record, o txnOutcome) {
	if r.kind != kindTxnMarker {
		return
	}
	if r.commit {
		t.committed.Add(1)
	} else {
		t.aborted.Add(1)
	}
	t.applied.Add(int64(o.applied))
	t.superseded.Add(int64(o.superseded))
}

// TxnStats returns the transactional offsets' gauges and counters. It
// visits every group under its lock, as List does.
func (c *Coordinator) TxnStats() TxnStats {
	st := TxnStats{
		Committed:         c.txnCounts.committed.Load(),
		Aborted:           c.txnCounts.aborted.Load(),
		OffsetsApplied:    c.txnCounts.applied.Load(),
		OffsetsSuperseded: c.txnCounts.superseded.Load(),
	}
	c.mu.Lock()
	entries := c.entryList()
	c.mu.Unlock()
	for _, e := range entries {
		e.mu.Lock()
		if !e.removed {
			st.OpenTransactions += len(e.g.txns)
			st.PendingOffsets += e.g.txns.pendingOffsets()
		}
		e.mu.Unlock()
	}
	return st
}
