package groups

// storm_test.go: the rebalance storm (see doc.go).

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	stormTopic      = "storm"
	stormPartitions = 4
	// stormFor is how long members churn while the producer writes.
	stormFor = 12 * time.Second
	// stormSlots is how many members of each churning group live at once.
	stormSlots = 6
	// produceEvery paces the producer: about 500 records a second.
	produceEvery = 2 * time.Millisecond
	// drainFor bounds the wait, after the storm, for every group to have
	// consumed every record.
	drainFor = 30 * time.Second
)

// style is how a group's members consume and commit.
type style int

const (
	// eagerExplicit: range balancer (eager), no auto-commit; after each
	// poll the member commits what it polled, and it commits again when
	// partitions are revoked. Rebalances wait while a poll is processed.
	eagerExplicit style = iota
	// cooperativeAuto: cooperative-sticky balancer, kgo's auto-commit
	// (every 200ms, on revocation and on close).
	cooperativeAuto
)

// groupLog is what the members of one group consumed, together.
type groupLog struct {
	name  string
	style style

	mu         sync.Mutex
	seen       map[int32]map[int64]string // offset -> value, per partition
	reads      int
	members    int
	assigns    int
	commitErrs map[string]int
	errs       []error
}

func newGroupLog(name string, s style) *groupLog {
	return &groupLog{name: name, style: s, seen: map[int32]map[int64]string{}, commitErrs: map[string]int{}}
}

func (g *groupLog) record(rs []*kgo.Record) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, r := range rs {
		m := g.seen[r.Partition]
		if m == nil {
			m = map[int64]string{}
			g.seen[r.Partition] = m
		}
		if old, ok := m[r.Offset]; ok && old != string(r.Value) {
			g.errs = append(g.errs, fmt.Errorf("%d@%d read as %q and as %q", r.Partition, r.Offset, old, r.Value))
		}
		m[r.Offset] = string(r.Value)
		g.reads++
	}
}

func (g *groupLog) commitErr(err error) {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, kgo.ErrClientClosed) {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.commitErrs[err.Error()]++
}

func (g *groupLog) fail(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.errs = append(g.errs, err)
}

// missing returns how many of the produced records the group has not
// consumed, and the first one.
func (g *groupLog) missing(produced map[int32]map[int64]string) (int, string) {
	g.mu.Lock()
	defer g.mu.Unlock()
	n, first := 0, ""
	for p, offs := range produced {
		for o := range offs {
			if _, ok := g.seen[p][o]; !ok {
				if n == 0 {
					first = fmt.Sprintf("%d@%d", p, o)
				}
				n++
			}
		}
	}
	return n, first
}

// member is one group consumer.
type member struct {
	cl     *kgo.Client
	g      *groupLog
	cancel context.CancelFunc
	done   chan struct{}
}

// startMember joins g's group with g's style and consumes until stopped;
// it returns nil (failing the test) if the client cannot be created. It
// may be called from any goroutine.
func startMember(t *testing.T, addr string, g *groupLog, name string) *member {
	opts := []kgo.Opt{
		kgo.SeedBrokers(addr),
		kgo.ClientID(name),
		kgo.ConsumerGroup(g.name),
		kgo.ConsumeTopics(stormTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.SessionTimeout(6 * time.Second),
		kgo.RebalanceTimeout(6 * time.Second),
		kgo.HeartbeatInterval(100 * time.Millisecond),
		kgo.FetchMaxWait(100 * time.Millisecond),
		kgo.OnPartitionsAssigned(func(context.Context, *kgo.Client, map[string][]int32) {
			g.mu.Lock()
			g.assigns++
			g.mu.Unlock()
		}),
	}
	switch g.style {
	case eagerExplicit:
		opts = append(opts,
			kgo.Balancers(kgo.RangeBalancer()),
			kgo.DisableAutoCommit(),
			kgo.BlockRebalanceOnPoll(),
			kgo.OnPartitionsRevoked(func(ctx context.Context, cl *kgo.Client, _ map[string][]int32) {
				g.commitErr(cl.CommitUncommittedOffsets(ctx))
			}))
	case cooperativeAuto:
		opts = append(opts,
			kgo.Balancers(kgo.CooperativeStickyBalancer()),
			kgo.AutoCommitInterval(200*time.Millisecond))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		t.Errorf("%s: %v", name, err)
		return nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &member{cl: cl, g: g, cancel: cancel, done: make(chan struct{})}
	g.mu.Lock()
	g.members++
	g.mu.Unlock()
	go m.run(ctx)
	return m
}

func (m *member) run(ctx context.Context) {
	defer close(m.done)
	for {
		fs := m.cl.PollFetches(ctx)
		// Whatever a poll returned counts as consumed, even when the
		// member is being stopped: auto-commit may already commit it.
		m.g.record(fs.Records())
		fs.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.Canceled) && !errors.Is(err, kgo.ErrClientClosed) {
				m.g.fail(fmt.Errorf("fetch %s-%d: %w", topic, p, err))
			}
		})
		if m.g.style == eagerExplicit {
			if len(fs.Records()) > 0 {
				m.g.commitErr(m.cl.CommitUncommittedOffsets(ctx))
			}
			m.cl.AllowRebalance()
		}
		if ctx.Err() != nil || fs.IsClientClosed() {
			return
		}
	}
}

