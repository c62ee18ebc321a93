package journal

// crash_test.go runs writers appending at random against a journal on a
// MemFS, with compactions and (in one variant) a disk that fails now and
// then, and pulls the plug at a random moment: the clone a power loss
// leaves, unsynced bytes partly kept and partly zeroed, must open and
// hold every acknowledged record, and nothing that was never appended.
// Each round's seed is in the failure message: COURIER_CRASH_SEED=<n>
// replays it.

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/vfs"
	"github.com/courier-dev/courier/internal/testkit/testseed"
)

func TestCrashKeepsAcknowledgedRecords(t *testing.T) {
	for _, seed := range testseed.Seeds(t, 12) {
		for _, failing := range []bool{false, true} {
			t.Run(fmt.Sprintf("seed=%d/failing=%v", seed, failing), func(t *testing.T) {
				crashRound(t, seed, failing, false)
			})
		}
		// Under RefuseDamage a crash must never leave a file Open
		// refuses: what an interrupted append leaves is a torn tail.
		t.Run(fmt.Sprintf("seed=%d/refuse", seed), func(t *testing.T) {
			crashRound(t, seed, false, true)
		})
	}
}

// crashRound runs one round: writers append until the plug is pulled,
// either at a random acknowledgement (the other writers anywhere in their
// appends) or inside a random fsync, after its write and before the sync
// (the moment that leaves a torn tail). With refuse, the journal runs
// under Options.RefuseDamage.
func crashRound(t *testing.T, seed uint64, failing, refuse bool) {
	r := rand.New(rand.NewPCG(seed, 99))
	mem := vfs.NewMem()
	efs := vfs.NewErrorFS(mem)
	var (
		mu       sync.Mutex
		acked    = map[string]string{} // key -> last acknowledged value
		appended = map[string]bool{}   // every record ever appended
		acks     atomic.Int64
		syncs    atomic.Int64
		wg       sync.WaitGroup
		stop     = make(chan struct{})
		want     map[string]string
		crashed  *vfs.MemFS
		once     sync.Once
		crashNow = make(chan struct{})
	)
	crash := func() {
		once.Do(func() {
			// Everything acknowledged so far was synced before the clone,
			// so the crash must keep it.
			mu.Lock()
			want = make(map[string]string, len(acked))
			for k, v := range acked {
				want[k] = v
			}
			mu.Unlock()
			crashed = mem.CrashClone(vfs.CrashOptions{Rand: rand.New(rand.NewPCG(seed, 3))})
			close(crashNow)
		})
	}
	target := int64(20 + r.IntN(200))
	atSync := r.IntN(2) == 0
	fr := rand.New(rand.NewPCG(seed, 7))
	var frMu sync.Mutex
	efs.InjectFunc(func(op vfs.Op, _ string) error {
		if op == vfs.OpSync && atSync && syncs.Add(1) == target {
			crash()
		}
		frMu.Lock()
		defer frMu.Unlock()
		// In the failing variant, about one write or fsync in twenty
		// fails with ENOSPC.
		if failing && op&(vfs.OpWrite|vfs.OpSync) != 0 && fr.IntN(20) == 0 {
			return syscall.ENOSPC
		}
		return nil
	})
	o := mustOpenKV(t, efs, "/data/j", func(opts *Options) {
		opts.CompactBytes = 512
		opts.RetryMin, opts.RetryMax = time.Millisecond, 2*time.Millisecond
		opts.RefuseDamage = refuse
	})
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				// Each writer owns its keys, so its last acknowledged
				// value per key is what a crash must keep.
				rec := fmt.Sprintf("w%d-k%d=%d", w, i%5, i)
				if refuse {
					// Records longer than a sector, so that a torn
					// append can lose a sector and keep whole records
					// after it.
					rec += "." + strings.Repeat("x", 600)
				}
				mu.Lock()
				appended[rec] = true
				mu.Unlock()
				if err := o.put(rec); err != nil {
					continue
				}
				mu.Lock()
				k, v := splitKV(rec)
				acked[k] = v
				mu.Unlock()
				if acks.Add(1) == target && !atSync {
					crash()
				}
			}
		}()
	}
	timedOut := false
	select {
	case <-crashNow:
	case <-time.After(20 * time.Second):
		timedOut = true
	}
	close(stop)
	wg.Wait()
	if timedOut {
		t.Fatalf("seed %d: no crash after %d acknowledgements and %d fsyncs in 20s", seed, acks.Load(), syncs.Load())
	}

	c, err := openKV(t, crashed, "/data/j", func(opts *Options) { opts.RefuseDamage = refuse })
	if err != nil {
		t.Fatalf("seed %d: open after crash: %v", seed, err)
	}
	got := c.s.copy()
	kept := 0 // copies of the file recovery kept (damage, or a torn tail with a hole)
	if entries, err := crashed.ReadDir("/data"); err == nil {
		for _, e := range entries {
			if strings.Contains(e.Name(), ".damaged-") {
				kept++
			}
		}
	}
	t.Logf("seed %d: crash at %d (at fsync: %v), writer %+v, after crash %+v, copies kept %d", seed, target, atSync, o.j.Stats(), c.j.Stats(), kept)
	mu.Lock()
	defer mu.Unlock()
	for k, v := range want {
		// The acknowledged value, or one acknowledged later by the same
		// writer (a later write may have been synced before the crash).
		gv, ok := got[k]
		if !ok {
			t.Fatalf("seed %d: acknowledged %s=%s lost", seed, k, v)
		}
		if !appended[k+"="+gv] || atoi(gv) < atoi(v) {
			t.Fatalf("seed %d: %s=%s after the crash, acknowledged %s", seed, k, gv, v)
		}
	}
	for k, v := range got {
		if !appended[k+"="+v] {
			t.Fatalf("seed %d: %s=%s was never appended", seed, k, v)
		}
	}
}

func splitKV(rec string) (string, string) {
	for i := 0; i < len(rec); i++ {
		if rec[i] == '=' {
			return rec[:i], rec[i+1:]
		}
	}
	return rec, ""
}

// atoi reads a value's number (before any padding).
func atoi(s string) int {
	s, _, _ = strings.Cut(s, ".")
	n, _ := strconv.Atoi(s)
	return n
}
