package journal

// failure_test.go checks the journal on a disk that fails: a batch whose
// write or fsync fails is reported failed, along with what was queued
// behind it; appends fail fast while the journal waits to repair; once
// space returns it rewrites itself from the durable state and goes on
// without a restart; and a crash afterwards holds exactly what was
// reported durable.

import (
	"errors"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/vfs"
	"github.com/courier-dev/courier/internal/testkit/testwait"
)

func TestFailedWriteIsRepairedByTheNextAppend(t *testing.T) {
	for _, tc := range []struct {
		name string
		ops  vfs.Op
	}{
		{"write fails (disk full)", vfs.OpWrite},
		{"fsync fails", vfs.OpSync},
		{"everything that writes fails", vfs.OpsWriting},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := vfs.NewMem()
			efs := vfs.NewErrorFS(mem)
			// No repair of the writer's own before the test heals the
			// disk: the next append is the one to repair.
			o := mustOpenKV(t, efs, "/d/j", func(opts *Options) { opts.RetryMin, opts.RetryMax = time.Hour, time.Hour })
			o.mustPut(t, "a=1")

			efs.Inject(syscall.ENOSPC, tc.ops)
			err := o.put("a=2")
			if !errors.Is(err, ErrFailed) || !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("append on a full disk: %v", err)
			}
			expectState(t, o.s.copy(), map[string]string{"a": "1"})
			if st := o.j.Stats(); st.Healthy || st.WriteFailures != 1 || o.j.Err() == nil {
				t.Fatalf("stats after the failure %+v", st)
			}

			efs.Heal()
			o.mustPut(t, "b=3")
			expectState(t, o.s.copy(), map[string]string{"a": "1", "b": "3"})
			if st := o.j.Stats(); !st.Healthy || st.Repairs != 1 {
				t.Fatalf("stats after space returned %+v", st)
			}
			if !strings.Contains(o.log.String(), "journal repaired") {
				t.Fatalf("repair not logged: %s", o.log)
			}

			// A power loss now: exactly what was reported durable.
			c := mustOpenKV(t, mem.CrashClone(vfs.CrashOptions{}), "/d/j", nil)
			expectState(t, c.s.copy(), map[string]string{"a": "1", "b": "3"})
		})
	}
}

func TestFailedWriteIsCutBeforeTheRepair(t *testing.T) {
	mem := vfs.NewMem()
	efs := vfs.NewErrorFS(mem)
	o := mustOpenKV(t, efs, "/j", nil)
	o.mustPut(t, "a=1")
	// Only the fsync fails: the batch's bytes are in the file, then cut
	// back at once, before any repair.
	efs.Inject(syscall.EIO, vfs.OpSync)
	if err := o.put("a=2"); !errors.Is(err, syscall.EIO) {
		t.Fatalf("append with a failing fsync: %v", err)
	}
	efs.Heal()
	st, _ := mem.Stat("/j")
	if want := int64(frameHeader + len("a=1")); st.Size() != want {
		t.Fatalf("file is %d bytes after the failure, want %d", st.Size(), want)
	}
}

func TestAppendsFailFastWhileBroken(t *testing.T) {
	mem := vfs.NewMem()
	efs := vfs.NewErrorFS(mem)
	o := mustOpenKV(t, efs, "/j", func(opts *Options) { opts.RetryMin, opts.RetryMax = time.Hour, time.Hour })
	o.mustPut(t, "a=1")
	efs.Inject(syscall.ENOSPC, vfs.OpsWriting)
	if err := o.put("a=2"); !errors.Is(err, ErrFailed) {
		t.Fatalf("first failure: %v", err)
	}
	// The next append tries a repair at once; the disk is still full.
	if err := o.put("a=3"); !errors.Is(err, ErrFailed) || !strings.Contains(err.Error(), "could not repair") {
		t.Fatalf("append during a failed repair: %v", err)
	}
	// Then appends fail fast, without touching the disk, until the
	// back-off ends.
	before := efs.Injected()
	err := o.j.Append([][]byte{[]byte("a=4")}, func(error) { t.Error("done called for a refused append") })
	if !errors.Is(err, ErrFailed) || !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("append while broken: %v", err)
	}
	if efs.Injected() != before {
		t.Fatal("a fast-failed append touched the disk")
	}
	expectState(t, o.s.copy(), map[string]string{"a": "1"})
}

