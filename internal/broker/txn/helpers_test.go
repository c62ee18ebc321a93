package txn

// helpers_test.go is the tests' harness: a fake Markers that can fail,
// hold (be slow) and "crash" with the coordinator, and a coordinator on an
// in-memory file system and a fake clock.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/group"
	"github.com/courier-dev/courier/internal/broker/vfs"
	"github.com/courier-dev/courier/internal/testkit/testwait"
)

const testPath = "/data/meta/transactions/txn.log"

var t0 = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

// marker is one durable marker (or group completion) the fake recorded.
type marker struct {
	pid    int64
	epoch  int16
	commit bool
	part   Partition // zero for a group
	group  string
}

func (m marker) String() string {
	return fmt.Sprintf("pid %d epoch %d commit %v %s/%d %q", m.pid, m.epoch, m.commit, m.part.Topic, m.part.Partition, m.group)
}

// fakeMarkers implements Markers. A crash (Crash) makes calls of the
// coordinators opened before it fail and record nothing, as a power loss
// would stop them.
type fakeMarkers struct {
	mu      sync.Mutex
	gen     int
	written []marker
	// fail, if set, decides whether a partition's (or group's, with a
	// zero partition) marker fails.
	fail func(m marker) bool
	// hold, while set, makes calls wait until it is closed or their
	// context ends.
	hold  chan struct{}
	calls atomic.Int64
}

// forGen is the Markers a coordinator opened in generation gen uses.
type genMarkers struct {
	f   *fakeMarkers
	gen int
}

func (f *fakeMarkers) current() Markers {
	f.mu.Lock()
	defer f.mu.Unlock()
	return genMarkers{f: f, gen: f.gen}
}

// Crash makes every Markers handed out so far dead.
func (f *fakeMarkers) Crash() {
	f.mu.Lock()
	f.gen++
	f.mu.Unlock()
}

// Hold makes calls wait until Release.
func (f *fakeMarkers) Hold() {
	f.mu.Lock()
	f.hold = make(chan struct{})
	f.mu.Unlock()
}

// Release ends a Hold.
func (f *fakeMarkers) Release() {
	f.mu.Lock()
	if f.hold != nil {
		close(f.hold)
		f.hold = nil
	}
	f.mu.Unlock()
}

// Take returns and forgets what was written.
func (f *fakeMarkers) Take() []marker {
	f.mu.Lock()
	defer f.mu.Unlock()
	w := f.written
	f.written = nil
	return w
}

var errMarker = errors.New("injected marker failure")

// wait honours a hold; false if ctx ended.
func (g genMarkers) wait(ctx context.Context) bool {
	g.f.calls.Add(1)
	g.f.mu.Lock()
	hold := g.f.hold
	g.f.mu.Unlock()
	if hold == nil {
		return true
	}
	select {
	case <-hold:
		return true
	case <-ctx.Done():
		return false
	}
}

// record writes m unless it fails or the fake crashed since g was made.
func (g genMarkers) record(m marker) error {
	g.f.mu.Lock()
	defer g.f.mu.Unlock()
	if g.gen != g.f.gen {
		return errors.New("crashed")
	}
	if g.f.fail != nil && g.f.fail(m) {
		return errMarker
	}
	g.f.written = append(g.f.written, m)
	return nil
}

func (g genMarkers) WritePartitionMarkers(ctx context.Context, pid int64, epoch int16, commit bool, _ int32, parts []Partition) map[Partition]error {
	var out map[Partition]error
	ok := g.wait(ctx)
	for _, p := range parts {
		err := ctx.Err()
		if ok && err == nil {
			err = g.record(marker{pid: pid, epoch: epoch, commit: commit, part: p})
		}
		if err != nil {
			if out == nil {
				out = map[Partition]error{}
			}
			out[p] = err
		}
	}
	return out
}

func (g genMarkers) CompleteGroupOffsets(ctx context.Context, group string, pid int64, epoch int16, commit bool) error {
	if !g.wait(ctx) {
		return ctx.Err()
	}
	return g.record(marker{pid: pid, epoch: epoch, commit: commit, group: group})
}

// harness is a coordinator under test and what it runs on.
type harness struct {
	t       testing.TB
	fs      *vfs.MemFS
	clock   *group.FakeClock
	markers *fakeMarkers
	nextPID atomic.Int64
	opts    Options // template for each Open
	c       *Coordinator
}

