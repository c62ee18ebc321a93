package txn

// model_test.go is the coordinator's model-based test, in the manner of
// pebble's metamorphic test: random sequences of requests (InitProducerId
// from old and new producers, AddPartitionsToTxn, AddOffsetsToTxn,
// verification, EndTxn alone and from two goroutines at once), clock jumps
// past transaction timeouts and id expiry, markers that fail, and crashes
// (a vfs.MemFS crash clone, at rest, while markers are being written and
// while an EndTxn is being stored) are applied to the coordinator and to a
// small reference model. After each step the coordinator must agree with
// the model (answers, states, producer ids and epochs, partitions) and
// keep the invariants: the markers written are exactly those of the
// transactions the model completed, with their outcome; nothing is left
// prepared once recovery has run; epochs only grow; every state validates.
// A failure names its seed and step; TXN_MODEL_SEED reruns one seed.

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/vfs"
	"github.com/twmb/franz-go/pkg/kerr"
)

// modelTxn is the model of one transactional id.
type modelTxn struct {
	pid       int64
	epoch     int16
	ongoing   bool
	parts     map[Partition]bool
	groups    map[string]bool
	start     time.Time
	timeoutMs int32
	ended     string // state when not ongoing: Empty, CompleteCommit or CompleteAbort
}

// producer is a client holding a producer id and epoch for an id; old
// ones are fenced.
type producer struct {
	id    string
	pid   int64
	epoch int16
}

type model struct {
	t       *testing.T
	h       *harness
	r       *rand.Rand
	txns    map[string]*modelTxn
	clients []producer
	// want is what the markers written since the last check must be.
	want map[marker]bool
	// seen is each id's last producer id and epoch, to check they grow.
	seen map[string]producer
	step int
	// markers counts the markers checked; codes counts answers by code,
	// so the log shows the run exercised more than the happy path.
	markers int
	codes   map[int16]int
	ended   map[string]int // transactions completed, by outcome, and crashes
}

func TestModel(t *testing.T) {
	seeds := []uint64{1, 2, 3, 4, 5, 6}
	if s := os.Getenv("TXN_MODEL_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("TXN_MODEL_SEED: %v", err)
		}
		seeds = []uint64{n}
	}
	steps := 150
	if testing.Short() {
		steps = 40
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			t.Parallel()
			runModel(t, seed, steps)
		})
	}
}

func runModel(t *testing.T, seed uint64, steps int) {
	h := newHarness(t, func(o *Options) {
		// The test runs the housekeeping itself, at the moments it
		// chooses, so that the model knows when it ran.
		o.AbortInterval, o.RemoveExpiredInterval = 1<<20*time.Hour, 1<<20*time.Hour
		o.EndTxnWait = -1
	})
	m := &model{t: t, h: h, r: rand.New(rand.NewPCG(seed, seed)), txns: map[string]*modelTxn{},
		want: map[marker]bool{}, seen: map[string]producer{}, codes: map[int16]int{}, ended: map[string]int{}}
	ops := []struct {
		weight int
		do     func()
	}{
		{6, m.opInit}, {16, m.opAdd}, {8, m.opAddOffsets}, {6, m.opVerify},
		{14, m.opEnd}, {3, m.opEndTwice}, {3, m.opJump}, {2, m.opCrash},
		{2, m.opCrashWhileCompleting}, {2, m.opCrashDuringEnd}, {2, m.opFlakyMarkers},
	}
	total := 0
	for _, op := range ops {
		total += op.weight
	}
	for m.step = 0; m.step < steps; m.step++ {
		n := m.r.IntN(total)
		for _, op := range ops {
			if n -= op.weight; n < 0 {
				op.do()
				break
			}
		}
		m.h.settle()
		m.check()
	}
	t.Logf("seed %d: %d steps, %d markers checked, answers by code %v, events %v", seed, steps, m.markers, m.codes, m.ended)
}

func (m *model) fatalf(format string, args ...any) {
	m.t.Helper()
	m.t.Fatalf("step %d: "+format, append([]any{m.step}, args...)...)
}

func (m *model) pickID() string { return []string{"a", "b", "c"}[m.r.IntN(3)] }

