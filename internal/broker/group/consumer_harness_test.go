package group

// consumer_harness_test.go drives KIP-848 consumer groups through a real
// Coordinator (journal on disk, fake clock) with simulated clients that
// behave as franz-go's: a client joins at epoch 0, heartbeats with its
// epoch and the partitions it owns, adopts the assignment it is sent, and
// gives up lost partitions at once or, when slow, after some heartbeats.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/journal"
	"github.com/courier-dev/courier/internal/broker/vfs"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// cfix is a coordinator under test with its topics and clock. Its
// journal is on a memory file system (no fsyncs to pay) that can fail
// writes (efs) or lose what was not synced (crash).
type cfix struct {
	t      *testing.T
	dir    string
	clock  *FakeClock
	topics *StaticTopics
	opts   []Opt
	mem    *vfs.MemFS
	efs    *vfs.ErrorFS
	c      *Coordinator
}

func newCFix(t *testing.T, opts ...Opt) *cfix {
	f := &cfix{t: t, dir: "/groups", clock: NewFakeClock(t0), topics: NewStaticTopics(), opts: opts, mem: vfs.NewMem()}
	f.open()
	return f
}

func (f *cfix) open() {
	f.efs = vfs.NewErrorFS(f.mem)
	// Repairs are retried at once: the journal's back-off runs on the
	// wall clock, which would make the fake-clock tests timing dependent.
	noBackoff := func(cfg *config) {
		cfg.tuneJournal = func(o *journal.Options) { o.RetryMin, o.RetryMax = time.Nanosecond, time.Nanosecond }
	}
	opts := append([]Opt{WithFS(f.efs), WithTopics(f.topics), ConsumerSessionTimeout(45 * time.Second), ConsumerHeartbeatInterval(time.Second), noBackoff}, f.opts...)
	f.c = openCoordinator(f.t, f.dir, f.clock, opts...)
}

// restart closes the coordinator and opens it again on its directory.
func (f *cfix) restart() {
	f.t.Helper()
	if err := f.c.Close(); err != nil {
		f.t.Fatal(err)
	}
	f.open()
}

// crash pulls the plug: the coordinator opens again on what a power loss
// leaves of its file system (only what was synced, r choosing which
// unsynced bytes survive).
func (f *cfix) crash(r *rand.Rand) {
	f.t.Helper()
	clone := f.mem.CrashClone(vfs.CrashOptions{Rand: r})
	f.c.Close() // writes to the old file system, which is dropped
	f.mem = clone
	f.open()
}

// topic creates or resizes a topic (id derived from the name and a
// generation, so that a topic created again gets a new id).
func (f *cfix) topic(name string, partitions int32, gen byte) TopicID {
	id := TopicID{0: gen}
	copy(id[1:], name)
	f.topics.Set(TopicInfo{Name: name, ID: id, Partitions: partitions})
	return id
}

// heartbeat sends req and waits for its answer to be durable, as the
// broker's handler does.
func (f *cfix) heartbeat(req *kmsg.ConsumerGroupHeartbeatRequest, allow func(string) bool) *kmsg.ConsumerGroupHeartbeatResponse {
	f.t.Helper()
	resp, wait := f.c.ConsumerHeartbeat(req, HeartbeatContext{Client: Client{ID: "client", Host: "/127.0.0.1"}, AllowTopic: allow})
	if wait != nil {
		if err := wait(context.Background()); err != nil {
			resp = req.ResponseKind().(*kmsg.ConsumerGroupHeartbeatResponse)
			resp.ErrorCode = ErrorCode(err)
		}
	}
	return resp
}

// inspect runs fn on a group's state under its lock.
func (f *cfix) inspect(group string, fn func(g *Group)) bool {
	found, _, _ := f.c.do(group, false, func(g *Group, _ time.Time) { fn(g) })
	return found
}

// cclient is a simulated KIP-848 consumer.
type cclient struct {
	f        *cfix
	group    string
	id       string
	instance *string
	names    []string
	regex    *string
	assignor *string
	epoch    int32
	owned    assignment // what it consumes: assigned, and what it holds on to
	assigned assignment // the last assignment it was sent
	// slow is how many heartbeats the client keeps consuming partitions
	// taken away from it (a slow revocation); holding counts them down.
	slow    int
	holding int
	joined  bool
	lastErr int16
}

func (f *cfix) client(group, id string, names ...string) *cclient {
	return &cclient{f: f, group: group, id: id, names: names, owned: assignment{}, assigned: assignment{}}
}

