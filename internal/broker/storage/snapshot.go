package storage

// snapshot.go persists the producer state, as Kafka's ProducerStateManager
// does: at every segment roll and at a clean Close the state as of the log
// end is written to <20-digit offset>.snapshot, and Open loads the newest
// one that verifies and replays only the batches after it.
//
// Why it matters beyond speed: the state cannot always be rebuilt from the
// log. A transaction whose first batches retention or DeleteRecords
// removed, or the first offsets of aborted transactions whose data the
// cleaner removed, are known only to the state, and the aborted-
// transactions index (txn.go) lives in the snapshot for the same reason.
//
// A snapshot is written only after the data below its offset is fsynced
// (the roll's snapshot waits for the sync that makes the rolled segment
// durable), atomically (tmp + fsync + rename + directory fsync). Its
// layout, big-endian, CRC32C-protected:
//
//	magic "CPS1" | offset int64 | producers uint32 | aborted uint32
//	per producer: id int64, epoch int16, lastTimestamp int64,
//	  lastAppendMs int64, lastOffset int64, coordinatorEpoch int32, txnFirst int64,
//	  batches uint8, then per batch firstSeq int32, lastSeq int32,
//	  baseOffset int64, lastOffset int64, appendTime int64
//	per aborted txn: producerID int64, first int64, last int64, lso int64
//	crc32c uint32 of everything before it
//
// The newest few are kept, and those below the log start (but the newest)
// are removed. At Open a damaged snapshot is moved to quarantine and the
// next older (or a full replay) is used; one above the recovered log end
// describes data that is gone and is removed; one above a range recovery
// repaired is moved to quarantine.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io/fs"
	"math"
	"path/filepath"
	"slices"

	"github.com/courier-dev/courier/internal/broker/vfs"
)

const (
	snapshotSuffix = ".snapshot"
	snapshotMagic  = "CPS1"
	// maxSnapshots is how many snapshot files a log keeps.
	maxSnapshots = 3

	snapHeaderSize   = 4 + 8 + 4 + 4
	snapProducerSize = 8 + 2 + 8 + 8 + 8 + 4 + 8 + 1
	snapBatchSize    = 4 + 4 + 8 + 8 + 8
	snapAbortedSize  = 4 * 8
)

// errBadSnapshot marks a snapshot file that does not verify.
var errBadSnapshot = errors.New("malformed producer-state snapshot")

// pendingSnapshot is an encoded snapshot waiting to be written.
type pendingSnapshot struct {
	offset int64
	data   []byte
}

// snapshotPath is the file of the snapshot at offset.
func (l *Log) snapshotPath(offset int64) string {
	return filepath.Join(l.dir, segmentName(offset)+snapshotSuffix)
}

// takeSnapshot encodes the producer state as of the log end, unless
// nothing changed since the last one, or there is nothing to keep and no
// older snapshot to supersede (a log without producers costs no snapshot
// file and no fsync). Caller holds appendMu.
func (l *Log) takeSnapshot() (pendingSnapshot, bool) {
	if l.snapClean || (len(l.producers.m) == 0 && len(l.aborted) == 0 && !l.snapsExist.Load()) {
		return pendingSnapshot{}, false
	}
	l.snapClean = true
	l.snapsExist.Store(true)
	return pendingSnapshot{offset: l.end, data: encodeSnapshot(l.end, l.producers, l.aborted)}, true
}

// writeSnapshots writes snapshots whose data is durable, then prunes old
// ones. A failure costs only a longer replay at the next Open, so it is
// logged, not returned, unless the log itself failed. Caller holds syncMu.
func (l *Log) writeSnapshots(snaps []pendingSnapshot) error {
	for _, s := range snaps {
		path := l.snapshotPath(s.offset)
		if err := vfs.WriteAtomic(l.fs, path, s.data, 0o644); err != nil {
			l.logger.Warn("write producer-state snapshot; Open will replay further back", "file", path, "err", err)
			continue
		}
		if i, found := slices.BinarySearch(l.snaps, s.offset); !found {
			l.snaps = slices.Insert(l.snaps, i, s.offset)
		}
	}
	return l.pruneSnapshots()
}

// pruneSnapshots removes snapshots beyond the newest maxSnapshots and
// those below the log start offset, always keeping the newest. Caller
// holds syncMu.
func (l *Log) pruneSnapshots() error {
	if len(l.snaps) == 0 {
		return nil
	}
	l.mu.RLock()
	logStart := l.logStart
	l.mu.RUnlock()
	newest := l.snaps[len(l.snaps)-1]
	var errs []error
	keep := l.snaps[:0]
	for i, off := range l.snaps {
		if off == newest || (i >= len(l.snaps)-maxSnapshots && off >= logStart) {
			keep = append(keep, off)
			continue
		}
		if err := l.fs.Remove(l.snapshotPath(off)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			errs = append(errs, fmt.Errorf("remove snapshot: %w", err))
			keep = append(keep, off)
		}
	}
	l.snaps = keep
	return errors.Join(errs...)
}