func TestRepairsByItselfWithoutAppends(t *testing.T) {
	mem := vfs.NewMem()
	efs := vfs.NewErrorFS(mem)
	o := mustOpenKV(t, efs, "/j", nil)
	o.mustPut(t, "a=1")
	efs.Inject(syscall.ENOSPC, vfs.OpsWriting)
	if err := o.put("a=2"); err == nil {
		t.Fatal("append on a full disk succeeded")
	}
	// The writer retries with back-off while the disk stays full ...
	testwait.For(t, 5*time.Second, "repair attempts on a full disk", func() string {
		if n := strings.Count(o.log.String(), "repair failed"); n < 2 {
			return fmt.Sprintf("%d failed attempts", n)
		}
		return ""
	})
	// ... and recovers once space returns, with no append to prompt it.
	efs.Heal()
	testwait.For(t, 5*time.Second, "the journal to repair itself", func() string {
		if err := o.j.Err(); err != nil {
			return err.Error()
		}
		return ""
	})
	o.mustPut(t, "b=2")
	c := mustOpenKV(t, mem.CrashClone(vfs.CrashOptions{}), "/j", nil)
	expectState(t, c.s.copy(), map[string]string{"a": "1", "b": "2"})
}

func TestCompactionOnAFullDiskKeepsTheJournal(t *testing.T) {
	mem := vfs.NewMem()
	efs := vfs.NewErrorFS(mem)
	o := mustOpenKV(t, efs, "/j", func(opts *Options) { opts.CompactBytes = 256 })
	// Only creating files fails: appends to the journal go on while its
	// compaction cannot write a snapshot.
	efs.Inject(syscall.ENOSPC, vfs.OpCreate)
	for i := 0; i < 100; i++ {
		o.mustPut(t, fmt.Sprintf("k%d=%d", i%4, i))
	}
	if st := o.j.Stats(); !st.Healthy || st.Compactions != 0 || st.WriteFailures != 0 {
		t.Fatalf("stats %+v", st)
	}
	if !strings.Contains(o.log.String(), "compaction failed") {
		t.Fatalf("failed compaction not logged: %s", o.log)
	}
	want := o.s.copy()
	c := mustOpenKV(t, mem.CrashClone(vfs.CrashOptions{}), "/j", nil)
	expectState(t, c.s.copy(), want)
}

func TestCompactionRenameFailureBreaksUntilRepaired(t *testing.T) {
	mem := vfs.NewMem()
	efs := vfs.NewErrorFS(mem)
	o := mustOpenKV(t, efs, "/j", func(opts *Options) { opts.CompactBytes = 256 })
	efs.Inject(syscall.EIO, vfs.OpSyncDir)
	var failed error
	for i := 0; i < 100 && failed == nil; i++ {
		failed = o.put(fmt.Sprintf("k%d=%d", i%4, i))
	}
	// The append that triggered the compaction was durable; the journal
	// broke after it, since which file the name holds is unknown.
	testwait.For(t, 5*time.Second, "the journal to break", func() string {
		if o.j.Err() == nil {
			return "still healthy"
		}
		return ""
	})
	efs.Heal()
	want := o.s.copy()
	testwait.For(t, 5*time.Second, "a commit after the repair", func() string {
		if err := o.put("z=1"); err != nil {
			return err.Error()
		}
		return ""
	})
	want["z"] = "1"
	c := mustOpenKV(t, mem.CrashClone(vfs.CrashOptions{}), "/j", nil)
	expectState(t, c.s.copy(), want)
}

func TestQueuedBatchesFailWithTheFailedOne(t *testing.T) {
	mem := vfs.NewMem()
	efs := vfs.NewErrorFS(mem)
	o := mustOpenKV(t, efs, "/j", nil)
	o.mustPut(t, "a=1")
	// Hold the writer inside a failing fsync while more batches queue.
	entered, release := make(chan struct{}), make(chan struct{})
	efs.InjectFunc(func(op vfs.Op, _ string) error {
		if op == vfs.OpSync {
			close(entered)
			<-release
			return syscall.EIO
		}
		return nil
	})
	results := make(chan error, 3)
	for i := 0; i < 3; i++ {
		rec := []byte(fmt.Sprintf("b%d=1", i))
		if err := o.j.Append([][]byte{rec}, func(err error) { results <- err }); err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			<-entered
			efs.Heal() // the held fsync still fails
		}
	}
	close(release)
	for i := 0; i < 3; i++ {
		if err := <-results; !errors.Is(err, ErrFailed) {
			t.Fatalf("batch %d: %v", i, err)
		}
	}
	o.mustPut(t, "c=1")
	c := mustOpenKV(t, mem.CrashClone(vfs.CrashOptions{}), "/j", nil)
	expectState(t, c.s.copy(), map[string]string{"a": "1", "c": "1"})
}

func TestCloseReportsQueuedBatches(t *testing.T) {
	o := mustOpenKV(t, vfs.NewMem(), "/j", nil)
	results := make(chan error, 10)
	for i := 0; i < 10; i++ {
		if err := o.j.Append([][]byte{[]byte(fmt.Sprintf("k%d=1", i))}, func(err error) { results <- err }); err != nil {
			t.Fatal(err)
		}
	}
	if err := o.j.Close(); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		select {
		case err := <-results:
			if err != nil {
				t.Fatalf("batch queued before Close: %v", err)
			}
		default:
			t.Fatalf("batch %d not reported by Close", i)
		}
	}
}
