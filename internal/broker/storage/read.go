package storage

// This file serves reads: fetches (Read) and the timestamp queries behind
// ListOffsets. A reader snapshots what it needs under Log.mu (a view of one
// segment: file, published size, index) and then does its I/O with no lock
// held, using ReadAt, which is safe alongside the appender's WriteAt. Since
// the published size only ever covers whole batches, a reader cannot see a
// partly written batch.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"sort"
)

// locatePrefix is how much of a batch header locating an offset needs: up
// to and including lastOffsetDelta.
const locatePrefix = offLastOffsetDelta + 4

// minReadWindow is the smallest first read; small enough to be cheap, large
// enough that a walk over small batches rarely needs a second read.
const minReadWindow = 16 << 10

// Read returns whole batches starting with the one that contains offset, as
// stored (with their base offsets assigned). Their total size is at most
// maxBytes, except that the first batch is always returned whole even if it
// is larger (Kafka semantics). The result comes from a single segment, so it
// may be shorter than maxBytes even when more data follows.
//
// Reading at the high watermark returns an empty result; an offset below the
// log start offset or above the high watermark is ErrOffsetOutOfRange. The
// first batch may begin before offset (and before the log start offset);
// consumers skip the records they did not ask for. The returned slice is
// the caller's.
//
// Typical cost: one index lookup and one ReadAt.
//
// On a compacted log, a result of batches without records (kept by the
// cleaner for their offsets or a producer's state) is followed by what
// comes next, up to the first batch with records: Kafka's own consumers
// step over empty batches, but some clients (kafkajs) fetch the same
// offset again when a response holds no record, and would never move on.
//
// Control batches (transaction markers) are returned as stored; clients
// step over them. They hold a record, so they never count as empty here.
func (l *Log) Read(offset int64, maxBytes int32) ([]byte, error) {
	return l.read(offset, maxBytes, false, false)
}

// ReadWithin is Read for a fetch response that already holds data: only
// batches that fit in maxBytes are returned, the first one included, and a
// first batch that does not fit is not read at all (an empty result). A
// consumer fetching in small steps across partitions would otherwise have
// the next partition's first batch read whole, only to be dropped, on
// every fetch. With committed it reads as ReadCommitted.
func (l *Log) ReadWithin(offset int64, maxBytes int32, committed bool) ([]byte, []AbortedTxn, error) {
	b, err := l.read(offset, maxBytes, committed, true)
	if err != nil || len(b) == 0 || !committed {
		return b, nil, err
	}
	return b, l.abortedIn(offset, b), nil
}

// read is Read, or with committed ReadCommitted's batches: those below the
// last stable offset instead of the high watermark; with within, only
// batches that fit in maxBytes (ReadWithin).
func (l *Log) read(offset int64, maxBytes int32, committed, within bool) ([]byte, error) {
	b, err := l.readSwapSafe(offset, maxBytes, committed, within)
	for steps := 0; err == nil && steps < maxEmptySteps; steps++ {
		last, empty := emptyBatches(b)
		if !empty {
			break
		}
		more, merr := l.readSwapSafe(last+1, max(maxBytes-int32(len(b)), 1), committed, within)
		if merr != nil || len(more) == 0 {
			break // at the high watermark, or the log changed: what we have is right
		}
		b = append(b, more...)
	}
	return b, err
}

// maxEmptySteps bounds how many reads Read chains past empty batches.
const maxEmptySteps = 64

// emptyBatches reports whether b (whole batches) holds batches but no
// record, and the last offset they span.
func emptyBatches(b []byte) (last int64, empty bool) {
	if len(b) < batchHeaderSize {
		return 0, false
	}
	for len(b) >= batchHeaderSize {
		h := parseHeader(b)
		if h.recordCount != 0 || h.size() > int64(len(b)) {
			return 0, false
		}
		last = h.lastOffset()
		b = b[h.size():]
	}
	return last, true
}

// readSwapSafe is one read, tried again when the cleaner swapped its
// segment out between locate and acquire (rare: it needs the file cache
// to have closed the file).
func (l *Log) readSwapSafe(offset int64, maxBytes int32, committed, within bool) ([]byte, error) {
	for attempt := 0; ; attempt++ {
		b, replaced, err := l.readOnce(offset, maxBytes, committed, within)
		if !replaced || attempt == 3 {
			return b, err
		}
	}
}

