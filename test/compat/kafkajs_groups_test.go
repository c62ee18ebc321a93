package compat

// kafkajs_groups_test.go plays the seed notes' consumer-group flow with
// kafkajs 2.2.4's group consumer (kafkajs/groups.js: consumer.run with
// eachMessage and kafkajs's default auto-commit), one Node.js process per
// member so that stopping a member is stopping a process:
//
//  1. rider-updates has two partitions, north (0) and south (1). Members A
//     and B of user-1 each get one partition and read exactly its
//     updates; C, alone in user-2, reads all of them.
//  2. A is stopped (SIGTERM: kafkajs commits and leaves). Within the
//     session timeout B holds both partitions, and reads A's partition
//     from A's last commit: nothing skipped, nothing read twice.
//  3. D joins (B and D split the partitions), then E: with three members
//     and two partitions, one member's GROUP_JOIN carries no partition.
//  4. The owner of a partition is SIGKILLed in the middle of a batch,
//     before committing it. The broker expires its session, another
//     member takes the partition over and reads from the last commit:
//     at least once, the only records read twice being those the killed
//     member read but had not committed.
//  5. kafkajs's admin client sees both groups as the broker holds them:
//     listGroups, describeGroups (Stable, RoundRobinAssigner, the live
//     members and their decoded assignments) and fetchOffsets (the ends).
//
// Every record any member reads must be the one produced at that offset,
// and C must read every record exactly once, in order.

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// jsSessionTimeout is the members' session timeout: the broker's minimum
// (group.min.session.timeout.ms), so a killed member is noticed quickly.
const jsSessionTimeout = 6 * time.Second

// jsRead is one record a member's eachMessage saw.
type jsRead struct {
	p          int32
	o          int64
	key, value string
	run        int // how many GROUP_JOINs the member had seen before it
}

// jsMember is one groups.js consumer process and what it reported.
type jsMember struct {
	name string
	proc *child

	mu      sync.Mutex
	joins   [][]int32
	reads   []jsRead
	commits map[int32]int64 // the last committed offset per partition
	crashes []string
	stopped bool
}

// startJSMember runs `node groups.js consume` as member name of group.
// Values containing slowMarker take 100ms each to process (slow members
// only).
func startJSMember(t *testing.T, node, dir, addr, topic, group, name string, slow bool) *jsMember {
	t.Helper()
	spec := map[string]any{
		"brokers": []string{addr}, "topic": topic, "groupId": group, "clientId": name,
		"sessionTimeout": jsSessionTimeout.Milliseconds(), "heartbeatInterval": 300, "rebalanceTimeout": 10000,
		"deadlineMs": childLife.Milliseconds(),
	}
	if slow {
		spec["slowMarker"], spec["slowMs"] = "slow", 100
	}
	arg, err := json.Marshal(spec)
	if err != nil {
		t.Fatal(err)
	}
	m := &jsMember{name: name, commits: map[int32]int64{}}
	m.proc = startChild(t, name, m.event, nil, node, filepath.Join(dir, "groups.js"), "consume", string(arg))
	return m
}

// event records one line of the script's output.
func (m *jsMember) event(line string) {
	var ev struct {
		Ev         string  `json:"ev"`
		Assignment []int32 `json:"assignment"`
		P          int32   `json:"p"`
		O          string  `json:"o"`
		K, V       *string
		Offsets    []struct {
			P int32  `json:"p"`
			O string `json:"o"`
		} `json:"offsets"`
		Error string `json:"error"`
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := json.Unmarshal([]byte(line), &ev); err != nil {
		m.crashes = append(m.crashes, fmt.Sprintf("undecodable output %q: %v", line, err))
		return
	}
	switch ev.Ev {
	case "join":
		a := slices.Clone(ev.Assignment)
		slices.Sort(a)
		m.joins = append(m.joins, a)
	case "msg":
		o, err := strconv.ParseInt(ev.O, 10, 64)
		if err != nil || ev.K == nil || ev.V == nil {
			m.crashes = append(m.crashes, fmt.Sprintf("bad message event %q", line))
			return
		}
		m.reads = append(m.reads, jsRead{p: ev.P, o: o, key: *ev.K, value: *ev.V, run: len(m.joins)})
	case "commit":
		for _, c := range ev.Offsets {
			o, err := strconv.ParseInt(c.O, 10, 64)
			if err != nil {
				m.crashes = append(m.crashes, fmt.Sprintf("bad commit event %q", line))
				return
			}
			m.commits[c.P] = o
		}
	case "crash":
		m.crashes = append(m.crashes, "consumer crashed: "+ev.Error)
	case "stopped":
		m.stopped = true
	default:
		m.crashes = append(m.crashes, fmt.Sprintf("unknown event %q", line))
	}
}

// assignment is the member's partitions after its latest GROUP_JOIN, and
// whether it has joined at all.
func (m *jsMember) assignment() ([]int32, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if len(m.joins) == 0 {
		return nil, false
	}
	return m.joins[len(m.joins)-1], true
}

// joinCount is how many GROUP_JOINs the member has reported.
func (m *jsMember) joinCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.joins)
}