// pickClient returns a producer, usually an id's current one, sometimes
// any that ever was (most of them fenced), or false if none.
func (m *model) pickClient() (producer, bool) {
	if len(m.clients) == 0 {
		return producer{}, false
	}
	if mt := m.txns[m.pickID()]; mt != nil && m.r.IntN(5) > 0 {
		for _, p := range slices.Backward(m.clients) {
			if p.pid == mt.pid && p.epoch == mt.epoch {
				return p, true
			}
		}
	}
	return m.clients[m.r.IntN(len(m.clients))], true
}

// expectProducer is the code every transactional request answers for p
// before looking at the transaction.
func (m *model) expectProducer(p producer) (mt *modelTxn, code int16) {
	defer func() { m.codes[code]++ }()
	mt = m.txns[p.id]
	switch {
	case mt == nil || mt.pid != p.pid:
		return nil, kerr.InvalidProducerIDMapping.Code
	case mt.epoch != p.epoch:
		return nil, kerr.ProducerFenced.Code
	}
	return mt, 0
}

// complete records that the model expects mt's markers with outcome.
func (m *model) complete(mt *modelTxn, commit bool) {
	for p := range mt.parts {
		m.want[marker{pid: mt.pid, epoch: mt.epoch, commit: commit, part: p}] = true
	}
	for g := range mt.groups {
		m.want[marker{pid: mt.pid, epoch: mt.epoch, commit: commit, group: g}] = true
	}
	mt.ongoing, mt.parts, mt.groups = false, nil, nil
	mt.ended = map[bool]string{true: "CompleteCommit", false: "CompleteAbort"}[commit]
	m.ended[mt.ended]++
}

func (m *model) opInit() {
	id := m.pickID()
	timeout := []int32{10_000, 60_000}[m.r.IntN(2)]
	pid, epoch, code := m.h.c.InitProducerID(context.Background(), id, timeout, -1, -1)
	mt := m.txns[id]
	if mt != nil && mt.ongoing {
		if code != kerr.ConcurrentTransactions.Code {
			m.fatalf("init %s during a transaction: code %d, want CONCURRENT_TRANSACTIONS", id, code)
		}
		mt.epoch++ // the fence
		m.complete(mt, false)
		m.h.settle()
		pid, epoch, code = m.h.c.InitProducerID(context.Background(), id, timeout, -1, -1)
	}
	if code != 0 {
		m.fatalf("init %s: code %d", id, code)
	}
	switch {
	case mt == nil:
		if epoch != 0 {
			m.fatalf("init new %s: epoch %d", id, epoch)
		}
		mt = &modelTxn{pid: pid}
		m.txns[id] = mt
	case pid != mt.pid || epoch != mt.epoch+1:
		m.fatalf("init %s: %d/%d, want %d/%d", id, pid, epoch, mt.pid, mt.epoch+1)
	}
	mt.epoch, mt.timeoutMs, mt.ended, mt.ongoing = epoch, timeout, "Empty", false
	m.clients = append(m.clients, producer{id: id, pid: pid, epoch: epoch})
}

var modelParts = []Partition{tp("t", 0), tp("t", 1), tp("u", 0), tp("u", 3)}

// addExpect applies an addition to the model and returns its code.
func (m *model) addExpect(p producer, parts []Partition, group string) int16 {
	mt, code := m.expectProducer(p)
	if code != 0 {
		return code
	}
	if !mt.ongoing {
		mt.ongoing, mt.start = true, m.h.clock.Now()
		mt.parts, mt.groups = map[Partition]bool{}, map[string]bool{}
	}
	for _, tp := range parts {
		mt.parts[tp] = true
	}
	if group != "" {
		mt.groups[group] = true
	}
	return 0
}

func (m *model) opAdd() {
	p, ok := m.pickClient()
	if !ok {
		return
	}
	var parts []Partition
	for range 1 + m.r.IntN(3) {
		parts = append(parts, modelParts[m.r.IntN(len(modelParts))])
	}
	got := m.h.c.AddPartitions(context.Background(), p.id, p.pid, p.epoch, parts)
	want := m.addExpect(p, parts, "")
	for tp, code := range got {
		if code != want {
			m.fatalf("add %v to %+v: code %d, want %d", tp, p, code, want)
		}
	}
}

