package group

// consumer_model_test.go is the model-based test of KIP-848 consumer
// groups: simulated clients (consumer_harness_test.go) join, heartbeat
// (fully or as keepalives, revoking at once or slowly), leave, leave for
// now and come back (static), crash and go silent, and classic clients
// join beside them (cooperative, rejoining when told to), while topics are
// created, grown and deleted, the clock runs (sessions and rebalance
// timeouts fire) and the coordinator restarts. After every step:
//   - no partition is owned by two members, and the owners index is
//     exactly the members' partitions;
//   - a client the group still has never consumes a partition the group
//     does not count as its (so no two live members consume one);
//   - the group epoch, the assignment epoch and each member's epoch never
//     go back (across restarts too); assignmentEpoch <= epoch;
//   - a Stable group's members own exactly the target assignment, which
//     covers every partition of the subscribed topics, each given to a
//     member subscribed to its topic.
// At the end the live clients heartbeat until the group is Stable, within
// a bound, and their partitions are the whole subscription.
// COURIER_CRASH_SEED=<n> replays a seed (testseed).

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/vfs"
	"github.com/courier-dev/courier/internal/testkit/testseed"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestConsumerGroupModel(t *testing.T) {
	for _, seed := range testseed.Seeds(t, 24) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			t.Parallel()
			runModel(t, seed)
		})
	}
}

// model is one run's world.
type model struct {
	t        *testing.T
	r        *rand.Rand
	f        *cfix
	clients  []*cclient  // alive: heartbeating
	classics []*kclassic // alive classic members (cooperative)
	dead     []*cclient  // crashed: silent
	next     int
	gens     map[string]byte // topic name -> generation (its id)
	// last seen epochs, to check they never go back.
	groupEpoch, assignEpoch int32
	memberEpochs            map[string]int32
	instances               map[string]*cclient // instance id -> its first client
	log                     []string
}

const modelGroup = "g"

func runModel(t *testing.T, seed uint64) {
	m := &model{t: t, r: rand.New(rand.NewPCG(seed, 848)), gens: map[string]byte{}, memberEpochs: map[string]int32{}, instances: map[string]*cclient{}}
	// Groups are not converted between protocols here (a classic group
	// needs a leader's assignment, which the simulated classic clients do
	// not compute): consumer_migrate_test.go tests the conversions.
	opts := []Opt{ConsumerSessionTimeout(10 * time.Second), RegexRefreshInterval(0), MigrationPolicy(MigrationDisabled)}
	if m.r.IntN(3) == 0 {
		opts = append(opts, ConsumerAssignors([]string{AssignorRange, AssignorUniform}))
	}
	m.f = newCFix(t, opts...)
	m.topic("a", 3)
	m.topic("b", 2)
	defer func() {
		if t.Failed() {
			t.Logf("seed %d, last steps:\n%s", seed, lastLines(m.log, 80))
		}
	}()
	for step := 0; step < 250 && !t.Failed(); step++ {
		m.step()
		m.check()
	}
	if t.Failed() {
		return
	}
	m.converge()
}

func lastLines(lines []string, n int) string {
	out := ""
	for _, l := range lines[max(0, len(lines)-n):] {
		out += "  " + l + "\n"
	}
	return out
}

func (m *model) logf(format string, args ...any) { m.log = append(m.log, fmt.Sprintf(format, args...)) }

func (m *model) topic(name string, partitions int32) {
	if m.gens[name] == 0 {
		m.gens[name] = 1
	}
	m.f.topic(name, partitions, m.gens[name])
}

