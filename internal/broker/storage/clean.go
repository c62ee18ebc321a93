package storage

// clean.go is the log cleaner's work on one log (Kafka's
// LogCleaner.Cleaner.clean for one partition): compaction keeps, for every
// key, only its newest record.
//
// The log is split at the cleaner checkpoint, the first dirty offset:
// below it every key appears once (the clean section); from it to the first
// uncleanable segment (the active segment, one holding the last stable
// offset, one not yet fsynced, or one
// with a record younger than min.compaction.lag.ms) is the dirty section.
// A pass builds a key map of the dirty section (key digest -> newest
// offset), bounded by the memory it is given: when the map is full, the
// pass stops at a batch boundary and the next pass continues from there.
// Then every segment from the log start to where the map ends is rewritten
// without the records the map proves superseded; consecutive segments are
// merged while their sum stays under segment.bytes. Tombstones (a key with
// a null value) are dropped once they have been in the clean section
// longer than delete.retention.ms. Offsets never change: a cleaned log has
// gaps, which reads, the indexes and recovery accept (see compactedSuffix).
//
// Each rewritten group is swapped in crash-safely (swap.go). A batch is
// rewritten with its own codec; one that loses nothing is copied as is.
// Kept whole even when every record is superseded: the last batch of a
// group (so a cleaned segment ends where the group did) and the last batch
// of every producer the log tracks (so idempotent producers keep their
// sequence after a restart), as empty batches, as Kafka does.
//
// Transactions add Kafka's rules: the cleanable range ends before the
// segment holding the last stable offset (clean_plan.go), so an ongoing
// transaction is never touched; batches of aborted transactions (the
// aborted index says which producer's batches in which offset range) are
// removed, and never enter the key map, where they would supersede
// committed records; a marker is kept while any batch of its transaction
// remains, and then removed like a tombstone, once its segment has been
// clean for delete.retention.ms. What may be cleaned, and the clean point,
// are decided in clean_plan.go.

import (
	"bytes"
	"context"
	"crypto/md5"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
)

// IOThrottle bounds the cleaner's disk bandwidth across the logs it
// cleans (Kafka's log.cleaner.io.max.bytes.per.second).
type IOThrottle interface {
	// Wait blocks until n more bytes of I/O are allowed, or ctx ends.
	Wait(ctx context.Context, n int64) error
}

// CleanOptions are the resources of one cleaning.
type CleanOptions struct {
	// KeyMapBytes bounds the key map's memory (Kafka's
	// log.cleaner.dedupe.buffer.size divided among the cleaner threads);
	// below minKeyMapBytes, that is used.
	KeyMapBytes int64
	// Throttle, if set, is asked before every read and write.
	Throttle IOThrottle
	// Force cleans even below min.cleanable.dirty.ratio.
	Force bool
}

// CleanResult says what a cleaning did.
type CleanResult struct {
	Passes                  int
	SegmentsIn, SegmentsOut int
	BytesRead, BytesWritten int64
	RecordsRemoved          int64
	TombstonesRemoved       int64
	// AbortedRecordsRemoved are records of aborted transactions;
	// MarkersRemoved transaction markers whose transaction left nothing.
	AbortedRecordsRemoved int64
	MarkersRemoved        int64
}

// Key map sizing. keyMapEntryBytes is what one entry of the Go map costs
// (a 16-byte digest, an 8-byte offset, and the map's own overhead).
const (
	keyMapEntryBytes = 48
	minKeyMapBytes   = 1 << 16
	// maxCleanPasses bounds the passes of one Clean call; the next call
	// goes on from where it stopped.
	maxCleanPasses = 64
)

// defaults of the compaction configs.
const (
	defaultDeleteRetentionMs      = 24 * 60 * 60 * 1000
	defaultMinCleanableDirtyRatio = 0.5
)

// Clean compacts the log: passes until the dirty section is clean, or the
// context ends. A log whose policy does not compact, or that is not due
// (unless o.Force), is left alone.
func (l *Log) Clean(ctx context.Context, o CleanOptions) (CleanResult, error) {
	l.cleanMu.Lock()
	defer l.cleanMu.Unlock()
	var res CleanResult
	cfg := l.cfg.Load()
	if !cfg.Policy.Compacts() {
		return res, nil
	}
	if !o.Force && !l.CleanerState().Due {
		return res, nil
	}
	maxKeys := int(max(o.KeyMapBytes, minKeyMapBytes) / keyMapEntryBytes)
	for res.Passes < maxCleanPasses {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		p, ok, err := l.plan(cfg, true)
		if err != nil || !ok {
			return res, err
		}
		mapEnd, err := l.cleanPass(ctx, o, cfg, p, maxKeys, &res)
		if err != nil {
			l.mu.RLock()
			closed := l.closed
			l.mu.RUnlock()
			if closed { // deleted or closed under the cleaner: not a failure
				return res, l.errClosed("clean")
			}
			return res, fmt.Errorf("clean %s: %w", l.dir, err)
		}
		res.Passes++
		if mapEnd >= p.dirtyEnd {
			break
		}
	}
	l.lastCleaned.Store(l.opts.Now().UnixMilli())
	return res, nil
}