// offsets returns the offsets the member read of partition p, in order.
func (m *jsMember) offsets(p int32) []int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []int64
	for _, r := range m.reads {
		if r.p == p {
			out = append(out, r.o)
		}
	}
	return out
}

// readsSince returns the member's reads of p made after its n-th join.
func (m *jsMember) readsSince(p int32, n int) []int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []int64
	for _, r := range m.reads {
		if r.p == p && r.run > n {
			out = append(out, r.o)
		}
	}
	return out
}

// cleanStop reports whether the member said it disconnected after SIGTERM.
func (m *jsMember) cleanStop() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stopped
}

// lastCommit is the member's last committed offset of p, -1 if none.
func (m *jsMember) lastCommit(p int32) int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	if o, ok := m.commits[p]; ok {
		return o
	}
	return -1
}

// partitionsRead lists the partitions the member read from.
func (m *jsMember) partitionsRead() []int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []int32
	for _, r := range m.reads {
		if !slices.Contains(out, r.p) {
			out = append(out, r.p)
		}
	}
	slices.Sort(out)
	return out
}

// check fails the test if the member read a record other than the
// one produced at its offset, or reported a crash.
func (m *jsMember) check(t *testing.T, produced map[int32][]jsProduced) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, c := range m.crashes {
		t.Errorf("%s: %s", m.name, c)
	}
	for _, r := range m.reads {
		ps := produced[r.p]
		if r.o < 0 || r.o >= int64(len(ps)) || ps[r.o].key != r.key || ps[r.o].value != r.value {
			t.Errorf("%s read %d@%d = %q:%q, which was not produced there", m.name, r.p, r.o, r.key, r.value)
		}
	}
}

// jsProduced is a record the test produced.
type jsProduced struct{ key, value string }

// assignments renders the members' latest assignments.
func assignments(ms ...*jsMember) map[string][]int32 {
	out := map[string][]int32{}
	for _, m := range ms {
		a, _ := m.assignment()
		out[m.name] = a
	}
	return out
}

