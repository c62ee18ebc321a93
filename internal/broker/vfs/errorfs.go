package vfs

// errorfs.go wraps an FS to fail chosen operations on demand, in the
// manner of pebble's errorfs: a test turns a full disk on (Inject with
// ENOSPC), watches the code under test fail cleanly, then turns it off
// (Heal) and watches it recover by itself.

import (
	"os"
	"sync"
	"sync/atomic"
)

// Op is a kind of file-system operation, for choosing what ErrorFS fails.
type Op uint16

// The operations ErrorFS can fail. OpCreate is an OpenFile that may create
// (O_CREATE); OpOpen is any other OpenFile.
const (
	OpOpen Op = 1 << iota
	OpCreate
	OpRead
	OpWrite
	OpSync
	OpTruncate
	OpRename
	OpRemove
	OpMkdir
	OpSyncDir
	OpReadDir
	OpStat
	// OpAll is every operation.
	OpAll Op = 1<<iota - 1
)

// OpsWriting is every operation that needs free space or changes the
// disk: what a full disk fails.
const OpsWriting = OpCreate | OpWrite | OpSync | OpTruncate | OpRename | OpMkdir | OpSyncDir

// ErrorFS is an FS that fails operations while a fault is injected. It is
// safe for concurrent use; changing the fault takes effect for the next
// operation.
type ErrorFS struct {
	inner FS
	mu    sync.Mutex
	fault func(op Op, path string) error
	hits  atomic.Int64
}

// NewErrorFS wraps inner; nothing fails until Inject.
func NewErrorFS(inner FS) *ErrorFS { return &ErrorFS{inner: inner} }

// Inject makes every later operation in ops fail with err until Heal. A
// failing WriteAt first writes the first half of its bytes, as a disk that
// fills up in the middle of a write does.
func (e *ErrorFS) Inject(err error, ops Op) {
	e.InjectFunc(func(op Op, _ string) error {
		if op&ops != 0 {
			return err
		}
		return nil
	})
}

// InjectN makes the next n operations in ops fail with err, then lets
// everything through: a disk that is full for exactly that long, so a test
// knows which attempt fails and which succeeds.
func (e *ErrorFS) InjectN(err error, ops Op, n int) {
	var mu sync.Mutex
	e.InjectFunc(func(op Op, _ string) error {
		mu.Lock()
		defer mu.Unlock()
		if op&ops == 0 || n <= 0 {
			return nil
		}
		n--
		return err
	})
}

// InjectFunc makes every later operation fail with whatever f returns for
// it (nil: let it through) until Heal. f must be safe for concurrent use.
func (e *ErrorFS) InjectFunc(f func(op Op, path string) error) {
	e.mu.Lock()
	e.fault = f
	e.mu.Unlock()
}

// Heal stops injecting: every later operation goes to the inner FS.
func (e *ErrorFS) Heal() { e.InjectFunc(nil) }

// Injected returns how many operations have been failed so far.
func (e *ErrorFS) Injected() int64 { return e.hits.Load() }

// check returns the injected error for op on path, if any.
func (e *ErrorFS) check(op Op, path string) error {
	e.mu.Lock()
	f := e.fault
	e.mu.Unlock()
	if f == nil {
		return nil
	}
	err := f(op, path)
	if err != nil {
		e.hits.Add(1)
		return &os.PathError{Op: "injected", Path: path, Err: err}
	}
	return nil
}

// OpenFile opens name in the inner FS unless OpCreate (with O_CREATE) or
// OpOpen is failing; the file's own operations are checked too.
func (e *ErrorFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	op := OpOpen
	if flag&os.O_CREATE != 0 {
		op = OpCreate
	}
	if err := e.check(op, name); err != nil {
		return nil, err
	}
	f, err := e.inner.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return &errorFile{File: f, fs: e, name: name}, nil
}

// Remove removes name unless OpRemove is failing.
func (e *ErrorFS) Remove(name string) error {
	if err := e.check(OpRemove, name); err != nil {
		return err
	}
	return e.inner.Remove(name)
}

// RemoveAll removes path unless OpRemove is failing.
func (e *ErrorFS) RemoveAll(path string) error {
	if err := e.check(OpRemove, path); err != nil {
		return err
	}
	return e.inner.RemoveAll(path)
}

// Rename renames unless OpRename is failing (checked against newpath).
func (e *ErrorFS) Rename(oldpath, newpath string) error {
	if err := e.check(OpRename, newpath); err != nil {
		return err
	}
	return e.inner.Rename(oldpath, newpath)
}

// ReadDir lists name unless OpReadDir is failing.
func (e *ErrorFS) ReadDir(name string) ([]os.DirEntry, error) {
	if err := e.check(OpReadDir, name); err != nil {
		return nil, err
	}
	return e.inner.ReadDir(name)
}

// MkdirAll creates path unless OpMkdir is failing.
func (e *ErrorFS) MkdirAll(path string, perm os.FileMode) error {
	if err := e.check(OpMkdir, path); err != nil {
		return err
	}
	return e.inner.MkdirAll(path, perm)
}

// Stat describes name unless OpStat is failing.
func (e *ErrorFS) Stat(name string) (os.FileInfo, error) {
	if err := e.check(OpStat, name); err != nil {
		return nil, err
	}
	return e.inner.Stat(name)
}

// SyncDir fsyncs path unless OpSyncDir is failing.
func (e *ErrorFS) SyncDir(path string) error {
	if err := e.check(OpSyncDir, path); err != nil {
		return err
	}
	return e.inner.SyncDir(path)
}

// errorFile is a File of an ErrorFS.
type errorFile struct {
	File
	fs   *ErrorFS
	name string
}

func (f *errorFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.fs.check(OpRead, f.name); err != nil {
		return 0, err
	}
	return f.File.ReadAt(p, off)
}

func (f *errorFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.fs.check(OpWrite, f.name); err != nil {
		n, _ := f.File.WriteAt(p[:len(p)/2], off)
		return n, err
	}
	return f.File.WriteAt(p, off)
}

func (f *errorFile) Sync() error {
	if err := f.fs.check(OpSync, f.name); err != nil {
		return err
	}
	return f.File.Sync()
}

func (f *errorFile) Truncate(size int64) error {
	if err := f.fs.check(OpTruncate, f.name); err != nil {
		return err
	}
	return f.File.Truncate(size)
}
