package group

// coordinator.go owns the groups: it creates them on first use, serializes
// each group's events under its own mutex, persists what they record
// (persist.go), and drives their deadlines with timers.

import (
	"context"
	"fmt"
	"path/filepath"
	"runtime/debug"
	"sort"
	"sync"
	"time"

	"github.com/courier-dev/courier/internal/broker/journal"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// Coordinator is the group coordinator of a single-node broker: it
// coordinates every group. Its methods are safe for concurrent use; work
// on one group never waits for another group.
type Coordinator struct {
	cfg config
	jl  *journal.Journal
	// durable is the fold of every durable record: what the journal
	// snapshots and what a restart restores. Only the journal's callbacks
	// touch it (replay in Open, then persisted and snapshot on its writer
	// goroutine, one at a time), and Open before any append.
	durable *state
	// txnCounts counts the transaction markers folded since Open
	// (TxnStats).
	txnCounts txnCounters

	// mu guards groups and closed; it is never held while taking an
	// entry's mutex.
	mu        sync.Mutex
	groups    map[string]*entry
	closed    bool
	retention Timer
}

// entry is one group and its timer, guarded by mu.
type entry struct {
	mu      sync.Mutex
	g       *Group
	removed bool // dropped from the map: callers holding it must look again
	timer   Timer
	timerAt time.Time
}

// Open replays the offsets log in dir (creating dir as needed), restores
// the groups it describes and starts expiring offsets. A damaged record in
// the log is skipped and reported (JournalStats); a log that cannot be
// read safely is refused with an error naming the file and byte offset.
func Open(dir string, opts ...Opt) (*Coordinator, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	c := &Coordinator{cfg: cfg, durable: newState(), groups: map[string]*entry{}}
	jopts := journal.Options{
		FS: cfg.fs, Logger: cfg.logger, CompactBytes: cfg.compactBytes,
		Replay: c.replay, Snapshot: c.snapshot,
	}
	if cfg.tuneJournal != nil {
		cfg.tuneJournal(&jopts)
	}
	jl, err := journal.Open(filepath.Join(dir, logName), jopts)
	if err != nil {
		return nil, fmt.Errorf("group coordinator: %w", err)
	}
	c.jl = jl
	st := c.durable
	now := cfg.clock.Now()
	offsets, txnOffsets, consumers := 0, 0, 0
	for _, id := range st.groupIDs() {
		g := newGroup(id, &c.cfg, now)
		g.restore(st.groups[id], st.offsets[id], st.txns[id], now)
		if cd := st.consumers[id]; cd != nil {
			g.restoreConsumer(cd, now)
			consumers++
		}
		offsets += len(st.offsets[id])
		txnOffsets += st.txns[id].pendingOffsets()
		e := &entry{g: g}
		c.groups[id] = e
		e.mu.Lock()
		c.schedule(e, now)
		e.mu.Unlock()
	}
	cfg.logger.Info("group coordinator loaded", "dir", dir, "groups", len(c.groups), "consumer_groups", consumers, "offsets", offsets,
		"pending_transactional_offsets", txnOffsets)
	c.scheduleRetention()
	return c, nil
}

// Close stops the timers and closes the offsets log after writing what is
// queued. Requests still waiting on a group are not answered; their
// connections are expected to be closing.
func (c *Coordinator) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	if c.retention != nil {
		c.retention.Stop()
	}
	entries := c.entryList()
	c.mu.Unlock()
	for _, e := range entries {
		e.mu.Lock()
		if e.timer != nil {
			e.timer.Stop()
			e.timer = nil
		}
		e.mu.Unlock()
	}
	return c.jl.Close()
}

// entryList returns every entry; c.mu must be held.
func (c *Coordinator) entryList() []*entry {
	out := make([]*entry, 0, len(c.groups))
	for _, e := range c.groups {
		out = append(out, e)
	}
	return out
}

// do runs fn on group id under the group's lock, creating the group if
// create is set, then persists the records fn caused, reschedules the
// group's timer and forgets the group if it died. It reports whether the
// group existed (or was created) and the outcome of its records.
func (c *Coordinator) do(id string, create bool, fn func(g *Group, now time.Time)) (found bool, p *pending, err error) {
	for {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return false, nil, errClosed
		}
		e := c.groups[id]
		if e == nil {
			if !create {
				c.mu.Unlock()
				return false, nil, nil
			}
			e = &entry{g: newGroup(id, &c.cfg, c.cfg.clock.Now())}
			c.groups[id] = e
		}
		c.mu.Unlock()

		e.mu.Lock()
		if e.removed {
			e.mu.Unlock()
			continue
		}
		return true, c.apply(e, fn), nil
	}
}