// readOnce is one attempt of Read. replaced reports a failure because the
// cleaner swapped the segment out, which a new attempt gets past.
func (l *Log) readOnce(offset int64, maxBytes int32, committed, within bool) (b []byte, replaced bool, err error) {
	v, found, err := l.locate(offset, committed)
	if err != nil || !found {
		return nil, false, err
	}
	interval := int64(l.cfg.Load().IndexIntervalBytes)
	f, release, err := v.seg.acquire(l.fs, l.opts.Files)
	if err == nil {
		b, err = readBatches(v, f, offset, int64(max(maxBytes, 1)), 2*interval, within)
		release()
	}
	if err != nil && v.seg.replaced.Load() {
		return nil, true, err
	}
	b, err = l.readResult(b, offset, err)
	return b, false, err
}

// readResult turns a read's error into the one Read returns.
func (l *Log) readResult(b []byte, offset int64, err error) ([]byte, error) {
	if err != nil {
		// Retention may have deleted (and closed) the segment since locate,
		// or Close may have closed it.
		l.mu.RLock()
		start, closed := l.logStart, l.closed
		l.mu.RUnlock()
		if offset < start {
			return nil, fmt.Errorf("read %s at offset %d: log start moved to %d: %w", l.dir, offset, start, ErrOffsetOutOfRange)
		}
		if closed && errors.Is(err, fs.ErrClosed) {
			return nil, l.errClosed("read")
		}
		return nil, fmt.Errorf("read %s at offset %d: %w", l.dir, offset, err)
	}
	return b, nil
}

// locate checks offset against the log bounds and returns a view of the
// segment holding it; found is false at the high watermark (with
// committed, at or above the last stable offset, whose view stops there).
func (l *Log) locate(offset int64, committed bool) (v view, found bool, err error) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if l.closed {
		return v, false, l.errClosed("read")
	}
	if offset < l.logStart || offset > l.end {
		return v, false, fmt.Errorf("read %s at offset %d: outside [%d, %d]: %w", l.dir, offset, l.logStart, l.end, ErrOffsetOutOfRange)
	}
	// Between the high watermark and the log end there is nothing to read
	// yet (with SyncAlways: written, not yet fsynced); for read_committed,
	// nothing from the first offset of an ongoing transaction on.
	limit := l.highWatermarkLocked()
	if committed {
		limit = l.lastStableLocked()
	}
	if offset >= limit {
		return v, false, nil
	}
	segs := l.segs
	i := sort.Search(len(segs), func(i int) bool { return segs[i].base > offset }) - 1
	i = max(i, 0)
	// Offsets are dense, so this only moves past a segment if one ends
	// early; it then serves the next data, as Kafka does across gaps.
	for i < len(segs)-1 && offset >= segs[i].next {
		i++
	}
	v = segs[i].view()
	v.limit = limit
	return v, true, nil
}

// readBatches reads from segment view v (whose file is f) the batches beginning with the one
// holding offset, up to maxBytes (at least the first whole batch, unless
// within: then a first batch larger than maxBytes is not read, and the
// result is empty). It reads slack+maxBytes bytes from the indexed
// position below offset in one go, which normally covers both the walk to
// the target batch and the result; a second read is needed only when it
// does not.
func readBatches(v view, f file, offset, maxBytes, slack int64, within bool) ([]byte, error) {
	end := v.size
	var pos int64
	if rel := offset - v.seg.base; rel > 0 {
		pos = lookupOffset(v.offsets, uint32(min(rel, math.MaxUint32)))
	}
	var buf []byte
	var bufPos int64
	fill := func(at, n int64) error {
		n = min(n, end-at)
		buf, bufPos = make([]byte, n), at
		got, err := f.ReadAt(buf, at)
		if int64(got) < n {
			if err == nil || errors.Is(err, io.EOF) {
				err = fmt.Errorf("segment %s ends at %d, before its published size %d: %w", v.seg.logPath, at+int64(got), end, ErrCorruptMessage)
			}
			return err
		}
		return nil
	}
	window := max(slack+maxBytes, minReadWindow)
	if err := fill(pos, window); err != nil {
		return nil, err
	}

	// Walk batch headers to the one holding offset.
	be := binary.BigEndian
	at := pos
	var size int64
	for {
		if at >= end {
			return nil, fmt.Errorf("offset %d not found in segment %s: %w", offset, v.seg.logPath, ErrCorruptMessage)
		}
		if at+locatePrefix > bufPos+int64(len(buf)) {
			if err := fill(at, window); err != nil {
				return nil, err
			}
			if len(buf) < locatePrefix {
				return nil, fmt.Errorf("short batch header at %d in segment %s: %w", at, v.seg.logPath, ErrCorruptMessage)
			}
		}
		hdr := buf[at-bufPos:]
		length := int32(be.Uint32(hdr[offBatchLength:]))
		if length < minBatchLength || logOverhead+int64(length) > end-at {
			return nil, fmt.Errorf("bad batch length %d at %d in segment %s: %w", length, at, v.seg.logPath, ErrCorruptMessage)
		}
		size = logOverhead + int64(length)
		last := int64(be.Uint64(hdr[offBaseOffset:])) + int64(int32(be.Uint32(hdr[offLastOffsetDelta:])))
		if last >= offset {
			break
		}
		at += size
	}

	if within && size > maxBytes {
		return nil, nil
	}
	// Make sure the first batch is wholly in the buffer, then take whole
	// batches after it while they fit in maxBytes.
	if at+size > bufPos+int64(len(buf)) {
		if err := fill(at, max(size, maxBytes)); err != nil {
			return nil, err
		}
	}
	from := at - bufPos
	to := from + size
	for to+batchHeaderSize <= int64(len(buf)) {
		n := logOverhead + int64(int32(be.Uint32(buf[to+offBatchLength:])))
		if n < batchHeaderSize || to+n > int64(len(buf)) || to+n-from > maxBytes ||
			int64(be.Uint64(buf[to+offBaseOffset:])) >= v.limit {
			break
		}
		to += n
	}
	return buf[from:to:to], nil
}

