package storage

// swap.go replaces a group of segments with the one segment the log cleaner
// wrote from them, so that a crash at any moment leaves either the old
// segments or the new one, never a mix and never neither:
//
//  1. the cleaned data is written to BASE.log.cleaned.tmp and fsynced
//     (a crash here: Open removes the .tmp file; the old segments stand);
//  2. the marker BASE.compacted is created and the file renamed to
//     BASE.log.swap, then the directory is fsynced: from here the new
//     segment is the truth, and Open finishes the swap (completeSwaps);
//  3. in memory the log's segment list is replaced; readers that hold an
//     old segment keep reading its open file (reference counting, see
//     filecache.go), and one that finds it closed looks again;
//  4. the old files are renamed to .deleted and their indexes removed,
//     BASE.log.swap is renamed to BASE.log, its index files are written
//     and the directory fsynced; the .deleted files are then removed.
//
// Open finishing a swap (a .swap file present) verifies it batch by batch,
// removes every segment whose base offset lies in its offset range (the
// cleaner always keeps a group's last batch, so the range is exactly the
// group's), and renames it into place. A swap file that does not verify
// (only outside damage makes one: it was fsynced before its rename) is
// moved to the quarantine folder and the old segments are kept.

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// cleanedSuffix names a cleaned segment being written (removed at Open,
// since it ends with tmpSuffix).
const cleanedSuffix = logSuffix + ".cleaned" + tmpSuffix

// completeSwaps finishes every swap a crash interrupted, given the
// directory's listing; it reports whether it finished any (the listing is
// then stale). It runs at Open before the segments are read.
func (l *Log) completeSwaps(entries []fs.DirEntry) (bool, error) {
	done := false
	for _, e := range entries {
		if base, ok := parseSegmentName(e.Name(), logSuffix+swapSuffix); ok && !e.IsDir() {
			if err := l.completeSwap(base, entries); err != nil {
				return done, fmt.Errorf("finish cleaner swap %s: %w", e.Name(), err)
			}
			done = true
		}
	}
	return done, nil
}

// completeSwap finishes the swap of the segment BASE.log.swap; entries is
// the directory listing.
func (l *Log) completeSwap(base int64, entries []fs.DirEntry) error {
	swap := filepath.Join(l.dir, segmentName(base)+logSuffix+swapSuffix)
	next, ok, err := verifySwap(l.fs, swap, base)
	if err != nil {
		return err
	}
	if !ok {
		return l.abandonSwap(swap, base, entries)
	}
	var olds []int64
	for _, e := range entries {
		if b, isLog := parseSegmentName(e.Name(), logSuffix); isLog && b >= base && b < next {
			olds = append(olds, b)
		}
	}
	// Every segment the swap replaces must lie wholly inside it (the
	// cleaner keeps each group's last batch); one that reaches past it
	// means the swap file is not what the cleaner wrote.
	for _, b := range olds {
		end, err := segmentEnd(l.fs, newSegment(l.dir, b).logPath, b)
		if err != nil {
			return err
		}
		if end > next {
			l.logger.Error("cleaned segment awaiting its swap ends before a segment it would replace", "segment", swap, "swap_end", next, "segment_base", b, "segment_end", end)
			return l.abandonSwap(swap, base, entries)
		}
	}
	var replaced []int64
	for _, b := range olds {
		old := newSegment(l.dir, b)
		if err := l.fs.Remove(old.logPath); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove replaced %s: %w", old.logPath, err)
		}
		if err := old.removeIndexFiles(l.fs); err != nil {
			return err
		}
		replaced = append(replaced, b)
	}
	if err := l.markCompacted(base); err != nil {
		return err
	}
	if err := l.fs.Rename(swap, newSegment(l.dir, base).logPath); err != nil {
		return fmt.Errorf("rename %s: %w", swap, err)
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return fmt.Errorf("fsync directory %s: %w", l.dir, err)
	}
	l.logger.Warn("finished a cleaner swap a crash interrupted",
		"segment", segmentName(base)+logSuffix, "offsets", fmt.Sprintf("%d-%d", base, next-1), "replaced_segments", replaced)
	l.report.SwapsCompleted++
	return nil
}

// verifySwap checks every batch of a swap file (CRC, framing, offsets
// increasing from base) and returns the offset after its last batch; ok is
// false if any batch fails or the file holds none.
func verifySwap(fsys fileSystem, path string, base int64) (next int64, ok bool, err error) {
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return 0, false, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, false, fmt.Errorf("stat %s: %w", path, err)
	}
	var sc batchScanner
	sc.reset(f, 0, st.Size(), base, true)
	sc.compactedMode(math.MaxInt64)
	next = base
	n := 0
	for sc.next() {
		next = sc.h.lastOffset() + 1
		n++
	}
	if sc.ioErr != nil {
		return 0, false, fmt.Errorf("read %s: %w", path, sc.ioErr)
	}
	return next, sc.bad == nil && n > 0, nil
}

// segmentEnd returns the offset after the last whole batch of the segment
// file at path (headers only, no CRC: it only bounds what a swap covers).
func segmentEnd(fsys fileSystem, path string, base int64) (int64, error) {
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return 0, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return 0, fmt.Errorf("stat %s: %w", path, err)
	}
	var sc batchScanner
	sc.reset(f, 0, st.Size(), -1, false)
	sc.compactedMode(math.MaxInt64)
	end := base
	for sc.next() {
		end = max(end, sc.h.lastOffset()+1)
	}
	if sc.ioErr != nil {
		return 0, fmt.Errorf("read %s: %w", path, sc.ioErr)
	}
	return end, nil
}

