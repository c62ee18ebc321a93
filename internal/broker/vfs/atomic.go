package vfs

// atomic.go holds the helpers every durable file goes through: reading a
// small file whole, replacing a file atomically, and creating directories
// so that they survive a crash.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// TmpSuffix names the temporary sibling WriteAtomic writes before its
// rename. A leftover one is from a replacement that did not finish: the
// file it was to replace is intact.
const TmpSuffix = ".tmp"

// ErrUnchanged is wrapped by a WriteAtomic error that happened before the
// rename: the target still holds its old contents for certain. Without it,
// the rename may or may not have happened, so the caller must treat the
// target as unknown until a later WriteAtomic succeeds.
var ErrUnchanged = errors.New("target unchanged")

// ReadFile returns a whole file. Durable state files are small enough
// (metadata, a compacted journal) to read at once.
func ReadFile(fs FS, path string) ([]byte, error) {
	f, err := fs.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat %s: %w", path, err)
	}
	b := make([]byte, st.Size())
	n, err := f.ReadAt(b, 0)
	if err == io.EOF && n == len(b) {
		err = nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return b, nil
}

// WriteAtomic replaces path with data so that a crash at any moment leaves
// either the old or the new contents, never a mix or nothing: it writes a
// temporary sibling (path+TmpSuffix) with mode perm, fsyncs it, renames it
// over path and fsyncs the directory, so that the rename itself is
// durable. On an error before the rename the temporary file is removed and
// the error wraps ErrUnchanged.
func WriteAtomic(fs FS, path string, data []byte, perm os.FileMode) error {
	tmp := path + TmpSuffix
	unchanged := func(step string, err error) error {
		fs.Remove(tmp) // best effort: a leftover is removed at the next open
		return fmt.Errorf("%w: %s %s: %w", ErrUnchanged, step, tmp, err)
	}
	f, err := fs.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return fmt.Errorf("%w: create %s: %w", ErrUnchanged, tmp, err)
	}
	if _, err := f.WriteAt(data, 0); err != nil {
		f.Close()
		return unchanged("write", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return unchanged("fsync", err)
	}
	if err := f.Close(); err != nil {
		return unchanged("close", err)
	}
	if err := fs.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	if err := fs.SyncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("fsync directory of %s: %w", path, err)
	}
	return nil
}

// MkdirAllDurable creates dir and any missing parents, like MkdirAll, and
// fsyncs the parent of each directory it created, so that the new
// directories survive a crash. An existing dir costs one Stat.
func MkdirAllDurable(fs FS, dir string, perm os.FileMode) error {
	dir = filepath.Clean(dir)
	var missing []string // deepest first
	for d := dir; ; d = filepath.Dir(d) {
		_, err := fs.Stat(d)
		if err == nil {
			break
		}
		if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("stat %s: %w", d, err)
		}
		missing = append(missing, d)
		if filepath.Dir(d) == d {
			break
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if err := fs.MkdirAll(dir, perm); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	for i := len(missing) - 1; i >= 0; i-- {
		parent := filepath.Dir(missing[i])
		if err := fs.SyncDir(parent); err != nil {
			return fmt.Errorf("fsync %s after creating %s: %w", parent, missing[i], err)
		}
	}
	return nil
}

// MoveAside renames path into dir (created durably if missing) as
// BASE.why-UNIXMILLI, so that what was moved, why and when stays readable
// in the name, and fsyncs both directories so that the move survives a
// crash. It returns the new path. Recovery uses it to keep what it cannot
// read instead of deleting it.
func MoveAside(fs FS, path, dir, why string, now time.Time) (string, error) {
	if err := MkdirAllDurable(fs, dir, 0o755); err != nil {
		return "", err
	}
	dst := filepath.Join(dir, fmt.Sprintf("%s.%s-%d", filepath.Base(path), why, now.UnixMilli()))
	if err := fs.Rename(path, dst); err != nil {
		return "", fmt.Errorf("move %s aside: %w", path, err)
	}
	for _, d := range []string{dir, filepath.Dir(path)} {
		if err := fs.SyncDir(d); err != nil {
			return "", fmt.Errorf("fsync %s: %w", d, err)
		}
	}
	return dst, nil
}