func (m *model) opAddOffsets() {
	p, ok := m.pickClient()
	if !ok {
		return
	}
	g := []string{"g1", "g2"}[m.r.IntN(2)]
	if code, want := m.h.c.AddOffsets(context.Background(), p.id, p.pid, p.epoch, g), m.addExpect(p, nil, g); code != want {
		m.fatalf("add offsets %s to %+v: code %d, want %d", g, p, code, want)
	}
}

func (m *model) opVerify() {
	p, ok := m.pickClient()
	if !ok {
		return
	}
	tp := modelParts[m.r.IntN(len(modelParts))]
	mt, want := m.expectProducer(p)
	if want == 0 && !(mt.ongoing && mt.parts[tp]) {
		want = kerr.InvalidTxnState.Code
	}
	if got := m.h.c.VerifyPartitions(p.id, p.pid, p.epoch, []Partition{tp})[tp]; got != want {
		m.fatalf("verify %v for %+v: code %d, want %d", tp, p, got, want)
	}
}

// endExpect applies an EndTxn to the model and returns its code.
func (m *model) endExpect(p producer, commit bool) int16 {
	mt, code := m.expectProducer(p)
	switch {
	case code != 0:
		return code
	case mt.ongoing:
		m.complete(mt, commit)
		return 0
	case mt.ended == map[bool]string{true: "CompleteCommit", false: "CompleteAbort"}[commit]:
		return 0
	}
	return kerr.InvalidTxnState.Code
}

func (m *model) opEnd() {
	p, ok := m.pickClient()
	if !ok {
		return
	}
	commit := m.r.IntN(2) == 0
	if code, want := m.h.c.EndTxn(context.Background(), p.id, p.pid, p.epoch, commit), m.endExpect(p, commit); code != want {
		m.fatalf("end commit=%v for %+v: code %d, want %d", commit, p, code, want)
	}
}

// opEndTwice sends the same EndTxn from two goroutines at once: one
// decides, the other is told CONCURRENT_TRANSACTIONS or, if it came after
// the completion, the same answer.
func (m *model) opEndTwice() {
	p, ok := m.pickClient()
	if !ok {
		return
	}
	commit := m.r.IntN(2) == 0
	var wg sync.WaitGroup
	codes := make([]int16, 2)
	for i := range codes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = m.h.c.EndTxn(context.Background(), p.id, p.pid, p.epoch, commit)
		}()
	}
	wg.Wait()
	mt, _ := m.expectProducer(p)
	decides := mt != nil && mt.ongoing
	want := m.endExpect(p, commit)
	slices.Sort(codes) // 0 first, then CONCURRENT_TRANSACTIONS
	ok = codes[0] == want && codes[1] == want
	if decides {
		ok = codes[0] == 0 && (codes[1] == 0 || codes[1] == kerr.ConcurrentTransactions.Code)
	}
	if !ok {
		m.fatalf("two EndTxn commit=%v for %+v: codes %v, want %d", commit, p, codes, want)
	}
}

// opJump moves the clock, then runs the timeout abort and the id expiry
// as their timers would.
func (m *model) opJump() {
	d := time.Duration(m.r.IntN(120)) * time.Second
	if m.r.IntN(4) == 0 {
		d = DefaultIDExpiration + time.Hour
	}
	m.h.clock.Advance(d)
	now := m.h.clock.Now()
	for _, mt := range m.txns {
		if mt.ongoing && now.After(mt.start.Add(msDuration(mt.timeoutMs))) {
			mt.epoch++
			m.complete(mt, false)
			m.ended["timed out"]++
		}
	}
	m.h.c.abortTimedOut()
	m.h.settle()
	now = m.h.clock.Now()
	for id, mt := range m.txns {
		info, _ := m.h.c.Describe(id)
		if !mt.ongoing && !now.Before(info.LastUpdate.Add(DefaultIDExpiration)) {
			delete(m.txns, id)
			delete(m.seen, id)
			m.ended["expired"]++
		}
	}
	m.h.c.expireIDs()
}

func (m *model) opCrash() {
	m.ended["crash"]++
	m.h.crash()
}

