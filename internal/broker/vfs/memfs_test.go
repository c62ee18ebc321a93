package vfs

// memfs_test.go checks the crash semantics themselves: for each sequence
// of operations, what a CrashClone holds, and that the live file system
// is untouched by it.

import (
	"bytes"
	"errors"
	"io/fs"
	"math/rand/v2"
	"os"
	"syscall"
	"testing"
	"time"
)

// step is one operation of a crash scenario.
type step func(t *testing.T, m *MemFS)

func write(name, data string, sync bool) step {
	return func(t *testing.T, m *MemFS) {
		t.Helper()
		f, err := m.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		st, _ := f.Stat()
		if _, err := f.WriteAt([]byte(data), st.Size()); err != nil {
			t.Fatal(err)
		}
		if sync {
			if err := f.Sync(); err != nil {
				t.Fatal(err)
			}
		}
		f.Close()
	}
}

func syncDir(name string) step {
	return func(t *testing.T, m *MemFS) {
		t.Helper()
		if err := m.SyncDir(name); err != nil {
			t.Fatal(err)
		}
	}
}

func rename(from, to string) step {
	return func(t *testing.T, m *MemFS) {
		t.Helper()
		if err := m.Rename(from, to); err != nil {
			t.Fatal(err)
		}
	}
}

func remove(name string) step {
	return func(t *testing.T, m *MemFS) {
		t.Helper()
		if err := m.Remove(name); err != nil {
			t.Fatal(err)
		}
	}
}