// stop ends the poll loop and closes the client, which commits (through
// the revocation callback or auto-commit) and leaves the group.
func (m *member) stop() {
	m.cancel()
	<-m.done
	m.cl.AllowRebalance()
	m.cl.Close()
}

// offsetWatch polls the groups' committed offsets and remembers any that
// went backwards or past the log end.
type offsetWatch struct {
	adm    *kadm.Client
	groups []string

	mu         sync.Mutex
	last       map[string]map[int32]int64
	polls      int
	violations []string
}

func (w *offsetWatch) poll(ctx context.Context) {
	resps := w.adm.FetchManyOffsets(ctx, w.groups...)
	// The log ends are read after the commits: a commit is of records
	// consumed, so it is at or below them.
	listed, err := w.adm.ListEndOffsets(ctx, stormTopic)
	if err == nil {
		err = listed.Error()
	}
	hw := map[int32]int64{}
	if err == nil {
		listed.Each(func(o kadm.ListedOffset) { hw[o.Partition] = o.Offset })
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.polls++
	for _, g := range w.groups {
		r, ok := resps[g]
		if !ok || r.Err != nil {
			continue // a poll racing the broker's answer; the next one counts
		}
		for p, o := range r.Fetched[stormTopic] {
			if o.Err != nil {
				continue
			}
			if prev, ok := w.last[g][p]; ok && o.At < prev {
				w.violations = append(w.violations, fmt.Sprintf("%s partition %d: committed offset went from %d back to %d", g, p, prev, o.At))
			}
			if end, ok := hw[p]; ok && o.At > end {
				w.violations = append(w.violations, fmt.Sprintf("%s partition %d: committed offset %d is past the log end %d", g, p, o.At, end))
			}
			if w.last[g] == nil {
				w.last[g] = map[int32]int64{}
			}
			w.last[g][p] = o.At
		}
	}
}

func TestRebalanceStorm(t *testing.T) {
	b := testbroker.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	admCl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr))
	if err != nil {
		t.Fatal(err)
	}
	defer admCl.Close()
	adm := kadm.NewClient(admCl)
	if resp, err := adm.CreateTopic(ctx, stormPartitions, 1, nil, stormTopic); err != nil || resp.Err != nil {
		t.Fatalf("create topic: %v %v", err, resp.Err)
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, seed>>7))

	eager := newGroupLog("storm-eager", eagerExplicit)
	coop := newGroupLog("storm-cooperative", cooperativeAuto)
	steady := newGroupLog("storm-steady", cooperativeAuto)
	groups := []*groupLog{eager, coop, steady}

	// The producer: acknowledged records by partition and offset.
	var (
		prodMu   sync.Mutex
		produced = map[int32]map[int64]string{}
		prodErrs []error
	)
	prod, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.DefaultProduceTopic(stormTopic),
		kgo.RecordPartitioner(kgo.ManualPartitioner()), kgo.ProducerLinger(time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer prod.Close()
	ends := func() map[int32]int64 {
		prodMu.Lock()
		defer prodMu.Unlock()
		out := map[int32]int64{}
		for p, offs := range produced {
			out[p] = int64(len(offs))
		}
		return out
	}

	watch := &offsetWatch{adm: adm, last: map[string]map[int32]int64{}}
	for _, g := range groups {
		watch.groups = append(watch.groups, g.name)
	}
	stopWatch := make(chan struct{})
	watchDone := make(chan struct{})
	go func() {
		defer close(watchDone)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stopWatch:
				return
			case <-tick.C:
				pctx, pcancel := context.WithTimeout(ctx, 5*time.Second)
				watch.poll(pctx)
				pcancel()
			}
		}
	}()

	steadyMember := startMember(t, b.Addr, steady, "steady")
	if steadyMember == nil {
		t.FailNow()
	}

	stormEnd := time.Now().Add(stormFor)
	var wg sync.WaitGroup
	// The producer writes until the storm ends.
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; time.Now().Before(stormEnd); i++ {
			p := int32(i % stormPartitions)
			r := &kgo.Record{Partition: p, Value: fmt.Appendf(nil, "%d-%07d", p, i)}
			prod.Produce(ctx, r, func(r *kgo.Record, err error) {
				prodMu.Lock()
				defer prodMu.Unlock()
				if err != nil {
					prodErrs = append(prodErrs, err)
					return
				}
				if produced[r.Partition] == nil {
					produced[r.Partition] = map[int64]string{}
				}
				produced[r.Partition][r.Offset] = string(r.Value)
			})
			time.Sleep(produceEvery)
		}
		if err := prod.Flush(ctx); err != nil {
			prodMu.Lock()
			prodErrs = append(prodErrs, err)
			prodMu.Unlock()
		}
	}()
	// Each slot of each churning group runs members one after another,
	// each living 1-3s, until the storm ends.
	for _, g := range []*groupLog{eager, coop} {
		for slot := range stormSlots {
			lifetimes := make([]time.Duration, 0, 16)
			for total := time.Duration(0); total < stormFor && len(lifetimes) < cap(lifetimes); {
				d := time.Second + time.Duration(rng.Int64N(int64(2*time.Second)))
				lifetimes = append(lifetimes, d)
				total += d
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i, life := range lifetimes {
					if !time.Now().Before(stormEnd) {
						return
					}
					m := startMember(t, b.Addr, g, fmt.Sprintf("%s-%d-%d", g.name, slot, i))
					if m == nil {
						return
					}
					time.Sleep(min(life, time.Until(stormEnd)))
					m.stop()
				}
			}()
		}
	}
	wg.Wait()

	prodMu.Lock()
	for _, err := range prodErrs {
		t.Errorf("produce: %v", err)
	}
	total := 0
	for _, offs := range produced {
		total += len(offs)
	}
	prodMu.Unlock()
	if t.Failed() {
		t.FailNow()
	}

	for _, g := range groups {
		n, _ := g.missing(produced)
		t.Logf("%s: %d of %d records consumed during the storm", g.name, total-n, total)
	}
	// After the storm one member per churning group reads what is left.
	drainStart := time.Now()
	finals := []*member{startMember(t, b.Addr, eager, "final-eager"), startMember(t, b.Addr, coop, "final-cooperative")}
	if finals[0] == nil || finals[1] == nil {
		t.FailNow()
	}
	// The drain ends once every group has consumed every record and
	// committed the log end (a member's last commit may have failed in a
	// rebalance; then the final member reads those records again).
	hw := ends()
	atEnd := func(g *groupLog) string {
		if n, first := g.missing(produced); n > 0 {
			return fmt.Sprintf("%d of %d produced records never consumed (first %s)", n, total, first)
		}
		got, err := adm.FetchOffsets(ctx, g.name)
		if err == nil {
			err = got.Error()
		}
		if err != nil {
			return fmt.Sprintf("fetch offsets: %v", err)
		}
		for p := int32(0); p < stormPartitions; p++ {
			if o, ok := got.Lookup(stormTopic, p); !ok || o.At != hw[p] {
				return fmt.Sprintf("partition %d committed %+v, the log end is %d", p, o.Offset, hw[p])
			}
		}
		return ""
	}
	deadline := time.Now().Add(drainFor)
	for _, g := range groups {
		for why := atEnd(g); why != ""; why = atEnd(g) {
			if time.Now().After(deadline) {
				t.Fatalf("%s, %v after the storm: %s", g.name, drainFor, why)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	t.Logf("every group consumed every record and committed the log end %v after the storm", time.Since(drainStart).Round(time.Millisecond))
	for _, m := range append(finals, steadyMember) {
		m.stop()
	}
	// Leaving commits nothing else: the offsets stay at the log end.
	close(stopWatch)
	<-watchDone
	for _, g := range groups {
		if why := atEnd(g); why != "" {
			t.Errorf("%s, after the last member left: %s", g.name, why)
		}
	}
	watch.poll(ctx)

	watch.mu.Lock()
	for _, v := range watch.violations {
		t.Error(v)
	}
	polls := watch.polls
	watch.mu.Unlock()
	for _, g := range groups {
		g.mu.Lock()
		for _, err := range g.errs {
			t.Errorf("%s: %v", g.name, err)
		}
		var errs []string
		for e, n := range g.commitErrs {
			errs = append(errs, fmt.Sprintf("%dx %s", n, e))
		}
		sort.Strings(errs)
		t.Logf("%s: %d members, %d assignments, %d records read for %d produced (%.2fx), commit errors %v",
			g.name, g.members, g.assigns, g.reads, total, float64(g.reads)/float64(total), errs)
		g.mu.Unlock()
	}
	t.Logf("%d records produced over %v; committed offsets polled %d times", total, stormFor, polls)
}