// step does one random thing.
func (m *model) step() {
	r := m.r
	switch n := r.IntN(100); {
	case n < 12 && len(m.clients) < 6:
		m.join()
	case n < 15 && len(m.classics) < 2 && m.consumerMembers() > 0:
		// A classic member joins while the group has members (an empty
		// group would become classic).
		c := &kclassic{f: m.f, group: modelGroup, topics: []string{"a", "c"}, owned: map[string][]int32{}}
		m.classics = append(m.classics, c)
		code := c.cycle()
		m.logf("classic join %s -> %d %v", c.id, code, c.owned)
	case n < 22 && len(m.classics) > 0 && m.consumerMembers() > 0:
		c := m.classics[r.IntN(len(m.classics))]
		code := c.cycle()
		m.logf("classic cycle %s -> %d %v", c.id, code, c.owned)
	case n < 24 && len(m.classics) > 0:
		i := r.IntN(len(m.classics))
		c := m.classics[i]
		_, codes, wait := m.f.c.Leave(modelGroup, []kmsg.LeaveGroupRequestMember{{MemberID: c.id}})
		if wait != nil {
			wait(m.t.Context())
		}
		m.logf("classic leave %s -> %v", c.id, codes)
		m.classics = slices.Delete(m.classics, i, i+1)
	case n < 70 && len(m.clients) > 0:
		c := m.clients[r.IntN(len(m.clients))]
		full := r.IntN(4) > 0
		code := c.beat(full)
		m.logf("beat %s full=%v -> %d %v", c.id, full, code, c)
	case n < 75 && len(m.clients) > 0:
		i := r.IntN(len(m.clients))
		c := m.clients[i]
		static := c.instance != nil && r.IntN(2) == 0
		code := c.leave(static)
		m.logf("leave %s static=%v -> %d", c.id, static, code)
		m.clients = slices.Delete(m.clients, i, i+1)
		if static && r.IntN(2) == 0 {
			// The same instance comes back as a new process.
			nc := m.f.client(modelGroup, fmt.Sprintf("m%d", m.next), c.names...)
			m.next++
			nc.instance, nc.regex, nc.slow = c.instance, c.regex, c.slow
			m.clients = append(m.clients, nc)
			m.logf("static %s returns as %s", *c.instance, nc.id)
		}
	case n < 79 && len(m.clients) > 0:
		i := r.IntN(len(m.clients))
		m.logf("crash %s", m.clients[i].id)
		m.dead = append(m.dead, m.clients[i])
		m.clients = slices.Delete(m.clients, i, i+1)
	case n < 88:
		d := time.Duration(1+r.IntN(4)) * time.Second
		if r.IntN(3) > 0 {
			for _, c := range m.clients { // keep the live sessions going
				c.beat(false)
			}
			for _, c := range m.classics {
				if m.consumerMembers() > 0 {
					c.cycle()
				}
			}
		}
		m.logf("advance %v", d)
		m.f.clock.Advance(d)
	case n < 95:
		m.changeTopics()
	case n < 97:
		// The disk fails the next few writes: heartbeats whose state
		// could not be stored are answered NOT_COORDINATOR, and the
		// clients retry.
		k := 1 + r.IntN(3)
		m.logf("disk fails %d writes", k)
		m.f.efs.InjectN(syscall.ENOSPC, vfs.OpWrite, k)
	case n < 99:
		m.logf("crash")
		m.f.crash(rand.New(rand.NewPCG(r.Uint64(), 1)))
		m.restarted()
	default:
		m.logf("restart")
		m.f.restart()
		m.restarted()
	}
}

// restarted forgets the epochs seen of the coordinator that went away:
// what it had not stored is gone (check compares with the clients).
func (m *model) restarted() {
	m.groupEpoch, m.assignEpoch = 0, 0
	clear(m.memberEpochs)
}

func (m *model) join() {
	r := m.r
	c := m.f.client(modelGroup, fmt.Sprintf("m%d", m.next))
	m.next++
	switch r.IntN(4) {
	case 0:
		re := "a|c"
		c.regex = &re
	case 1:
		c.names = []string{"a"}
	default:
		c.names = []string{"a", "b", "c"}
	}
	if r.IntN(3) == 0 {
		// An instance id is one application's: every process with it
		// subscribes the same way (a replaced static member keeps the
		// subscription fields its successor does not send, as in Kafka).
		inst := fmt.Sprintf("i%d", r.IntN(4))
		c.instance = &inst
		if prev, ok := m.instances[inst]; ok {
			c.names, c.regex = prev.names, prev.regex
		}
		m.instances[inst] = c
	}
	c.slow = r.IntN(3)
	m.clients = append(m.clients, c)
	code := c.beat(true)
	m.logf("join %s names=%v regex=%v inst=%v slow=%d -> %d %v", c.id, c.names, c.regex, c.instance, c.slow, code, c)
}

func (m *model) changeTopics() {
	switch m.r.IntN(4) {
	case 0:
		m.topic("c", int32(1+m.r.IntN(3)))
		m.logf("topic c created or resized")
	case 1:
		if t, ok := m.f.topics.Topic("a"); ok && t.Partitions < 8 {
			m.topic("a", t.Partitions+1)
			m.logf("topic a grows to %d", t.Partitions+1)
		}
	case 2:
		m.f.topics.Delete("b")
		m.logf("topic b deleted")
	default:
		if _, ok := m.f.topics.Topic("b"); !ok {
			m.gens["b"]++
			m.topic("b", 2)
			m.logf("topic b created again")
		}
	}
}