// encodeSnapshot encodes the state as of offset, producers by id.
func encodeSnapshot(offset int64, p *producerState, aborted txnIndex) []byte {
	ids := make([]int64, 0, len(p.m))
	size := snapHeaderSize + 4 + len(aborted)*snapAbortedSize
	for id, e := range p.m {
		ids = append(ids, id)
		size += snapProducerSize + len(e.batches)*snapBatchSize
	}
	slices.Sort(ids)
	be := binary.BigEndian
	b := make([]byte, 0, size)
	b = append(b, snapshotMagic...)
	b = be.AppendUint64(b, uint64(offset))
	b = be.AppendUint32(b, uint32(len(ids)))
	b = be.AppendUint32(b, uint32(len(aborted)))
	for _, id := range ids {
		e := p.m[id]
		b = be.AppendUint64(b, uint64(id))
		b = be.AppendUint16(b, uint16(e.epoch))
		b = be.AppendUint64(b, uint64(e.lastTimestamp))
		b = be.AppendUint64(b, uint64(e.lastAppendMs))
		b = be.AppendUint64(b, uint64(e.lastOffset))
		b = be.AppendUint32(b, uint32(e.coordinatorEpoch))
		b = be.AppendUint64(b, uint64(e.txnFirst))
		b = append(b, byte(len(e.batches)))
		for _, m := range e.batches {
			b = be.AppendUint32(b, uint32(m.firstSeq))
			b = be.AppendUint32(b, uint32(m.lastSeq))
			b = be.AppendUint64(b, uint64(m.baseOffset))
			b = be.AppendUint64(b, uint64(m.lastOffset))
			b = be.AppendUint64(b, uint64(m.appendTime))
		}
	}
	for _, a := range aborted {
		b = be.AppendUint64(b, uint64(a.producerID))
		b = be.AppendUint64(b, uint64(a.first))
		b = be.AppendUint64(b, uint64(a.last))
		b = be.AppendUint64(b, uint64(a.lso))
	}
	return be.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

// snapReader reads big-endian fields from a snapshot whose size was
// checked against its counts, so no read runs past the end.
type snapReader struct {
	b []byte
	p int
}

func (r *snapReader) u8() uint8   { v := r.b[r.p]; r.p++; return v }
func (r *snapReader) i16() int16  { v := int16(binary.BigEndian.Uint16(r.b[r.p:])); r.p += 2; return v }
func (r *snapReader) i32() int32  { v := int32(binary.BigEndian.Uint32(r.b[r.p:])); r.p += 4; return v }
func (r *snapReader) i64() int64  { v := int64(binary.BigEndian.Uint64(r.b[r.p:])); r.p += 8; return v }
func (r *snapReader) left() int   { return len(r.b) - r.p }
func (r *snapReader) u32() uint32 { return uint32(r.i32()) }

// decodeSnapshot decodes and validates a snapshot: CRC, counts against
// the size, and every offset below the snapshot's own, entries in order.
// Every error wraps errBadSnapshot.
func decodeSnapshot(b []byte) (offset int64, p *producerState, aborted txnIndex, err error) {
	bad := func(format string, args ...any) (int64, *producerState, txnIndex, error) {
		return 0, nil, nil, fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), errBadSnapshot)
	}
	if len(b) < snapHeaderSize+4 {
		return bad("%d bytes, shorter than a header", len(b))
	}
	body := b[:len(b)-4]
	if want, got := binary.BigEndian.Uint32(b[len(b)-4:]), crc32.Checksum(body, castagnoli); want != got {
		return bad("CRC %#08x, computed %#08x", want, got)
	}
	if string(body[:4]) != snapshotMagic {
		return bad("magic %q", body[:4])
	}
	r := snapReader{b: body, p: 4}
	offset = r.i64()
	nprod, nab := r.u32(), r.u32()
	if offset < 0 || int64(nprod)*snapProducerSize+int64(nab)*snapAbortedSize > int64(r.left()) {
		return bad("offset %d, %d producers and %d aborted transactions in %d bytes", offset, nprod, nab, len(b))
	}
	p = newProducerState()
	prev := int64(math.MinInt64)
	for range nprod {
		if r.left() < snapProducerSize {
			return bad("producer entries run past the end")
		}
		id := r.i64()
		e := &producerEntry{epoch: r.i16(), lastTimestamp: r.i64(), lastAppendMs: r.i64(), lastOffset: r.i64(), coordinatorEpoch: r.i32(), txnFirst: r.i64()}
		n := int(r.u8())
		switch {
		case id < 0 || id <= prev:
			return bad("producer id %d after %d", id, prev)
		case e.epoch < 0 || e.lastOffset < -1 || e.lastOffset >= offset || e.txnFirst < -1 || e.txnFirst >= offset:
			return bad("producer %d: epoch %d, last offset %d, transaction from %d at snapshot offset %d", id, e.epoch, e.lastOffset, e.txnFirst, offset)
		case n > maxCachedBatches || r.left() < n*snapBatchSize:
			return bad("producer %d: %d batches", id, n)
		}
		prev = id
		for range n {
			m := batchMeta{firstSeq: r.i32(), lastSeq: r.i32(), baseOffset: r.i64(), lastOffset: r.i64(), appendTime: r.i64()}
			if m.firstSeq < 0 || m.lastSeq < 0 || m.baseOffset < 0 || m.lastOffset < m.baseOffset || m.lastOffset >= offset {
				return bad("producer %d: batch %+v at snapshot offset %d", id, m, offset)
			}
			e.batches = append(e.batches, m)
		}
		p.put(id, e)
	}
	if r.left() != int(nab)*snapAbortedSize {
		return bad("%d bytes for %d aborted transactions", r.left(), nab)
	}
	aborted = make(txnIndex, 0, nab)
	for range nab {
		a := abortedTxn{producerID: r.i64(), first: r.i64(), last: r.i64(), lso: r.i64()}
		if a.producerID < 0 || a.first < 0 || a.last < a.first || a.last >= offset || a.lso > a.last+1 ||
			(len(aborted) > 0 && a.last <= aborted[len(aborted)-1].last) {
			return bad("aborted transaction %+v at snapshot offset %d", a, offset)
		}
		aborted = append(aborted, a)
	}
	return offset, p, aborted, nil
}

