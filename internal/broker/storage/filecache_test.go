package storage

import (
	"bytes"
	"errors"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/courier-dev/courier/internal/broker/vfs"
)

// TestFileCacheBoundsOpenSegments: a log of many sealed segments keeps at
// most the cache's capacity of them open, at start and while reading them
// all, and reads still return every batch.
func TestFileCacheBoundsOpenSegments(t *testing.T) {
	dir := t.TempDir()
	files := NewFileCache(2)
	fsys := &countingFS{FS: vfs.Default}
	cfg := Config{SegmentBytes: 300}
	l, err := openLog(fsys, dir, cfg, Options{Logger: quietLogger(), Files: files})
	if err != nil {
		t.Fatal(err)
	}
	var want [][]byte
	for i := 0; i < 40; i++ {
		raw, _ := mustAppend(t, l, batch(1))
		want = append(want, raw)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if l, err = openLog(fsys, dir, cfg, Options{Logger: quietLogger(), Files: files}); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if n := len(l.segs); n < 10 {
		t.Fatalf("want many segments, got %d", n)
	}
	if open := fsys.open(); open > 3 {
		t.Fatalf("%d segment files open after Open, want at most 2 cached + the active one", open)
	}
	for round := 0; round < 2; round++ {
		if got := readAll(t, l); !bytes.Equal(got, bytes.Join(want, nil)) {
			t.Fatal("read back differs")
		}
		if open := fsys.open(); open > 3 {
			t.Fatalf("%d segment files open while reading, want at most 3", open)
		}
	}
}

// TestRetentionUnderConcurrentReads: segments removed by retention while
// readers read them never make a read fail with anything but
// ErrOffsetOutOfRange, and every file is closed in the end.
func TestRetentionUnderConcurrentReads(t *testing.T) {
	dir := t.TempDir()
	clock := newFakeClock()
	files := NewFileCache(1)
	fsys := &countingFS{FS: vfs.Default}
	l, err := openLog(fsys, dir, Config{SegmentBytes: 300, RetentionMs: 1000}, Options{Logger: quietLogger(), Files: files, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 60; i++ {
		mustAppend(t, l, batch(1).at(clock.Now().UnixMilli()))
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	errs := make(chan error, 4)
	for r := 0; r < 4; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := l.Read(int64(i%60), 1<<20); err != nil && !errorsIsOutOfRange(err) {
					errs <- err
					return
				}
			}
		}()
	}
	clock.Add(5000)
	if err := l.ApplyRetention(); err != nil {
		t.Fatal(err)
	}
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("read during retention: %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if open := fsys.open(); open != 0 {
		t.Fatalf("%d files left open after Close", open)
	}
}

func errorsIsOutOfRange(err error) bool { return errors.Is(err, ErrOffsetOutOfRange) }

// countingFS is the OS filesystem counting segment files currently open.
type countingFS struct {
	vfs.FS
	n atomic.Int64
}

func (c *countingFS) open() int { return int(c.n.Load()) }

func (c *countingFS) OpenFile(name string, flag int, perm os.FileMode) (file, error) {
	f, err := c.FS.OpenFile(name, flag, perm)
	if err != nil || !strings.HasSuffix(name, logSuffix) {
		return f, err
	}
	c.n.Add(1)
	return &countedFile{file: f, n: &c.n}, nil
}

type countedFile struct {
	file
	n      *atomic.Int64
	closed atomic.Bool
}

func (f *countedFile) Close() error {
	if f.closed.CompareAndSwap(false, true) {
		f.n.Add(-1)
	}
	return f.file.Close()
}
