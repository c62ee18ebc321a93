package txn

// api.go is what the Kafka API handlers call: InitProducerId,
// AddPartitionsToTxn (and its verify-only form), AddOffsetsToTxn, the
// check before TxnOffsetCommit, and EndTxn. Each validates its input,
// asks the id's state machine (state.go) for a transition under the lock,
// writes it, and answers once it is durable, with Kafka's error codes.

import (
	"context"
	"time"

	"github.com/courier-dev/courier/internal/broker/journal"
	"github.com/twmb/franz-go/pkg/kerr"
)

// maxInitRounds bounds InitProducerID's retries when a producer id must
// be allocated without the lock (the id changed meanwhile).
const maxInitRounds = 3

// InitProducerID is InitProducerId for a transactional id. pid and epoch
// are the request's (-1, -1 when the producer has none; KIP-360 otherwise).
// It returns the producer id and epoch to use, or -1, -1 and an error
// code:
//   - INVALID_REQUEST for an empty (or non-UTF-8) txnID, or only one of
//     pid and epoch set (the handler gives "" its own meaning first);
//   - INVALID_TRANSACTION_TIMEOUT for timeoutMs <= 0 or above MaxTimeout;
//   - CONCURRENT_TRANSACTIONS while the id's transaction is being
//     completed, or when an ongoing transaction had to be aborted first
//     (its producer fenced): the client retries;
//   - PRODUCER_FENCED when pid/epoch are neither the current nor, for a
//     retry whose response was lost, the previous ones. Older request
//     versions expect INVALID_PRODUCER_EPOCH instead: mapping it is the
//     handler's business;
//   - NOT_COORDINATOR when the state could not be stored (retriable),
//     COORDINATOR_NOT_AVAILABLE when closing.
//
// A new id gets a new producer id (AllocateProducerID) and epoch 0; an
// existing one gets its epoch bumped, or a new producer id with epoch 0
// once the epoch is exhausted.
func (c *Coordinator) InitProducerID(ctx context.Context, txnID string, timeoutMs int32, pid int64, epoch int16) (outPID int64, outEpoch int16, code int16) {
	fail := func(code int16) (int64, int16, int16) { return noPID, noEpoch, code }
	if journal.CheckName("transactional id", txnID) != nil {
		return fail(kerr.InvalidRequest.Code)
	}
	if timeoutMs <= 0 || time.Duration(timeoutMs)*time.Millisecond > c.opts.MaxTimeout {
		return fail(kerr.InvalidTransactionTimeout.Code)
	}
	var expected *producerRef
	switch {
	case pid == noPID && epoch == noEpoch:
	case pid < 0 || epoch < 0:
		return fail(kerr.InvalidRequest.Code)
	default:
		expected = &producerRef{pid: pid, epoch: epoch}
	}
	fresh := noPID
	for range maxInitRounds {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return fail(kerr.CoordinatorNotAvailable.Code)
		}
		now := c.clock.Now()
		e := c.txns[txnID]
		var base meta
		switch {
		case e == nil && fresh == noPID:
			// Allocate without the lock (it may write to disk), then
			// look again.
			c.mu.Unlock()
			if fresh = c.allocate(txnID); fresh == noPID {
				return fail(kerr.NotCoordinator.Code)
			}
			continue
		case e == nil:
			// A new id: Kafka's fresh metadata, epoch -1, that the
			// transition below bumps to 0.
			base = meta{pid: fresh, lastPID: noPID, epoch: noEpoch, lastEpoch: noEpoch, state: stateEmpty, timeoutMs: timeoutMs}
			fresh = noPID
			e = &entry{id: txnID}
			c.txns[txnID] = e
		case e.pending || !e.known:
			c.mu.Unlock()
			return fail(kerr.ConcurrentTransactions.Code)
		default:
			base = e.m
		}
		r := base.initProducerID(expected, timeoutMs, now, fresh)
		switch {
		case r.needPID:
			c.mu.Unlock()
			if fresh = c.allocate(txnID); fresh == noPID {
				return fail(kerr.NotCoordinator.Code)
			}
			continue
		case !r.write:
			c.forgetUnknown(e)
			c.mu.Unlock()
			return fail(r.code)
		}
		if r.fence {
			c.log.Info("InitProducerId aborts the ongoing transaction first, fencing its producer",
				"transactional_id", txnID, "producer_id", r.next.pid, "fenced_epoch", base.epoch)
		}
		if err := c.awaitWrite(ctx, e, change{next: &r.next}); err != nil {
			return fail(errorCode(err))
		}
		if r.fence {
			return fail(kerr.ConcurrentTransactions.Code)
		}
		return r.next.pid, r.next.epoch, 0
	}
	return fail(kerr.ConcurrentTransactions.Code)
}

