package storage

// This file brings a partition directory to a consistent state at Open,
// after a clean shutdown or a crash, without ever deleting data it cannot
// prove worthless:
//
//  1. Leftover .tmp and .deleted files (interrupted atomic writes and
//     deletions already decided), and index files without a segment, are
//     removed.
//  2. Segments are walked oldest first. A segment with sane index files was
//     sealed cleanly (index files are written only after its data is
//     fsynced), so its batch headers are read without CRC checks. The last
//     segment, and any segment whose index files are missing or malformed,
//     is verified batch by batch (framing, CRC, record count, dense offsets).
//  3. Damage is mapped (damage.go) and handled by what it is:
//     - a bad range at the very end of the last segment with nothing valid
//       after it is a torn tail: it is cut (its bytes are kept in the
//       quarantine folder unless they are all zeros);
//     - anything else, in any segment, is repaired (repair.go): the
//       segment as it was is copied to the quarantine folder, every valid
//       batch after the damage is kept, in a segment of its own, and an
//       intact batch whose base
//       offset was damaged gets the offset its neighbours prove. The walk
//       then starts again on the repaired directory.
//  4. Offsets missing between segments (a segment file lost, or a damaged
//     region) are a gap: the log serves around it, as Kafka does after
//     compaction, and consumers skip it. A segment that overlaps the one
//     before it is moved to the quarantine folder.
//  5. The log start offset is the larger of the checkpoint and the first
//     segment's base. A checkpoint beyond the recovered end cannot be
//     trusted (it would empty the log): it is moved to the quarantine
//     folder and ignored.
//
// The walk rebuilds each segment's in-memory indexes and replays every
// batch header into the idempotent-producer state. Everything kept is then
// fsynced, so the durable watermark starts at the high watermark. What was
// done is logged and counted in the log's RecoveryReport.

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/courier-dev/courier/internal/broker/vfs"
)

// RecoveryReport counts what Open found and did to a partition directory.
// The broker adds it to /metrics.
type RecoveryReport struct {
	// TornTailBytes were cut from the end of the last segment.
	TornTailBytes int64
	// DamagedRegions unreadable ranges (DamagedBytes in all) were moved to
	// the quarantine folder (in a copy of their whole segment); the
	// batches around them were kept.
	DamagedRegions int
	DamagedBytes   int64
	// RestampedBatches were intact batches whose base offset was damaged.
	RestampedBatches int
	// OffsetGaps are ranges of offsets missing between segments
	// (MissingOffsets in all); reads skip them.
	OffsetGaps     int
	MissingOffsets int64
	// QuarantinedFiles were moved aside whole: segments overlapping the
	// log, a log start offset checkpoint beyond its end.
	QuarantinedFiles int
	// IndexesRebuilt counts sealed segments whose index files were
	// missing, malformed or stale.
	IndexesRebuilt int
	// EpochsIgnored counts batches whose partition leader epoch (a field
	// outside the CRC) broke the rules (decreasing, or newer than the
	// broker's counter) and so was left out of the epoch cache.
	EpochsIgnored int
	// SwapsCompleted counts cleaner swaps a crash interrupted that Open
	// finished (see swap.go).
	SwapsCompleted int
	// SnapshotsDamaged counts producer-state snapshots that did not
	// verify (moved to quarantine); SnapshotsIgnored those that verified
	// but lay beyond the recovered end or above a repaired range.
	SnapshotsDamaged int
	SnapshotsIgnored int
	// ReplayedBatches counts the batches whose headers were replayed into
	// the producer state (those after the snapshot used, if any).
	ReplayedBatches int64
}

// Changed reports whether recovery changed the directory's data: cut a
// torn tail, repaired a segment or moved a file to quarantine. (Gaps and
// rebuilt indexes are not changes: a gap stays and is found again at every
// start.)
func (r RecoveryReport) Changed() bool {
	return r.TornTailBytes > 0 || r.DamagedRegions > 0 || r.RestampedBatches > 0 || r.QuarantinedFiles > 0
}

// Recovery returns what Open found and did.
func (l *Log) Recovery() RecoveryReport { return l.report }