func mkdir(name string) step {
	return func(t *testing.T, m *MemFS) {
		t.Helper()
		if err := m.MkdirAll(name, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func truncate(name string, size int64, sync bool) step {
	return func(t *testing.T, m *MemFS) {
		t.Helper()
		f, err := m.OpenFile(name, os.O_RDWR, 0)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.Truncate(size); err != nil {
			t.Fatal(err)
		}
		if sync {
			f.Sync()
		}
		f.Close()
	}
}

// contents reads name from m; absent files read as "<absent>".
func contents(t *testing.T, m *MemFS, name string) string {
	t.Helper()
	b, err := ReadFile(m, name)
	if errors.Is(err, fs.ErrNotExist) {
		return "<absent>"
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCrashSemantics(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []step
		// want maps each path to its contents after the crash.
		want map[string]string
	}{
		{"created but directory not synced", []step{write("/a", "x", true)},
			map[string]string{"/a": "<absent>"}},
		{"created, synced, directory synced", []step{write("/a", "x", true), syncDir("/")},
			map[string]string{"/a": "x"}},
		{"directory synced but data not", []step{write("/a", "x", false), syncDir("/")},
			map[string]string{"/a": ""}},
		{"appended after sync is lost", []step{write("/a", "x", true), syncDir("/"), write("/a", "y", false)},
			map[string]string{"/a": "x"}},
		{"appended and synced survives", []step{write("/a", "x", true), syncDir("/"), write("/a", "y", true)},
			map[string]string{"/a": "xy"}},
		{"rename not synced keeps old name", []step{write("/a", "x", true), syncDir("/"), rename("/a", "/b")},
			map[string]string{"/a": "x", "/b": "<absent>"}},
		{"rename synced", []step{write("/a", "x", true), syncDir("/"), rename("/a", "/b"), syncDir("/")},
			map[string]string{"/a": "<absent>", "/b": "x"}},
		{"atomic replace: old until dir sync", []step{
			write("/f", "old", true), syncDir("/"), write("/f.tmp", "new", true), rename("/f.tmp", "/f"),
		}, map[string]string{"/f": "old", "/f.tmp": "<absent>"}},
		{"atomic replace: new after dir sync", []step{
			write("/f", "old", true), syncDir("/"), write("/f.tmp", "new", true), rename("/f.tmp", "/f"), syncDir("/"),
		}, map[string]string{"/f": "new", "/f.tmp": "<absent>"}},
		{"remove not synced comes back", []step{write("/a", "x", true), syncDir("/"), remove("/a")},
			map[string]string{"/a": "x"}},
		{"remove synced", []step{write("/a", "x", true), syncDir("/"), remove("/a"), syncDir("/")},
			map[string]string{"/a": "<absent>"}},
		{"new directory needs its parent synced", []step{mkdir("/d"), write("/d/a", "x", true), syncDir("/d")},
			map[string]string{"/d/a": "<absent>"}},
		{"new directory with parent synced", []step{mkdir("/d"), syncDir("/"), write("/d/a", "x", true), syncDir("/d")},
			map[string]string{"/d/a": "x"}},
		{"truncate not synced", []step{write("/a", "xyz", true), syncDir("/"), truncate("/a", 1, false)},
			map[string]string{"/a": "xyz"}},
		{"truncate synced", []step{write("/a", "xyz", true), syncDir("/"), truncate("/a", 1, true)},
			map[string]string{"/a": "x"}},
		{"rename across directories, only target synced", []step{
			mkdir("/d"), syncDir("/"), write("/a", "x", true), syncDir("/"), rename("/a", "/d/b"), syncDir("/d"),
		}, map[string]string{"/a": "x", "/d/b": "x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := NewMem()
			for _, s := range tc.steps {
				s(t, m)
			}
			live := map[string]string{}
			for p := range tc.want {
				live[p] = contents(t, m, p)
			}
			c := m.CrashClone(CrashOptions{})
			for p, want := range tc.want {
				if got := contents(t, c, p); got != want {
					t.Errorf("after crash %s = %q, want %q", p, got, want)
				}
				// The live file system does not change.
				if got := contents(t, m, p); got != live[p] {
					t.Errorf("live %s changed by the crash: %q, was %q", p, got, live[p])
				}
			}
			// A clone is itself fully durable: crashing it again changes
			// nothing.
			again := c.CrashClone(CrashOptions{})
			for p := range tc.want {
				if a, b := contents(t, c, p), contents(t, again, p); a != b {
					t.Errorf("second crash changed %s: %q -> %q", p, a, b)
				}
			}
		})
	}
}

func TestCrashKeepsRandomUnsyncedPrefix(t *testing.T) {
	m := NewMem()
	write("/a", "synced|", true)(t, m)
	syncDir("/")(t, m)
	tail := bytes.Repeat([]byte("0123456789abcdef"), 256) // 4 KiB, 8 sectors
	write("/a", string(tail), false)(t, m)
	r := rand.New(rand.NewPCG(1, 2))
	sawPartial, sawZeroed := false, false
	for i := 0; i < 200; i++ {
		got := []byte(contents(t, m.CrashClone(CrashOptions{Rand: r}), "/a"))
		if !bytes.HasPrefix(got, []byte("synced|")) {
			t.Fatalf("synced prefix lost: %q", got[:min(len(got), 16)])
		}
		rest := got[len("synced|"):]
		if len(rest) > len(tail) {
			t.Fatalf("crash grew the file to %d bytes", len(got))
		}
		// Every sector kept is either the written bytes or zeros.
		for off := 0; off < len(rest); off += 512 {
			end := min(off+512, len(rest))
			s := rest[off:end]
			switch {
			case bytes.Equal(s, tail[off:end]):
			case bytes.Count(s, []byte{0}) == len(s):
				sawZeroed = true
			default:
				t.Fatalf("sector at %d is neither data nor zeros", off)
			}
		}
		if len(rest) > 0 && len(rest) < len(tail) {
			sawPartial = true
		}
	}
	if !sawPartial || !sawZeroed {
		t.Fatalf("random crash never kept a partial tail (%v) or a zeroed sector (%v)", sawPartial, sawZeroed)
	}
}

func TestMemFileErrors(t *testing.T) {
	m := NewMem()
	if _, err := m.OpenFile("/missing", os.O_RDONLY, 0); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("open missing: %v", err)
	}
	if _, err := m.OpenFile("/nodir/a", os.O_RDWR|os.O_CREATE, 0o644); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("create in a missing directory: %v", err)
	}
	write("/a", "x", true)(t, m)
	if _, err := m.OpenFile("/a", os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("O_EXCL on an existing file: %v", err)
	}
	if _, err := m.OpenFile("/a", os.O_RDWR|os.O_APPEND, 0); err == nil {
		t.Fatal("O_APPEND accepted")
	}
	f, _ := m.OpenFile("/a", os.O_RDONLY, 0)
	if _, err := f.WriteAt([]byte("y"), 0); !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("write to a read-only file: %v", err)
	}
	f.Close()
	if err := f.Sync(); !errors.Is(err, fs.ErrClosed) {
		t.Fatalf("sync after close: %v", err)
	}
	mkdir("/d/e")(t, m)
	write("/d/e/f", "x", false)(t, m)
	if err := m.Remove("/d/e"); err == nil {
		t.Fatal("removed a non-empty directory")
	}
	entries, err := m.ReadDir("/")
	if err != nil || len(entries) != 2 || entries[0].Name() != "a" || !entries[1].IsDir() {
		t.Fatalf("readdir: %v %v", entries, err)
	}
	if err := m.RemoveAll("/d"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Stat("/d/e/f"); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("stat after RemoveAll: %v", err)
	}
}

func TestWriteAtomic(t *testing.T) {
	m := NewMem()
	if err := MkdirAllDurable(m, "/x/y", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteAtomic(m, "/x/y/f", []byte("one"), 0o644); err != nil {
		t.Fatal(err)
	}
	// Durable at once, directories included.
	if got := contents(t, m.CrashClone(CrashOptions{}), "/x/y/f"); got != "one" {
		t.Fatalf("after crash: %q", got)
	}
	e := NewErrorFS(m)
	e.Inject(syscall.ENOSPC, OpWrite)
	err := WriteAtomic(e, "/x/y/f", []byte("two"), 0o644)
	if !errors.Is(err, syscall.ENOSPC) || !errors.Is(err, ErrUnchanged) {
		t.Fatalf("write on a full disk: %v", err)
	}
	if got := contents(t, m, "/x/y/f"); got != "one" {
		t.Fatalf("failed replace changed the file: %q", got)
	}
	if got := contents(t, m, "/x/y/f"+TmpSuffix); got != "<absent>" {
		t.Fatalf("temporary file left: %q", got)
	}
	e.Inject(syscall.EIO, OpSyncDir)
	if err := WriteAtomic(e, "/x/y/f", []byte("two"), 0o644); err == nil || errors.Is(err, ErrUnchanged) {
		t.Fatalf("failed directory sync: %v (must not claim the target unchanged)", err)
	}
	e.Heal()
	if err := WriteAtomic(e, "/x/y/f", []byte("three"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := contents(t, m.CrashClone(CrashOptions{}), "/x/y/f"); got != "three" {
		t.Fatalf("after heal and crash: %q", got)
	}
	if e.Injected() != 2 {
		t.Fatalf("injected %d failures, want 2", e.Injected())
	}
}

func TestErrorFSPartialWrite(t *testing.T) {
	m := NewMem()
	e := NewErrorFS(m)
	f, err := e.OpenFile("/a", os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	e.Inject(syscall.ENOSPC, OpsWriting)
	n, err := f.WriteAt([]byte("abcd"), 0)
	if !errors.Is(err, syscall.ENOSPC) || n != 2 {
		t.Fatalf("failing write: n=%d err=%v", n, err)
	}
	if err := f.Sync(); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("sync: %v", err)
	}
	// Reads still work on a full disk.
	b := make([]byte, 2)
	if _, err := f.ReadAt(b, 0); err != nil || string(b) != "ab" {
		t.Fatalf("read %q %v", b, err)
	}
	e.Heal()
	if _, err := f.WriteAt([]byte("abcd"), 0); err != nil {
		t.Fatal(err)
	}
	if err := f.Sync(); err != nil {
		t.Fatal(err)
	}
	// InjectN: exactly the next two syncs fail.
	e.InjectN(syscall.EIO, OpSync, 2)
	for i, want := range []bool{true, true, false, false} {
		if err := f.Sync(); (err != nil) != want {
			t.Fatalf("sync %d: %v", i, err)
		}
	}
}

func TestOSFS(t *testing.T) {
	dir := t.TempDir()
	p := dir + "/sub/f"
	if err := MkdirAllDurable(Default, dir+"/sub", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteAtomic(Default, p, []byte("data"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := ReadFile(Default, p)
	if err != nil || string(b) != "data" {
		t.Fatalf("read back %q %v", b, err)
	}
	st, err := Default.Stat(p)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("stat %v %v", st, err)
	}
	if _, err := Default.OpenFile(dir+"/missing", os.O_RDONLY, 0); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("open missing: %v", err)
	}
}

// TestMoveAsideSurvivesACrash: a file moved aside is at its new name, in a
// quarantine folder created for it, after a power loss right after.
func TestMoveAsideSurvivesACrash(t *testing.T) {
	m := NewMem()
	if err := MkdirAllDurable(m, "/d/logs", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := WriteAtomic(m, "/d/logs/bad", []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	dst, err := MoveAside(m, "/d/logs/bad", "/d/quarantine", "damaged", time.UnixMilli(42))
	if err != nil {
		t.Fatal(err)
	}
	if dst != "/d/quarantine/bad.damaged-42" {
		t.Fatalf("moved to %s", dst)
	}
	c := m.CrashClone(CrashOptions{})
	if b, err := ReadFile(c, dst); err != nil || string(b) != "keep me" {
		t.Fatalf("after a crash: %q, %v", b, err)
	}
	if _, err := c.Stat("/d/logs/bad"); err == nil {
		t.Fatal("the old name survived the crash too")
	}
}