// apply runs fn on e's group and settles it. e.mu must be held; it is
// released even if fn panics, so that a panic (which the network server
// recovers, closing that connection) cannot leave the group locked for
// every other member.
func (c *Coordinator) apply(e *entry, fn func(g *Group, now time.Time)) *pending {
	defer e.mu.Unlock()
	now := c.cfg.clock.Now()
	fn(e.g, now)
	return c.settle(e, now)
}

// settle persists a group's records, reschedules its timer and removes it
// if it died or holds nothing; e.mu must be held. It returns the outcome
// of the first batch (the records the caller's change made), nil when
// there were none. A batch refused at once is reported to the group at
// once, which may make it produce more records; those follow, a bounded
// number of rounds.
func (c *Coordinator) settle(e *entry, now time.Time) *pending {
	var first *pending
	for round := 0; round < 4; round++ {
		recs := e.g.TakeRecords()
		if len(recs) == 0 {
			break
		}
		p := c.persist(e, now, recs)
		if first == nil {
			first = p
		}
	}
	if e.g.IsDead() || e.g.disposable() {
		if e.timer != nil {
			e.timer.Stop()
			e.timer = nil
		}
		e.removed = true
		c.mu.Lock()
		if c.groups[e.g.id] == e {
			delete(c.groups, e.g.id)
		}
		c.mu.Unlock()
		return first
	}
	c.schedule(e, now)
	return first
}

// schedule arms e's timer for the group's next deadline; e.mu must be held.
// After Close (the journal's last callbacks settle groups) nothing is armed.
func (c *Coordinator) schedule(e *entry, now time.Time) {
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	next, ok := e.g.NextDeadline()
	if closed {
		ok = false
	}
	if e.timer != nil && ok && next.Equal(e.timerAt) {
		return
	}
	if e.timer != nil {
		e.timer.Stop()
		e.timer = nil
	}
	if !ok {
		return
	}
	e.timerAt = next
	e.timer = c.cfg.clock.AfterFunc(next.Sub(now), func() { c.guard("group deadline", func() { c.fire(e, next) }) })
}

// fire runs a group's due deadlines; at is the deadline the timer was
// armed for.
func (c *Coordinator) fire(e *entry, at time.Time) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.removed {
		return
	}
	c.mu.Lock()
	closed := c.closed
	c.mu.Unlock()
	if closed {
		return
	}
	if e.timerAt.Equal(at) {
		e.timer = nil // this timer has fired; a newer one stays armed
	}
	now := c.cfg.clock.Now()
	e.g.Tick(now)
	c.settle(e, now)
}

// respondOnce adapts a channel to a response callback that never blocks.
func respondOnce[T any](ch chan T) func(T) {
	return func(v T) {
		select {
		case ch <- v:
		default:
		}
	}
}

// Join registers a JoinGroup and returns a channel that receives its
// answer, at once or when the rebalance's join phase ends.
func (c *Coordinator) Join(req *kmsg.JoinGroupRequest, client Client) <-chan *kmsg.JoinGroupResponse {
	ch := make(chan *kmsg.JoinGroupResponse, 1)
	respond := respondOnce(ch)
	if req.Group == "" {
		respond(joinError(req.Version, req.MemberID, kerr.InvalidGroupID.Code))
		return ch
	}
	if _, _, err := c.do(req.Group, true, func(g *Group, now time.Time) { g.Join(now, req, client, respond) }); err != nil {
		respond(joinError(req.Version, req.MemberID, kerr.CoordinatorNotAvailable.Code))
	}
	return ch
}

// Sync registers a SyncGroup and returns a channel that receives its
// answer, at once or when the leader's assignment arrives.
func (c *Coordinator) Sync(req *kmsg.SyncGroupRequest) <-chan *kmsg.SyncGroupResponse {
	ch := make(chan *kmsg.SyncGroupResponse, 1)
	respond := respondOnce(ch)
	if req.Group == "" {
		respond(syncError(req.Version, kerr.InvalidGroupID.Code))
		return ch
	}
	found, _, err := c.do(req.Group, false, func(g *Group, now time.Time) { g.Sync(now, req, respond) })
	switch {
	case err != nil:
		respond(syncError(req.Version, kerr.CoordinatorNotAvailable.Code))
	case !found:
		respond(syncError(req.Version, kerr.UnknownMemberID.Code))
	}
	return ch
}