// recover loads the directory into l. It runs before l is shared. Each
// repair changes the directory, so the walk restarts after one; every
// repair removes the damage it handled, so the walk settles.
func (l *Log) recover() error {
	limit := -1
	for pass := 0; ; pass++ {
		repaired, nsegs, err := l.recoverPass()
		if err != nil || !repaired {
			return err
		}
		if limit < 0 {
			limit = 2*nsegs + 4
		}
		if pass >= limit {
			return fmt.Errorf("recovery did not settle after %d repair passes", pass+1)
		}
		for _, s := range l.segs {
			s.closeFile(l.opts.Files)
		}
		l.segs = nil
		l.producers = newProducerState()
		l.aborted = nil
		l.report.ReplayedBatches = 0
	}
}

// recoverPass walks the directory once. It returns repaired=true, with the
// walk abandoned, after repairing a segment.
func (l *Log) recoverPass() (repaired bool, nsegs int, err error) {
	cfg := l.cfg.Load()
	nowMs := l.opts.Now().UnixMilli()
	l.epochs = epochCache{bound: l.opts.LeaderEpoch}
	l.snaps = l.snaps[:0]
	bases, indexed, marked, err := l.cleanDir()
	if err != nil {
		return false, 0, err
	}
	ckpt, err := l.loadCheckpoint()
	if err != nil {
		return false, 0, err
	}
	// The producer state starts from the newest snapshot that verifies;
	// only batches at or after its offset are replayed into it.
	snap := int64(-1)
	if len(bases) > 0 {
		if snap, err = l.loadSnapshot(bases[0]); err != nil {
			return false, 0, err
		}
	}

	var (
		sc        batchScanner
		toSync    []*segment // cut: fsync, then (if sealed) write index files
		needIndex []*segment
	)
	for i, base := range bases {
		last := i == len(bases)-1
		if n := len(l.segs); n > 0 {
			prev := l.segs[n-1]
			if base < prev.next {
				if err := l.quarantineOverlap(base, prev); err != nil {
					return false, 0, err
				}
				l.recoveryCut = min(l.recoveryCut, base)
				continue
			}
			if base > prev.next {
				l.logger.Warn("offsets missing between segments; reads skip the gap",
					"after_segment", prev.logPath, "missing_offsets", fmt.Sprintf("%d-%d", prev.next, base-1))
				l.report.OffsetGaps++
				l.report.MissingOffsets += base - prev.next
			}
		}
		seg, size, err := l.openSegmentFile(base, nowMs)
		if err != nil {
			return false, 0, err
		}
		l.segs = append(l.segs, seg) // from here on, openLog closes it on error
		var loaded *segIndex
		ceiling := int64(0) // a cleaned segment's offsets stay below the next segment's base
		if seg.compacted = marked[base]; seg.compacted {
			ceiling = math.MaxInt64
		}
		if !last {
			loaded = l.loadIndex(seg, size, bases[i+1]-base)
			if seg.compacted {
				ceiling = bases[i+1]
			}
		}
		pending, badAt, err := l.scanSegment(&sc, seg, size, loaded == nil, ceiling, cfg.IndexIntervalBytes)
		if err != nil {
			return false, 0, err
		}
		if badAt >= 0 {
			dm, err := mapDamage(seg.pinnedFile(), size, seg.base, ceiling)
			if err != nil {
				return false, 0, fmt.Errorf("map damage in %s: %w", seg.logPath, err)
			}
			if !last || dm.damaged() || dm.tail == nil || dm.tail.from != seg.size {
				l.recoveryCut = min(l.recoveryCut, seg.base)
				return true, len(bases), l.repairSegment(seg, size, &dm)
			}
			if err := l.cutTornTail(seg, dm.tail); err != nil {
				return false, 0, err
			}
			l.recoveryCut = min(l.recoveryCut, seg.next)
			toSync = append(toSync, seg)
		}
		for i := range pending {
			if pending[i].h.baseOffset >= snap {
				l.replay(&pending[i], nowMs)
			}
		}
		if last {
			break
		}
		if seg.size == 0 {
			// An empty file holds nothing (Courier never rolls an empty
			// segment); drop it rather than keep a hole.
			l.logger.Warn("removing empty non-final segment", "segment", seg.logPath)
			l.segs = l.segs[:len(l.segs)-1]
			if err := seg.remove(l.fs, l.opts.Files); err != nil {
				return false, 0, err
			}
			continue
		}
		seg.idx.seal(seg.base)
		if loaded == nil || !sameIndex(loaded, &seg.idx) {
			if loaded != nil {
				l.logger.Info("segment index files disagree with the data; rewriting them", "segment", seg.logPath)
			}
			l.report.IndexesRebuilt++
			needIndex = append(needIndex, seg)
		}
		// A sealed segment's file is needed again only by readers: the
		// cache may close it (so a log of many segments never holds them
		// all open).
		seg.unpin(l.opts.Files)
	}

	if len(l.segs) == 0 {
		seg, err := createSegment(l.fs, l.opts.Files, l.dir, ckpt, nowMs)
		if err != nil {
			return false, 0, err
		}
		l.segs = append(l.segs, seg)
	}
	active := l.segs[len(l.segs)-1]
	l.end = active.next
	if ckpt > l.end {
		if err := l.distrustCheckpoint(ckpt); err != nil {
			return false, 0, err
		}
		ckpt = 0
	}
	l.logStart = max(ckpt, l.segs[0].base)
	if snap >= 0 && (snap > l.end || snap > l.recoveryCut) {
		// The state it holds is not that of this log: walk again without it.
		return true, len(bases), l.rejectSnapshot(snap)
	}
	l.producers.evictBelow(l.logStart)
	l.expireLocked(nowMs)
	l.aborted = l.aborted.dropBelow(l.logStart)
	l.firstUnstable = l.producers.firstUnstable()
	l.snapClean = snap == l.end
	l.snapsExist.Store(len(l.snaps) > 0)
	l.epochs.truncateFromStart(l.logStart)
	// The active segment will grow past any index files it has, which would
	// then describe a prefix only; drop them so that index files always mean
	// "sealed and durable". (Only a file cleanDir saw: a start with
	// thousands of partitions does not try two removals for each.)
	if indexed[segmentName(active.base)] {
		if err := active.removeIndexFiles(l.fs); err != nil {
			return false, 0, err
		}
	}
	return false, len(bases), l.persistRecovered(active, toSync, needIndex, len(bases) == 0)
}