// loadSnapshot loads the newest snapshot at or above minOffset (the first
// segment's base: below it the data the replay would need is gone) that
// verifies, into l's producer state and aborted index, and returns its
// offset, or -1 if none did. A damaged one is moved to quarantine and
// counted. Runs at Open.
func (l *Log) loadSnapshot(minOffset int64) (int64, error) {
	for i := len(l.snaps) - 1; i >= 0; i-- {
		off := l.snaps[i]
		if off < minOffset {
			break
		}
		path := l.snapshotPath(off)
		b, err := vfs.ReadFile(l.fs, path)
		if err != nil {
			return -1, fmt.Errorf("read snapshot %s: %w", path, err)
		}
		got, p, aborted, err := decodeSnapshot(b)
		if err == nil && got != off {
			err = fmt.Errorf("holds offset %d: %w", got, errBadSnapshot)
		}
		if err != nil {
			if err := l.setSnapshotAside(i, "damaged", err); err != nil {
				return -1, err
			}
			l.report.SnapshotsDamaged++
			continue
		}
		l.producers, l.aborted = p, aborted
		return off, nil
	}
	return -1, nil
}

// setSnapshotAside moves snapshot l.snaps[i] to quarantine and forgets it.
func (l *Log) setSnapshotAside(i int, why string, cause error) error {
	path := l.snapshotPath(l.snaps[i])
	dst, err := l.quarantineFile(path, why)
	if err != nil {
		return err
	}
	l.logger.Error("producer-state snapshot unusable; moved to quarantine, replaying the log instead", "file", path, "why", cause, "quarantined_as", dst)
	l.snaps = slices.Delete(l.snaps, i, i+1)
	return nil
}

// rejectSnapshot handles the snapshot Open loaded when the walk found it
// unusable: above the recovered end it describes data that is gone and is
// removed; above a range recovery changed it goes to quarantine.
func (l *Log) rejectSnapshot(off int64) error {
	i, found := slices.BinarySearch(l.snaps, off)
	if !found {
		return nil
	}
	l.report.SnapshotsIgnored++
	if off > l.end {
		path := l.snapshotPath(off)
		l.logger.Warn("producer-state snapshot lies beyond the recovered log end; removing it", "file", path, "log_end", l.end)
		if err := l.fs.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove snapshot %s: %w", path, err)
		}
		l.snaps = slices.Delete(l.snaps, i, i+1)
		return nil
	}
	return l.setSnapshotAside(i, "above-repair", fmt.Errorf("recovery changed the log from offset %d, below the snapshot's %d", l.recoveryCut, off))
}
