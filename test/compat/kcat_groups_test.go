package compat

// kcat_groups_test.go plays the seed notes' consumer-group flow with kcat's
// balanced consumer (`kcat -G group topic`, librdkafka's KafkaConsumer with
// auto-commit), one kcat process per member, twice: with librdkafka's
// default eager range assignor and with its incremental cooperative-sticky
// one. kcat prints each rebalance on stderr ("% Group user-1 rebalanced
// (memberid ...): assigned: rider-updates [0]", or "incremental
// assignment"/"incremental revoke" of some partitions), which tells the
// test each member's partitions, and each record on stdout.
//
//  1. Members A and B of user-1 each get one of rider-updates' two
//     partitions and read exactly its updates; C, alone in user-2, reads
//     all of them.
//  2. A is stopped with SIGTERM (kcat closes the consumer: it commits what
//     it printed and leaves). Within the session timeout B holds both
//     partitions; the broker holds A's last commit, and B reads A's
//     partition from exactly there.
//  3. D joins (B and D split the partitions), then E: one of the three
//     members is assigned nothing.
//
// The broker's kill-a-member path (session expiry) is exercised with
// kafkajs in kafkajs_groups_test.go.

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testclient"
)

// kcatSessionTimeout is the members' session.timeout.ms.
const kcatSessionTimeout = 6 * time.Second

// kcatMember is one `kcat -G` process and what it printed.
type kcatMember struct {
	name string
	proc *child

	mu      sync.Mutex
	current []int32 // partitions of the latest assignment
	settled bool    // false between a revocation and the next assignment
	joined  bool
	assigns int // assignments printed so far
	reads   map[int32][]int64
	values  map[int32]map[int64]string // "key#value" read at each offset
	errs    []string
}

// partitionRE finds the partitions in kcat's "assigned: t [0], t [1]".
var partitionRE = regexp.MustCompile(`\[(\d+)\]`)

// startKcatMember runs kcat as member name of group.
func startKcatMember(t *testing.T, bin, addr, topic, group, name, strategy string) *kcatMember {
	t.Helper()
	m := &kcatMember{name: name, reads: map[int32][]int64{}, values: map[int32]map[int64]string{}}
	m.proc = startChild(t, name, m.record, m.rebalance, bin,
		"-b", addr, "-G", group, "-u", // -u: print each record at once
		"-X", "client.id="+name,
		"-X", "partition.assignment.strategy="+strategy,
		"-X", "topic.auto.offset.reset=earliest",
		"-X", fmt.Sprintf("session.timeout.ms=%d", kcatSessionTimeout.Milliseconds()),
		"-X", "heartbeat.interval.ms=300",
		"-X", "max.poll.interval.ms=10000", // librdkafka's rebalance timeout
		"-X", "auto.commit.interval.ms=200",
		"-X", "fetch.wait.max.ms=100",
		"-f", "%p|%o|%k#%s\n",
		topic)
	return m
}

// record parses one record line of stdout.
func (m *kcatMember) record(line string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	f := strings.SplitN(line, "|", 3)
	p, perr := strconv.ParseInt(f[0], 10, 32)
	var o int64
	var oerr error
	if len(f) == 3 {
		o, oerr = strconv.ParseInt(f[1], 10, 64)
	}
	if len(f) != 3 || perr != nil || oerr != nil {
		m.errs = append(m.errs, fmt.Sprintf("unexpected output %q", line))
		return
	}
	m.reads[int32(p)] = append(m.reads[int32(p)], o)
	if m.values[int32(p)] == nil {
		m.values[int32(p)] = map[int64]string{}
	}
	m.values[int32(p)][o] = f[2]
}

// rebalance follows kcat's stderr: assignments, revocations and errors.
func (m *kcatMember) rebalance(line string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	// The partitions a rebalance line lists follow its last colon:
	// eager "...: assigned: t [0], t [1]" or "...: revoked: t [0]" (the
	// whole assignment), cooperative "...: incremental assignment of 1
	// partition(s) (memberid ..., COOPERATIVE rebalance protocol): t [0]"
	// or "incremental revoke" (a change to it).
	var listed []int32
	if i := strings.LastIndex(line, ":"); i >= 0 {
		for _, sub := range partitionRE.FindAllStringSubmatch(line[i:], -1) {
			p, _ := strconv.ParseInt(sub[1], 10, 32)
			listed = append(listed, int32(p))
		}
	}
	rebalanced := strings.HasPrefix(line, "% Group ") && strings.Contains(line, " rebalanced")
	switch {
	case rebalanced && strings.Contains(line, "): assigned:"):
		m.current = listed
	case rebalanced && strings.Contains(line, "incremental assignment"):
		m.current = append(m.current, listed...)
	case rebalanced && strings.Contains(line, "): revoked:"):
		m.current, m.settled = nil, false
	case rebalanced && strings.Contains(line, "incremental revoke"):
		m.current = slices.DeleteFunc(m.current, func(p int32) bool { return slices.Contains(listed, p) })
		m.settled = false
	case strings.Contains(line, "ERROR"):
		m.errs = append(m.errs, line)
	}
	if rebalanced && (strings.Contains(line, "): assigned:") || strings.Contains(line, "incremental assignment")) {
		slices.Sort(m.current)
		m.settled, m.joined = true, true
		m.assigns++
	}
}

