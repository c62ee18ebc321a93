package storage

// clean_plan.go decides what the log cleaner may clean (see clean.go): the
// clean point (the first dirty offset, kept in a checkpoint file), the
// first segment it must not touch, and whether a log is due, with the
// state that feeds the cleaner threads' choice, /metrics and `courier
// topic describe`.

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/courier-dev/courier/internal/broker/vfs"
)

// CleanerState describes a log's compaction state (for scheduling,
// metrics and `courier topic describe`).
type CleanerState struct {
	// Compacted reports that cleanup.policy includes compact.
	Compacted bool
	// FirstDirty is the cleaner checkpoint: below it the log is clean.
	FirstDirty int64
	// CleanBytes and DirtyBytes are the bytes of the clean section and of
	// the cleanable dirty section.
	CleanBytes, DirtyBytes int64
	// DirtyRatio is DirtyBytes over their sum (0 for an empty log).
	DirtyRatio float64
	// Due reports that the cleaner should take the log: it has dirty
	// bytes and the ratio reaches min.cleanable.dirty.ratio, or a dirty
	// record is older than max.compaction.lag.ms.
	Due bool
	// LastCleaned is when the last cleaning finished (zero if never since
	// Open).
	LastCleaned time.Time
}

// cleanerCheckpointName holds the first dirty offset, one line of text.
const cleanerCheckpointName = "cleaner-offset-checkpoint"

// cleanPlan is a snapshot of what one pass may clean.
type cleanPlan struct {
	segs       []*segment // from the log start to the first uncleanable segment (excluded)
	firstDirty int64
	dirtyIdx   int   // first segment of segs holding a dirty offset
	dirtyEnd   int64 // the first uncleanable offset
	retain     map[int64]bool
	aborted    txnIndex // the aborted transactions, to remove their batches
}

// CleanerState reports the log's compaction state.
func (l *Log) CleanerState() CleanerState {
	cfg := l.cfg.Load()
	st := CleanerState{Compacted: cfg.Policy.Compacts(), FirstDirty: l.firstDirty.Load()}
	if !st.Compacted {
		return st // the metrics and the cleaner threads ask every log: stay cheap
	}
	if ms := l.lastCleaned.Load(); ms > 0 {
		st.LastCleaned = time.UnixMilli(ms)
	}
	p, ok, err := l.plan(cfg, false)
	if err != nil || !ok {
		return st
	}
	st.FirstDirty = p.firstDirty
	for i, s := range p.segs {
		if i < p.dirtyIdx {
			st.CleanBytes += s.size
		} else {
			st.DirtyBytes += s.size
		}
	}
	if total := st.CleanBytes + st.DirtyBytes; total > 0 {
		st.DirtyRatio = float64(st.DirtyBytes) / float64(total)
	}
	minRatio := cfg.MinCleanableDirtyRatio
	switch {
	case minRatio == 0:
		minRatio = defaultMinCleanableDirtyRatio
	case minRatio < 0:
		minRatio = 0
	}
	overdue := false
	if cfg.MaxCompactionLagMs > 0 {
		first := p.segs[p.dirtyIdx]
		born := first.firstTs
		if born < 0 {
			born = first.created
		}
		overdue = l.opts.Now().UnixMilli()-born > cfg.MaxCompactionLagMs
	}
	st.Due = st.DirtyBytes > 0 && (st.DirtyRatio >= minRatio || overdue)
	return st
}

// plan snapshots the cleanable part of the log, with the batches to keep
// for producers if withRetain. ok is false when there is no dirty segment
// to clean.
func (l *Log) plan(cfg *Config, withRetain bool) (cleanPlan, bool, error) {
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	if l.closed {
		return cleanPlan{}, false, l.errClosed("clean")
	}
	nowMs := l.opts.Now().UnixMilli()
	l.mu.RLock() // unsynced is written under mu alone
	segs, unsynced, lso, aborted := l.segs, l.unsynced, l.lastStableLocked(), l.aborted
	l.mu.RUnlock()
	u := len(segs) - 1 // the active segment is never cleaned
	for i, s := range segs[:u] {
		// Nor one holding an offset at or past the last stable offset:
		// an ongoing transaction's batches are neither committed nor
		// aborted yet (Kafka's firstUncleanableDirtyOffset).
		if slices.Contains(unsynced, s) || s.next > lso || (cfg.MinCompactionLagMs > 0 && nowMs-s.lastTimestamp() < cfg.MinCompactionLagMs) {
			u = i
			break
		}
	}
	firstDirty := l.firstDirty.Load()
	if firstDirty < l.logStart || firstDirty > l.end {
		firstDirty = l.logStart
	}
	d := 0
	for d < u && segs[d].next <= firstDirty {
		d++
	}
	if d >= u {
		return cleanPlan{}, false, nil
	}
	var retain map[int64]bool
	if withRetain {
		retain = make(map[int64]bool, len(l.producers.m))
		for _, e := range l.producers.m {
			if n := len(e.batches); n > 0 {
				retain[e.batches[n-1].lastOffset] = true
			}
		}
	}
	return cleanPlan{segs: segs[:u:u], firstDirty: max(firstDirty, segs[0].base), dirtyIdx: d, dirtyEnd: segs[u-1].next, retain: retain, aborted: aborted}, true, nil
}

// loadFirstDirty reads the cleaner checkpoint at Open (the log start if
// none; a malformed one is ignored, as cleaning again is always safe).
func (l *Log) loadFirstDirty() {
	path := filepath.Join(l.dir, cleanerCheckpointName)
	b, err := vfs.ReadFile(l.fs, path)
	if errors.Is(err, fs.ErrNotExist) {
		return
	}
	v, perr := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || perr != nil || v < 0 {
		l.logger.Warn("cleaner checkpoint unreadable; the cleaner starts again from the log start", "file", path, "err", errors.Join(err, perr))
		return
	}
	l.firstDirty.Store(v)
}

// saveFirstDirty durably records the new first dirty offset.
func (l *Log) saveFirstDirty(offset int64) error {
	path := filepath.Join(l.dir, cleanerCheckpointName)
	if err := vfs.WriteAtomic(l.fs, path, []byte(strconv.FormatInt(offset, 10)+"\n"), 0o644); err != nil {
		return fmt.Errorf("write cleaner checkpoint: %w", err)
	}
	l.firstDirty.Store(offset)
	return nil
}