// check verifies the invariants.
func (m *model) check() {
	t := m.t
	t.Helper()
	m.f.inspect(modelGroup, func(g *Group) {
		cg := g.cg
		if cg == nil {
			t.Fatalf("the group is not a consumer group")
		}
		// Ownership: disjoint, and the index exactly the members'.
		owners := map[tpKey]string{}
		for _, mem := range cg.sortedMembers() {
			mem.owns().each(func(id TopicID, p int32) {
				if o, dup := owners[tpKey{id, p}]; dup {
					t.Fatalf("partition %v-%d owned by %s and %s", id, p, o, mem.id)
				}
				owners[tpKey{id, p}] = mem.id
			})
		}
		if len(owners) != len(cg.owners) {
			t.Fatalf("owners index has %d partitions, the members own %d", len(cg.owners), len(owners))
		}
		for k, id := range owners {
			if cg.owners[k] != id {
				t.Fatalf("owners index says %s owns %v, the members say %s", cg.owners[k], k, id)
			}
		}
		// Epochs never go back. A restart may forget what its failed
		// writes changed, but never what a client was told: the group
		// epoch is at least every epoch a member was acknowledged at, and
		// a member at least its client's.
		if cg.epoch < m.groupEpoch || cg.assignmentEpoch < m.assignEpoch || cg.assignmentEpoch > cg.epoch {
			t.Fatalf("epochs went from %d/%d to %d/%d", m.groupEpoch, m.assignEpoch, cg.epoch, cg.assignmentEpoch)
		}
		m.groupEpoch, m.assignEpoch = cg.epoch, cg.assignmentEpoch
		for _, c := range m.clients {
			if mem := cg.members[c.id]; c.joined && mem != nil && !mem.staticLeft() && (mem.epoch < c.epoch || cg.epoch < c.epoch) {
				t.Fatalf("client %s was acknowledged at epoch %d; its member is at %d, the group at %d", c.id, c.epoch, mem.epoch, cg.epoch)
			}
		}
		seen := map[string]bool{}
		for _, mem := range cg.members {
			seen[mem.id] = true
			if mem.staticLeft() {
				continue
			}
			if last, ok := m.memberEpochs[mem.id]; ok && mem.epoch < last {
				t.Fatalf("member %s epoch went from %d to %d", mem.id, last, mem.epoch)
			}
			m.memberEpochs[mem.id] = mem.epoch
		}
		for id := range m.memberEpochs {
			if !seen[id] {
				delete(m.memberEpochs, id)
			}
		}
		for _, c := range m.classics {
			mem := cg.members[c.id]
			if c.gen == 0 || mem == nil || mem.classic == nil {
				continue
			}
			if extra := c.ownedIDs().minus(mem.owns()); extra.count() > 0 {
				t.Fatalf("classic client %s consumes %v the group does not count as its (member owns %v)", c.id, extra, mem.owns())
			}
		}
		// A live client consumes only what the group counts as its.
		for _, c := range m.clients {
			mem := cg.members[c.id]
			if !c.joined || mem == nil || mem.staticLeft() {
				continue
			}
			if extra := c.owned.minus(mem.owns()); extra.count() > 0 {
				t.Fatalf("client %s consumes %v the group does not count as its (member owns %v)", c.id, extra, mem.owns())
			}
		}
		if cg.state() == ConsumerStable {
			m.checkStable(g)
		}
	})
}

// checkStable verifies a Stable group against its own view of the
// subscribed topics.
func (m *model) checkStable(g *Group) {
	t, cg := m.t, g.cg
	covered := map[tpKey]bool{}
	for _, mem := range cg.members {
		target := cg.target[mem.id]
		if !mem.assigned.equal(target) || mem.revoking.count() > 0 {
			for _, x := range cg.sortedMembers() {
				t.Logf("member %s epoch %d prev %d state %v assigned %v revoking %v inst %v target %v", x.id, x.epoch, x.prevEpoch, x.state, x.assigned, x.revoking, derefOr(x.instanceID, ""), cg.target[x.id])
			}
			t.Logf("group epoch %d assign %d", cg.epoch, cg.assignmentEpoch)
			t.Fatalf("stable group: member %s owns %v (revoking %v), target %v", mem.id, mem.assigned, mem.revoking, target)
		}
		subs := map[TopicID]bool{}
		for _, name := range cg.subscribedNames(mem) {
			if st, ok := cg.subscription[name]; ok {
				subs[st.id] = true
			}
		}
		target.each(func(id TopicID, p int32) {
			if !subs[id] {
				t.Fatalf("member %s assigned %v-%d of a topic it does not subscribe to", mem.id, id, p)
			}
			covered[tpKey{id, p}] = true
		})
	}
	for _, st := range cg.subscription {
		for p := int32(0); p < st.partitions; p++ {
			if !covered[tpKey{st.id, p}] && len(cg.members) > 0 {
				t.Fatalf("stable group leaves %s-%d unassigned", st.name, p)
			}
		}
	}
}

