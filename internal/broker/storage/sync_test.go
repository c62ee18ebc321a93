package storage

import (
	"errors"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/vfs"
)

func openFault(t *testing.T, ffs *faultFS, cfg Config, opts Options) *Log {
	t.Helper()
	opts.Logger = quietLogger()
	l, err := openLog(ffs, t.TempDir(), cfg, opts)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestGroupCommit runs many producers that each wait for durability: every
// wait succeeds and concurrent waiters share fsyncs.
func TestGroupCommit(t *testing.T) {
	ffs := &faultFS{FS: vfs.Default}
	l := openFault(t, ffs, Config{}, Options{Sync: SyncAlways})
	defer l.Close()
	ffs.setSync(func(string) error { time.Sleep(2 * time.Millisecond); return nil })
	before := ffs.fileSyncs.Load()

	const producers, each = 16, 20
	var wg sync.WaitGroup
	for p := 0; p < producers; p++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				res, err := l.Append(batch(1).encode())
				if err != nil {
					t.Error(err)
					return
				}
				if err := l.WaitDurable(res.LastOffset); err != nil {
					t.Error(err)
					return
				}
				if d := l.durable.Load(); d <= res.LastOffset {
					t.Errorf("WaitDurable(%d) returned with durable watermark %d", res.LastOffset, d)
				}
			}
		}()
	}
	wg.Wait()
	syncs := ffs.fileSyncs.Load() - before
	t.Logf("%d appends, %d fsyncs", producers*each, syncs)
	if syncs >= producers*each/2 {
		t.Fatalf("%d fsyncs for %d waits: no group commit", syncs, producers*each)
	}
	// Nothing new: no fsync.
	n := ffs.fileSyncs.Load()
	if err := l.WaitDurable(l.HighWatermark() - 1); err != nil || ffs.fileSyncs.Load() != n {
		t.Fatal("WaitDurable of durable data fsynced again")
	}
}

