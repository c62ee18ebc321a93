package sarama_test

// member_test.go: a sarama ConsumerGroup member that records its sessions,
// claims and reads, and the checks the group flow makes of what members
// read.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/IBM/sarama"
)

// read is one record a member's ConsumeClaim received.
type read struct {
	p          int32
	o          int64
	key, value string
	gen        int32 // the session's generation when it was read
}

// claim is one call of a member's ConsumeClaim.
type claim struct {
	p   int32
	gen int32
}

// member is one sarama ConsumerGroup in a group, consuming topic from a
// goroutine of its own until it is closed, and what it saw.
type member struct {
	name string
	cg   sarama.ConsumerGroup
	done chan struct{} // closed once the Consume loop and error drain return

	mu       sync.Mutex
	sess     sarama.ConsumerGroupSession // between Setup and Cleanup, else nil
	reads    []read
	claims   []claim
	noMark   bool // read without marking, so nothing more is committed
	errs     []string
	isClosed bool
}

// startMember starts member name of group with balance strategy s.
func startMember(t *testing.T, addr, group, name string, s func() sarama.BalanceStrategy) *member {
	t.Helper()
	c := baseConfig(name)
	c.Consumer.Group.Session.Timeout = sessionTimeout
	c.Consumer.Group.Heartbeat.Interval = time.Second
	c.Consumer.Group.Rebalance.Timeout = wait
	c.Consumer.Group.Rebalance.GroupStrategies = []sarama.BalanceStrategy{s()}
	c.Consumer.Offsets.Initial = sarama.OffsetOldest
	c.Consumer.Offsets.AutoCommit.Enable = true
	c.Consumer.Offsets.AutoCommit.Interval = 200 * time.Millisecond
	c.Consumer.MaxWaitTime = 200 * time.Millisecond
	c.Consumer.Return.Errors = true
	cg, err := sarama.NewConsumerGroup([]string{addr}, group, c)
	if err != nil {
		t.Fatalf("%s: sarama.NewConsumerGroup: %v", name, err)
	}
	m := &member{name: name, cg: cg, done: make(chan struct{})}
	var wg sync.WaitGroup
	wg.Add(2)
	go func() {
		defer wg.Done()
		for err := range cg.Errors() {
			m.addErr("consumer group error: %v", err)
		}
	}()
	go func() {
		defer wg.Done()
		// With an eager strategy each rebalance ends Consume; a
		// cooperative session outlives them. Either way, Consume is
		// called again until the group is closed.
		for {
			err := cg.Consume(context.Background(), []string{topic}, m)
			if errors.Is(err, sarama.ErrClosedConsumerGroup) {
				return
			}
			if err != nil {
				m.addErr("Consume: %v", err)
				time.Sleep(100 * time.Millisecond)
			}
		}
	}()
	go func() {
		wg.Wait()
		close(m.done)
	}()
	t.Cleanup(func() { m.close(t) })
	return m
}

// Setup implements sarama.ConsumerGroupHandler.
func (m *member) Setup(sess sarama.ConsumerGroupSession) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sess = sess
	return nil
}

// Cleanup implements sarama.ConsumerGroupHandler.
func (m *member) Cleanup(sarama.ConsumerGroupSession) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sess = nil
	return nil
}

// ConsumeClaim implements sarama.ConsumerGroupHandler: it records each
// record and, unless noMark is set, marks it for the next auto-commit.
func (m *member) ConsumeClaim(sess sarama.ConsumerGroupSession, cl sarama.ConsumerGroupClaim) error {
	m.mu.Lock()
	m.claims = append(m.claims, claim{cl.Partition(), sess.GenerationID()})
	m.mu.Unlock()
	if cl.Topic() != topic {
		return fmt.Errorf("claimed %s-%d, not of %s", cl.Topic(), cl.Partition(), topic)
	}
	for {
		select {
		case msg, ok := <-cl.Messages():
			if !ok { // revoked
				return nil
			}
			m.mu.Lock()
			m.reads = append(m.reads, read{msg.Partition, msg.Offset, string(msg.Key), string(msg.Value), sess.GenerationID()})
			mark := !m.noMark
			m.mu.Unlock()
			if mark {
				sess.MarkMessage(msg, "")
			}
		case <-sess.Context().Done():
			return nil
		}
	}
}

func (m *member) addErr(format string, args ...any) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.errs = append(m.errs, fmt.Sprintf(format, args...))
}