// loadCheckpoint reads the log start offset checkpoint. A malformed one
// (it is replaced atomically, so only outside damage makes one) is moved to
// the quarantine folder and ignored.
func (l *Log) loadCheckpoint() (int64, error) {
	ckpt, err := readCheckpoint(l.fs, l.dir)
	if errors.Is(err, errBadCheckpoint) {
		dst, qerr := l.quarantineFile(filepath.Join(l.dir, checkpointName), "malformed")
		if qerr != nil {
			return 0, qerr
		}
		l.logger.Error("log start offset checkpoint malformed; moved to quarantine and ignored", "err", err, "quarantined_as", dst)
		l.report.QuarantinedFiles++
		return 0, nil
	}
	return ckpt, err
}

// distrustCheckpoint handles a log start offset checkpoint beyond the
// recovered end. Honouring it would make every retained batch unreadable,
// and nothing proves it right (a crash that lost the tail after
// DeleteRecords looks the same as a damaged file), so the data wins: the
// file goes to quarantine and the log starts at its first segment.
func (l *Log) distrustCheckpoint(ckpt int64) error {
	dst, err := l.quarantineFile(filepath.Join(l.dir, checkpointName), "beyond-end")
	if err != nil {
		return err
	}
	l.logger.Error("log start offset checkpoint lies beyond the log end; keeping the data and ignoring it",
		"checkpoint", ckpt, "log_end", l.end, "quarantined_as", dst)
	l.report.QuarantinedFiles++
	return nil
}

// quarantineOverlap moves aside a segment whose first offset lies inside
// the segment before it: two files claim the same offsets, and the earlier
// one is kept.
func (l *Log) quarantineOverlap(base int64, prev *segment) error {
	s := newSegment(l.dir, base)
	dst, err := l.quarantineFile(s.logPath, "overlaps")
	if err != nil {
		return err
	}
	l.logger.Error("segment overlaps the one before it; moved to quarantine",
		"segment", s.logPath, "previous", prev.logPath, "previous_end", prev.next, "quarantined_as", dst)
	l.report.QuarantinedFiles++
	return s.removeIndexFiles(l.fs)
}

