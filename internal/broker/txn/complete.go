package txn

// complete.go finishes a prepared transaction, as Kafka's
// TransactionMarkerChannelManager does: once a PrepareCommit or
// PrepareAbort record is durable, one goroutine owned by the coordinator
// writes the markers to every partition of the transaction and completes
// the offsets of every group (through Markers), retrying what failed with
// back-off until all of it is durable, then writes the CompleteCommit or
// CompleteAbort record. Nothing but this goroutine changes a prepared id
// (every request meets CONCURRENT_TRANSACTIONS or INVALID_TXN_STATE), so
// exactly one completion runs per Prepare record. Close stops it where it
// is; the Prepare record stays, and the next Open starts it again: markers
// are idempotent on the broker's side, so sending them twice is harmless,
// and a transaction prepared is always completed the way it was prepared.

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"time"
)

var errNegativePID = errors.New("producer id allocator returned a negative id")

// job is what a completion needs to know, copied from the Prepare state.
type job struct {
	id     string
	pid    int64
	epoch  int16
	commit bool
	parts  []Partition
	groups []string
	cepoch int32
}

// startCompletion starts completing e, which is durable in a Prepare
// state; c.mu is held. completed is closed when the Complete record is
// durable (nil makes a channel). After Close nothing starts: the next Open
// finishes the transaction.
func (c *Coordinator) startCompletion(e *entry, completed chan struct{}) {
	if completed == nil {
		completed = make(chan struct{})
	}
	e.completed = completed
	if c.closed {
		return
	}
	j := job{
		id: e.id, pid: e.m.pid, epoch: e.m.epoch, commit: e.m.state == statePrepareCommit,
		parts: slices.Clone(e.m.parts), groups: slices.Clone(e.m.groups), cepoch: c.epoch,
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		if c.sendMarkers(j) {
			c.finish(j)
		}
	}()
}

// sendMarkers writes j's markers and completes its groups, retrying what
// failed with back-off. It returns false if the coordinator closed first.
func (c *Coordinator) sendMarkers(j job) bool {
	parts, groups := j.parts, j.groups
	delay := c.opts.MarkerRetryMin
	for attempt := 1; ; attempt++ {
		var firstErr error
		if len(parts) > 0 {
			parts, firstErr = c.writeMarkers(j, parts)
		}
		var failedGroups []string
		for _, g := range groups {
			if err := c.completeGroup(j, g); err != nil {
				failedGroups = append(failedGroups, g)
				firstErr = cmpOr(firstErr, err)
			}
		}
		groups = failedGroups
		if len(parts) == 0 && len(groups) == 0 {
			return true
		}
		c.stats.markerRetries.Add(1)
		c.log.Warn("transaction markers not all written; retrying", "transactional_id", j.id,
			"producer_id", j.pid, "epoch", j.epoch, "commit", j.commit, "attempt", attempt,
			"failed_partitions", len(parts), "failed_groups", len(groups), "retry_in", delay, "err", firstErr)
		if !c.sleep(delay) {
			return false
		}
		delay = min(2*delay, c.opts.MarkerRetryMax)
	}
}

// writeMarkers makes one attempt at parts' markers and returns those that
// failed, with one of the errors.
func (c *Coordinator) writeMarkers(j job, parts []Partition) (failed []Partition, err error) {
	ctx, done := c.attemptContext()
	defer done()
	var errs map[Partition]error
	if perr := c.protect("write markers", func() {
		errs = c.opts.Markers.WritePartitionMarkers(ctx, j.pid, j.epoch, j.commit, j.cepoch, slices.Clone(parts))
	}); perr != nil {
		return parts, perr
	}
	for _, p := range parts {
		if e := errs[p]; e != nil {
			failed = append(failed, p)
			err = cmpOr(err, fmt.Errorf("%s/%d: %w", p.Topic, p.Partition, e))
		}
	}
	return failed, err
}

// completeGroup makes one attempt at completing group's offsets.
func (c *Coordinator) completeGroup(j job, group string) error {
	ctx, done := c.attemptContext()
	defer done()
	var err error
	if perr := c.protect("complete group offsets", func() {
		err = c.opts.Markers.CompleteGroupOffsets(ctx, group, j.pid, j.epoch, j.commit)
	}); perr != nil {
		return perr
	}
	if err != nil {
		return fmt.Errorf("group %s: %w", group, err)
	}
	return nil
}

// attemptContext is the context of one Markers call: it ends at Close or
// after MarkerTimeout on the coordinator's clock.
func (c *Coordinator) attemptContext() (context.Context, func()) {
	ctx, cancel := context.WithCancel(c.ctx)
	t := c.clock.AfterFunc(c.opts.MarkerTimeout, cancel)
	return ctx, func() { t.Stop(); cancel() }
}

// protect runs f, turning a panic into an error so that a bug in the
// broker's marker writing makes the transaction retry, not the broker
// crash.
func (c *Coordinator) protect(what string, f func()) (err error) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("panic in transaction markers", "task", what, "panic", r, "stack", string(debug.Stack()))
			err = fmt.Errorf("%s: panic: %v", what, r)
		}
	}()
	f()
	return nil
}

// sleep waits d on the coordinator's clock; false if it closed first.
func (c *Coordinator) sleep(d time.Duration) bool {
	ch := make(chan struct{})
	t := c.clock.AfterFunc(d, func() { close(ch) })
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-c.ctx.Done():
		return false
	}
}

// finish writes j's Complete record, retrying with back-off while the
// journal cannot write.
func (c *Coordinator) finish(j job) {
	delay := c.opts.MarkerRetryMin
	for {
		c.mu.Lock()
		e := c.known(j.id)
		if e == nil || e.m.pid != j.pid || e.m.epoch != j.epoch || !e.m.state.preparing() {
			// Nothing else changes a prepared id; this is a bug, and
			// writing over what is there would be another.
			c.mu.Unlock()
			c.log.Error("prepared transaction changed under its completion; leaving it", "transactional_id", j.id,
				"producer_id", j.pid, "epoch", j.epoch)
			return
		}
		var err error
		if e.pending {
			c.mu.Unlock()
			err = errors.New("another change is being stored")
		} else {
			next := e.m.complete(c.clock.Now())
			err = c.awaitWrite(c.ctx, e, change{next: &next})
		}
		if err == nil {
			c.log.Debug("transaction completed", "transactional_id", j.id, "producer_id", j.pid,
				"epoch", j.epoch, "commit", j.commit, "partitions", len(j.parts), "groups", len(j.groups))
			return
		}
		if c.ctx.Err() != nil || !c.sleep(delay) {
			return
		}
		delay = min(2*delay, c.opts.MarkerRetryMax)
	}
}

// cmpOr returns a if it is not nil, else b.
func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}