// Heartbeat answers a Heartbeat with an error code.
func (c *Coordinator) Heartbeat(req *kmsg.HeartbeatRequest) int16 {
	if req.Group == "" {
		return kerr.InvalidGroupID.Code
	}
	var code int16
	found, _, err := c.do(req.Group, false, func(g *Group, now time.Time) { code = g.Heartbeat(now, req) })
	switch {
	case err != nil:
		return kerr.CoordinatorNotAvailable.Code
	case !found:
		return kerr.UnknownMemberID.Code
	}
	return code
}

// Leave removes members and returns a code per member, or a non-zero
// code for the whole request; wait returns once what the leave changed
// is durable (nil when nothing was written).
func (c *Coordinator) Leave(group string, members []kmsg.LeaveGroupRequestMember) (code int16, codes []int16, wait func(context.Context) error) {
	if group == "" {
		return kerr.InvalidGroupID.Code, nil, nil
	}
	found, p, err := c.do(group, false, func(g *Group, now time.Time) { codes = g.Leave(now, members) })
	switch {
	case err != nil:
		return kerr.CoordinatorNotAvailable.Code, nil, nil
	case !found:
		codes = make([]int16, len(members))
		for i := range codes {
			codes[i] = kerr.UnknownMemberID.Code
		}
	}
	if p == nil {
		return 0, codes, nil
	}
	return 0, codes, p.wait
}

// CommitOffsets stores offsets (see Group.Commit). A group that does not
// exist is created for a commit outside group management (generation
// -1); otherwise the commit fails with GROUP_ID_NOT_FOUND (version 9+) or
// ILLEGAL_GENERATION, as in Kafka. wait returns once the commit is
// durable, and visible to FetchOffsets, or with the error that kept it
// from being so (map it with ErrorCode); it is nil when the request was
// refused. A commit that fails leaves the previous offsets in place.
func (c *Coordinator) CommitOffsets(version int16, group string, req CommitRequest) (code int16, codes []int16, wait func(context.Context) error) {
	notFound := kerr.IllegalGeneration.Code
	if version >= 9 {
		notFound = kerr.GroupIDNotFound.Code
	}
	req.Version = version
	return c.changeOffsets(group, req.Generation < 0, notFound, func(g *Group, now time.Time) (int16, []int16) { return g.Commit(now, req) })
}

// changeOffsets runs a request that changes offsets (fn) on group,
// creating the group if create is set: the group-level code (notFound
// when the group does not exist), the per-partition codes, and the wait
// for its records, nil when the request was refused.
func (c *Coordinator) changeOffsets(group string, create bool, notFound int16, fn func(g *Group, now time.Time) (int16, []int16)) (code int16, codes []int16, wait func(context.Context) error) {
	if group == "" {
		return kerr.InvalidGroupID.Code, nil, nil
	}
	found, p, err := c.do(group, create, func(g *Group, now time.Time) { code, codes = fn(g, now) })
	switch {
	case err != nil:
		return kerr.CoordinatorNotAvailable.Code, nil, nil
	case !found:
		return notFound, nil, nil
	case code != 0:
		return code, nil, nil
	}
	return 0, codes, p.wait
}

// FetchOffsets returns a group's committed offsets (only durable ones); ok
// is false when the group does not exist.
func (c *Coordinator) FetchOffsets(group string) (offsets map[TopicPartition]Offset, ok bool) {
	found, _, _ := c.do(group, false, func(g *Group, _ time.Time) { offsets = g.Offsets() })
	return offsets, found
}

// DeleteOffsets handles OffsetDelete (see Group.DeleteOffsets); wait
// returns once the deletion is durable.
func (c *Coordinator) DeleteOffsets(group string, parts []TopicPartition) (code int16, codes []int16, wait func(context.Context) error) {
	return c.changeOffsets(group, false, kerr.GroupIDNotFound.Code, func(g *Group, now time.Time) (int16, []int16) { return g.DeleteOffsets(now, parts) })
}

// DeleteGroup deletes an empty group and its offsets; wait returns once
// the deletion is durable.
func (c *Coordinator) DeleteGroup(group string) (code int16, wait func(context.Context) error) {
	if group == "" {
		return kerr.InvalidGroupID.Code, nil
	}
	found, p, err := c.do(group, false, func(g *Group, now time.Time) { code = g.Delete(now) })
	switch {
	case err != nil:
		return kerr.CoordinatorNotAvailable.Code, nil
	case !found:
		return kerr.GroupIDNotFound.Code, nil
	case code != 0:
		return code, nil
	}
	return 0, p.wait
}

// DeleteTopicOffsets deletes every group's committed offsets of topic
// (see Group.DeleteOffsetsWhere); the broker calls it once a topic is
// deleted, so that a topic created again under the name does not inherit
// them. wait returns once the deletions are durable.
func (c *Coordinator) DeleteTopicOffsets(topic string) (wait func(context.Context) error) {
	return c.DeleteOffsetsWhere(func(t string) bool { return t == topic })
}

