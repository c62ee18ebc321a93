package storage

// This file brings a partition directory to a consistent state at Open,
// after a clean shutdown or a crash:
//
//  1. Leftover .tmp and .deleted files, and index files without a segment,
//     are removed.
//  2. Segments are walked oldest first. A segment with sane index files was
//     sealed cleanly (index files are written only after its data is
//     fsynced), so its batch headers are read without CRC checks. The last
//     segment, and any segment whose index files are missing or malformed,
//     is verified batch by batch (framing, CRC, record count, offset
//     continuity). The first bad batch and everything after it is
//     truncated; segments after a truncated one, or after a gap in offsets,
//     should not exist and are removed.
//  3. The walk rebuilds each segment's in-memory indexes and replays every
//     batch header into the idempotent-producer state.
//  4. The log start offset is the larger of the checkpoint and the first
//     segment's base. A checkpoint beyond the recovered end (data lost in a
//     crash after DeleteRecords) empties the log and restarts it there, so
//     offsets are never reused.
//
// Everything kept is then fsynced, so the durable watermark starts at the
// high watermark.

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

// recover loads the directory into l. It runs before l is shared.
func (l *Log) recover() error {
	cfg := l.cfg.Load()
	nowMs := l.opts.Now().UnixMilli()
	bases, err := l.cleanDir()
	if err != nil {
		return err
	}
	ckpt, err := readCheckpoint(l.fs, l.dir)
	if errors.Is(err, errBadCheckpoint) {
		l.logger.Warn("ignoring log start offset checkpoint", "err", err)
	} else if err != nil {
		return err
	}

	var (
		sc        batchScanner
		toSync    []*segment // truncated or rebuilt: fsync, then (if sealed) write index files
		needIndex []*segment
	)
	for i, base := range bases {
		last := i == len(bases)-1
		if n := len(l.segs); n > 0 && base != l.segs[n-1].next {
			l.logger.Warn("segment does not continue the log; removing it and all later segments",
				"segment", segmentName(base), "expected_base", l.segs[n-1].next)
			if err := l.removeBases(bases[i:]); err != nil {
				return err
			}
			break
		}
		seg, size, err := l.openSegmentFile(base, nowMs)
		if err != nil {
			return err
		}
		l.segs = append(l.segs, seg) // from here on, openLog closes it on error
		var loaded *segIndex
		if !last {
			loaded = l.loadIndex(seg, size, bases[i+1]-base)
		}
		badAt, why, err := l.scanSegment(&sc, seg, size, loaded == nil, cfg.IndexIntervalBytes)
		if err != nil {
			return err
		}
		if badAt >= 0 {
			l.logger.Warn("truncating segment at its first bad batch",
				"segment", seg.logPath, "position", badAt, "bytes", size-badAt, "reason", why)
			if err := seg.f.Truncate(badAt); err != nil {
				return fmt.Errorf("truncate %s to %d: %w", seg.logPath, badAt, err)
			}
			toSync = append(toSync, seg)
			if !last {
				l.logger.Warn("removing segments after a truncated one", "count", len(bases)-i-1, "first", segmentName(bases[i+1]))
				if err := l.removeBases(bases[i+1:]); err != nil {
					return err
				}
			}
			break // seg is now the last segment
		}
		if last {
			break
		}
		if seg.size == 0 {
			// An empty segment before the end holds nothing (Courier never
			// rolls an empty segment); drop it rather than keep a hole.
			l.logger.Warn("removing empty non-final segment", "segment", seg.logPath)
			l.segs = l.segs[:len(l.segs)-1]
			if err := seg.remove(l.fs); err != nil {
				return err
			}
			continue
		}
		seg.idx.seal(seg.base)
		if loaded == nil || !sameIndex(loaded, &seg.idx) {
			if loaded != nil {
				l.logger.Info("segment index files disagree with the data; rewriting them", "segment", seg.logPath)
			}
			toSync = append(toSync, seg)
			needIndex = append(needIndex, seg)
		}
	}

	if len(l.segs) == 0 {
		seg, err := createSegment(l.fs, l.dir, ckpt, nowMs)
		if err != nil {
			return err
		}
		l.segs = append(l.segs, seg)
	}
	active := l.segs[len(l.segs)-1]
	l.hwm = active.next
	l.logStart = max(ckpt, l.segs[0].base)
	if l.logStart > l.hwm {
		if err := l.restartAt(ckpt, nowMs); err != nil {
			return err
		}
		active = l.segs[0]
	}
	l.producers.evictBelow(l.logStart)
	// The active segment will grow past any index files it has, which would
	// then describe a prefix only; drop them so that index files always mean
	// "sealed and durable". Close writes them again.
	if err := active.removeIndexFiles(l.fs); err != nil {
		return err
	}
	return l.persistRecovered(active, toSync, needIndex)
}