// close closes the consumer group: sarama ends the session, commits the
// marked offsets and leaves the group. It fails the test if that fails or
// takes longer than wait.
func (m *member) close(t *testing.T) {
	t.Helper()
	m.mu.Lock()
	if m.isClosed {
		m.mu.Unlock()
		return
	}
	m.isClosed = true
	m.mu.Unlock()
	closed := make(chan error, 1)
	go func() { closed <- m.cg.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("close %s: %v", m.name, err)
		}
	case <-time.After(wait):
		t.Errorf("close %s: not done after %v", m.name, wait)
		return
	}
	select {
	case <-m.done:
	case <-time.After(wait):
		t.Errorf("%s: Consume did not return within %v of Close", m.name, wait)
	}
}

// assignment is the member's claims and generation in its live session;
// live is false between sessions.
func (m *member) assignment() (parts []int32, gen int32, live bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.sess == nil {
		return nil, 0, false
	}
	parts = slices.Clone(m.sess.Claims()[topic])
	slices.Sort(parts)
	return parts, m.sess.GenerationID(), true
}

// offsets returns the offsets of p the member read in generations after
// since, in order.
func (m *member) offsets(p int32, since int32) []int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []int64
	for _, r := range m.reads {
		if r.p == p && r.gen > since {
			out = append(out, r.o)
		}
	}
	return out
}

// partitionsRead lists the partitions the member read from.
func (m *member) partitionsRead() []int32 {
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

// claimsIn lists the partitions ConsumeClaim was called for in
// generations after since.
func (m *member) claimsIn(since int32) []int32 {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []int32
	for _, c := range m.claims {
		if c.gen > since {
			out = append(out, c.p)
		}
	}
	return out
}

func (m *member) setNoMark() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.noMark = true
}

// check fails the test if the member read a record other than the one
// produced at its offset, or saw an error.
func (m *member) check(t *testing.T, recs produced) {
	t.Helper()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, e := range m.errs {
		t.Errorf("%s: %s", m.name, e)
	}
	for _, r := range m.reads {
		ps := recs[r.p]
		if r.o < 0 || r.o >= int64(len(ps)) || ps[r.o] != (record{r.key, r.value}) {
			t.Errorf("%s read %d@%d = %q:%q, which was not produced there", m.name, r.p, r.o, r.key, r.value)
		}
	}
}

// stable reports "" once every member has a live session of one
// generation, later than after, and the members' claims are want (by
// member, nil for "any one partition each, all distinct"). It returns
// that generation.
func stable(after int32, ms ...*member) (string, int32) {
	var gen int32
	for i, m := range ms {
		_, g, live := m.assignment()
		if !live {
			return describe(ms...) + " (" + m.name + " has no session)", 0
		}
		if i > 0 && g != gen {
			return describe(ms...) + " (generations differ)", 0
		}
		gen = g
	}
	if gen <= after {
		return describe(ms...) + fmt.Sprintf(" (generation %d, want one after %d)", gen, after), 0
	}
	return "", gen
}

// describe renders the members' claims and generations for messages.
func describe(ms ...*member) string {
	var s []string
	for _, m := range ms {
		parts, gen, live := m.assignment()
		if !live {
			s = append(s, m.name+"=none")
			continue
		}
		s = append(s, fmt.Sprintf("%s=%v@g%d", m.name, parts, gen))
	}
	return strings.Join(s, " ")
}

// readUpTo reports "" once the members together read p through end-1.
func readUpTo(p int32, end int64, ms ...*member) string {
	high := int64(-1)
	for _, m := range ms {
		for _, o := range m.offsets(p, -1) {
			high = max(high, o)
		}
	}
	if high < end-1 {
		return fmt.Sprintf("partition %d read up to %d, want %d", p, high, end-1)
	}
	return ""
}

// timesRead counts how often the members together read each offset of p.
func timesRead(p int32, ms ...*member) map[int64]int {
	n := map[int64]int{}
	for _, m := range ms {
		for _, o := range m.offsets(p, -1) {
			n[o]++
		}
	}
	return n
}

// checkOnce fails the test unless the members together read each offset
// of p in [0, end) exactly once, except those in twice, which they must
// have read exactly twice.
func checkOnce(t *testing.T, p int32, end int64, twice []int64, ms ...*member) {
	t.Helper()
	n := timesRead(p, ms...)
	var bad []string
	for o := range end {
		want := 1
		if slices.Contains(twice, o) {
			want = 2
		}
		if n[o] != want {
			bad = append(bad, fmt.Sprintf("%d read %d times, want %d", o, n[o], want))
		}
		delete(n, o)
	}
	for o, k := range n {
		bad = append(bad, fmt.Sprintf("%d (beyond the end %d) read %d times", o, end, k))
	}
	if len(bad) > 0 {
		t.Fatalf("partition %d: %s", p, strings.Join(bad, "; "))
	}
}
