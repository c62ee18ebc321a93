// Package vfs is the file-system seam under everything Courier keeps on
// disk, in the manner of pebble's vfs: code that must survive a crash does
// its I/O through FS, so that tests can run it on an in-memory file system
// that forgets what was not fsynced (MemFS.CrashClone) or make any
// operation fail on demand, as a full disk does (ErrorFS).
//
// It also holds the one routine that replaces a file atomically
// (WriteAtomic) and the helpers that make directories durable
// (MkdirAllDurable), so that no package writes its own.
//
// Promises:
//   - Default is the operating system, unchanged: the seam costs one
//     interface call per operation.
//   - MemFS models a strict file system: a file's contents survive a crash
//     only up to its last Sync; a name created, renamed or removed in a
//     directory survives only after SyncDir of that directory. CrashClone
//     returns exactly what a power loss at that moment could leave.
//   - ErrorFS fails the operations it is told to, and only those, until
//     Heal: "space returns".
package vfs

import (
	"io"
	"os"
)

// File is the subset of *os.File that durable code uses. Writes are
// positional (WriteAt) so that no shared file offset exists for concurrent
// readers to race on, and so that a writer always knows where its bytes
// went.
type File interface {
	io.ReaderAt
	io.WriterAt
	io.Closer
	Sync() error
	Truncate(size int64) error
	Stat() (os.FileInfo, error)
}

// FS is the subset of package os that durable code uses.
type FS interface {
	// OpenFile opens name as os.OpenFile does. O_APPEND is not part of
	// the seam: writes are positional.
	OpenFile(name string, flag int, perm os.FileMode) (File, error)
	Remove(name string) error
	RemoveAll(path string) error
	Rename(oldpath, newpath string) error
	ReadDir(name string) ([]os.DirEntry, error)
	MkdirAll(path string, perm os.FileMode) error
	Stat(name string) (os.FileInfo, error)
	// SyncDir fsyncs a directory so that file creations, renames and
	// removals in it survive a crash.
	SyncDir(path string) error
}

// Default is the operating system's file system.
var Default FS = osFS{}

// osFS is the real file system.
type osFS struct{}

func (osFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err // *os.File(nil) must not become a non-nil interface
	}
	return f, nil
}
func (osFS) Remove(name string) error                     { return os.Remove(name) }
func (osFS) RemoveAll(path string) error                  { return os.RemoveAll(path) }
func (osFS) Rename(oldpath, newpath string) error         { return os.Rename(oldpath, newpath) }
func (osFS) ReadDir(name string) ([]os.DirEntry, error)   { return os.ReadDir(name) }
func (osFS) MkdirAll(path string, perm os.FileMode) error { return os.MkdirAll(path, perm) }
func (osFS) Stat(name string) (os.FileInfo, error)        { return os.Stat(name) }

func (osFS) SyncDir(path string) error {
	d, err := os.Open(path)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
