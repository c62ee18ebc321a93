package topics

// crash_test.go runs random topic changes (batches of creations, deletions,
// partition increases, config changes) against a store on a MemFS, with a
// journal that compacts often and, in one variant, a disk that fails now
// and then, and pulls the plug at a random moment: at an acknowledgement,
// or inside an fsync (after the write, before the sync: a torn tail, with
// unsynced sectors partly kept and partly zeroed). The store reopened on
// what the crash left must hold every acknowledged change and nothing
// else, except that the one change in flight at the crash may be there,
// or, for a batch of creations, some of its first topics, each whole (its
// bytes may have reached the disk in part). It must never refuse to open. COURIER_CRASH_SEED=<n> replays one round.

import (
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/journal"
	"github.com/courier-dev/courier/internal/broker/vfs"
	"github.com/courier-dev/courier/internal/testkit/testseed"
)

func TestCrashKeepsAcknowledgedChanges(t *testing.T) {
	for _, seed := range testseed.Seeds(t, 16) {
		for _, failing := range []bool{false, true} {
			t.Run(fmt.Sprintf("seed=%d/failing=%v", seed, failing), func(t *testing.T) {
				crashRound(t, seed, failing)
			})
		}
	}
}

// model is what the test expects the store to hold: acked, the state
// after every acknowledged change, and inFlight, the states the change
// being made can leave after a crash: each prefix of its records (a batch
// of creations is one record per topic, and a crash in the middle of its
// write may keep some of them, each topic whole), the last being the
// state it leaves when it succeeds.
type model struct {
	mu       sync.Mutex
	acked    map[string]Topic
	inFlight []map[string]Topic
}

// begin records the states the next change, made of one step per record,
// leaves after each record.
func (m *model) begin(steps ...func(next map[string]Topic)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.inFlight = nil
	next := m.acked
	for _, step := range steps {
		next = maps.Clone(next)
		step(next)
		m.inFlight = append(m.inFlight, next)
	}
}

// end records the change's outcome.
func (m *model) end(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err == nil && len(m.inFlight) > 0 {
		m.acked = m.inFlight[len(m.inFlight)-1]
	}
	m.inFlight = nil
}

func (m *model) snapshot() (acked map[string]Topic, inFlight []map[string]Topic) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.acked), slices.Clone(m.inFlight)
}

func crashRound(t *testing.T, seed uint64, failing bool) {
	r := rand.New(rand.NewPCG(seed, 1))
	mem := vfs.NewMem()
	efs := vfs.NewErrorFS(mem)
	var (
		m        = &model{acked: map[string]Topic{}}
		syncs    atomic.Int64
		acks     atomic.Int64
		once     sync.Once
		crashNow = make(chan struct{})
		crashed  *vfs.MemFS
		want     map[string]Topic
		alt      []map[string]Topic
	)
	crash := func() {
		once.Do(func() {
			want, alt = m.snapshot()
			crashed = mem.CrashClone(vfs.CrashOptions{Rand: rand.New(rand.NewPCG(seed, 3))})
			close(crashNow)
		})
	}
	target := int64(10 + r.IntN(80))
	atSync := r.IntN(2) == 0
	var frMu sync.Mutex
	fr := rand.New(rand.NewPCG(seed, 7))
	efs.InjectFunc(func(op vfs.Op, _ string) error {
		if op == vfs.OpSync && atSync && syncs.Add(1) == target {
			crash()
		}
		frMu.Lock()
		defer frMu.Unlock()
		if failing && op&(vfs.OpWrite|vfs.OpSync) != 0 && fr.IntN(15) == 0 {
			return syscall.ENOSPC
		}
		return nil
	})
	s, err := Open("/data/meta", Options{FS: efs, tune: func(o *journal.Options) {
		o.CompactBytes = 2048
		o.RetryMin, o.RetryMax = time.Millisecond, 2*time.Millisecond
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 5000; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if change(s, m, r) == nil && acks.Add(1) == target && !atSync {
				crash()
			}
		}
	}()
	timedOut := false
	select {
	case <-crashNow:
	case <-done:
	case <-time.After(20 * time.Second):
	}
	close(stop)
	<-done
	select {
	case <-crashNow:
	default:
		timedOut = true
	}
	if timedOut {
		t.Fatalf("seed %d: no crash after %d acknowledgements and %d fsyncs in 20s", seed, acks.Load(), syncs.Load())
	}

	c, err := Open("/data/meta", Options{FS: crashed})
	if err != nil {
		t.Fatalf("seed %d: open after the crash: %v", seed, err)
	}
	defer c.Close()
	got := stateOf(c)
	t.Logf("seed %d: crash at %d (at fsync: %v), %d topics acknowledged, after the crash %d, journal before %+v, after %+v",
		seed, target, atSync, len(want), len(got), s.JournalStats(), c.JournalStats())
	if !reflect.DeepEqual(got, want) && !slices.ContainsFunc(alt, func(a map[string]Topic) bool { return reflect.DeepEqual(got, a) }) {
		t.Fatalf("seed %d: after the crash\n%v\nwant the acknowledged\n%v\nor part of the change in flight,\n%v", seed, got, want, alt)
	}
}

// change makes one random change to s, recording it in m.
func change(s *Store, m *model, r *rand.Rand) error {
	acked, _ := m.snapshot()
	names := slices.Sorted(maps.Keys(acked))
	var err error
	switch k := r.IntN(10); {
	case k < 4 || len(names) == 0:
		var batch []Topic
		for range 1 + r.IntN(4) {
			name := fmt.Sprintf("t%02d", r.IntN(30))
			tp, nerr := s.NewTopic(name, int32(1+r.IntN(3)), map[string]string{"retention.ms": strconv.Itoa(r.IntN(1000))}, false)
			if nerr != nil || slices.ContainsFunc(batch, func(b Topic) bool { return b.Name == name }) {
				continue
			}
			batch = append(batch, tp)
		}
		var steps []func(map[string]Topic)
		for _, tp := range batch {
			steps = append(steps, func(next map[string]Topic) { next[tp.Name] = tp })
		}
		m.begin(steps...)
		err = s.AddAll(batch)
	case k < 6:
		name := names[r.IntN(len(names))]
		m.begin(func(next map[string]Topic) { delete(next, name) })
		_, err = s.Delete(name)
	case k < 8:
		name := names[r.IntN(len(names))]
		cur := acked[name]
		tp := cur.clone()
		tp.Partitions += int32(1 + r.IntN(2))
		m.begin(func(next map[string]Topic) { next[name] = tp })
		_, err = s.SetPartitions(name, tp.Partitions)
	default:
		name := names[r.IntN(len(names))]
		cur := acked[name]
		tp := cur.clone()
		tp.Configs = map[string]string{"retention.bytes": strconv.Itoa(r.IntN(1 << 20))}
		m.begin(func(next map[string]Topic) { next[name] = tp })
		_, err = s.SetConfigs(name, tp.Configs)
	}
	m.end(err)
	return err
}