// cleanDir removes leftovers of interrupted work and returns the base
// offsets of the segment files, sorted.
func (l *Log) cleanDir() ([]int64, error) {
	entries, err := l.fs.ReadDir(l.dir)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", l.dir, err)
	}
	var bases []int64
	var indexes []string
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() {
			continue
		}
		if strings.HasSuffix(name, tmpSuffix) || strings.HasSuffix(name, deletedSuffix) {
			l.logger.Info("removing leftover file", "file", name)
			if err := l.fs.Remove(filepath.Join(l.dir, name)); err != nil {
				return nil, fmt.Errorf("remove %s: %w", name, err)
			}
			continue
		}
		if base, ok := parseSegmentName(name, logSuffix); ok {
			bases = append(bases, base)
		} else if _, ok := parseSegmentName(name, indexSuffix); ok {
			indexes = append(indexes, name)
		} else if _, ok := parseSegmentName(name, timeIndexSuffix); ok {
			indexes = append(indexes, name)
		}
	}
	slices.Sort(bases)
	for _, name := range indexes {
		stem := name[:20]
		if slices.ContainsFunc(bases, func(b int64) bool { return segmentName(b) == stem }) {
			continue
		}
		l.logger.Info("removing index without a segment", "file", name)
		if err := l.fs.Remove(filepath.Join(l.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("remove %s: %w", name, err)
		}
	}
	return bases, nil
}

