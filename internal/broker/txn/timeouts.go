package txn

// timeouts.go is the coordinator's housekeeping, on its clock: aborting
// transactions open longer than their timeout (Kafka's
// abortTimedOutTransactions), fencing their producer, and forgetting ids
// idle longer than the expiration (Kafka's removeExpiredTransactionalIds).

import (
	"runtime/debug"
	"slices"
	"strings"
	"time"
)

// abortTimedOut aborts every ongoing transaction past its timeout, with
// the producer's epoch bumped as InitProducerId's fence does: the silent
// producer's next request is fenced, and the markers, written with the new
// epoch, fence it on the partitions. Runs every AbortInterval.
func (c *Coordinator) abortTimedOut() {
	c.housekeep("abort timed-out transactions", &c.abortT, c.opts.AbortInterval, c.abortTimedOut, func(now time.Time, e *entry) {
		m := e.m
		if m.state != stateOngoing || !now.After(m.start.Add(msDuration(m.timeoutMs))) {
			return
		}
		next, id := m.fenceAbort(now), e.id
		_ = c.write(e, change{next: &next, done: func(err error) { // a failure is logged; the next round tries again
			if err == nil {
				c.stats.timedOut.Add(1)
				c.log.Info("aborting a transaction past its timeout; its producer is fenced", "transactional_id", id,
					"producer_id", m.pid, "fenced_epoch", m.epoch, "timeout_ms", m.timeoutMs, "started", m.start)
			}
		}})
	})
}

// expireIDs forgets every id with no open transaction that nothing has
// touched for IDExpiration, by writing its deletion. Runs every
// RemoveExpiredInterval.
func (c *Coordinator) expireIDs() {
	c.housekeep("expire transactional ids", &c.expireT, c.opts.RemoveExpiredInterval, c.expireIDs, func(now time.Time, e *entry) {
		m, id := e.m, e.id
		if !m.state.expirable() || now.Before(m.lastUpdate.Add(c.opts.IDExpiration)) {
			return
		}
		_ = c.write(e, change{done: func(err error) { // a failure is logged; the next round tries again
			if err == nil {
				c.stats.expired.Add(1)
				c.log.Info("transactional id expired", "transactional_id", id, "producer_id", m.pid, "last_update", m.lastUpdate)
			}
		}})
	})
}

// housekeep runs visit on every id with durable state and nothing in
// flight, in id order, under the lock, then re-arms *timer to run again
// (self) after every. A panic is logged, not fatal: the round is lost,
// the timer re-armed.
func (c *Coordinator) housekeep(task string, timer *Timer, every time.Duration, self func(), visit func(now time.Time, e *entry)) {
	defer c.recoverTimer(task)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	defer func() { *timer = c.clock.AfterFunc(every, self) }()
	now := c.clock.Now()
	for _, e := range c.sortedEntries() {
		if e.known && !e.pending {
			visit(now, e)
		}
	}
}

// sortedEntries returns the entries in id order, so housekeeping is
// deterministic; c.mu is held.
func (c *Coordinator) sortedEntries() []*entry {
	out := make([]*entry, 0, len(c.txns))
	for _, e := range c.txns {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b *entry) int { return strings.Compare(a.id, b.id) })
	return out
}

// recoverTimer logs a panic in a timer function instead of crashing the
// broker; the timer is re-armed by the function's own deferred call.
func (c *Coordinator) recoverTimer(task string) {
	if r := recover(); r != nil {
		c.log.Error("panic in transaction coordinator timer", "task", task, "panic", r, "stack", string(debug.Stack()))
	}
}