// abandonSwap moves a swap file that does not verify to the quarantine
// folder and brings back segments of its range that the interrupted swap
// had already renamed to .deleted: nothing it replaced is lost.
func (l *Log) abandonSwap(swap string, base int64, entries []fs.DirEntry) error {
	dst, err := l.quarantineFile(swap, "unverifiable-swap")
	if err != nil {
		return err
	}
	l.report.QuarantinedFiles++
	l.logger.Error("cleaned segment awaiting its swap does not verify; moved to quarantine, the segments it was to replace are kept",
		"segment", swap, "quarantined_as", dst)
	// The range is unknown: restore every .deleted segment from base up
	// to the next live segment.
	limit := int64(math.MaxInt64)
	for _, e := range entries {
		if b, ok := parseSegmentName(e.Name(), logSuffix); ok && b > base && b < limit {
			limit = b
		}
	}
	for _, e := range entries {
		stem, ok := strings.CutSuffix(e.Name(), deletedSuffix)
		if !ok {
			continue
		}
		if b, ok := parseSegmentName(stem, logSuffix); ok && b >= base && b < limit {
			from := filepath.Join(l.dir, e.Name())
			if err := l.fs.Rename(from, filepath.Join(l.dir, stem)); err != nil {
				return fmt.Errorf("restore %s: %w", from, err)
			}
			l.logger.Warn("restored a segment the abandoned swap had removed", "segment", stem)
		}
	}
	return l.fs.SyncDir(l.dir)
}

// swapIn replaces group (consecutive segments of the log) with cleaned, a
// segment written to its .cleaned.tmp file and fsynced. It reports false,
// having removed the cleaned file, if the log changed under the cleaner
// (retention or DeleteRecords removed one of the group, or it closed).
// Caller holds maintMu, which keeps retention and DeleteRecords out.
func (l *Log) swapIn(group []*segment, cleaned *segment, tmpPath string) (bool, error) {
	l.appendMu.Lock()
	i := slices.Index(l.segs, group[0])
	intact := !l.closed && i >= 0 && i+len(group) < len(l.segs) && slices.Equal(l.segs[i:i+len(group)], group)
	l.appendMu.Unlock()
	if !intact {
		cleaned.closeFile(l.opts.Files)
		return false, removeIfExists(l.fs, tmpPath)
	}

	// Step 2: from the rename on, the cleaned segment is the truth.
	swapPath := cleaned.logPath + swapSuffix
	if err := l.markCompacted(cleaned.base); err != nil {
		return false, err
	}
	if err := l.fs.Rename(tmpPath, swapPath); err != nil {
		return false, fmt.Errorf("rename %s: %w", tmpPath, err)
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return false, l.fail(fmt.Errorf("fsync directory %s after a cleaner swap: %w", l.dir, err))
	}

	// Step 3: in memory.
	l.appendMu.Lock()
	l.mu.Lock()
	segs := make([]*segment, 0, len(l.segs)-len(group)+1)
	segs = append(segs, l.segs[:i]...)
	segs = append(segs, cleaned)
	segs = append(segs, l.segs[i+len(group):]...)
	l.segs = segs
	l.dirGen++
	l.mu.Unlock()
	l.appendMu.Unlock()
	for _, s := range group {
		s.replaced.Store(true)
		s.removed.Store(true)
	}

	// Step 4: the files.
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	var errs []error
	var doomed []string
	for _, s := range group {
		if err := s.closeFile(l.opts.Files); err != nil && !errors.Is(err, fs.ErrClosed) {
			errs = append(errs, fmt.Errorf("close %s: %w", s.logPath, err))
		}
		if err := l.fs.Rename(s.logPath, s.logPath+deletedSuffix); err != nil {
			return true, l.fail(fmt.Errorf("rename replaced %s: %w", s.logPath, err))
		}
		doomed = append(doomed, s.logPath+deletedSuffix)
		if err := s.removeIndexFiles(l.fs); err != nil {
			errs = append(errs, err)
		}
		if s.base != cleaned.base {
			if err := removeIfExists(l.fs, s.markPath); err != nil {
				errs = append(errs, err)
			}
		}
	}
	if err := l.fs.Rename(swapPath, cleaned.logPath); err != nil {
		return true, l.fail(fmt.Errorf("rename %s: %w", swapPath, err))
	}
	if err := cleaned.writeIndexFiles(l.fs, &cleaned.idx); err != nil {
		errs = append(errs, fmt.Errorf("write index of %s: %w", cleaned.logPath, err))
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return true, l.fail(fmt.Errorf("fsync directory %s after a cleaner swap: %w", l.dir, err))
	}
	for _, p := range doomed {
		if err := removeIfExists(l.fs, p); err != nil {
			errs = append(errs, err)
		}
	}
	cleaned.unpin(l.opts.Files)
	return true, errors.Join(errs...)
}

// removeIfExists removes path; a missing file is fine.
func removeIfExists(fsys fileSystem, path string) error {
	if err := fsys.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove %s: %w", path, err)
	}
	return nil
}