// OffsetForTime returns the offset and timestamp of the first record (in
// offset order, at or after the log start offset) whose timestamp is >= ts,
// or (-1, -1) if there is none (ListOffsets by timestamp, as Kafka answers
// it). Batch headers find the batch; only that batch's records are decoded.
func (l *Log) OffsetForTime(ts int64) (offset int64, timestamp int64, err error) {
	l.mu.RLock()
	if l.closed {
		l.mu.RUnlock()
		return -1, -1, l.errClosed("offset for time")
	}
	views := make([]view, len(l.segs))
	for i, s := range l.segs {
		views[i] = s.view()
	}
	logStart := l.logStart
	l.mu.RUnlock()

	var sc batchScanner
	for _, v := range views {
		if v.maxTs < ts || v.next <= logStart {
			continue
		}
		off, found, ok, err := l.offsetForTimeIn(&sc, v, ts, logStart)
		if err != nil {
			if v.seg.replaced.Load() {
				return l.OffsetForTime(ts) // the cleaner swapped it: look again
			}
			if l.LogStartOffset() > logStart {
				continue // retention removed the segment under us; look further
			}
			return -1, -1, fmt.Errorf("offset for time %d in %s: %w", ts, l.dir, err)
		}
		if ok {
			return off, found, nil
		}
	}
	return -1, -1, nil
}

// offsetForTimeIn is OffsetForTime within one segment.
func (l *Log) offsetForTimeIn(sc *batchScanner, v view, ts, logStart int64) (offset, timestamp int64, ok bool, err error) {
	f, release, err := v.seg.acquire(l.fs, l.opts.Files)
	if err != nil {
		return 0, 0, false, err
	}
	defer release()
	// Every batch up to the last time entry below ts is older than ts.
	pos := lookupOffset(v.offsets, lookupTime(v.times, ts))
	sc.reset(f, pos, v.size, -1, false)
	if v.seg.compacted {
		sc.compactedMode(math.MaxInt64)
	}
	for sc.next() {
		if sc.h.maxTimestamp < ts || sc.h.lastOffset() < logStart {
			continue
		}
		raw := make([]byte, sc.h.size())
		if _, err := f.ReadAt(raw, sc.hpos); err != nil {
			return 0, 0, false, fmt.Errorf("read batch at %d: %w", sc.hpos, err)
		}
		h := sc.h
		if offset, timestamp, ok, err = recordAtOrAfter(raw, &h, ts, logStart); err != nil || ok {
			return offset, timestamp, ok, err
		}
	}
	if sc.ioErr != nil {
		return 0, 0, false, sc.ioErr
	}
	if sc.bad != nil {
		return 0, 0, false, sc.bad
	}
	return 0, 0, false, nil
}

// MaxTimestamp returns the largest batch timestamp in the log and the last
// offset of the first batch carrying it (ListOffsets MAX_TIMESTAMP, -3), or
// (-1, -1) if no batch has a timestamp. Records are not decoded, so the
// offset is the batch's last, not necessarily the exact record's.
func (l *Log) MaxTimestamp() (offset, timestamp int64) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	offset, timestamp = -1, -1
	for _, s := range l.segs {
		if s.idx.maxTs > timestamp {
			offset, timestamp = s.idx.maxTsOffset, s.idx.maxTs
		}
	}
	return offset, timestamp
}
