package storage

// This file repairs a damaged segment without destroying anything that
// might be data: the segment as it was is first copied whole into the
// partition's quarantine folder, then every valid batch is kept (those
// after a damaged region in a segment file of their own, so that each
// segment stays dense), and intact batches whose base offset was damaged
// get the offset their neighbours prove.
//
// Crash safety: the quarantine copy is fsynced first (its name is the
// CRC32C of the contents, so a redone repair rewrites the same copy); the
// later runs are written as new segment files (tmp + fsync + rename) before
// the damaged segment itself is cut or removed, and a new file only ever
// replaces one with the same bytes. A crash at any step leaves the damaged
// segment in place, so the next Open maps the same damage and redoes the
// repair.

import (
	"bytes"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/courier-dev/courier/internal/broker/vfs"
)

// quarantineDirName is the folder, inside a partition directory, that
// receives what recovery could not read. Open never reads or removes it.
const quarantineDirName = "quarantine"

func (l *Log) quarantineDir() string { return filepath.Join(l.dir, quarantineDirName) }

// quarantineRange copies [from, to) of src into the quarantine folder
// under name.
func (l *Log) quarantineRange(src file, from, to int64, name string) error {
	if err := vfs.MkdirAllDurable(l.fs, l.quarantineDir(), 0o755); err != nil {
		return err
	}
	dst := filepath.Join(l.quarantineDir(), name)
	if err := copyRangeAtomic(l.fs, src, from, to, dst); err != nil {
		return err
	}
	return l.fs.SyncDir(l.quarantineDir())
}

// quarantineFile moves a whole file into the quarantine folder, its name
// suffixed with why and the time.
func (l *Log) quarantineFile(path, why string) (string, error) {
	return vfs.MoveAside(l.fs, path, l.quarantineDir(), why, l.opts.Now())
}

// repairSegment applies a damage map to seg (open, size bytes). Before it
// changes anything it copies the whole segment, as it was, into the
// quarantine folder (SEGMENT.log.CRC.damaged, named by the CRC32C of its
// contents so that a repair redone after a crash rewrites the same copy):
// whatever the map got wrong, no byte of the original is lost. Then it
// restamps intact batches whose base offset was damaged, moves every run
// after the first into a segment file of its own and cuts the segment to
// its first run. The caller reopens the log afterwards.
func (l *Log) repairSegment(seg *segment, size int64, dm *damageMap) error {
	if len(dm.runs) == 0 {
		dst, err := l.quarantineFile(seg.logPath, "unreadable")
		if err != nil {
			return err
		}
		l.logger.Error("segment holds no readable batch; moved it to quarantine",
			"segment", seg.logPath, "bytes", size, "quarantined_as", dst)
		l.report.DamagedRegions++
		l.report.DamagedBytes += size
		return seg.removeIndexFiles(l.fs)
	}
	kept, err := l.quarantineWhole(seg, size)
	if err != nil {
		return err
	}
	damaged := dm.regions
	if dm.tail != nil {
		damaged = append(damaged, *dm.tail)
	}
	for _, r := range damaged {
		l.logger.Error("unreadable bytes in segment; the batches around them are kept, the segment as it was is in quarantine",
			"segment", seg.logPath, "from", r.from, "to", r.to, "reason", r.why, "quarantined_as", kept)
		l.report.DamagedRegions++
		l.report.DamagedBytes += r.to - r.from
	}
	for _, r := range dm.restamps {
		l.logger.Warn("batch base offset contradicts its neighbours; restamping it",
			"segment", seg.logPath, "position", r.pos, "stored_base_offset", r.stored, "base_offset", r.want)
		if _, err := seg.pinnedFile().WriteAt(putBaseOffset(r.want), r.pos+offBaseOffset); err != nil {
			return fmt.Errorf("restamp batch at %d in %s: %w", r.pos, seg.logPath, err)
		}
		l.report.RestampedBatches++
	}
	if len(dm.restamps) > 0 {
		if err := seg.pinnedFile().Sync(); err != nil {
			return fmt.Errorf("fsync %s: %w", seg.logPath, err)
		}
	}
	for _, r := range dm.runs[1:] {
		if err := l.writeRunSegment(seg, r); err != nil {
			return err
		}
	}
	first := dm.runs[0]
	if first.from == 0 {
		if err := seg.pinnedFile().Truncate(first.to); err != nil {
			return fmt.Errorf("cut %s to %d: %w", seg.logPath, first.to, err)
		}
		if err := seg.pinnedFile().Sync(); err != nil {
			return fmt.Errorf("fsync %s: %w", seg.logPath, err)
		}
	} else {
		if err := l.writeRunSegment(seg, first); err != nil {
			return err
		}
		if err := l.fs.Remove(seg.logPath); err != nil {
			return fmt.Errorf("remove repaired %s: %w", seg.logPath, err)
		}
	}
	if err := seg.removeIndexFiles(l.fs); err != nil {
		return err
	}
	return l.fs.SyncDir(l.dir)
}

// markCompacted creates the marker that says the segment with this base
// was written by the cleaner (see compactedSuffix). The caller fsyncs the
// directory.
func (l *Log) markCompacted(base int64) error {
	path := filepath.Join(l.dir, segmentName(base)+compactedSuffix)
	f, err := l.fs.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	return nil
}