// allocate returns a fresh producer id, or noPID after logging why not.
func (c *Coordinator) allocate(txnID string) int64 {
	pid, err := c.opts.AllocateProducerID()
	if err == nil && pid < 0 {
		err = errNegativePID
	}
	if err != nil {
		c.log.Error("InitProducerId: no producer id", "transactional_id", txnID, "err", err)
		return noPID
	}
	return pid
}

// AddPartitions is AddPartitionsToTxn: it adds parts to pid/epoch's
// transaction, starting it if none is ongoing, and answers once the
// addition is durable. Every partition gets the same code, as in Kafka:
// INVALID_REQUEST (an empty id, a partition with no topic or a negative
// number), INVALID_PRODUCER_ID_MAPPING (unknown id, other producer id),
// PRODUCER_FENCED (stale epoch), CONCURRENT_TRANSACTIONS (the
// transaction is being completed, or another change of the id is being
// stored), NOT_COORDINATOR (could not be stored).
func (c *Coordinator) AddPartitions(ctx context.Context, txnID string, pid int64, epoch int16, parts []Partition) map[Partition]int16 {
	code := kerr.InvalidRequest.Code
	if validParts(parts) {
		code = c.add(ctx, txnID, pid, epoch, parts, nil)
	}
	return sameCode(parts, code)
}

// AddOffsets is AddOffsetsToTxn: it adds group to pid/epoch's transaction
// (so that EndTxn completes the group's transactional offset commits),
// with AddPartitions' codes; INVALID_GROUP_ID for an empty group.
func (c *Coordinator) AddOffsets(ctx context.Context, txnID string, pid int64, epoch int16, group string) int16 {
	if journal.CheckName("group", group) != nil {
		return kerr.InvalidGroupID.Code
	}
	return c.add(ctx, txnID, pid, epoch, nil, []string{group})
}

// add is AddPartitions and AddOffsets.
func (c *Coordinator) add(ctx context.Context, txnID string, pid int64, epoch int16, parts []Partition, groups []string) int16 {
	if journal.CheckName("transactional id", txnID) != nil {
		return kerr.InvalidRequest.Code
	}
	if len(parts) == 0 && len(groups) == 0 {
		return 0
	}
	c.mu.Lock()
	e := c.known(txnID)
	if e == nil {
		c.mu.Unlock()
		return kerr.InvalidProducerIDMapping.Code
	}
	next, write, code := e.m.add(pid, epoch, parts, groups, e.pending, c.clock.Now())
	if !write {
		c.mu.Unlock()
		return code
	}
	return errorCode(c.awaitWrite(ctx, e, change{next: &next}))
}

// known returns txnID's entry if it has durable state; c.mu is held.
func (c *Coordinator) known(txnID string) *entry {
	if e := c.txns[txnID]; e != nil && e.known {
		return e
	}
	return nil
}

