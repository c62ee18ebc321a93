package storage

// This file bounds the open files of sealed segments. A broker with many
// partitions and long retention has far more segments than the process may
// keep open, so a sealed segment's file is opened when a reader needs it
// and closed again when it has been idle longest and the cache is full.
//
// Pinned segments (the active one, and rolled ones until their data is
// fsynced) keep their file open and are not in the cache: appends and
// fsyncs use it without any lock. A reader takes a reference (acquire) for
// the span of its reads; a file is closed only with no reference held, so
// neither eviction nor retention's removal ever closes a file under a
// reader. That reference counting is also what lets a future log cleaner
// swap segments under readers.

import (
	"container/list"
	"fmt"
	"io/fs"
	"os"
	"sync"
)

// FileCache holds the open files of sealed segments of every log that
// shares it, at most about Capacity at a time (a file in use stays open
// past it until its readers are done). It is safe for concurrent use.
type FileCache struct {
	capacity int

	mu  sync.Mutex
	lru list.List // of *segment: unpinned segments with an open file, most recent at the front
}

// NewFileCache returns a cache holding up to capacity idle sealed-segment
// files open (at least 1).
func NewFileCache(capacity int) *FileCache {
	return &FileCache{capacity: max(capacity, 1)}
}

// defaultFileCache is shared by logs opened without Options.Files.
var defaultFileCache = NewFileCache(1024)

// Open returns how many sealed-segment files the cache holds open.
func (c *FileCache) Open() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lru.Len()
}

// segFile is a segment's file state, guarded by its own mutex; the cache's
// mutex is taken first when both are needed.
type segFile struct {
	mu     sync.Mutex
	f      file
	refs   int
	pinned bool
	gone   bool          // removed from the log: close as soon as unused
	elem   *list.Element // in the cache's LRU while open and unpinned
}

// acquire returns s's file for reading, opening it if the cache had
// closed it, and the function that releases it.
func (s *segment) acquire(fsys fileSystem, c *FileCache) (file, func(), error) {
	sf := &s.file
	sf.mu.Lock()
	if sf.f == nil {
		if sf.gone {
			sf.mu.Unlock()
			return nil, nil, fmt.Errorf("segment %s removed: %w", s.logPath, fs.ErrClosed)
		}
		f, err := fsys.OpenFile(s.logPath, os.O_RDONLY, 0)
		if err != nil {
			sf.mu.Unlock()
			return nil, nil, fmt.Errorf("open segment %s: %w", s.logPath, err)
		}
		sf.f = f
	}
	sf.refs++
	f, pinned := sf.f, sf.pinned
	sf.mu.Unlock()
	if !pinned {
		c.touch(s)
	}
	return f, func() { s.release() }, nil
}

// release drops a reference taken by acquire.
func (s *segment) release() {
	sf := &s.file
	sf.mu.Lock()
	defer sf.mu.Unlock()
	sf.refs--
	if sf.refs == 0 && sf.gone && sf.f != nil {
		sf.f.Close()
		sf.f = nil
	}
}

// touch marks s as just used and closes the idlest files beyond capacity.
func (c *FileCache) touch(s *segment) {
	c.mu.Lock()
	defer c.mu.Unlock()
	sf := &s.file
	sf.mu.Lock()
	switch {
	case sf.pinned || sf.gone || sf.f == nil:
	case sf.elem != nil:
		c.lru.MoveToFront(sf.elem)
	default:
		sf.elem = c.lru.PushFront(s)
	}
	sf.mu.Unlock()
	c.evictLocked()
}

// evictLocked closes idle files from the back of the LRU until the cache
// is within capacity. Files in use are skipped (they stay open until their
// readers are done and are reconsidered at the next touch).
func (c *FileCache) evictLocked() {
	for e := c.lru.Back(); e != nil && c.lru.Len() > c.capacity; {
		prev := e.Prev()
		s := e.Value.(*segment)
		sf := &s.file
		sf.mu.Lock()
		if sf.refs == 0 {
			sf.f.Close()
			sf.f = nil
			c.dropLocked(sf)
		}
		sf.mu.Unlock()
		e = prev
	}
}

// dropLocked takes sf out of the LRU, if it is in it; c.mu and sf.mu are
// held.
func (c *FileCache) dropLocked(sf *segFile) {
	if sf.elem != nil {
		c.lru.Remove(sf.elem)
		sf.elem = nil
	}
}

// pin keeps s's file open outside the cache (the active segment, or one
// awaiting fsync); f is its open file.
func (s *segment) pin(c *FileCache, f file) {
	c.mu.Lock()
	defer c.mu.Unlock()
	sf := &s.file
	sf.mu.Lock()
	defer sf.mu.Unlock()
	sf.f, sf.pinned = f, true
	c.dropLocked(sf)
}

// unpin hands a sealed, fsynced segment's file to the cache.
func (s *segment) unpin(c *FileCache) {
	s.file.mu.Lock()
	s.file.pinned = false
	s.file.mu.Unlock()
	c.touch(s)
}

// pinnedFile is the file of a pinned segment, for appends, fsyncs and
// recovery, which only ever use pinned segments.
func (s *segment) pinnedFile() file {
	s.file.mu.Lock()
	defer s.file.mu.Unlock()
	return s.file.f
}

// closeFile takes s out of use for good: out of the cache, and its file
// closed now, or by the last reader still holding it.
func (s *segment) closeFile(c *FileCache) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	sf := &s.file
	sf.mu.Lock()
	defer sf.mu.Unlock()
	sf.gone, sf.pinned = true, false
	c.dropLocked(sf)
	if sf.refs > 0 || sf.f == nil {
		return nil
	}
	err := sf.f.Close()
	sf.f = nil
	return err
}
