package share

// coordinator.go owns the share groups: Open (replaying the journal into
// the durable copy, then the live state from it), Close, the one way
// state reaches the journal (persistLocked: the changed partitions'
// deltas appended as one batch, answered once durable), and the sweep
// that expires acquisition locks and member sessions.

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/courier-dev/courier/internal/broker/group"
	"github.com/courier-dev/courier/internal/broker/journal"
	"github.com/twmb/franz-go/pkg/kerr"
)

// Coordinator is the share-group coordinator of a single-node broker: the
// groups' members and assignments, their share sessions, and the
// share-partitions' delivery state. Its methods are safe for concurrent
// use.
type Coordinator struct {
	opts   Options
	log    *slog.Logger
	clock  group.Clock
	topics Topics
	jl     *journal.Journal

	// dur is the durable state: the fold of every record reported
	// durable. Only the journal's goroutine touches it after Open (done
	// callbacks and Snapshot run there, one at a time).
	dur durable

	// mu guards everything below and every group. It is never held
	// across a log read or a wait for the journal; Append is called under
	// it, which the journal allows. One lock for all groups is enough:
	// with 16 consumers on four partitions (BenchmarkShareGroup in
	// package broker) the coordinator takes a few percent of the CPU and
	// its fetches wait on the journal's fsyncs, not on this lock.
	mu       sync.Mutex
	groups   map[string]*shareGroup
	sessions int // open share sessions, all groups
	conns    map[uint64]func() bool
	closed   bool
	sweepT   group.Timer
	sweeps   int

	stats counters
}

// counters are the coordinator's totals since start, for /metrics.
type counters struct {
	acquired, accepted, released, rejected, gaps, renewed atomic.Uint64
	archivedAtLimit, lockExpiries, memberExpiries         atomic.Uint64
	writeFailures                                         atomic.Uint64
}

// shareGroup is one share group. Guarded by Coordinator.mu.
type shareGroup struct {
	id      string
	epoch   int32 // the group epoch: bumped by every membership or metadata change
	members map[string]*member
	parts   map[TopicPartition]*sharePart
	// sessions are the members' share sessions, by member id.
	sessions map[string]*session
	// wake is closed, and replaced, when records become available again
	// (released, expired, reset), waking fetches that wait.
	wake chan struct{}
	// meta is the subscribed topics' ids and partition counts when the
	// assignment was last computed: a change reassigns.
	meta string
}

// sharePart is one share-partition of a group.
type sharePart struct {
	topic string
	p     *Partition
}

func newGroup(id string) *shareGroup {
	return &shareGroup{id: id, members: map[string]*member{}, parts: map[TopicPartition]*sharePart{},
		sessions: map[string]*session{}, wake: make(chan struct{})}
}

// wakeFetches wakes the group's waiting fetches.
func (g *shareGroup) wakeFetches() {
	close(g.wake)
	g.wake = make(chan struct{})
}

// Open replays the journal at opts.Path (creating it as needed): every
// share group and share-partition comes back as it was durably, with what
// was acquired available again (delivery counts kept). State of topics
// that no longer exist is dropped. A damaged record is skipped and
// reported by the journal.
func Open(opts Options) (*Coordinator, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	c := &Coordinator{opts: opts, log: opts.Logger, clock: opts.Clock, topics: opts.Topics,
		groups: map[string]*shareGroup{}, conns: map[uint64]func() bool{}, dur: newDurable()}
	jl, err := journal.Open(opts.Path, journal.Options{
		FS: opts.FS, Logger: opts.Logger, CompactBytes: opts.CompactBytes,
		Replay: c.replay, Snapshot: c.dur.snapshot,
	})
	if err != nil {
		return nil, fmt.Errorf("share coordinator: %w", err)
	}
	c.jl = jl
	c.restore()
	c.mu.Lock()
	c.dropUnknownTopicsLocked()
	c.mu.Unlock()
	c.scheduleSweep()
	return c, nil
}

// replay folds one record of the file into the durable state.
func (c *Coordinator) replay(b []byte) error {
	r, err := decodeRecord(b)
	if err != nil {
		return err
	}
	return c.dur.apply(r)
}

// restore builds the live state from the durable one.
func (c *Coordinator) restore() {
	parts, inflight := 0, 0
	for id, dg := range c.dur.groups {
		g := newGroup(id)
		for tp, dp := range dg.parts {
			p := dp.p.Clone()
			_, acquired, _ := p.Counts()
			inflight += acquired
			p.Restore()
			g.parts[tp] = &sharePart{topic: dp.topic, p: p}
			parts++
		}
		c.groups[id] = g
	}
	if len(c.groups) > 0 {
		c.log.Info("share groups loaded", "groups", len(c.groups), "share_partitions", parts, "acquired_made_available", inflight)
	}
}

// Close stops the sweep, ends every share session and closes the
// journal. Locks do not survive it: what was acquired is available again
// at the next Open.
func (c *Coordinator) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	if c.sweepT != nil {
		c.sweepT.Stop()
	}
	for _, stop := range c.conns {
		stop()
	}
	c.conns = nil
	c.mu.Unlock()
	return c.jl.Close()
}

// groupLocked returns the share group a fetch or acknowledgement names,
// or the code to answer: COORDINATOR_NOT_AVAILABLE once closed,
// GROUP_ID_NOT_FOUND without such a group.
func (c *Coordinator) groupLocked(id string) (*shareGroup, int16) {
	switch g := c.groups[id]; {
	case c.closed:
		return nil, kerr.CoordinatorNotAvailable.Code
	case g == nil:
		return nil, kerr.GroupIDNotFound.Code
	default:
		return g, 0
	}
}