// VerifyPartitions is AddPartitionsToTxn v4+ verify_only and KIP-890's
// verification before a transactional produce: each partition is 0 if it
// is in pid/epoch's ongoing transaction, else INVALID_TXN_STATE (Kafka 3.8
// and later answer TRANSACTION_ABORTABLE there for clients that know it:
// the handler may map it). A fencing code (INVALID_PRODUCER_ID_MAPPING,
// PRODUCER_FENCED), CONCURRENT_TRANSACTIONS (being completed) or
// INVALID_REQUEST answers for every partition. Nothing is written.
func (c *Coordinator) VerifyPartitions(txnID string, pid int64, epoch int16, parts []Partition) map[Partition]int16 {
	out := make(map[Partition]int16, len(parts))
	all, member := c.verify(txnID, pid, epoch)
	for _, p := range parts {
		if all != 0 {
			out[p] = all
		} else {
			out[p] = member(&p, "")
		}
	}
	return out
}

// VerifyGroup is the check before a TxnOffsetCommit: 0 if group was added
// (AddOffsets) to pid/epoch's ongoing transaction, else as
// VerifyPartitions.
func (c *Coordinator) VerifyGroup(txnID string, pid int64, epoch int16, group string) int16 {
	all, member := c.verify(txnID, pid, epoch)
	if all != 0 {
		return all
	}
	return member(nil, group)
}

func (c *Coordinator) verify(txnID string, pid int64, epoch int16) (int16, func(*Partition, string) int16) {
	if journal.CheckName("transactional id", txnID) != nil {
		return kerr.InvalidRequest.Code, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.known(txnID)
	if e == nil {
		return kerr.InvalidProducerIDMapping.Code, nil
	}
	// e.m is replaced, never changed in place, so member may read the
	// copy it closes over without the lock.
	return e.m.verify(pid, epoch)
}

// EndTxn is EndTxn: it commits or aborts pid/epoch's ongoing transaction.
// Once the PrepareCommit or PrepareAbort record is durable the outcome is
// decided; EndTxn then waits (up to Options.EndTxnWait) for the markers
// and the Complete record, and answers 0 either way: markers that fail
// are retried in the background, and after a crash by the next Open.
// Codes, as Kafka's: INVALID_REQUEST (empty id),
// INVALID_PRODUCER_ID_MAPPING, PRODUCER_FENCED (the epoch is not the
// current one), CONCURRENT_TRANSACTIONS (a retry while the same outcome is
// being completed, or another change is being stored), INVALID_TXN_STATE
// (no transaction, or the other outcome was chosen), 0 for a retry of an
// EndTxn that completed the same way, NOT_COORDINATOR when the Prepare
// record could not be stored (nothing changed; the client retries).
func (c *Coordinator) EndTxn(ctx context.Context, txnID string, pid int64, epoch int16, commit bool) int16 {
	if journal.CheckName("transactional id", txnID) != nil {
		return kerr.InvalidRequest.Code
	}
	c.mu.Lock()
	e := c.known(txnID)
	if e == nil {
		c.mu.Unlock()
		return kerr.InvalidProducerIDMapping.Code
	}
	next, write, code := e.m.endTxn(pid, epoch, commit, e.pending, c.clock.Now())
	if !write {
		c.mu.Unlock()
		return code
	}
	completed := make(chan struct{})
	if err := c.awaitWrite(ctx, e, change{next: &next, completed: completed}); err != nil {
		return errorCode(err)
	}
	if c.opts.EndTxnWait < 0 {
		return 0
	}
	bound := make(chan struct{})
	t := c.clock.AfterFunc(c.opts.EndTxnWait, func() { close(bound) })
	defer t.Stop()
	select {
	case <-completed:
	case <-bound:
		c.log.Info("EndTxn answered before its markers were all written; they are retried in the background",
			"transactional_id", txnID, "producer_id", pid, "commit", commit)
	case <-ctx.Done():
	case <-c.ctx.Done():
	}
	return 0
}

// validParts reports whether every partition names a topic and a
// partition number a topic can have.
func validParts(parts []Partition) bool {
	for _, p := range parts {
		if journal.CheckName("topic", p.Topic) != nil || p.Partition < 0 {
			return false
		}
	}
	return true
}

// sameCode answers every partition with code.
func sameCode(parts []Partition, code int16) map[Partition]int16 {
	out := make(map[Partition]int16, len(parts))
	for _, p := range parts {
		out[p] = code
	}
	return out
}