// assignment is the member's current partitions; ok is false before its
// first assignment and between a revocation and the next assignment.
func (m *kcatMember) assignment() (ps []int32, ok bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.current), m.joined && m.settled
}

// assignCount is how many assignments the member has printed.
func (m *kcatMember) assignCount() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.assigns
}

func (m *kcatMember) offsets(p int32) []int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.reads[p])
}

// check fails the test on kcat errors or a record other than the one
// produced at its offset.
func (m *kcatMember) check(t *testing.T, produced map[int32][]string) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.errs {
		t.Errorf("%s: %s", m.name, e)
	}
	for p, vs := range m.values {
		for o, v := range vs {
			if o >= int64(len(produced[p])) || produced[p][o] != v {
				t.Errorf("%s read %d@%d = %q, which was not produced there", m.name, p, o, v)
			}
		}
	}
}

// kcatAssignments renders the members' assignments ("?" while unsettled).
func kcatAssignments(ms ...*kcatMember) string {
	var s []string
	for _, m := range ms {
		ps, ok := m.assignment()
		if ok {
			s = append(s, fmt.Sprintf("%s=%v", m.name, ps))
		} else {
			s = append(s, m.name+"=?")
		}
	}
	return strings.Join(s, " ")
}

func TestKcatConsumerGroups(t *testing.T) {
	bin := requireKcat(t)
	// librdkafka's default eager range assignor, and its incremental
	// (KIP-429) cooperative-sticky one.
	for _, strategy := range []string{"range", "cooperative-sticky"} {
		t.Run(strategy, func(t *testing.T) { kcatConsumerGroups(t, bin, strategy) })
	}
}