// JournalStats returns the journal's counters.
func (c *Coordinator) JournalStats() journal.Stats { return c.jl.Stats() }

// waiter reports a batch's outcome once the journal has it.
type waiter struct {
	done chan struct{}
	err  error
}

// wait returns once the batch is durable (nil) or known not to be.
func (w *waiter) wait(ctx context.Context) error {
	if w == nil {
		return nil
	}
	select {
	case <-w.done:
		return w.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// failed returns a waiter that has already failed.
func failed(err error) *waiter {
	w := &waiter{done: make(chan struct{}), err: err}
	close(w.done)
	return w
}

// persistLocked appends, as one batch, the records in pre (group records),
// the deltas of g's partitions tps (those that changed), and post
// (deletions). The durable copy takes them in once they are durable; if
// they are not, every partition named is written whole with its next
// delta, so the durable state catches up. nil: nothing to write.
func (c *Coordinator) persistLocked(g *shareGroup, tps []TopicPartition, pre, post []record) *waiter {
	recs := slices.Clone(pre)
	for _, tp := range tps {
		sp := g.parts[tp]
		if sp == nil {
			continue
		}
		if d, ok := sp.p.TakeDelta(); ok {
			recs = append(recs, record{kind: kindPartition, group: g.id, tp: tp, topic: sp.topic, delta: d})
		}
	}
	recs = append(recs, post...)
	if len(recs) == 0 {
		return nil
	}
	bufs := make([][]byte, len(recs))
	for i, r := range recs {
		bufs[i] = r.encode()
	}
	w := &waiter{done: make(chan struct{})}
	err := c.jl.Append(bufs, func(err error) {
		defer close(w.done)
		w.err = err
		if err == nil {
			for _, r := range recs {
				if aerr := c.dur.apply(r); aerr != nil { // a bug: the record was built from valid state
					c.log.Error("share state record not folded into the durable state", "group", r.group, "err", aerr)
				}
			}
			return
		}
		c.stats.writeFailures.Add(1)
		c.log.Error("share state not stored", "group", g.id, "records", len(recs), "err", err)
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, r := range recs {
			if cur := c.groups[r.group]; cur != nil && r.kind == kindPartition {
				if sp := cur.parts[r.tp]; sp != nil {
					sp.p.ForceFull()
				}
			}
		}
	})
	if err != nil {
		c.stats.writeFailures.Add(1)
		for _, r := range recs {
			if r.kind == kindPartition {
				if sp := g.parts[r.tp]; sp != nil {
					sp.p.ForceFull()
				}
			}
		}
		return failed(fmt.Errorf("store share state: %w", err))
	}
	return w
}

// encode returns a record's journal bytes.
func (r record) encode() []byte {
	switch r.kind {
	case kindGroup:
		return encodeGroup(r.group)
	case kindGroupDelete:
		return encodeGroupDelete(r.group)
	case kindPartitionDelete:
		return encodePartitionDelete(r.group, r.tp)
	}
	return encodePartition(r.group, r.topic, r.tp, r.delta)
}

// scheduleSweep arms the next sweep.
func (c *Coordinator) scheduleSweep() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.sweepT = c.clock.AfterFunc(c.opts.SweepInterval, func() {
		defer c.scheduleSweep()
		c.guard("share sweep", c.Sweep)
	})
}

// guard runs f, recovering a panic: it is logged with its stack and
// reported, so that a bug one group's state triggers cannot take the
// broker down.
func (c *Coordinator) guard(task string, f func()) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("panic in share coordinator", "task", task, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			if c.opts.OnPanic != nil {
				c.opts.OnPanic(task)
			}
		}
	}()
	f()
}

// Sweep releases records whose acquisition lock expired and removes
// members whose session timed out; every 50th sweep also drops the state
// of deleted topics. It runs every Options.SweepInterval; tests may call
// it.
func (c *Coordinator) Sweep() {
	now := c.clock.Now()
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.sweeps++
	if c.sweeps%50 == 0 {
		c.dropUnknownTopicsLocked()
	}
	for _, g := range c.groups {
		cfg := c.opts.Config(g.id)
		for id, m := range g.members {
			if now.Sub(m.lastSeen) > cfg.SessionTimeout {
				c.log.Info("share group member session timed out", "group", g.id, "member", id, "timeout", cfg.SessionTimeout)
				c.stats.memberExpiries.Add(1)
				c.removeMemberLocked(g, id, now)
			}
		}
		lim := cfg.limits()
		c.releaseLocked(g, nil, &c.stats.lockExpiries, func(p *Partition) (int, int) {
			if at, ok := p.NextDeadline(); !ok || at.After(now) {
				return 0, 0
			}
			return p.ExpireLocks(now, lim)
		})
	}
}

// dropUnknownTopicsLocked deletes the share-partitions of topics that no
// longer exist (or were deleted and created again: their id changed), so
// a new topic of the same name starts afresh.
func (c *Coordinator) dropUnknownTopicsLocked() {
	for _, g := range c.groups {
		var gone []record
		for tp := range g.parts {
			if _, ok := c.topics.TopicName(tp.TopicID); !ok {
				gone = append(gone, record{kind: kindPartitionDelete, group: g.id, tp: tp})
				delete(g.parts, tp)
			}
		}
		if len(gone) > 0 {
			c.log.Info("dropped the share state of deleted topics", "group", g.id, "share_partitions", len(gone))
			c.persistLocked(g, nil, nil, gone)
		}
	}
}