// TestAppendDuringSync blocks an fsync and checks that appends and reads
// proceed meanwhile, and that a waiter whose data arrived after the fsync
// began gets a second fsync.
func TestAppendDuringSync(t *testing.T) {
	ffs := &faultFS{FS: vfs.Default}
	l := openFault(t, ffs, Config{}, Options{Sync: SyncAlways})
	defer l.Close()
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	ffs.setSync(func(string) error {
		once.Do(func() { close(entered); <-release })
		return nil
	})
	_, res := mustAppend(t, l, batch(1))
	done := make(chan error)
	go func() { done <- l.WaitDurable(res.LastOffset) }()
	<-entered
	// The fsync is in progress: appending must not wait for it.
	appended := make(chan AppendResult)
	go func() {
		_, r := mustAppend(t, l, batch(1))
		if _, err := l.Read(0, 100); err != nil {
			t.Error(err)
		}
		appended <- r
	}()
	var second AppendResult
	select {
	case second = <-appended:
	case <-time.After(5 * time.Second):
		t.Fatal("Append blocked behind an fsync")
	}
	if d := l.durable.Load(); d > res.LastOffset {
		t.Fatal("durable watermark moved before the fsync finished")
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if d := l.durable.Load(); d != res.LastOffset+1 {
		t.Fatalf("durable %d: the fsync must cover only what was written before it began", d)
	}
	if err := l.WaitDurable(second.LastOffset); err != nil || l.durable.Load() != second.LastOffset+1 {
		t.Fatalf("second wait: %v, durable %d", err, l.durable.Load())
	}
}

func TestSyncIntervalDoesNotWait(t *testing.T) {
	ffs := &faultFS{FS: vfs.Default}
	l := openFault(t, ffs, Config{}, Options{Sync: SyncInterval})
	defer l.Close()
	n := ffs.fileSyncs.Load()
	_, res := mustAppend(t, l, batch(1))
	if err := l.WaitDurable(res.LastOffset); err != nil || ffs.fileSyncs.Load() != n {
		t.Fatalf("SyncInterval WaitDurable fsynced or failed: %v", err)
	}
	if err := l.Sync(); err != nil || ffs.fileSyncs.Load() != n+1 {
		t.Fatalf("Sync: %v, %d fsyncs", err, ffs.fileSyncs.Load()-n)
	}
}

// TestRollSyncsDirectory checks that a new segment file is made durable
// (directory fsync) before data in it is reported durable.
func TestRollSyncsDirectory(t *testing.T) {
	ffs := &faultFS{FS: vfs.Default}
	l := openFault(t, ffs, Config{SegmentBytes: 200}, Options{Sync: SyncAlways})
	defer l.Close()
	mustAppend(t, l, batch(1).values(150))
	l.bg.Wait()
	d := ffs.dirSyncs.Load()
	_, res := mustAppend(t, l, batch(1).values(150)) // rolls
	l.bg.Wait()                                      // the roll's background sync
	if err := l.WaitDurable(res.LastOffset); err != nil {
		t.Fatal(err)
	}
	if ffs.dirSyncs.Load() == d {
		t.Fatal("no directory fsync after creating a segment")
	}
}

func TestFsyncFailureIsSticky(t *testing.T) {
	ffs := &faultFS{FS: vfs.Default}
	l := openFault(t, ffs, Config{}, Options{Sync: SyncAlways})
	defer l.Close()
	var fail atomic.Bool
	fail.Store(true)
	ffs.setSync(func(string) error {
		if fail.Load() {
			return errInjected
		}
		return nil
	})
	_, res := mustAppend(t, l, batch(1))
	if err := l.WaitDurable(res.LastOffset); !errors.Is(err, errInjected) {
		t.Fatalf("WaitDurable = %v, want the fsync error", err)
	}
	fail.Store(false)
	// A later fsync might "succeed" on data the kernel already dropped.
	if err := l.WaitDurable(res.LastOffset); !errors.Is(err, errInjected) {
		t.Fatalf("second WaitDurable = %v, want the sticky error", err)
	}
	if _, err := l.Append(batch(1).encode()); !errors.Is(err, errInjected) {
		t.Fatalf("Append after fsync failure = %v", err)
	}
}

// TestSyncCostsNothingWhenIdle: a partition with nothing new to make
// durable is not fsynced again (a broker's interval flusher visits every
// partition every second), and a new partition's directory, and its entry
// in the parent, are fsynced by the first sync with data, before that data
// is reported durable.
func TestSyncCostsNothingWhenIdle(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "topic-0")
	fsys := &faultFS{FS: vfs.Default}
	l, err := openLog(fsys, dir, Config{}, Options{Logger: quietLogger(), Sync: SyncAlways})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if n := fsys.fileSyncs.Load() + fsys.dirSyncs.Load(); n != 0 {
		t.Fatalf("opening an empty partition cost %d fsyncs", n)
	}
	for i := 0; i < 3; i++ {
		if err := l.Sync(); err != nil {
			t.Fatal(err)
		}
	}
	if n := fsys.fileSyncs.Load() + fsys.dirSyncs.Load(); n != 0 {
		t.Fatalf("idle syncs cost %d fsyncs", n)
	}
	_, res := mustAppend(t, l, batch(1))
	if err := l.WaitDurable(res.LastOffset); err != nil {
		t.Fatal(err)
	}
	fsys.mu.Lock()
	synced := slices.Clone(fsys.syncedDirs)
	fsys.mu.Unlock()
	if !slices.Contains(synced, dir) || !slices.Contains(synced, parent) {
		t.Fatalf("first durable append fsynced directories %v, want %s and %s", synced, dir, parent)
	}
	before := fsys.fileSyncs.Load()
	if err := l.Sync(); err != nil {
		t.Fatal(err)
	}
	if fsys.fileSyncs.Load() != before {
		t.Fatal("a sync with nothing new fsynced again")
	}
}