// keyDigest is a key's entry in the key map (as Kafka's SkimpyOffsetMap,
// an MD5 digest: a collision would need two keys of one partition with
// the same 128-bit digest).
type keyDigest [md5.Size]byte

// keyDigestOf is key's entry in the key map.
func keyDigestOf(key []byte) keyDigest { return md5.Sum(key) }

// cleanPass runs one pass and returns where its key map ended (the new
// first dirty offset).
func (l *Log) cleanPass(ctx context.Context, o CleanOptions, cfg *Config, p cleanPlan, maxKeys int, res *CleanResult) (int64, error) {
	keys, mapEnd, err := l.buildKeyMap(ctx, o, cfg, p, maxKeys, res)
	if err != nil {
		return 0, err
	}
	nowMs := l.opts.Now().UnixMilli()
	retention := cfg.DeleteRetentionMs
	switch {
	case retention == 0:
		retention = defaultDeleteRetentionMs
	case retention < 0:
		retention = 0 // Kafka's 0: tombstones go at the next cleaning
	}
	f := batchFilter{keys: keys, mapEnd: mapEnd, retain: p.retain, limit: decompressLimit(cfg.MaxMessageBytes),
		aborted: newAbortedSet(p.aborted), txnKept: map[int64]bool{},
		// A tombstone goes once its segment was clean before this pass
		// and its newest record is delete.retention.ms old.
		tombstonesGo: func(s *segment) bool {
			return s.next <= p.firstDirty && nowMs-s.lastTimestamp() > retention
		}}
	// Segments that hold an offset below mapEnd are rewritten.
	n := 0
	for n < len(p.segs) && p.segs[n].base < mapEnd {
		n++
	}
	for _, group := range groupSegments(p.segs[:n], cfg) {
		if err := ctx.Err(); err != nil {
			return 0, err
		}
		if err := l.cleanGroup(ctx, o, group, &f, res); err != nil {
			return 0, err
		}
	}
	if err := l.saveFirstDirty(mapEnd); err != nil {
		return 0, err
	}
	return mapEnd, nil
}

// buildKeyMap reads the dirty section into a key map, stopping at a batch
// boundary when the next batch might not fit. It returns the map and the
// offset it covers up to.
func (l *Log) buildKeyMap(ctx context.Context, o CleanOptions, cfg *Config, p cleanPlan, maxKeys int, res *CleanResult) (map[keyDigest]int64, int64, error) {
	keys := make(map[keyDigest]int64, min(maxKeys, 1<<16))
	limit := decompressLimit(cfg.MaxMessageBytes)
	aborted := newAbortedSet(p.aborted)
	var recs []storedRecord
	for _, s := range p.segs[p.dirtyIdx:] {
		stop := int64(-1)
		err := l.eachBatch(ctx, o, s, res, func(raw []byte, h *batchHeader) error {
			if h.lastOffset() < p.firstDirty || h.attributes&attrControl != 0 || aborted.has(h) {
				return nil
			}
			if len(keys)+int(h.recordCount) > maxKeys {
				if len(keys) == 0 {
					return fmt.Errorf("key map of %d entries cannot hold one batch of %d records (raise the cleaner's key map memory)", maxKeys, h.recordCount)
				}
				stop = h.baseOffset
				return errStopScan
			}
			var err error
			if recs, err = batchRecordsDecoded(raw, h, limit, recs[:0]); err != nil {
				return err
			}
			for _, r := range recs {
				off := h.baseOffset + int64(r.offsetDelta)
				if off >= p.firstDirty && !r.keyNull {
					keys[keyDigestOf(r.key)] = off
				}
			}
			return nil
		})
		if err != nil && !errors.Is(err, errStopScan) {
			return nil, 0, err
		}
		if stop >= 0 {
			return keys, stop, nil
		}
	}
	return keys, p.dirtyEnd, nil
}

// errStopScan ends eachBatch early without an error.
var errStopScan = errors.New("stop scan")

// batchRecordsDecoded inflates and decodes a stored batch's records. They
// do not alias a pooled buffer: a compressed batch's records are copied.
func batchRecordsDecoded(raw []byte, h *batchHeader, limit int, out []storedRecord) ([]storedRecord, error) {
	recs, release, err := batchRecords(raw, h, limit)
	if err != nil {
		return out, err
	}
	if int8(h.attributes&attrCodecMask) != codecNone {
		recs = bytes.Clone(recs)
	}
	release()
	return decodeRecords(recs, h, out)
}

