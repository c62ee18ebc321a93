package storage

// This file removes old data: time and size retention (ApplyRetention) and
// the log start offset moves of DeleteRecords. Both follow Kafka: only
// whole segments are deleted, oldest first; the active segment is never
// deleted, except that when every segment, the active one included, is due
// for deletion, a fresh active segment is rolled first so that it can go
// too.
//
// Deletion is two-phase so that appends never wait for file system work:
// under appendMu the segments are detached from the log (readers that
// already hold them get ErrOffsetOutOfRange, or their data if the file is
// still readable); then under syncMu, which keeps a concurrent fsync off a
// closing file, the files are closed, removed and the directory fsynced.

import (
	"errors"
	"fmt"
	"slices"
)

// ApplyRetention deletes the oldest segments whose newest batch timestamp is
// more than retention.ms old, then the oldest segments while the log would
// still hold at least retention.bytes without them. The broker calls it
// periodically.
func (l *Log) ApplyRetention() error {
	cfg := l.cfg.Load()
	if !cfg.Policy.Deletes() {
		return nil // cleanup.policy=compact: the cleaner alone removes data
	}
	l.maintMu.Lock()
	defer l.maintMu.Unlock()
	l.appendMu.Lock()
	if l.closed {
		l.appendMu.Unlock()
		return l.errClosed("apply retention to")
	}
	nowMs := l.opts.Now().UnixMilli()
	n := l.retentionCount(cfg, nowMs)
	var rollErr error
	if n > 0 && n == len(l.segs) {
		if _, rollErr = l.roll(nowMs); rollErr != nil {
			n-- // keep the active segment, delete the rest
		}
	}
	var doomed []*segment
	if n > 0 {
		doomed = l.detach(n)
	}
	l.appendMu.Unlock()

	var err error
	if len(doomed) > 0 {
		l.logger.Info("retention deleting segments", "count", len(doomed), "first", doomed[0].base, "new_log_start", l.LogStartOffset())
		err = l.removeSegments(doomed)
	}
	if err = errors.Join(rollErr, err); err != nil {
		return fmt.Errorf("apply retention to %s: %w", l.dir, err)
	}
	return nil
}

// retentionCount returns how many of the oldest segments retention deletes
// (Kafka's deletableSegments with the retention.ms and then retention.bytes
// predicates). An empty active segment is never counted. Caller holds
// appendMu.
func (l *Log) retentionCount(cfg *Config, nowMs int64) int {
	segs := l.segs
	deletable := func(i int) bool { return i < len(segs)-1 || segs[i].size > 0 }
	n := 0
	if cfg.RetentionMs >= 0 {
		for n < len(segs) && deletable(n) && nowMs-segs[n].lastTimestamp() > cfg.RetentionMs {
			n++
		}
	}
	if cfg.RetentionBytes >= 0 {
		var total int64
		for _, s := range segs[n:] {
			total += s.size
		}
		excess := total - cfg.RetentionBytes
		for n < len(segs) && deletable(n) && excess-segs[n].size >= 0 {
			excess -= segs[n].size
			n++
		}
	}
	return n
}

// DeleteRecords makes before the new log start offset (Kafka
// DeleteRecords; -1 means the high watermark) and deletes the segments that
// lie wholly below it. The new start is persisted before it takes effect,
// so it survives a restart. A value at or below the current start changes
// nothing; one above the high watermark is ErrOffsetOutOfRange. It returns
// the log start offset afterwards.
func (l *Log) DeleteRecords(before int64) (newStart int64, err error) {
	l.maintMu.Lock()
	defer l.maintMu.Unlock()
	l.ckptMu.Lock()
	defer l.ckptMu.Unlock()
	l.mu.RLock()
	closed, start, hwm := l.closed, l.logStart, l.highWatermarkLocked()
	l.mu.RUnlock()
	if closed {
		return start, l.errClosed("delete records in")
	}
	if before == -1 {
		before = hwm
	}
	if before < 0 || before > hwm {
		return start, fmt.Errorf("delete records in %s before %d: outside [0, %d]: %w", l.dir, before, hwm, ErrOffsetOutOfRange)
	}
	if before <= start {
		return start, nil
	}
	if err := writeCheckpoint(l.fs, l.dir, before); err != nil {
		return start, fmt.Errorf("delete records in %s before %d: %w", l.dir, before, err)
	}

	l.appendMu.Lock()
	l.mu.Lock()
	l.logStart = max(l.logStart, before)
	l.epochs.truncateFromStart(l.logStart)
	l.aborted = l.aborted.dropBelow(l.logStart)
	newStart = l.logStart
	l.mu.Unlock()
	n := 0
	for n < len(l.segs)-1 && l.segs[n+1].base <= before {
		n++
	}
	var doomed []*segment
	if n > 0 && !l.closed {
		doomed = l.detach(n)
	} else {
		l.producers.evictBelow(newStart)
	}
	l.appendMu.Unlock()

	if len(doomed) > 0 {
		if err := l.removeSegments(doomed); err != nil {
			return newStart, fmt.Errorf("delete records in %s before %d: %w", l.dir, before, err)
		}
	}
	return newStart, nil
}

// detach takes the n oldest segments out of the log, advances the log start
// offset past them and forgets producers that now have no batch left. Caller
// holds appendMu; n is less than len(l.segs).
func (l *Log) detach(n int) []*segment {
	doomed := l.segs[:n:n]
	for _, s := range doomed {
		s.removed.Store(true)
	}
	l.mu.Lock()
	l.segs = l.segs[n:]
	l.logStart = max(l.logStart, l.segs[0].base)
	l.epochs.truncateFromStart(l.logStart)
	l.aborted = l.aborted.dropBelow(l.logStart)
	l.unsynced = slices.DeleteFunc(slices.Clone(l.unsynced), func(s *segment) bool { return s.removed.Load() })
	logStart := l.logStart
	l.mu.Unlock()
	l.producers.evictBelow(logStart)
	return doomed
}

// removeSegments closes and deletes detached segments and fsyncs the
// directory so that the deletion is durable.
func (l *Log) removeSegments(doomed []*segment) error {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	var errs []error
	for _, s := range doomed {
		if err := s.remove(l.fs, l.opts.Files); err != nil {
			errs = append(errs, err)
		}
	}
	if err := l.fs.SyncDir(l.dir); err != nil {
		errs = append(errs, fmt.Errorf("fsync directory: %w", err))
	}
	// Snapshots below the new log start are not needed any more.
	if err := l.pruneSnapshots(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