// request builds the next heartbeat: a full one (epoch 0, or full), or a
// keepalive naming nothing optional.
func (c *cclient) request(full bool) *kmsg.ConsumerGroupHeartbeatRequest {
	req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	req.Version = 1
	req.Group, req.MemberID, req.MemberEpoch, req.InstanceID = c.group, c.id, c.epoch, c.instance
	req.RebalanceTimeoutMillis = -1
	if !c.joined {
		req.MemberEpoch = 0
		full = true
	}
	if full {
		req.RebalanceTimeoutMillis = 30000
		req.SubscribedTopicNames = c.names
		if c.regex != nil {
			req.SubscribedTopicNames = nil
			req.SubscribedTopicRegex = c.regex
		}
		req.ServerAssignor = c.assignor
		req.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{}
		if c.joined {
			for _, id := range c.owned.ids() {
				req.Topics = append(req.Topics, kmsg.ConsumerGroupHeartbeatRequestTopic{TopicID: id, Partitions: slices.Clone(c.owned[id])})
			}
		}
	}
	return req
}

// beat sends one heartbeat and applies the answer; it returns the error
// code. A fenced or unknown client abandons its partitions and joins
// again next time (with a new member id when unknown).
func (c *cclient) beat(full bool) int16 {
	resp := c.f.heartbeat(c.request(full), nil)
	c.lastErr = resp.ErrorCode
	switch resp.ErrorCode {
	case 0:
	case kerr.FencedMemberEpoch.Code, kerr.UnknownMemberID.Code, kerr.FencedInstanceID.Code:
		c.abandon()
		if resp.ErrorCode == kerr.UnknownMemberID.Code {
			c.id += "'"
		}
		return resp.ErrorCode
	default:
		return resp.ErrorCode
	}
	c.joined = true
	c.epoch = resp.MemberEpoch
	if resp.Assignment != nil {
		b := builder{}
		for _, t := range resp.Assignment.Topics {
			for _, p := range t.Partitions {
				b.add(t.TopicID, p)
			}
		}
		next := b.build()
		newlyLost, held := c.assigned.minus(next), c.owned.minus(next)
		c.assigned, c.owned = next, next
		if c.slow > 0 && newlyLost.count() > 0 {
			// Keep consuming what was taken away for a while.
			c.holding = c.slow
			c.owned = next.union(held)
			return 0
		}
		if c.holding > 0 {
			c.owned = next.union(held)
		}
	}
	if c.holding > 0 {
		if c.holding--; c.holding == 0 {
			c.owned = c.assigned
		}
	}
	return 0
}

func (c *cclient) abandon() {
	c.joined, c.epoch, c.owned, c.assigned, c.holding = false, 0, assignment{}, assignment{}, 0
}

// leave sends epoch -1 (or -2 for a static member leaving for now).
func (c *cclient) leave(static bool) int16 {
	req := kmsg.NewPtrConsumerGroupHeartbeatRequest()
	req.Version = 1
	req.Group, req.MemberID, req.InstanceID = c.group, c.id, c.instance
	req.MemberEpoch = epochLeave
	if static {
		req.MemberEpoch = epochStaticLeave
	}
	resp := c.f.heartbeat(req, nil)
	c.abandon()
	return resp.ErrorCode
}

// mustBeat heartbeats and fails the test on an error.
func (c *cclient) mustBeat(full bool) {
	c.f.t.Helper()
	if code := c.beat(full); code != 0 {
		c.f.t.Fatalf("%s heartbeat: %v", c.id, kerr.ErrorForCode(code))
	}
}

// settle heartbeats the clients in turn until the group is Stable, for at
// most rounds rounds.
func (f *cfix) settle(group string, rounds int, cs ...*cclient) {
	f.t.Helper()
	for range rounds {
		for _, c := range cs {
			c.beat(true)
		}
		if f.state(group) == "Stable" {
			return
		}
	}
	f.t.Fatalf("group %s not stable after %d rounds: %s", group, rounds, f.state(group))
}

// state is the group's state name ("" when it does not exist).
func (f *cfix) state(group string) string {
	var s string
	f.inspect(group, func(g *Group) {
		s = g.state.String()
		if g.cg != nil {
			s = g.cg.state().String()
		}
	})
	return s
}

// owns returns the partitions of topic id the client owns, sorted.
func (c *cclient) owns(id TopicID) []int32 { return slices.Clone(c.owned[id]) }

func (c *cclient) String() string { return fmt.Sprintf("%s@%d%v", c.id, c.epoch, c.owned) }