// openSegmentFile opens an existing segment file and returns it with the
// file's size.
func (l *Log) openSegmentFile(base, nowMs int64) (*segment, int64, error) {
	seg := newSegment(l.dir, base, nil)
	f, err := l.fs.OpenFile(seg.logPath, os.O_RDWR, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("open segment %s: %w", seg.logPath, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("stat segment %s: %w", seg.logPath, err)
	}
	seg.f = f
	seg.created = nowMs
	seg.modified = st.ModTime().UnixMilli()
	return seg, st.Size(), nil
}

// loadIndex reads a sealed segment's index files. It returns nil, and the
// segment is then verified in full, if either is missing or malformed.
func (l *Log) loadIndex(seg *segment, size, relLimit int64) *segIndex {
	ob, err := readFile(l.fs, seg.indexPath)
	if err != nil {
		l.logger.Info("segment index unavailable; verifying segment", "segment", seg.logPath, "err", err)
		return nil
	}
	offsets, err := decodeOffsetIndex(ob, size, relLimit)
	if err != nil {
		l.logger.Warn("segment offset index unusable; verifying segment", "segment", seg.logPath, "err", err)
		return nil
	}
	tb, err := readFile(l.fs, seg.timePath)
	if err != nil {
		l.logger.Info("segment time index unavailable; verifying segment", "segment", seg.logPath, "err", err)
		return nil
	}
	times, err := decodeTimeIndex(tb, relLimit)
	if err != nil {
		l.logger.Warn("segment time index unusable; verifying segment", "segment", seg.logPath, "err", err)
		return nil
	}
	return &segIndex{offsets: offsets, times: times}
}

// sameIndex reports whether loaded index files match the index rebuilt from
// the data. They differ legitimately only if index.interval.bytes changed.
func sameIndex(loaded, rebuilt *segIndex) bool {
	return slices.Equal(loaded.offsets, rebuilt.offsets) && slices.Equal(loaded.times, rebuilt.times)
}

// scanSegment walks seg's first size bytes, rebuilding its index, size,
// next offset and first timestamp and replaying producer state. With verify
// it also checks CRCs. It returns the position of the first bad batch and
// why (badAt < 0 if none), or an I/O error, in which case nothing may be
// concluded or truncated.
func (l *Log) scanSegment(sc *batchScanner, seg *segment, size int64, verify bool, interval int32) (badAt int64, why error, err error) {
	sc.reset(seg.f, 0, size, seg.base, verify)
	seg.idx = newSegIndex()
	for sc.next() {
		h := &sc.h
		// Offsets and positions must fit the index's uint32 fields; Append
		// rolls long before, so only a foreign file gets here.
		if h.lastOffset()-seg.base > math.MaxInt32 || sc.hpos > math.MaxInt32 {
			sc.pos = sc.hpos
			sc.bad = fmt.Errorf("batch at %d (offsets %d..%d) exceeds the segment's index range: %w", sc.hpos, h.baseOffset, h.lastOffset(), ErrCorruptMessage)
			break
		}
		if sc.hpos == 0 {
			seg.firstTs = h.maxTimestamp
		}
		seg.idx.add(seg.base, sc.hpos, h.size(), h.baseOffset, h.lastOffset(), h.maxTimestamp, interval)
		seg.next = h.lastOffset() + 1
		if h.producerID >= 0 {
			appendTime := int64(-1)
			if h.attributes&attrLogAppendTime != 0 {
				appendTime = h.maxTimestamp
			}
			l.producers.update(h, appendTime)
		}
	}
	if sc.ioErr != nil {
		return -1, nil, fmt.Errorf("scan segment %s: %w", seg.logPath, sc.ioErr)
	}
	seg.size = sc.pos
	if sc.bad != nil {
		return sc.pos, sc.bad, nil
	}
	return -1, nil, nil
}

// removeBases deletes the files of segments that were never opened.
func (l *Log) removeBases(bases []int64) error {
	for _, b := range bases {
		if err := newSegment(l.dir, b, nil).remove(l.fs); err != nil {
			return err
		}
	}
	return nil
}

// restartAt replaces every segment with one empty segment at offset, for a
// checkpointed log start beyond the recovered end.
func (l *Log) restartAt(offset, nowMs int64) error {
	l.logger.Warn("log start offset checkpoint is beyond the recovered log end; restarting the log there",
		"log_start", offset, "recovered_end", l.hwm)
	for _, s := range l.segs {
		if err := s.remove(l.fs); err != nil {
			return err
		}
	}
	l.segs = nil
	seg, err := createSegment(l.fs, l.dir, offset, nowMs)
	if err != nil {
		return err
	}
	l.segs = []*segment{seg}
	l.hwm, l.logStart = offset, offset
	l.producers = newProducerState()
	return nil
}

// persistRecovered fsyncs what recovery changed and the active segment,
// writes index files for sealed segments that needed them, and fsyncs the
// directory.
func (l *Log) persistRecovered(active *segment, toSync, needIndex []*segment) error {
	for _, s := range append(toSync, active) {
		if s.removed.Load() || !slices.Contains(l.segs, s) {
			continue
		}
		if err := s.f.Sync(); err != nil {
			return fmt.Errorf("fsync %s: %w", s.logPath, err)
		}
	}
	for _, s := range needIndex {
		if s == active || !slices.Contains(l.segs, s) {
			continue
		}
		if err := s.writeIndexFiles(l.fs, &s.idx); err != nil {
			l.logger.Warn("persist rebuilt segment index", "segment", s.logPath, "err", err)
		}
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return fmt.Errorf("fsync directory %s: %w", l.dir, err)
	}
	return nil
}