// cutTornTail cuts the unreadable end of the last segment, keeping its
// bytes in quarantine unless they are all zeros (space a crash allocated
// but never wrote).
func (l *Log) cutTornTail(seg *segment, tail *region) error {
	zero, err := allZero(seg.pinnedFile(), tail.from, tail.to)
	if err != nil {
		return fmt.Errorf("read torn tail of %s: %w", seg.logPath, err)
	}
	kept := "no (all zero bytes)"
	if !zero {
		name := fmt.Sprintf("%s%s.%d-%d.torn-tail", segmentName(seg.base), logSuffix, tail.from, tail.to)
		if err := l.quarantineRange(seg.pinnedFile(), tail.from, tail.to, name); err != nil {
			return fmt.Errorf("quarantine torn tail of %s: %w", seg.logPath, err)
		}
		kept = filepath.Join(l.quarantineDir(), name)
	}
	l.logger.Warn("truncating segment at its first bad batch (torn tail)",
		"segment", seg.logPath, "position", tail.from, "bytes", tail.to-tail.from, "reason", tail.why, "kept_in_quarantine", kept)
	if err := seg.pinnedFile().Truncate(tail.from); err != nil {
		return fmt.Errorf("truncate %s to %d: %w", seg.logPath, tail.from, err)
	}
	l.report.TornTailBytes += tail.to - tail.from
	return nil
}

// cleanDir finishes interrupted cleaner swaps (see swap.go), removes
// leftovers of interrupted work and returns the base offsets of the
// segment files, sorted, the names (without suffix) of the segments that
// have index files, and the bases of the segments the cleaner wrote.
func (l *Log) cleanDir() ([]int64, map[string]bool, map[int64]bool, error) {
	entries, err := l.fs.ReadDir(l.dir)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("list %s: %w", l.dir, err)
	}
	if swapped, err := l.completeSwaps(entries); err != nil {
		return nil, nil, nil, err
	} else if swapped {
		if entries, err = l.fs.ReadDir(l.dir); err != nil {
			return nil, nil, nil, fmt.Errorf("list %s: %w", l.dir, err)
		}
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
				return nil, nil, nil, fmt.Errorf("remove %s: %w", name, err)
			}
			continue
		}
		if base, ok := parseSegmentName(name, logSuffix); ok {
			bases = append(bases, base)
		} else if off, ok := parseSegmentName(name, snapshotSuffix); ok {
			l.snaps = append(l.snaps, off)
		} else if _, ok := parseSegmentName(name, indexSuffix); ok {
			indexes = append(indexes, name)
		} else if _, ok := parseSegmentName(name, timeIndexSuffix); ok {
			indexes = append(indexes, name)
		} else if _, ok := parseSegmentName(name, compactedSuffix); ok {
			indexes = append(indexes, name)
		}
	}
	slices.Sort(bases)
	slices.Sort(l.snaps)
	indexed := map[string]bool{}
	marked := map[int64]bool{}
	for _, name := range indexes {
		stem := name[:20]
		if i := slices.IndexFunc(bases, func(b int64) bool { return segmentName(b) == stem }); i >= 0 {
			if strings.HasSuffix(name, compactedSuffix) {
				marked[bases[i]] = true
			} else {
				indexed[stem] = true
			}
			continue
		}
		l.logger.Info("removing index without a segment", "file", name)
		if err := l.fs.Remove(filepath.Join(l.dir, name)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, nil, nil, fmt.Errorf("remove %s: %w", name, err)
		}
	}
	return bases, indexed, marked, nil
}