// opCrashWhileCompleting crashes after an EndTxn's Prepare record is
// durable and before its markers are: the next Open must finish it.
func (m *model) opCrashWhileCompleting() {
	p, ok := m.pickClient()
	if !ok {
		return
	}
	commit := m.r.IntN(2) == 0
	m.ended["crash while completing"]++
	m.h.markers.Hold()
	code, want := m.h.c.EndTxn(context.Background(), p.id, p.pid, p.epoch, commit), m.endExpect(p, commit)
	m.h.crash()
	m.h.markers.Release()
	if code != want {
		m.fatalf("end commit=%v for %+v before a crash: code %d, want %d", commit, p, code, want)
	}
}

// opCrashDuringEnd crashes while an EndTxn is being stored, keeping a
// random part of what was not synced: the transaction must come back
// ongoing (the Prepare record was lost) or end as asked.
func (m *model) opCrashDuringEnd() {
	p, ok := m.pickClient()
	if !ok {
		return
	}
	mt, code := m.expectProducer(p)
	if code != 0 || !mt.ongoing {
		return
	}
	m.ended["crash during EndTxn"]++
	commit := m.r.IntN(2) == 0
	res := make(chan int16, 1)
	go func() { res <- m.h.c.EndTxn(context.Background(), p.id, p.pid, p.epoch, commit) }()
	m.h.markers.Crash()
	clone := m.h.fs.CrashClone(vfs.CrashOptions{Rand: rand.New(rand.NewPCG(m.r.Uint64(), 1))})
	<-res
	m.h.c.Close()
	m.h.fs = clone
	m.h.open(clone)
	m.h.settle()
	info, _ := m.h.c.Describe(p.id)
	switch {
	case info.State == "Ongoing":
	case info.State == map[bool]string{true: "CompleteCommit", false: "CompleteAbort"}[commit]:
		m.complete(mt, commit)
	default:
		m.fatalf("after a crash during EndTxn commit=%v: state %s", commit, info.State)
	}
}

// opFlakyMarkers makes a third of the markers fail for a while, or heals
// them.
func (m *model) opFlakyMarkers() {
	f := m.h.markers
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		f.fail = nil
		return
	}
	r := rand.New(rand.NewPCG(m.r.Uint64(), 2))
	f.fail = func(marker) bool { return r.IntN(3) == 0 } // called under f.mu
}

// check compares the coordinator with the model and checks the
// invariants.
func (m *model) check() {
	m.t.Helper()
	if busy := m.h.busy(); busy != "" {
		m.fatalf("not settled: %s", busy)
	}
	written := map[marker]bool{}
	for _, w := range m.h.markers.Take() {
		if !m.want[w] {
			m.fatalf("marker %v written, not expected (expected %v)", w, slices.Collect(maps.Keys(m.want)))
		}
		written[w] = true
		m.markers++
	}
	for w := range m.want {
		if !written[w] {
			m.fatalf("marker %v expected, not written", w)
		}
	}
	clear(m.want)

	c := m.h.c
	c.mu.Lock()
	for id, e := range c.txns {
		if err := e.m.validate(); err != nil {
			c.mu.Unlock()
			m.fatalf("%s: invalid state: %v", id, err)
		}
	}
	ids := len(c.txns)
	c.mu.Unlock()
	if ids != len(m.txns) {
		m.fatalf("coordinator has %d ids, model %d", ids, len(m.txns))
	}
	for id, mt := range m.txns {
		info, ok := c.Describe(id)
		state := mt.ended
		if mt.ongoing {
			state = "Ongoing"
		}
		parts := slices.SortedFunc(maps.Keys(mt.parts), comparePartitions)
		if !ok || info.ProducerID != mt.pid || info.ProducerEpoch != mt.epoch || info.State != state ||
			!slices.Equal(info.Partitions, parts) || (mt.ongoing && !info.StartTime.Equal(mt.start)) {
			m.fatalf("%s: coordinator %+v (found %v), model %+v", id, info, ok, mt)
		}
		if s, ok := m.seen[id]; ok && (s.pid != mt.pid || s.epoch > mt.epoch) {
			m.fatalf("%s: producer went from %d/%d to %d/%d", id, s.pid, s.epoch, mt.pid, mt.epoch)
		}
		m.seen[id] = producer{id: id, pid: mt.pid, epoch: mt.epoch}
	}
}