// eachBatch calls fn with every batch of segment s, read whole into a
// buffer reused for the next batch.
func (l *Log) eachBatch(ctx context.Context, o CleanOptions, s *segment, res *CleanResult, fn func(raw []byte, h *batchHeader) error) error {
	f, release, err := s.acquire(l.fs, l.opts.Files)
	if err != nil {
		return err
	}
	defer release()
	l.mu.RLock()
	size := s.size
	l.mu.RUnlock()
	var sc batchScanner
	sc.reset(f, 0, size, -1, false)
	sc.compactedMode(math.MaxInt64)
	var buf []byte // reused: fn must not keep raw
	for sc.next() {
		h := sc.h
		if err := throttle(ctx, o, h.size()); err != nil {
			return err
		}
		if int64(cap(buf)) < h.size() {
			buf = make([]byte, h.size())
		}
		raw := buf[:h.size()]
		if _, err := f.ReadAt(raw, sc.hpos); err != nil {
			return fmt.Errorf("read batch at %d of %s: %w", sc.hpos, s.logPath, err)
		}
		res.BytesRead += h.size()
		if err := fn(raw, &h); err != nil {
			return err
		}
	}
	if sc.ioErr != nil {
		return fmt.Errorf("read %s: %w", s.logPath, sc.ioErr)
	}
	if sc.bad != nil {
		return fmt.Errorf("segment %s: %w", s.logPath, sc.bad)
	}
	return nil
}

// throttle waits for the I/O throttle, if any.
func throttle(ctx context.Context, o CleanOptions, n int64) error {
	if o.Throttle == nil {
		return nil
	}
	return o.Throttle.Wait(ctx, n)
}

// groupSegments splits segs into runs to be merged into one cleaned
// segment each: consecutive segments whose sizes add up to at most
// segment.bytes and whose offsets fit one segment's 32-bit index.
func groupSegments(segs []*segment, cfg *Config) [][]*segment {
	var groups [][]*segment
	for i := 0; i < len(segs); {
		j, size := i+1, segs[i].size
		for j < len(segs) && size+segs[j].size <= cfg.SegmentBytes && segs[j].next-segs[i].base <= math.MaxInt32 {
			size += segs[j].size
			j++
		}
		groups = append(groups, segs[i:j:j])
		i = j
	}
	return groups
}

// batchFilter decides which records of a batch the cleaner keeps.
type batchFilter struct {
	keys         map[keyDigest]int64
	mapEnd       int64
	retain       map[int64]bool // last offsets of batches kept even when empty
	limit        int
	tombstonesGo func(*segment) bool
	recs, kept   []storedRecord
	// aborted says which transactional batches were aborted; txnKept
	// which producers have a batch of their current transaction written
	// to the cleaned log (its marker must then stay). Batches come in
	// offset order from the log start, so a transaction's batches come
	// before its marker.
	aborted abortedSet
	txnKept map[int64]bool
}

// abortedSet answers whether a transactional batch belongs to an aborted
// transaction: by producer, the offset ranges of its aborted ones.
type abortedSet map[int64][]abortedTxn

func newAbortedSet(x txnIndex) abortedSet {
	s := abortedSet{}
	for _, a := range x {
		s[a.producerID] = append(s[a.producerID], a)
	}
	return s
}

// has reports whether the data batch with header h was aborted.
func (s abortedSet) has(h *batchHeader) bool {
	if h.attributes&(attrTransactional|attrControl) != attrTransactional {
		return false
	}
	for _, a := range s[h.producerID] {
		if a.first <= h.baseOffset && h.baseOffset <= a.last {
			return true
		}
	}
	return false
}

// control decides on a marker: it stays while a batch of its transaction
// was kept, or while its segment is not yet due for tombstone removal.
func (f *batchFilter) control(raw []byte, h *batchHeader, s *segment, keep bool) []byte {
	kept := f.txnKept[h.producerID]
	delete(f.txnKept, h.producerID)
	if keep || kept || !f.tombstonesGo(s) {
		return raw
	}
	return nil
}

// filter returns the batch to write for raw (nil to drop it): raw itself
// when every record stays, else a rebuilt batch. last says the batch ends
// its group.
func (f *batchFilter) filter(raw []byte, h *batchHeader, s *segment, last bool, res *CleanResult) ([]byte, error) {
	keep := last || f.retain[h.lastOffset()] // even if it ends up empty
	out, err := f.filterData(raw, h, s, keep, res)
	if h.attributes&(attrTransactional|attrControl) == attrTransactional && out != nil {
		f.txnKept[h.producerID] = true
	}
	return out, err
}