func TestKafkajsConsumerGroups(t *testing.T) {
	node, dir := requireKafkajs(t)
	b := startGroupBroker(t)
	const topic = "rider-updates"
	const wait = 20 * time.Second
	script := filepath.Join(dir, "groups.js")
	oneShot := func(mode string, spec map[string]any, out any) {
		t.Helper()
		spec["brokers"] = []string{b.Addr()}
		spec["topic"] = topic
		arg, err := json.Marshal(spec)
		if err != nil {
			t.Fatal(err)
		}
		stdout, stderr, err := run(t, nil, nil, node, script, mode, string(arg))
		if err == nil {
			err = json.Unmarshal(stdout, out)
		}
		if err != nil {
			t.Fatalf("groups.js %s: %v\nstdout:\n%s\nstderr:\n%s", mode, err, stdout, stderr)
		}
	}

	var created struct{ Created bool }
	oneShot("create", map[string]any{"numPartitions": 2}, &created)
	if !created.Created {
		t.Fatal("admin.createTopics answered false for a new topic")
	}

	// produce sends n updates to each partition in one producer.send and
	// records what is now at which offset.
	produced := map[int32][]jsProduced{}
	produce := func(phase string, n int, parts ...int32) {
		t.Helper()
		var msgs []map[string]any
		for _, p := range parts {
			for i := range n {
				k, v := riderUpdate(phase, p, len(produced[p])+i)
				msgs = append(msgs, map[string]any{"partition": p, "key": k, "value": v})
			}
		}
		var res struct {
			Results []struct {
				Partition  int32  `json:"partition"`
				BaseOffset string `json:"baseOffset"`
			}
		}
		oneShot("produce", map[string]any{"messages": msgs}, &res)
		if len(res.Results) != len(parts) {
			t.Fatalf("send %s: %d partition results, want %d", phase, len(res.Results), len(parts))
		}
		for _, r := range res.Results {
			if base, err := strconv.ParseInt(r.BaseOffset, 10, 64); err != nil || base != int64(len(produced[r.Partition])) {
				t.Fatalf("send %s: partition %d base offset %s, want %d", phase, r.Partition, r.BaseOffset, len(produced[r.Partition]))
			}
		}
		for _, m := range msgs {
			p := m["partition"].(int32)
			produced[p] = append(produced[p], jsProduced{m["key"].(string), m["value"].(string)})
		}
	}
	end := func(p int32) int64 { return int64(len(produced[p])) }

	// 1. Two members of user-1 split the partitions; user-2 gets both.
	a := startJSMember(t, node, dir, b.Addr(), topic, "user-1", "A", false)
	bm := startJSMember(t, node, dir, b.Addr(), topic, "user-1", "B", true)
	c := startJSMember(t, node, dir, b.Addr(), topic, "user-2", "C", false)
	waitFor(t, wait, "A and B to split the partitions, C to hold both", func() string {
		pa, _ := a.assignment()
		pb, _ := bm.assignment()
		pc, _ := c.assignment()
		if len(pa) != 1 || len(pb) != 1 || pa[0] == pb[0] || !slices.Equal(pc, []int32{0, 1}) {
			return describe(assignments(a, bm, c))
		}
		return ""
	})
	pa, _ := a.assignment()
	partA, partB := pa[0], 1-pa[0]
	const n1 = 20
	produce("first", n1, 0, 1)
	waitFor(t, wait, "the first updates to be read", func() string {
		for _, p := range []int32{0, 1} {
			if why := upTo(p, end(p), a, bm); why != "" {
				return "user-1: " + why
			}
			if why := upTo(p, end(p), c); why != "" {
				return "user-2: " + why
			}
		}
		return ""
	})
	for _, m := range []*jsMember{a, bm} {
		want := partA
		if m == bm {
			want = partB
		}
		if got := m.partitionsRead(); !slices.Equal(got, []int32{want}) {
			t.Fatalf("%s read partitions %v, want only %d", m.name, got, want)
		}
		if got := m.offsets(want); !slices.Equal(got, seq(0, end(want))) {
			t.Fatalf("%s read offsets %v of partition %d, want 0..%d once each", m.name, got, want, end(want)-1)
		}
	}

	// 2. A stops; B takes its partition over from A's last commit.
	joinsB := bm.joinCount() // before the stop: B may rejoin before stop returns
	stopAt := time.Now()
	a.proc.stop(t, syscall.SIGTERM, 15*time.Second)
	commitA := a.lastCommit(partA)
	if commitA != end(partA) {
		t.Fatalf("A's last commit of partition %d is %d, want %d: it read everything before stopping", partA, commitA, end(partA))
	}
	if got := committed(t, b.Addr(), "user-1", topic)[partA]; got != commitA {
		t.Fatalf("the broker has offset %d committed for partition %d; A's last acknowledged commit was %d", got, partA, commitA)
	}
	waitFor(t, wait, "B to hold both partitions", func() string {
		if pb, _ := bm.assignment(); !slices.Equal(pb, []int32{0, 1}) {
			return describe(assignments(bm))
		}
		return ""
	})
	if took := time.Since(stopAt); took >= jsSessionTimeout {
		t.Fatalf("B took %v to take over after A stopped, more than the session timeout %v", took, jsSessionTimeout)
	} else {
		t.Logf("B held both partitions %v after A was stopped", took.Round(time.Millisecond))
	}
	const n2 = 10
	produce("second", n2, 0, 1)
	waitFor(t, wait, "the second updates to be read", func() string {
		for _, p := range []int32{0, 1} {
			if why := upTo(p, end(p), bm); why != "" {
				return "B: " + why
			}
			if why := upTo(p, end(p), c); why != "" {
				return "C: " + why
			}
		}
		return ""
	})
	if got := bm.readsSince(partA, joinsB); !slices.Equal(got, seq(commitA, end(partA))) {
		t.Fatalf("after the takeover B read offsets %v of A's partition %d, want %d..%d: from A's last commit, once each", got, partA, commitA, end(partA)-1)
	}
	for _, p := range []int32{0, 1} {
		cons := consumption{partition: p, byMember: map[string][]int64{"A": a.offsets(p), "B": bm.offsets(p)}}
		if dups := cons.checkNoGaps(t, end(p)); len(dups) > 0 {
			t.Fatalf("partition %d: offsets %v read twice by user-1, though every read offset was committed before each rebalance", p, sortedKeys(dups))
		}
	}

	// 3. D joins, then E: three members for two partitions, one idle.
	// A member's latest GROUP_JOIN may be of the previous generation for a
	// moment after a newcomer's: wait for a join of every member since the
	// newcomer started.
	joinsB = bm.joinCount()
	d := startJSMember(t, node, dir, b.Addr(), topic, "user-1", "D", true)
	waitFor(t, wait, "B and D to split the partitions", func() string {
		pb, _ := bm.assignment()
		pd, _ := d.assignment()
		if bm.joinCount() == joinsB || len(pb) != 1 || len(pd) != 1 || pb[0] == pd[0] {
			return describe(assignments(bm, d))
		}
		return ""
	})
	joinsBefore := map[*jsMember]int{bm: bm.joinCount(), d: d.joinCount()}
	e := startJSMember(t, node, dir, b.Addr(), topic, "user-1", "E", true)
	var idle *jsMember
	waitFor(t, wait, "three members, one of them without a partition", func() string {
		idle = nil
		var all []int32
		for _, m := range []*jsMember{bm, d, e} {
			if m.joinCount() == joinsBefore[m] {
				return describe(assignments(bm, d, e)) + " (" + m.name + " has not rejoined)"
			}
			ps, joined := m.assignment()
			switch {
			case !joined || len(ps) > 1:
				return describe(assignments(bm, d, e))
			case len(ps) == 0:
				if idle != nil {
					return describe(assignments(bm, d, e))
				}
				idle = m
			}
			all = append(all, ps...)
		}
		slices.Sort(all)
		if idle == nil || !slices.Equal(all, []int32{0, 1}) {
			return describe(assignments(bm, d, e))
		}
		return ""
	})
	t.Logf("with three members: %s", describe(assignments(bm, d, e)))

	// 4. Kill the owner of a partition in the middle of a slow batch.
	var victim *jsMember
	var others []*jsMember
	for _, m := range []*jsMember{bm, d, e} {
		if ps, _ := m.assignment(); len(ps) == 1 && victim == nil {
			victim = m
		} else {
			others = append(others, m)
		}
	}
	vp, _ := victim.assignment()
	p := vp[0]
	base := committed(t, b.Addr(), "user-1", topic)[p]
	if base != end(p) {
		t.Fatalf("partition %d: offset %d committed before the third updates, want %d (all read)", p, base, end(p))
	}
	const n3 = 20
	produce("third slow", n3, p)
	waitFor(t, wait, victim.name+" to be in the middle of the slow batch", func() string {
		got := 0
		for _, o := range victim.offsets(p) {
			if o >= base {
				got++
			}
		}
		if got < 3 {
			return fmt.Sprintf("%s read %d of the slow batch", victim.name, got)
		}
		return ""
	})
	joinsBefore = map[*jsMember]int{}
	for _, m := range others {
		joinsBefore[m] = m.joinCount()
	}
	killAt := time.Now()
	victim.proc.stop(t, os.Kill, 10*time.Second)
	victimLast := slices.Max(victim.offsets(p))
	victimCommit := max(base, victim.lastCommit(p))
	var survivor *jsMember
	waitFor(t, jsSessionTimeout+wait, "another member to take partition "+strconv.Itoa(int(p))+" over", func() string {
		for _, m := range others {
			if ps, _ := m.assignment(); m.joinCount() > joinsBefore[m] && slices.Contains(ps, p) {
				survivor = m
				return ""
			}
		}
		return describe(assignments(others...))
	})
	took := time.Since(killAt)
	t.Logf("%s took partition %d over %v after %s was killed (session timeout %v)", survivor.name, p, took.Round(time.Millisecond), victim.name, jsSessionTimeout)
	if took > jsSessionTimeout+4*time.Second {
		t.Fatalf("the takeover took %v, far beyond the session timeout %v", took, jsSessionTimeout)
	}
	waitFor(t, wait, "the slow batch to be read again", func() string {
		if why := upTo(p, end(p), survivor); why != "" {
			return survivor.name + ": " + why
		}
		return upTo(p, end(p), c)
	})
	resumed := survivor.readsSince(p, joinsBefore[survivor])
	if len(resumed) == 0 || resumed[0] < victimCommit || resumed[0] > victimLast+1 {
		t.Fatalf("%s resumed partition %d at %v; %s had committed %d and read through %d", survivor.name, p, resumed, victim.name, victimCommit, victimLast)
	}
	cons := consumption{partition: p, byMember: map[string][]int64{}}
	for _, m := range []*jsMember{a, bm, d, e} {
		cons.byMember[m.name] = m.offsets(p)
	}
	dups := cons.checkNoGaps(t, end(p))
	for _, o := range sortedKeys(dups) {
		if o < victimCommit || o > victimLast {
			t.Fatalf("partition %d: offset %d read %d times; only %d..%d (read by %s, not committed) may be read again", p, o, dups[o], victimCommit, victimLast, victim.name)
		}
	}
	t.Logf("partition %d: %s read %d..%d without committing; %s read again from %d (%d records twice)", p, victim.name, base, victimLast, survivor.name, resumed[0], len(dups))

	// What kafkajs's admin client sees of the groups once both committed
	// everything: ListGroups, DescribeGroups, OffsetFetch.
	for _, g := range []string{"user-1", "user-2"} {
		waitFor(t, wait, g+" to commit everything", func() string {
			got := committed(t, b.Addr(), g, topic)
			if got[0] != end(0) || got[1] != end(1) {
				return fmt.Sprintf("committed %v, ends %d and %d", got, end(0), end(1))
			}
			return ""
		})
	}
	var seen struct {
		List []struct {
			GroupID      string `json:"groupId"`
			ProtocolType string `json:"protocolType"`
		} `json:"list"`
		Describe []struct {
			GroupID      string `json:"groupId"`
			State        string `json:"state"`
			ProtocolType string `json:"protocolType"`
			Protocol     string `json:"protocol"`
			ErrorCode    int16  `json:"errorCode"`
			Members      []struct {
				ClientID   string  `json:"clientId"`
				ClientHost string  `json:"clientHost"`
				Assignment []int32 `json:"assignment"`
			} `json:"members"`
		} `json:"describe"`
		Offsets map[string][]struct {
			Partition int32  `json:"partition"`
			Offset    string `json:"offset"`
		} `json:"offsets"`
	}
	oneShot("inspect", map[string]any{"groupIds": []string{"user-1", "user-2"}}, &seen)
	if got := fmt.Sprint(seen.List); got != "[{user-1 consumer} {user-2 consumer}]" {
		t.Errorf("admin.listGroups: %s", got)
	}
	wantMembers := map[string][]string{"user-1": {others[0].name, others[1].name}, "user-2": {"C"}}
	for _, g := range seen.Describe {
		var names []string
		var parts []int32
		for _, m := range g.Members {
			names = append(names, m.ClientID)
			parts = append(parts, m.Assignment...)
			if m.ClientHost != "/127.0.0.1" {
				t.Errorf("admin.describeGroups %s: member %s has client host %q", g.GroupID, m.ClientID, m.ClientHost)
			}
		}
		slices.Sort(parts)
		if g.State != "Stable" || g.ProtocolType != "consumer" || g.Protocol != "RoundRobinAssigner" || g.ErrorCode != 0 ||
			!slices.Equal(names, wantMembers[g.GroupID]) || !slices.Equal(parts, []int32{0, 1}) {
			t.Errorf("admin.describeGroups %s: %+v; want Stable, consumer, RoundRobinAssigner, members %v holding partitions 0 and 1 once", g.GroupID, g, wantMembers[g.GroupID])
		}
	}
	if len(seen.Describe) != 2 {
		t.Errorf("admin.describeGroups described %d groups, want 2", len(seen.Describe))
	}
	for _, g := range []string{"user-1", "user-2"} {
		want := fmt.Sprintf("[{0 %d} {1 %d}]", end(0), end(1))
		if got := fmt.Sprint(seen.Offsets[g]); got != want {
			t.Errorf("admin.fetchOffsets %s: %s, want %s", g, got, want)
		}
	}

	// user-2 read everything once, in order; nobody read a wrong record.
	for _, part := range []int32{0, 1} {
		if got := c.offsets(part); !slices.Equal(got, seq(0, end(part))) {
			t.Errorf("C (user-2) read offsets %v of partition %d, want 0..%d once each", got, part, end(part)-1)
		}
	}
	for _, m := range []*jsMember{a, bm, c, d, e} {
		m.check(t, produced)
	}
	if !a.cleanStop() {
		t.Error("A did not report a clean disconnect after SIGTERM")
	}
}

// seq returns from, from+1, ..., to-1.
func seq(from, to int64) []int64 {
	var out []int64
	for o := from; o < to; o++ {
		out = append(out, o)
	}
	return out
}
