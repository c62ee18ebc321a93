package group

// persist.go connects the coordinator to its journal (internal/journal):
// the durable state the journal replays and snapshots, appending a group's
// records, and folding each batch's outcome back into the group once the
// journal reports it.
//
// The rule, as the journal's package doc asks: what a client can see is
// what is durable. A commit's offsets, an offset deletion and a group
// deletion change the group only when their records are durable; a
// record that fails changes nothing. So OffsetFetch never shows a commit
// that was answered with an error, and a restart shows exactly what was
// acknowledged.

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/courier-dev/courier/internal/broker/journal"
)

// logName is the journal's file under the coordinator's directory (the
// offsets log; its format predates the journal and is unchanged).
const logName = "offsets.log"

// errClosed is returned for requests after Close.
var errClosed = errors.New("group coordinator closed")

// pending is the outcome of one appended batch.
type pending struct {
	done chan struct{}
	err  error

	// mu guards finished and then: callbacks registered by answers that
	// are sent when the batch's outcome is known (onDone).
	mu       sync.Mutex
	finished bool
	then     []func(error)
}

func newPending() *pending { return &pending{done: make(chan struct{})} }

// finish records the outcome; called once. Callbacks run on the caller's
// goroutine (the journal's writer), outside any group's lock.
func (p *pending) finish(err error) {
	p.mu.Lock()
	p.err = err
	p.finished = true
	then := p.then
	p.then = nil
	close(p.done)
	p.mu.Unlock()
	for _, f := range then {
		f(err)
	}
}

// onDone calls f with the batch's outcome: now if it is known, else when
// it is. A nil pending (nothing was written) calls f(nil) at once. f must
// not block (it hands an answer to a waiting connection).
func (p *pending) onDone(f func(error)) {
	if p == nil {
		f(nil)
		return
	}
	p.mu.Lock()
	if !p.finished {
		p.then = append(p.then, f)
		p.mu.Unlock()
		return
	}
	err := p.err
	p.mu.Unlock()
	f(err)
}

// wait returns the batch's outcome, or ctx's error if it ends first. A nil
// pending (nothing was written) is done at once.
func (p *pending) wait(ctx context.Context) error {
	if p == nil {
		return nil
	}
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// replay folds one record of the journal into the durable state at Open;
// a record that cannot be decoded is refused, and the journal skips it
// loudly.
func (c *Coordinator) replay(b []byte) error {
	r, err := decodeBody(b)
	if err != nil {
		return err
	}
	if c.durable.apply(r).orphan {
		return fmt.Errorf("%w: consumer group member record for classic group %s", errCorrupt, r.group)
	}
	return nil
}

// snapshot writes the durable state as records.
func (c *Coordinator) snapshot(add func([]byte)) error {
	for _, r := range c.durable.records() {
		add(r.encode())
	}
	return nil
}

// persist appends recs, which e's group produced, as one batch; e.mu is
// held. When the journal refuses them at once (it is repairing itself
// after a failed write), the group is told now.
func (c *Coordinator) persist(e *entry, now time.Time, recs []record) *pending {
	p := newPending()
	bodies := make([][]byte, len(recs))
	for i, r := range recs {
		bodies[i] = r.encode()
	}
	id := e.g.id
	e.g.lastBatch = p
	err := c.jl.Append(bodies, func(err error) {
		c.persisted(id, recs, err)
		p.finish(err)
	})
	if err != nil {
		c.logFailure(id, err)
		e.g.persisted(now, recs, err)
		p.finish(err)
	}
	return p
}

// persisted folds a batch's outcome into the durable state and into the
// group, on the journal's writer goroutine, before the batch's waiters
// wake: so a commit is visible by the time it is acknowledged.
func (c *Coordinator) persisted(id string, recs []record, err error) {
	if err == nil {
		for _, r := range recs {
			o := c.durable.apply(r)
			if o.orphan {
				c.cfg.logger.Error("consumer group member record for a classic group not folded", "group", id)
			}
			c.txnCounts.add(r, o)
		}
	} else {
		c.logFailure(id, err)
	}
	for {
		c.mu.Lock()
		e := c.groups[id]
		if e == nil && err == nil && !c.closed && hasOffset(recs) {
			// The group was dropped meanwhile (deleted, or created by a
			// commit that looked failed): a durable commit, plain or
			// transactional, brings it back, as a replay would.
			e = &entry{g: newGroup(id, &c.cfg, c.cfg.clock.Now())}
			c.groups[id] = e
		}
		c.mu.Unlock()
		now := c.cfg.clock.Now()
		if e == nil {
			// Nothing shows these records any more; answer whoever
			// waits on them.
			for _, r := range recs {
				if r.then != nil {
					r.then(now, err)
				}
			}
			return
		}
		e.mu.Lock()
		if e.removed {
			e.mu.Unlock()
			continue
		}
		e.g.persisted(now, recs, err)
		c.settle(e, now)
		e.mu.Unlock()
		return
	}
}

func hasOffset(recs []record) bool {
	for _, r := range recs {
		if r.kind == kindOffset || r.kind == kindTxnOffset {
			return true
		}
	}
	return false
}

// logFailure logs records that could not be written (not at Close).
func (c *Coordinator) logFailure(group string, err error) {
	if !errors.Is(err, journal.ErrClosed) {
		c.cfg.logger.Error("group change not stored; the group keeps its previous state", "group", group, "err", err)
	}
}

// JournalStats returns the counters of the coordinator's journal: damaged
// records skipped and torn tails cut at Open, failed writes, repairs.
func (c *Coordinator) JournalStats() journal.Stats { return c.jl.Stats() }