func newHarness(t testing.TB, edit func(*Options)) *harness {
	h := &harness{t: t, fs: vfs.NewMem(), clock: group.NewFakeClock(t0), markers: &fakeMarkers{}}
	h.opts = Options{
		Path: testPath, Logger: slog.New(slog.DiscardHandler),
		AllocateProducerID: func() (int64, error) { return h.nextPID.Add(1) - 1, nil },
		MarkerRetryMin:     100 * time.Millisecond, MarkerRetryMax: time.Second,
		EndTxnWait: time.Second,
	}
	if edit != nil {
		edit(&h.opts)
	}
	h.open(h.fs)
	t.Cleanup(func() {
		h.markers.Release()
		if h.c != nil {
			h.c.Close()
		}
	})
	return h
}

// newErrorHarness is a harness whose coordinator runs on an ErrorFS over
// its MemFS (crash clones the MemFS underneath).
func newErrorHarness(t testing.TB) (*harness, *vfs.ErrorFS) {
	h := newHarness(t, nil)
	h.c.Close()
	efs := vfs.NewErrorFS(h.fs)
	h.open(efs)
	return h, efs
}

// open opens a coordinator on fs.
func (h *harness) open(fs vfs.FS) {
	h.t.Helper()
	o := h.opts
	o.FS, o.Clock, o.Markers = fs, h.clock, h.markers.current()
	c, err := Open(o)
	if err != nil {
		h.t.Fatalf("open: %v", err)
	}
	h.c = c
}

// crash pulls the plug: markers of the running coordinator stop counting,
// the file system keeps only what was synced, and a new coordinator opens
// on it.
func (h *harness) crash() {
	h.t.Helper()
	h.markers.Crash()
	clone := h.fs.CrashClone(vfs.CrashOptions{})
	h.c.Close()
	h.fs = clone
	h.open(clone)
}

// settle advances the clock until no transaction is being completed and
// no record is in flight.
func (h *harness) settle() {
	h.t.Helper()
	testwait.For(h.t, 10*time.Second, "transactions to complete", func() string {
		for range 100 {
			if h.busy() == "" {
				return ""
			}
			h.clock.Advance(h.opts.MarkerRetryMax)
			runtime.Gosched()
		}
		return h.busy()
	})
}

// busy names an id being completed or written, or returns "".
func (h *harness) busy() string {
	c := h.c
	c.mu.Lock()
	defer c.mu.Unlock()
	for id, e := range c.txns {
		if e.pending || e.m.state.preparing() {
			return fmt.Sprintf("%s is %s (pending %v)", id, e.m.state, e.pending)
		}
	}
	return ""
}

// init runs InitProducerID with no producer and fails on an error code.
func (h *harness) init(id string) (int64, int16) {
	h.t.Helper()
	pid, epoch, code := h.c.InitProducerID(context.Background(), id, 60_000, -1, -1)
	if code != 0 {
		h.t.Fatalf("InitProducerID(%s): code %d", id, code)
	}
	return pid, epoch
}

// add adds partitions and fails unless every code is want.
func (h *harness) add(id string, pid int64, epoch int16, want int16, parts ...Partition) {
	h.t.Helper()
	for p, code := range h.c.AddPartitions(context.Background(), id, pid, epoch, parts) {
		if code != want {
			h.t.Fatalf("AddPartitions(%s, %d/%d) %v: code %d, want %d", id, pid, epoch, p, code, want)
		}
	}
}

func tp(topic string, p int32) Partition { return Partition{Topic: topic, Partition: p} }

// markersOf is what completing a transaction of parts and groups writes,
// in the order the coordinator writes them.
func markersOf(pid int64, epoch int16, commit bool, parts []Partition, groups ...string) []marker {
	var out []marker
	for _, p := range parts {
		out = append(out, marker{pid: pid, epoch: epoch, commit: commit, part: p})
	}
	for _, g := range groups {
		out = append(out, marker{pid: pid, epoch: epoch, commit: commit, group: g})
	}
	return out
}

// sortMarkers sorts ms by partition, then group, for comparing as sets.
func sortMarkers(ms []marker) []marker {
	slices.SortFunc(ms, func(a, b marker) int {
		if c := comparePartitions(a.part, b.part); c != 0 {
			return c
		}
		return strings.Compare(a.group, b.group)
	})
	return ms
}