// openSegmentFile opens an existing segment file and returns it with the
// file's size.
func (l *Log) openSegmentFile(base, nowMs int64) (*segment, int64, error) {
	seg := newSegment(l.dir, base)
	f, err := l.fs.OpenFile(seg.logPath, os.O_RDWR, 0)
	if err != nil {
		return nil, 0, fmt.Errorf("open segment %s: %w", seg.logPath, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, 0, fmt.Errorf("stat segment %s: %w", seg.logPath, err)
	}
	seg.pin(l.opts.Files, f)
	seg.created = nowMs
	seg.modified = st.ModTime().UnixMilli()
	return seg, st.Size(), nil
}

// loadIndex reads a sealed segment's index files. It returns nil, and the
// segment is then verified in full, if either is missing or malformed.
func (l *Log) loadIndex(seg *segment, size, relLimit int64) *segIndex {
	ob, err := vfs.ReadFile(l.fs, seg.indexPath)
	if err != nil {
		l.logger.Info("segment index unavailable; verifying segment", "segment", seg.logPath, "err", err)
		return nil
	}
	offsets, err := decodeOffsetIndex(ob, size, relLimit)
	if err != nil {
		l.logger.Warn("segment offset index unusable; verifying segment", "segment", seg.logPath, "err", err)
		return nil
	}
	tb, err := vfs.ReadFile(l.fs, seg.timePath)
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

// producerUpdate is one batch header with a producer id found by a scan
// (a data batch, or a marker), applied to the producer state only once
// its segment is known to be sound.
type producerUpdate struct {
	h          batchHeader
	appendTime int64
	control    bool
	marker     Marker // for a control batch
}

// replay applies a recovered batch to the producer state, as Append and
// AppendMarker did when they wrote it.
// A replayed batch counts as appended at nowMs (see producerEntry).
func (l *Log) replay(u *producerUpdate, nowMs int64) {
	l.report.ReplayedBatches++
	if !u.control {
		l.producers.update(&u.h, u.appendTime, nowMs)
		return
	}
	if a, ok := l.producers.completeTxn(u.marker, u.h.baseOffset, u.h.maxTimestamp, nowMs); ok {
		l.aborted = append(l.aborted, a)
	}
}

// scanSegment walks seg's first size bytes, rebuilding its index, size,
// next offset and first timestamp, and returns the idempotent batches it
// saw. With verify it also checks CRCs. A ceiling above 0 scans a segment
// the cleaner wrote (see batchScanner.compactedMode). It returns the position of the
// first bad batch (badAt < 0 if none), having set seg up to it, or an I/O
// error, in which case nothing may be concluded or changed.
func (l *Log) scanSegment(sc *batchScanner, seg *segment, size int64, verify bool, ceiling int64, interval int32) (pending []producerUpdate, badAt int64, err error) {
	sc.reset(seg.pinnedFile(), 0, size, seg.base, verify)
	if ceiling > 0 {
		sc.compactedMode(ceiling)
	}
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
		if !l.epochs.assign(h.leaderEpoch, h.baseOffset) {
			l.report.EpochsIgnored++
		}
		if h.producerID >= 0 {
			appendTime := int64(-1)
			if h.attributes&attrLogAppendTime != 0 {
				appendTime = h.maxTimestamp
			}
			pending = append(pending, producerUpdate{h: *h, appendTime: appendTime, control: h.attributes&attrControl != 0, marker: sc.marker})
		}
	}
	if sc.ioErr != nil {
		return nil, -1, fmt.Errorf("scan segment %s: %w", seg.logPath, sc.ioErr)
	}
	seg.size = sc.pos
	if sc.bad != nil {
		return pending, sc.pos, nil
	}
	return pending, -1, nil
}

// persistRecovered makes what recovery kept durable: it fsyncs what
// recovery changed and the active segment, writes index files for sealed
// segments that needed them (after fsyncing their data), and fsyncs the
// directory. A log with no segment files had nothing to make durable: its
// directory is fsynced by the first sync that has data. With
// Options.SkipRecoverySync the caller fsyncs the whole filesystem instead
// (one syncfs for every partition of a broker).
func (l *Log) persistRecovered(active *segment, toSync, needIndex []*segment, fresh bool) error {
	if fresh {
		l.dirGen++
		return nil
	}
	skip := l.opts.SkipRecoverySync
	if !skip {
		for _, s := range append(toSync, active) {
			if s.removed.Load() || !slices.Contains(l.segs, s) {
				continue
			}
			if err := s.pinnedFile().Sync(); err != nil {
				return fmt.Errorf("fsync %s: %w", s.logPath, err)
			}
		}
	}
	for _, s := range needIndex {
		if s == active || !slices.Contains(l.segs, s) {
			continue
		}
		if err := l.syncSealed(s); err != nil {
			return err
		}
		if err := s.writeIndexFiles(l.fs, &s.idx); err != nil {
			l.logger.Warn("persist rebuilt segment index", "segment", s.logPath, "err", err)
		}
	}
	if skip {
		return nil
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		return fmt.Errorf("fsync directory %s: %w", l.dir, err)
	}
	return nil
}

// syncSealed fsyncs a sealed segment's data (opening its file if the cache
// closed it).
func (l *Log) syncSealed(s *segment) error {
	f, release, err := s.acquire(l.fs, l.opts.Files)
	if err != nil {
		return err
	}
	defer release()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", s.logPath, err)
	}
	return nil
}