// quarantineWhole copies the whole of seg's first size bytes into the
// quarantine folder and returns the copy's path.
func (l *Log) quarantineWhole(seg *segment, size int64) (string, error) {
	var crc uint32
	buf := make([]byte, min(copyChunk, max(size, 1)))
	for at := int64(0); at < size; {
		n := min(int64(len(buf)), size-at)
		if _, err := seg.pinnedFile().ReadAt(buf[:n], at); err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read %s: %w", seg.logPath, err)
		}
		crc = crc32.Update(crc, castagnoli, buf[:n])
		at += n
	}
	name := fmt.Sprintf("%s%s.%08x.damaged", segmentName(seg.base), logSuffix, crc)
	if err := l.quarantineRange(seg.pinnedFile(), 0, size, name); err != nil {
		return "", fmt.Errorf("quarantine %s: %w", seg.logPath, err)
	}
	return filepath.Join(l.quarantineDir(), name), nil
}

// writeRunSegment copies run r of seg into a segment file named by its
// base offset. An existing file of that name with other bytes is moved to
// quarantine first, never overwritten.
func (l *Log) writeRunSegment(seg *segment, r run) error {
	path := filepath.Join(l.dir, segmentName(r.base)+logSuffix)
	if seg.compacted {
		// Marked first: a run of a cleaned segment may have gaps.
		if err := l.markCompacted(r.base); err != nil {
			return err
		}
	}
	if same, err := sameBytes(l.fs, path, seg.pinnedFile(), r.from, r.to); err != nil {
		return err
	} else if same {
		return nil // written by an earlier, interrupted repair
	}
	if _, err := l.fs.Stat(path); err == nil {
		if _, err := l.quarantineFile(path, "displaced"); err != nil {
			return err
		}
	}
	if err := copyRangeAtomic(l.fs, seg.pinnedFile(), r.from, r.to, path); err != nil {
		return err
	}
	l.logger.Warn("batches after a damaged region kept in a segment of their own",
		"segment", path, "from_segment", seg.logPath, "offsets", fmt.Sprintf("%d-%d", r.base, r.next-1))
	return nil
}

// copyChunk is the buffer size for copying file ranges.
const copyChunk = 1 << 20

// copyRangeAtomic writes [from, to) of src to dst through a temporary file
// that is fsynced and renamed into place. The caller fsyncs the directory.
func copyRangeAtomic(fsys fileSystem, src file, from, to int64, dst string) error {
	tmp := dst + tmpSuffix
	f, err := fsys.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("create %s: %w", tmp, err)
	}
	fail := func(err error) error {
		f.Close()
		fsys.Remove(tmp)
		return err
	}
	buf := make([]byte, min(copyChunk, max(to-from, 1)))
	for at := from; at < to; {
		n := min(int64(len(buf)), to-at)
		got, err := src.ReadAt(buf[:n], at)
		if int64(got) < n {
			if err == nil || errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return fail(fmt.Errorf("read %d bytes at %d for %s: %w", n, at, dst, err))
		}
		if _, err := f.WriteAt(buf[:n], at-from); err != nil {
			return fail(fmt.Errorf("write %s: %w", tmp, err))
		}
		at += n
	}
	if err := f.Sync(); err != nil {
		return fail(fmt.Errorf("fsync %s: %w", tmp, err))
	}
	if err := f.Close(); err != nil {
		fsys.Remove(tmp)
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	if err := fsys.Rename(tmp, dst); err != nil {
		fsys.Remove(tmp)
		return fmt.Errorf("rename %s: %w", tmp, err)
	}
	return nil
}

// sameBytes reports whether the file at path holds exactly [from, to) of
// src. A missing file is not the same.
func sameBytes(fsys fileSystem, path string, src file, from, to int64) (bool, error) {
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("open %s: %w", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false, fmt.Errorf("stat %s: %w", path, err)
	}
	if st.Size() != to-from {
		return false, nil
	}
	a := make([]byte, min(copyChunk, max(to-from, 1)))
	b := make([]byte, len(a))
	for at := int64(0); at < to-from; {
		n := min(int64(len(a)), to-from-at)
		if _, err := io.ReadFull(io.NewSectionReader(f, at, n), a[:n]); err != nil {
			return false, fmt.Errorf("read %s: %w", path, err)
		}
		if _, err := io.ReadFull(io.NewSectionReader(src, from+at, n), b[:n]); err != nil {
			return false, fmt.Errorf("read source of %s: %w", path, err)
		}
		if !bytes.Equal(a[:n], b[:n]) {
			return false, nil
		}
		at += n
	}
	return true, nil
}

// allZero reports whether [from, to) of f holds only zero bytes.
func allZero(f file, from, to int64) (bool, error) {
	buf := make([]byte, min(copyChunk, max(to-from, 1)))
	for at := from; at < to; {
		n := min(int64(len(buf)), to-at)
		got, err := f.ReadAt(buf[:n], at)
		if err != nil && !errors.Is(err, io.EOF) {
			return false, fmt.Errorf("read at %d: %w", at, err)
		}
		for _, c := range buf[:got] {
			if c != 0 {
				return false, nil
			}
		}
		if int64(got) < n {
			return true, nil
		}
		at += n
	}
	return true, nil
}