// filterData is filter for a batch, without the bookkeeping of kept
// transactional batches.
func (f *batchFilter) filterData(raw []byte, h *batchHeader, s *segment, keep bool, res *CleanResult) ([]byte, error) {
	switch {
	case h.attributes&attrControl != 0:
		out := f.control(raw, h, s, keep)
		if out == nil {
			res.MarkersRemoved++
		}
		return out, nil
	case f.aborted.has(h):
		res.AbortedRecordsRemoved += int64(h.recordCount)
		if !keep {
			return nil, nil
		}
		return rebuildBatch(raw, h, nil, int8(h.attributes&attrCodecMask), 0)
	case h.recordCount == 0 && keep:
		return raw, nil
	case h.recordCount == 0:
		return nil, nil
	}
	var err error
	if f.recs, err = batchRecordsDecoded(raw, h, f.limit, f.recs[:0]); err != nil {
		return nil, err
	}
	dropTombstones := f.tombstonesGo(s)
	f.kept = f.kept[:0]
	for _, r := range f.recs {
		off := h.baseOffset + int64(r.offsetDelta)
		if r.keyNull || off >= f.mapEnd {
			f.kept = append(f.kept, r)
			continue
		}
		newest, seen := f.keys[keyDigestOf(r.key)]
		switch {
		case seen && newest > off:
			res.RecordsRemoved++
		case r.valueNull && dropTombstones:
			res.TombstonesRemoved++
		default:
			f.kept = append(f.kept, r)
		}
	}
	switch {
	case len(f.kept) == len(f.recs):
		return raw, nil
	case len(f.kept) == 0 && !keep:
		return nil, nil
	}
	return rebuildBatch(raw, h, f.kept, int8(h.attributes&attrCodecMask), 0)
}

// cleanGroup writes the cleaned copy of group and swaps it in.
func (l *Log) cleanGroup(ctx context.Context, o CleanOptions, group []*segment, f *batchFilter, res *CleanResult) error {
	base := group[0].base
	tmpPath := filepath.Join(l.dir, segmentName(base)+cleanedSuffix)
	if err := removeIfExists(l.fs, tmpPath); err != nil {
		return err
	}
	file, err := l.fs.OpenFile(tmpPath, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return fmt.Errorf("create %s: %w", tmpPath, err)
	}
	cleaned := newSegment(l.dir, base)
	cleaned.compacted = true
	cleaned.pin(l.opts.Files, file)
	cfg := l.cfg.Load()
	fail := func(err error) error {
		cleaned.closeFile(l.opts.Files)
		return errors.Join(err, removeIfExists(l.fs, tmpPath))
	}
	changed := len(group) > 1 // merging is a change
	for gi, s := range group {
		lastSeg := gi == len(group)-1
		l.mu.RLock()
		segNext := s.next
		created, modified := s.created, s.modified
		l.mu.RUnlock()
		if gi == 0 {
			cleaned.created = created
		}
		cleaned.modified = max(cleaned.modified, modified)
		err := l.eachBatch(ctx, o, s, res, func(raw []byte, h *batchHeader) error {
			out, err := f.filter(raw, h, s, lastSeg && h.lastOffset()+1 == segNext, res)
			if out == nil || len(out) != len(raw) || &out[0] != &raw[0] {
				changed = true
			}
			if err != nil || out == nil {
				return err
			}
			if err := throttle(ctx, o, int64(len(out))); err != nil {
				return err
			}
			pos := cleaned.size
			if _, err := file.WriteAt(out, pos); err != nil {
				return fmt.Errorf("write %s: %w", tmpPath, err)
			}
			oh := parseHeader(out)
			if cleaned.size == 0 {
				cleaned.firstTs = oh.maxTimestamp
			}
			cleaned.idx.add(base, pos, int64(len(out)), oh.baseOffset, oh.lastOffset(), oh.maxTimestamp, cfg.IndexIntervalBytes)
			cleaned.size += int64(len(out))
			cleaned.next = oh.lastOffset() + 1
			res.BytesWritten += int64(len(out))
			return nil
		})
		if err != nil {
			return fail(err)
		}
	}
	if cleaned.next != group[len(group)-1].next {
		return fail(fmt.Errorf("cleaned segment %s ends at %d, its group at %d", tmpPath, cleaned.next, group[len(group)-1].next))
	}
	if !changed {
		// One segment the cleaner would copy as it is: leave it.
		return fail(nil)
	}
	cleaned.idx.seal(base)
	if err := file.Sync(); err != nil {
		return fail(fmt.Errorf("fsync %s: %w", tmpPath, err))
	}
	l.maintMu.Lock()
	swapped, err := l.swapIn(group, cleaned, tmpPath)
	l.maintMu.Unlock()
	if err != nil {
		return err
	}
	if swapped {
		res.SegmentsIn += len(group)
		res.SegmentsOut++
		l.logger.Debug("cleaned segments", "segments", len(group), "base", base, "bytes", cleaned.size)
	}
	return nil
}
