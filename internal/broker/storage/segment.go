package storage

// This file owns one segment: a file of concatenated batches named by the
// base offset of its first batch, its index files, and the bookkeeping the
// log needs about it (size, next offset, timestamps for rolling and
// retention).

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/courier-dev/courier/internal/broker/vfs"
)

// File name suffixes, as in Kafka.
const (
	logSuffix       = ".log"
	indexSuffix     = ".index"
	timeIndexSuffix = ".timeindex"
	tmpSuffix       = ".tmp"     // a file being written atomically
	deletedSuffix   = ".deleted" // a segment file on its way out
	// compactedSuffix marks a segment the log cleaner wrote (an empty
	// file beside it): its offsets may have gaps and its batches fewer
	// records than they span, which recovery must then accept.
	compactedSuffix = ".compacted"
	// swapSuffix is a cleaned segment, complete and fsynced, that replaces
	// the segments whose offsets it covers; recovery finishes the swap.
	swapSuffix = ".swap"
)

// segmentName is the file name stem for a base offset: 20 zero-padded
// digits, so that lexical order is offset order.
func segmentName(base int64) string { return fmt.Sprintf("%020d", base) }

// parseSegmentName returns the base offset encoded in a segment file name
// with the given suffix.
func parseSegmentName(name, suffix string) (int64, bool) {
	stem, ok := strings.CutSuffix(name, suffix)
	if !ok || len(stem) != 20 {
		return 0, false
	}
	base, err := strconv.ParseInt(stem, 10, 64)
	if err != nil || base < 0 {
		return 0, false
	}
	return base, true
}

// segment is one segment file and what the log knows about it.
//
// Locking: base and paths never change; the file is managed by file (see
// filecache.go). The mutable fields are written
// only by a goroutine holding both Log.appendMu and Log.mu (or by Open before
// the log is shared), so either lock is enough to read them. Read snapshots
// them under Log.mu.
type segment struct {
	base      int64
	logPath   string
	indexPath string
	timePath  string
	markPath  string // the compactedSuffix marker
	file      segFile
	// compacted is set for a segment the cleaner wrote (see
	// compactedSuffix); it never changes.
	compacted bool

	size int64 // bytes of whole, published batches; the next write position
	next int64 // offset after the segment's last batch (base if empty)
	idx  segIndex
	// firstTs is the max timestamp of the first batch (-1 if none), created
	// the creation time in ms: together the age Kafka rolls on (segment.ms).
	firstTs int64
	created int64
	// jitter is this segment's share of segment.jitter.ms, taken off
	// segment.ms so that partitions created together roll apart.
	jitter int64
	// modified is the last-append time in ms (file mtime after Open); Kafka
	// uses it for time retention when batches carry no timestamps.
	modified int64

	// removed is set when retention detaches the segment, so that a sync
	// already holding it skips it.
	removed atomic.Bool
	// replaced is set when the cleaner swapped the segment for a cleaned
	// one: a reader that finds it closed looks again.
	replaced atomic.Bool
}

func newSegment(dir string, base int64) *segment {
	stem := filepath.Join(dir, segmentName(base))
	return &segment{
		base:      base,
		logPath:   stem + logSuffix,
		indexPath: stem + indexSuffix,
		timePath:  stem + timeIndexSuffix,
		markPath:  stem + compactedSuffix,
		next:      base,
		idx:       newSegIndex(),
		firstTs:   -1,
	}
}

// createSegment creates the file for a new, empty segment. O_EXCL guards the
// invariant that offsets are never reused: an existing file of that name is
// an error, not something to overwrite. The caller arranges a directory
// fsync.
func createSegment(fsys fileSystem, files *FileCache, dir string, base, nowMs int64) (*segment, error) {
	s := newSegment(dir, base)
	f, err := fsys.OpenFile(s.logPath, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create segment %s: %w", s.logPath, err)
	}
	s.pin(files, f)
	s.created, s.modified = nowMs, nowMs
	return s, nil
}

// view is an immutable snapshot of a segment taken under Log.mu: what a
// reader may look at without holding any lock.
type view struct {
	seg     *segment
	size    int64
	next    int64
	offsets []offsetEntry
	times   []timeEntry
	maxTs   int64
	// limit, when set by a reader, is the high watermark: batches at or
	// beyond it are not returned.
	limit int64
}

func (s *segment) view() view {
	return view{seg: s, size: s.size, next: s.next, offsets: s.idx.offsets, times: s.idx.times, maxTs: s.idx.maxTs, limit: math.MaxInt64}
}

// lastTimestamp is the timestamp Kafka's time retention compares: the
// largest batch timestamp, or the last-modified time if no batch has one.
func (s *segment) lastTimestamp() int64 {
	if s.idx.maxTs >= 0 {
		return s.idx.maxTs
	}
	return s.modified
}

// writeIndexFiles persists both indexes atomically. Callers do this only
// after the segment's data is fsynced (see index.go) and fsync the
// directory afterwards.
func (s *segment) writeIndexFiles(fsys fileSystem, x *segIndex) error {
	if err := vfs.WriteAtomic(fsys, s.indexPath, encodeOffsetIndex(x.offsets), 0o644); err != nil {
		return fmt.Errorf("write offset index: %w", err)
	}
	if err := vfs.WriteAtomic(fsys, s.timePath, encodeTimeIndex(x.times), 0o644); err != nil {
		return fmt.Errorf("write time index: %w", err)
	}
	return nil
}

// removeIndexFiles deletes the index files; missing files are fine. (A
// compacted marker stays: it describes the data, not the index; recovery
// removes one whose segment is gone.)
func (s *segment) removeIndexFiles(fsys fileSystem) error {
	var errs []error
	for _, p := range []string{s.indexPath, s.timePath} {
		if err := fsys.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove %s: %w", p, err))
		}
	}
	return errors.Join(errs...)
}

// remove closes the segment (now, or when its last reader is done) and
// deletes its files. The log file is first renamed to .deleted so that a
// crash part way leaves no half-deleted segment that Open would take for
// live data; Open deletes leftovers. A reader still holding the file reads
// on (the name is gone, the file is not).
func (s *segment) remove(fsys fileSystem, files *FileCache) error {
	var errs []error
	if err := s.closeFile(files); err != nil && !errors.Is(err, fs.ErrClosed) {
		errs = append(errs, fmt.Errorf("close %s: %w", s.logPath, err))
	}
	doomed := s.logPath + deletedSuffix
	if err := fsys.Rename(s.logPath, doomed); err != nil {
		errs = append(errs, fmt.Errorf("rename %s: %w", s.logPath, err))
		doomed = s.logPath
	}
	if err := s.removeIndexFiles(fsys); err != nil {
		errs = append(errs, err)
	}
	if err := fsys.Remove(s.markPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, fmt.Errorf("remove %s: %w", s.markPath, err))
	}
	if err := fsys.Remove(doomed); err != nil && !errors.Is(err, fs.ErrNotExist) {
		errs = append(errs, fmt.Errorf("remove %s: %w", doomed, err))
	}
	return errors.Join(errs...)
}
