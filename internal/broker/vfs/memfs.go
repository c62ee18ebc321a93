package vfs

// memfs.go is an in-memory FS with crash semantics, in the manner of
// pebble's strict MemFS: every file keeps the contents it had at its last
// Sync beside its live contents, and every directory keeps the entries it
// had at its last SyncDir beside its live entries. CrashClone builds a new
// MemFS from the durable halves alone: what a power loss would leave.

import (
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// MemFS is an in-memory file system that can simulate a crash. The zero
// value is not usable; call NewMem. It is safe for concurrent use.
type MemFS struct {
	mu   sync.Mutex
	root *memNode
}

// memNode is a file or a directory. A node may be reachable under several
// names after a crash (a rename whose new directory was synced and whose
// old one was not), as a hard link would.
type memNode struct {
	dir  bool
	mode os.FileMode

	data   []byte // file: live contents
	synced []byte // file: contents at the last Sync

	children map[string]*memNode // directory: live entries
	durable  map[string]*memNode // directory: entries at the last SyncDir
}

func newDir(mode os.FileMode) *memNode {
	return &memNode{dir: true, mode: mode | os.ModeDir, children: map[string]*memNode{}, durable: map[string]*memNode{}}
}

// NewMem returns an empty MemFS whose root directory exists durably.
func NewMem() *MemFS { return &MemFS{root: newDir(0o755)} }

// CrashOptions shapes what CrashClone keeps of data that was written but
// not synced.
type CrashOptions struct {
	// Rand, when set, keeps a random part of each file's unsynced
	// appended bytes, as a disk may persist some pages of a write cut
	// short: a random-length prefix of the bytes beyond the synced
	// contents, with each 512-byte sector of it kept or zeroed at random
	// (zeroed: the file's size was persisted but not that sector's
	// data). Nil drops every unsynced byte.
	Rand *rand.Rand
}

// CrashClone returns the file system as a power loss at this moment would
// leave it: only synced file contents and synced directory entries. The
// receiver is unchanged and its open files keep working, so a test can
// crash a running component, open the clone and compare.
func (m *MemFS) CrashClone(opts CrashOptions) *MemFS {
	m.mu.Lock()
	defer m.mu.Unlock()
	seen := map[*memNode]*memNode{}
	var clone func(n *memNode) *memNode
	clone = func(n *memNode) *memNode {
		if c := seen[n]; c != nil {
			return c
		}
		if !n.dir {
			c := &memNode{mode: n.mode, data: crashContents(n, opts.Rand)}
			c.synced = append([]byte(nil), c.data...)
			seen[n] = c
			return c
		}
		c := newDir(n.mode)
		seen[n] = c
		for name, child := range n.durable {
			cc := clone(child)
			c.children[name] = cc
			c.durable[name] = cc
		}
		return c
	}
	return &MemFS{root: clone(m.root)}
}

// crashContents is what survives of a file: its synced contents, plus, with
// r, part of what was appended after them.
func crashContents(n *memNode, r *rand.Rand) []byte {
	out := append([]byte(nil), n.synced...)
	if r == nil || len(n.data) <= len(n.synced) || string(n.data[:len(n.synced)]) != string(n.synced) {
		return out
	}
	const sector = 512
	tail := n.data[len(n.synced):]
	keep := r.IntN(len(tail) + 1)
	for off := 0; off < keep; off += sector {
		end := min(off+sector, keep)
		if r.IntN(4) == 0 {
			out = append(out, make([]byte, end-off)...)
		} else {
			out = append(out, tail[off:end]...)
		}
	}
	return out
}

// split cleans a path into its components below the root.
func split(name string) []string {
	p := filepath.ToSlash(filepath.Clean("/" + name))
	if p == "/" {
		return nil
	}
	return strings.Split(p[1:], "/")
}

// walk returns the directory holding name's last component and that
// component; m.mu must be held.
func (m *MemFS) walk(op, name string) (*memNode, string, error) {
	parts := split(name)
	if len(parts) == 0 {
		return nil, "", &os.PathError{Op: op, Path: name, Err: errors.New("is the root")}
	}
	d := m.root
	for _, p := range parts[:len(parts)-1] {
		next := d.children[p]
		if next == nil {
			return nil, "", &os.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
		}
		if !next.dir {
			return nil, "", &os.PathError{Op: op, Path: name, Err: errors.New("not a directory")}
		}
		d = next
	}
	return d, parts[len(parts)-1], nil
}

// lookup returns the node at name; m.mu must be held.
func (m *MemFS) lookup(op, name string) (*memNode, error) {
	if len(split(name)) == 0 {
		return m.root, nil
	}
	d, base, err := m.walk(op, name)
	if err != nil {
		return nil, err
	}
	n := d.children[base]
	if n == nil {
		return nil, &os.PathError{Op: op, Path: name, Err: fs.ErrNotExist}
	}
	return n, nil
}

// OpenFile opens or creates a file. O_APPEND is refused: writes are
// positional.
func (m *MemFS) OpenFile(name string, flag int, perm os.FileMode) (File, error) {
	if flag&os.O_APPEND != 0 {
		return nil, &os.PathError{Op: "open", Path: name, Err: errors.New("O_APPEND is not supported; use WriteAt")}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	d, base, err := m.walk("open", name)
	if err != nil {
		return nil, err
	}
	n := d.children[base]
	switch {
	case n == nil && flag&os.O_CREATE == 0:
		return nil, &os.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	case n == nil:
		n = &memNode{mode: perm}
		d.children[base] = n
	case flag&(os.O_CREATE|os.O_EXCL) == os.O_CREATE|os.O_EXCL:
		return nil, &os.PathError{Op: "open", Path: name, Err: fs.ErrExist}
	case n.dir:
		return nil, &os.PathError{Op: "open", Path: name, Err: errors.New("is a directory")}
	}
	write := flag&(os.O_WRONLY|os.O_RDWR) != 0
	if flag&os.O_TRUNC != 0 && write {
		n.data = nil
	}
	return &memFile{fs: m, n: n, name: name, read: flag&os.O_WRONLY == 0, write: write}, nil
}

// Remove removes a file or an empty directory.
func (m *MemFS) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, base, err := m.walk("remove", name)
	if err != nil {
		return err
	}
	n := d.children[base]
	if n == nil {
		return &os.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
	}
	if n.dir && len(n.children) > 0 {
		return &os.PathError{Op: "remove", Path: name, Err: errors.New("directory not empty")}
	}
	delete(d.children, base)
	return nil
}

// RemoveAll removes path and everything below it; a missing path is not
// an error.
func (m *MemFS) RemoveAll(path string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, base, err := m.walk("removeall", path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	delete(d.children, base)
	return nil
}

// Rename moves oldpath to newpath, replacing a file there.
func (m *MemFS) Rename(oldpath, newpath string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	od, obase, err := m.walk("rename", oldpath)
	if err != nil {
		return err
	}
	n := od.children[obase]
	if n == nil {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: fs.ErrNotExist}
	}
	nd, nbase, err := m.walk("rename", newpath)
	if err != nil {
		return err
	}
	if t := nd.children[nbase]; t != nil && t != n && (t.dir || n.dir) {
		return &os.LinkError{Op: "rename", Old: oldpath, New: newpath, Err: errors.New("rename involving a directory over an existing name")}
	}
	delete(od.children, obase)
	nd.children[nbase] = n
	return nil
}

// ReadDir lists a directory, sorted by name.
func (m *MemFS) ReadDir(name string) ([]os.DirEntry, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, err := m.lookup("readdir", name)
	if err != nil {
		return nil, err
	}
	if !d.dir {
		return nil, &os.PathError{Op: "readdir", Path: name, Err: errors.New("not a directory")}
	}
	out := make([]os.DirEntry, 0, len(d.children))
	for base, n := range d.children {
		out = append(out, fs.FileInfoToDirEntry(n.info(base)))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}

// MkdirAll creates path and its missing parents. The new entries are
// durable only once their parents are synced (see MkdirAllDurable).
func (m *MemFS) MkdirAll(path string, perm os.FileMode) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d := m.root
	for _, p := range split(path) {
		next := d.children[p]
		if next == nil {
			next = newDir(perm)
			d.children[p] = next
		} else if !next.dir {
			return &os.PathError{Op: "mkdir", Path: path, Err: errors.New("not a directory")}
		}
		d = next
	}
	return nil
}

// Stat describes name.
func (m *MemFS) Stat(name string) (os.FileInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n, err := m.lookup("stat", name)
	if err != nil {
		return nil, err
	}
	return n.info(filepath.Base(name)), nil
}

// SyncDir makes the directory's current entries durable.
func (m *MemFS) SyncDir(path string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, err := m.lookup("syncdir", path)
	if err != nil {
		return err
	}
	if !d.dir {
		return &os.PathError{Op: "syncdir", Path: path, Err: errors.New("not a directory")}
	}
	d.durable = make(map[string]*memNode, len(d.children))
	for k, v := range d.children {
		d.durable[k] = v
	}
	return nil
}

// info describes n under name; the caller holds the lock.
func (n *memNode) info(name string) os.FileInfo {
	return memInfo{name: name, size: int64(len(n.data)), mode: n.mode}
}

// memInfo is a node's os.FileInfo.
type memInfo struct {
	name string
	size int64
	mode os.FileMode
}

func (i memInfo) Name() string       { return i.name }
func (i memInfo) Size() int64        { return i.size }
func (i memInfo) Mode() os.FileMode  { return i.mode }
func (i memInfo) ModTime() time.Time { return time.Time{} }
func (i memInfo) IsDir() bool        { return i.mode.IsDir() }
func (i memInfo) Sys() any           { return nil }

// memFile is an open file of a MemFS.
type memFile struct {
	fs          *MemFS
	n           *memNode
	name        string
	read, write bool
	closed      bool
}

func (f *memFile) check(op string, want bool) error {
	if f.closed {
		return &os.PathError{Op: op, Path: f.name, Err: fs.ErrClosed}
	}
	if !want {
		return &os.PathError{Op: op, Path: f.name, Err: fs.ErrPermission}
	}
	return nil
}

func (f *memFile) ReadAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("read", f.read); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, &os.PathError{Op: "read", Path: f.name, Err: fs.ErrInvalid}
	}
	if off >= int64(len(f.n.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.n.data[off:])
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

func (f *memFile) WriteAt(p []byte, off int64) (int, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("write", f.write); err != nil {
		return 0, err
	}
	if off < 0 {
		return 0, &os.PathError{Op: "write", Path: f.name, Err: fs.ErrInvalid}
	}
	if end := off + int64(len(p)); end > int64(len(f.n.data)) {
		f.n.data = append(f.n.data, make([]byte, end-int64(len(f.n.data)))...)
	}
	copy(f.n.data[off:], p)
	return len(p), nil
}

func (f *memFile) Sync() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("sync", true); err != nil {
		return err
	}
	f.n.synced = append(f.n.synced[:0:0], f.n.data...)
	return nil
}

func (f *memFile) Truncate(size int64) error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("truncate", f.write); err != nil {
		return err
	}
	if size < 0 {
		return &os.PathError{Op: "truncate", Path: f.name, Err: fs.ErrInvalid}
	}
	if size <= int64(len(f.n.data)) {
		f.n.data = f.n.data[:size:size]
	} else {
		f.n.data = append(f.n.data, make([]byte, size-int64(len(f.n.data)))...)
	}
	return nil
}

func (f *memFile) Stat() (os.FileInfo, error) {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if err := f.check("stat", true); err != nil {
		return nil, err
	}
	return f.n.info(filepath.Base(f.name)), nil
}

func (f *memFile) Close() error {
	f.fs.mu.Lock()
	defer f.fs.mu.Unlock()
	if f.closed {
		return &os.PathError{Op: "close", Path: f.name, Err: fs.ErrClosed}
	}
	f.closed = true
	return nil
}