func kcatConsumerGroups(t *testing.T, bin, strategy string) {
	b := startGroupBroker(t)
	k := kcat{bin: bin, addr: b.Addr()}
	const topic = "rider-updates"
	const wait = 20 * time.Second
	testclient.CreateTopic(t, b.Addr(), topic, 2, nil)

	produced := map[int32][]string{}
	produce := func(phase string, n int) {
		t.Helper()
		for _, p := range []int32{0, 1} {
			var in strings.Builder
			for i := range n {
				key, value := riderUpdate(phase, p, len(produced[p])+i)
				fmt.Fprintf(&in, "%s#%s\n", key, value)
				produced[p] = append(produced[p], key+"#"+value)
			}
			k.produce(t, topic, in.String(), "-p", strconv.Itoa(int(p)), "-K#")
		}
	}
	end := func(p int32) int64 { return int64(len(produced[p])) }

	// 1. A and B split the partitions; C (user-2) holds both.
	a := startKcatMember(t, bin, b.Addr(), topic, "user-1", "A", strategy)
	bm := startKcatMember(t, bin, b.Addr(), topic, "user-1", "B", strategy)
	c := startKcatMember(t, bin, b.Addr(), topic, "user-2", "C", strategy)
	waitFor(t, wait, "A and B to split the partitions, C to hold both", func() string {
		pa, oka := a.assignment()
		pb, okb := bm.assignment()
		pc, okc := c.assignment()
		if !oka || !okb || !okc || len(pa) != 1 || len(pb) != 1 || pa[0] == pb[0] || !slices.Equal(pc, []int32{0, 1}) {
			return kcatAssignments(a, bm, c)
		}
		return ""
	})
	pa, _ := a.assignment()
	partA, partB := pa[0], 1-pa[0]
	const n1 = 20
	produce("first", n1)
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
	for _, x := range []struct {
		m           *kcatMember
		mine, other int32
	}{{a, partA, partB}, {bm, partB, partA}} {
		if got := x.m.offsets(x.other); len(got) > 0 {
			t.Fatalf("%s read partition %d (offsets %v), which it was not assigned", x.m.name, x.other, got)
		}
		if got := x.m.offsets(x.mine); !slices.Equal(got, seq(0, end(x.mine))) {
			t.Fatalf("%s read offsets %v of partition %d, want 0..%d once each", x.m.name, got, x.mine, end(x.mine)-1)
		}
	}

	// 2. A stops; the broker has its last commit and B resumes from it.
	stopAt := time.Now()
	a.proc.stop(t, syscall.SIGTERM, 15*time.Second)
	waitFor(t, wait, "B to hold both partitions", func() string {
		if pb, ok := bm.assignment(); !ok || !slices.Equal(pb, []int32{0, 1}) {
			return kcatAssignments(bm)
		}
		return ""
	})
	if took := time.Since(stopAt); took >= kcatSessionTimeout {
		t.Fatalf("B took %v to take over after A stopped, more than the session timeout %v", took, kcatSessionTimeout)
	} else {
		t.Logf("B held both partitions %v after A was stopped", took.Round(time.Millisecond))
	}
	// kcat commits what it printed when it closes, before leaving.
	if got := committed(t, b.Addr(), "user-1", topic)[partA]; got != end(partA) {
		t.Fatalf("partition %d: the broker has offset %d committed after A closed, want %d (A read all)", partA, got, end(partA))
	}
	const n2 = 10
	produce("second", n2)
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
	if got, want := bm.offsets(partA), seq(n1, end(partA)); !slices.Equal(got, want) {
		t.Fatalf("B read offsets %v of A's partition %d, want %v: from A's commit, once each", got, partA, want)
	}
	if got := bm.offsets(partB); !slices.Equal(got, seq(0, end(partB))) {
		t.Fatalf("B read offsets %v of its partition %d across the rebalance, want 0..%d once each", got, partB, end(partB)-1)
	}

	// 3. D joins, then E: three members, two partitions, one idle.
	// Another process's lines may be read first: wait for an assignment
	// of every member since the newcomer started.
	assignsB := bm.assignCount()
	d := startKcatMember(t, bin, b.Addr(), topic, "user-1", "D", strategy)
	waitFor(t, wait, "B and D to split the partitions", func() string {
		pb, okb := bm.assignment()
		pd, okd := d.assignment()
		if !okb || !okd || bm.assignCount() == assignsB || len(pb) != 1 || len(pd) != 1 || pb[0] == pd[0] {
			return kcatAssignments(bm, d)
		}
		return ""
	})
	before := map[*kcatMember]int{bm: bm.assignCount(), d: d.assignCount()}
	e := startKcatMember(t, bin, b.Addr(), topic, "user-1", "E", strategy)
	waitFor(t, wait, "three members, one of them without a partition", func() string {
		var sizes []int
		var all []int32
		for _, m := range []*kcatMember{bm, d, e} {
			ps, ok := m.assignment()
			if !ok || m.assignCount() == before[m] {
				return kcatAssignments(bm, d, e)
			}
			sizes = append(sizes, len(ps))
			all = append(all, ps...)
		}
		slices.Sort(sizes)
		slices.Sort(all)
		if !slices.Equal(sizes, []int{0, 1, 1}) || !slices.Equal(all, []int32{0, 1}) {
			return kcatAssignments(bm, d, e)
		}
		return ""
	})
	t.Logf("with three members: %s", kcatAssignments(bm, d, e))
	// The group goes on from its commits: a third round of updates is read
	// once, by the two members holding the partitions.
	produce("third", 5)
	waitFor(t, wait, "the third updates to be read", func() string {
		for _, p := range []int32{0, 1} {
			if why := upTo(p, end(p), bm, d, e); why != "" {
				return why
			}
		}
		return upTo(0, end(0), c) + upTo(1, end(1), c)
	})
	for _, p := range []int32{0, 1} {
		cons := consumption{partition: p, byMember: map[string][]int64{}}
		for _, m := range []*kcatMember{a, bm, d, e} {
			cons.byMember[m.name] = m.offsets(p)
		}
		if dups := cons.checkNoGaps(t, end(p)); len(dups) > 0 {
			t.Fatalf("partition %d: offsets %v read twice by user-1, though every member committed before each rebalance", p, sortedKeys(dups))
		}
		if got := c.offsets(p); !slices.Equal(got, seq(0, end(p))) {
			t.Errorf("C (user-2) read offsets %v of partition %d, want 0..%d once each", got, p, end(p)-1)
		}
	}
	for _, m := range []*kcatMember{a, bm, c, d, e} {
		m.check(t, produced)
	}
}
