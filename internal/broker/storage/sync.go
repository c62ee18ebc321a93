package storage

// This file makes appended data durable. One goroutine at a time fsyncs
// (syncMu); it covers everything written before it started, and records that
// as the durable watermark, so goroutines queued behind it usually find
// their offset already covered and return without an fsync of their own
// (group commit). Appends never wait for this: they take appendMu and mu,
// and syncMu holds mu only long enough to snapshot what to sync.

import (
	"fmt"
	"path/filepath"
	"slices"
)

// WaitDurable returns once every offset <= offset is on stable storage.
// With SyncAlways it fsyncs if needed, sharing the fsync with concurrent
// callers; with SyncInterval it returns nil at once (the broker's interval
// flusher calls Sync). An offset at or beyond the high watermark is treated
// as "everything written so far".
func (l *Log) WaitDurable(offset int64) error {
	if l.opts.Sync != SyncAlways {
		return nil
	}
	if offset < l.durable.Load() {
		return nil
	}
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	if offset < l.durable.Load() {
		return nil // the fsync we queued behind covered us
	}
	return l.syncLocked()
}

// Sync fsyncs everything appended so far: the active segment, rolled
// segments not yet synced (whose index files it then writes) and the
// directory if segment files were created. The broker's interval flusher
// calls it; Close does too.
func (l *Log) Sync() error {
	l.syncMu.Lock()
	defer l.syncMu.Unlock()
	return l.syncLocked()
}

// syncLocked is Sync with syncMu held. After an fsync failure the page
// cache may have dropped the dirty data, so retrying could falsely report
// success; the failure is therefore sticky.
func (l *Log) syncLocked() error {
	if l.filesClosed {
		return l.errClosed("sync")
	}
	if err := l.failed(); err != nil {
		return fmt.Errorf("sync %s: log unusable after an earlier failure: %w", l.dir, err)
	}
	l.mu.RLock()
	target := l.end
	active := l.segs[len(l.segs)-1]
	pending := slices.Clone(l.unsynced)
	snaps := slices.Clone(l.snapPending)
	gen := l.dirGen
	l.mu.RUnlock()

	// Nothing written since the last sync: an idle partition costs the
	// interval flusher no fsync (a broker may hold thousands).
	if target <= l.durable.Load() && len(pending) == 0 && len(snaps) == 0 {
		return nil
	}
	dirDirty := gen != l.dirSyncedGen
	for _, s := range pending {
		if s.removed.Load() {
			continue // retention got there first; its removal waits for syncMu
		}
		if err := s.pinnedFile().Sync(); err != nil {
			return l.fail(fmt.Errorf("sync %s: fsync %s: %w", l.dir, s.logPath, err))
		}
		// Sealed and durable: index files may now mark it clean. They are
		// derived data, so failing to write them costs only a slower Open.
		if err := s.writeIndexFiles(l.fs, &s.idx); err != nil {
			l.logger.Warn("persist segment index; Open will rebuild it", "segment", s.logPath, "err", err)
		}
		dirDirty = true
	}
	if err := active.pinnedFile().Sync(); err != nil {
		return l.fail(fmt.Errorf("sync %s: fsync %s: %w", l.dir, active.logPath, err))
	}
	if dirDirty {
		if err := l.fs.SyncDir(l.dir); err != nil {
			return l.fail(fmt.Errorf("sync %s: fsync directory: %w", l.dir, err))
		}
		l.dirSyncedGen = gen
	}
	if l.parentDirty {
		// Open created the partition directory: its entry in the parent
		// must be durable before any data in it is reported durable.
		if err := l.fs.SyncDir(filepath.Dir(l.dir)); err != nil {
			return l.fail(fmt.Errorf("sync %s: fsync parent directory: %w", l.dir, err))
		}
		l.parentDirty = false
	}
	if len(snaps) > 0 {
		// The data below each snapshot's offset is durable now.
		if err := l.writeSnapshots(snaps); err != nil {
			l.logger.Warn("prune producer-state snapshots", "err", err)
		}
		l.mu.Lock()
		l.snapPending = slices.Clone(l.snapPending[len(snaps):])
		l.mu.Unlock()
	}
	if len(pending) > 0 {
		l.mu.Lock()
		l.unsynced = slices.DeleteFunc(slices.Clone(l.unsynced), func(s *segment) bool {
			return slices.Contains(pending, s)
		})
		l.mu.Unlock()
		// Sealed and durable: the file may now be closed when idle.
		for _, s := range pending {
			if !s.removed.Load() {
				s.unpin(l.opts.Files)
			}
		}
	}
	if target > l.durable.Load() {
		l.durable.Store(target)
		if l.opts.Sync == SyncAlways {
			l.mu.Lock()
			l.wakeLocked()
			l.mu.Unlock()
		}
	}
	return nil
}