// DeleteOffsetsWhere deletes every group's committed offsets of the topics
// for which drop is true. At start the broker drops offsets of topics that
// no longer exist: a crash between a topic's deletion and its offsets'
// leaves them behind. wait returns once the deletions are durable.
func (c *Coordinator) DeleteOffsetsWhere(drop func(topic string) bool) (wait func(context.Context) error) {
	c.mu.Lock()
	entries := c.entryList()
	c.mu.Unlock()
	var (
		waits           []*pending
		deleted, groups int
	)
	for _, e := range entries {
		e.mu.Lock()
		if !e.removed {
			now := c.cfg.clock.Now()
			if n := e.g.DeleteOffsetsWhere(now, drop); n > 0 {
				deleted += n
				groups++
				waits = append(waits, c.settle(e, now))
			}
		}
		e.mu.Unlock()
	}
	if deleted > 0 {
		c.cfg.logger.Info("deleted offsets of deleted topics", "offsets", deleted, "groups", groups)
	}
	return func(ctx context.Context) error {
		for _, p := range waits {
			if err := p.wait(ctx); err != nil {
				return err
			}
		}
		return nil
	}
}

// Exists reports whether a group of that id (classic or consumer) exists.
// It only looks the id up: unlike Describe it neither locks the group nor
// settles it, so other coordinators may ask it on every request (the
// share coordinator does, to keep one group-id namespace).
func (c *Coordinator) Exists(group string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.groups[group] != nil
}

// Describe returns a group's DescribeGroups entry; ok is false when the
// group does not exist.
func (c *Coordinator) Describe(group string) (d kmsg.DescribeGroupsResponseGroup, ok bool) {
	found, _, _ := c.do(group, false, func(g *Group, _ time.Time) { d = g.Describe() })
	return d, found
}

// Listing is a group as ListGroups shows it.
type Listing struct {
	Group        string
	ProtocolType string
	// Type is "classic" or "consumer" (KIP-848).
	Type string
	// State is Kafka's name of the group's state: a classic State's or a
	// ConsumerState's.
	State string
}

// Group types, as ListGroups names them.
const (
	TypeClassic  = "classic"
	TypeConsumer = "consumer"
)

// List returns every group, sorted by id.
func (c *Coordinator) List() []Listing {
	c.mu.Lock()
	entries := c.entryList()
	c.mu.Unlock()
	var out []Listing
	for _, e := range entries {
		e.mu.Lock()
		if !e.removed {
			l := Listing{Group: e.g.id, ProtocolType: e.g.protocolType, Type: TypeClassic, State: e.g.state.String()}
			if cg := e.g.cg; cg != nil {
				l.Type, l.State = TypeConsumer, cg.state().String()
			}
			out = append(out, l)
		}
		e.mu.Unlock()
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Group < out[j].Group })
	return out
}

// scheduleRetention arms the periodic offsets expiry.
func (c *Coordinator) scheduleRetention() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.cfg.retentionCheck <= 0 {
		return
	}
	c.retention = c.cfg.clock.AfterFunc(c.cfg.retentionCheck, func() {
		defer c.scheduleRetention()
		c.guard("offsets expiry", c.ExpireOffsets)
	})
}

// guard runs f, a timer's work on a goroutine of its own, recovering a
// panic: it is logged with its stack and reported to the OnPanic hook,
// so that a bug that one group's state triggers cannot take the broker
// down. Group locks are released by deferred unlocks on the way out.
func (c *Coordinator) guard(task string, f func()) {
	defer func() {
		if r := recover(); r != nil {
			c.cfg.logger.Error("panic in group coordinator timer", "task", task, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
			if c.cfg.onPanic != nil {
				c.cfg.onPanic(task)
			}
		}
	}()
	f()
}

// ExpireOffsets deletes the offsets of groups that have been empty for
// the retention period (offsets.retention.minutes), and the groups left
// with nothing. It runs periodically; tests may call it.
func (c *Coordinator) ExpireOffsets() {
	c.mu.Lock()
	entries := c.entryList()
	c.mu.Unlock()
	for _, e := range entries {
		e.mu.Lock()
		if e.removed {
			e.mu.Unlock()
			continue
		}
		c.apply(e, func(g *Group, now time.Time) {
			if n, deleting := g.ExpireOffsets(now, c.cfg.retention); n > 0 || deleting {
				c.cfg.logger.Info("expiring group offsets", "group", g.id, "offsets", n, "group_removed", deleting)
			}
		})
	}
}