// converge has the live clients heartbeat until the group is Stable and
// checks that they own every subscribed partition.
func (m *model) converge() {
	t := m.t
	for round := 0; ; round++ {
		if round == 30 {
			t.Fatalf("not stable after 30 rounds of heartbeats: %s\n%s", m.f.state(modelGroup), lastLines(m.log, 25))
		}
		for _, c := range m.clients {
			c.slow = 0
			code := c.beat(true)
			m.logf("converge: beat %s -> %d %v", c.id, code, c)
		}
		for _, c := range m.classics {
			if m.consumerMembers() > 0 || c.gen > 0 {
				code := c.cycle()
				m.logf("converge: classic %s -> %d %v", c.id, code, c.owned)
			}
		}
		m.f.clock.Advance(time.Second)
		m.check()
		want, expected := "Stable", len(m.clients)
		for _, c := range m.classics {
			if c.gen > 0 {
				expected++
			}
		}
		if expected == 0 {
			want = "Empty"
		}
		if m.f.state(modelGroup) == want && m.allJoined() {
			// Sessions of crashed clients must have ended too.
			empty := true
			m.f.inspect(modelGroup, func(g *Group) {
				for _, mem := range g.cg.members {
					if !m.alive(mem.id) {
						empty = false
					}
				}
			})
			if empty {
				break
			}
		}
	}
	want := map[tpKey]bool{}
	for _, c := range m.clients {
		if !c.joined {
			// Only a second process of a static member's instance may
			// be kept out: UNRELEASED_INSTANCE_ID, the instance in use.
			if c.lastErr != kerr.UnreleasedInstanceID.Code || !m.instanceHeld(c) {
				t.Fatalf("client %s did not join: %v", c.id, kerr.ErrorForCode(c.lastErr))
			}
			continue
		}
		for _, ti := range m.f.topics.All() {
			if c.subscribes(ti.Name) {
				for p := int32(0); p < ti.Partitions; p++ {
					want[tpKey{ti.ID, p}] = true
				}
			}
		}
	}
	for _, c := range m.classics {
		if c.gen == 0 {
			continue // kept out: the group had no consumer-protocol member to join
		}
		for _, name := range c.topics {
			if ti, ok := m.f.topics.Topic(name); ok {
				for p := int32(0); p < ti.Partitions; p++ {
					want[tpKey{ti.ID, p}] = true
				}
			}
		}
	}
	got := map[tpKey]bool{}
	for _, c := range m.clients {
		c.owned.each(func(id TopicID, p int32) { got[tpKey{id, p}] = true })
	}
	for _, c := range m.classics {
		c.ownedIDs().each(func(id TopicID, p int32) { got[tpKey{id, p}] = true })
	}
	if len(got) != len(want) {
		for _, c := range m.clients {
			t.Logf("client %v joined=%v names=%v regex=%v", c, c.joined, c.names, derefOr(c.regex, ""))
		}
		for _, ti := range m.f.topics.All() {
			t.Logf("topic %+v", ti)
		}
		t.Fatalf("live clients own %d partitions, they subscribe to %d", len(got), len(want))
	}
	for k := range want {
		if !got[k] {
			t.Fatalf("subscribed partition %v owned by no live client", k)
		}
	}
}

// consumerMembers counts the group's members of the consumer protocol: a
// classic member may join only beside one (alone it would make the empty
// group classic, a world the model does not follow).
func (m *model) consumerMembers() int {
	n := 0
	m.f.inspect(modelGroup, func(g *Group) {
		if g.cg != nil {
			for _, mem := range g.cg.members {
				if mem.classic == nil {
					n++
				}
			}
		}
	})
	return n
}

// allJoined reports whether every live client is a member, or is kept
// out because its instance id is in use.
func (m *model) allJoined() bool {
	for _, c := range m.classics {
		if (c.gen == 0 && len(m.clients) > 0) || (c.gen > 0 && c.lastCode != 0) {
			return false
		}
	}
	for _, c := range m.clients {
		member := c.joined && c.lastErr == 0
		if !member && (c.lastErr != kerr.UnreleasedInstanceID.Code || !m.instanceHeld(c)) {
			return false
		}
	}
	return true
}

// instanceHeld reports whether another live client holds c's instance.
func (m *model) instanceHeld(c *cclient) bool {
	for _, o := range m.clients {
		if o != c && o.joined && o.instance != nil && *o.instance == *c.instance {
			return true
		}
	}
	return false
}

func (m *model) alive(id string) bool {
	for _, c := range m.clients {
		if c.id == id {
			return true
		}
	}
	for _, c := range m.classics {
		if c.id == id {
			return true
		}
	}
	return false
}

// subscribes reports whether the client's subscription names topic.
func (c *cclient) subscribes(topic string) bool {
	if c.regex != nil {
		re, _ := compileRegex(*c.regex)
		return re.MatchString(topic)
	}
	return slices.Contains(c.names, topic)
}
