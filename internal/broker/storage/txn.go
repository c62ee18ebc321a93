package storage

// txn.go is what the partition log does for Kafka transactions (KIP-98),
// as Kafka's UnifiedLog and ProducerStateManager do: it writes the
// transaction markers the coordinator sends (control batches), keeps the
// last stable offset (LSO: nothing at or above the first offset of an
// ongoing transaction is visible to read_committed consumers), keeps the
// aborted-transactions index those consumers need to drop aborted records,
// and reports producer state for DescribeProducers.
//
// A producer's transaction on this partition opens with its first
// transactional batch (producer_state.go) and closes with a marker. The
// marker and the state change are published together with the log end, so
// a reader never sees the high watermark move past a transactional batch
// without the LSO holding it back.

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Control record types (the key's type field) Courier writes and reads.
const (
	controlAbort  = 0
	controlCommit = 1
	// maxControlRecordBytes bounds the records section of a control batch:
	// one record with a 4-byte key and a 6-byte value takes about 17 bytes,
	// so anything far larger is not a marker.
	maxControlRecordBytes = 128
)

// Marker is a transaction marker to append (a control batch with one
// control record).
type Marker struct {
	ProducerID       int64
	ProducerEpoch    int16
	Commit           bool // COMMIT (type 1) or ABORT (type 0)
	CoordinatorEpoch int32
}

// AbortedTxn is one aborted transaction as a read_committed Fetch reports
// it.
type AbortedTxn struct {
	ProducerID  int64
	FirstOffset int64
}

// ProducerInfo is one producer's state, for DescribeProducers.
type ProducerInfo struct {
	ProducerID    int64
	ProducerEpoch int16
	// LastSequence is the last sequence number written (-1 if none).
	LastSequence int32
	// LastTimestamp is the max timestamp of its last batch or marker in ms
	// (-1 if none).
	LastTimestamp int64
	// CoordinatorEpoch is that of its last marker (-1 if none).
	CoordinatorEpoch int32
	// CurrentTxnStartOffset is the first offset of its ongoing transaction
	// (-1 if none).
	CurrentTxnStartOffset int64
}

// abortedTxn is one entry of the aborted-transactions index (Kafka's
// AbortedTxn): the producer, the first offset of its transaction, the
// offset of its ABORT marker, and the last stable offset right after the
// abort, which lets a lookup stop early (see collect).
type abortedTxn struct {
	producerID, first, last, lso int64
}

// txnIndex is the aborted-transactions index of a log: entries in marker
// order. It is kept in memory and persisted in the producer-state
// snapshots (snapshot.go), not in per-segment .txnindex files as Kafka
// does: an entry's first offset comes from the producer state, so storing
// both in one atomically written file keeps them consistent without a
// second fsync order to get right, and what the snapshot does not cover is
// rebuilt by the replay after it. Its size is one entry per retained
// aborted transaction, and entries wholly below the log start are dropped.
//
// Readers take the slice under Log.mu and read it without the lock:
// writers only append (never touching entries a reader may hold) or
// replace the slice.
type txnIndex []abortedTxn

// collect returns the aborted transactions a read_committed fetch from
// offset that returned data up to upper (exclusive) needs: those whose
// marker is at or after offset and whose first offset is below upper,
// ordered by first offset. As in Kafka's TransactionIndex.collectAbortedTxns,
// the walk stops at the first entry whose last stable offset reaches
// upper: every transaction aborted after it began at or after that offset.
func (x txnIndex) collect(offset, upper int64) []AbortedTxn {
	i := sort.Search(len(x), func(i int) bool { return x[i].last >= offset })
	var out []AbortedTxn
	for ; i < len(x); i++ {
		e := x[i]
		if e.first < upper {
			out = append(out, AbortedTxn{ProducerID: e.producerID, FirstOffset: e.first})
		}
		if e.lso >= upper {
			break
		}
	}
	slices.SortStableFunc(out, func(a, b AbortedTxn) int { return compareInt64(a.FirstOffset, b.FirstOffset) })
	return out
}

// dropBelow returns the index without entries wholly below logStart.
func (x txnIndex) dropBelow(logStart int64) txnIndex {
	i := sort.Search(len(x), func(i int) bool { return x[i].last >= logStart })
	if i == 0 {
		return x
	}
	return slices.Clone(x[i:])
}

func compareInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// AppendMarker appends m as a control batch (attributes
// transactional|control, baseSequence -1, producer id/epoch of m, one
// control record: key = version 0 int16 + type int16, value = version 0
// int16 + coordinator epoch int32), closing the producer's ongoing
// transaction on this partition. It returns the marker's offset.
//
// If the producer has no ongoing transaction here it writes nothing and
// returns (-1, nil): markers are re-sent after a coordinator crash and
// must be idempotent. A marker whose epoch is older than the producer's
// current epoch is ErrInvalidProducerEpoch (Kafka: fenced); one whose
// coordinator epoch is older than the producer's last marker's is
// ErrCoordinatorFenced. A marker epoch newer than the producer's (the
// coordinator bumped it to fence a timed-out producer) becomes the
// producer's epoch (sequences restart at 0). An ABORT adds (producer,
// first offset of its txn, marker offset, LSO at that moment) to the
// aborted-transactions index.
//
// Like Append, the marker is readable at once and durable after
// WaitDurable(offset) or Sync.
func (l *Log) AppendMarker(m Marker) (offset int64, err error) {
	if m.ProducerID < 0 || m.ProducerEpoch < 0 {
		return -1, fmt.Errorf("append marker to %s: producer id %d epoch %d: %w", l.dir, m.ProducerID, m.ProducerEpoch, ErrInvalidRecord)
	}
	cfg := l.cfg.Load()
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	if err := l.writable("append marker to"); err != nil {
		return -1, err
	}
	write, err := l.producers.checkMarker(m)
	if err != nil || !write {
		if err != nil {
			err = fmt.Errorf("append marker to %s: %w", l.dir, err)
		}
		return -1, err
	}
	nowMs := l.opts.Now().UnixMilli()
	b := encodeMarker(m, nowMs)
	h := parseHeader(b)
	appendTime := int64(-1)
	if cfg.LogAppendTime {
		appendTime = nowMs
	}
	res, rolled, err := l.writeLocked(b, &h, cfg, nowMs, appendTime, func() (abortedTxn, bool) {
		return l.producers.completeTxn(m, h.baseOffset, h.maxTimestamp, nowMs)
	})
	if rolled {
		l.syncAfterRoll()
	}
	if err != nil {
		return -1, err
	}
	l.logger.Debug("wrote transaction marker", "producer_id", m.ProducerID, "epoch", m.ProducerEpoch, "commit", m.Commit, "offset", res.BaseOffset)
	return res.BaseOffset, nil
}

// encodeMarker builds the control batch for m, stamped with nowMs, with
// kmsg (the base offset is assigned when it is written).
func encodeMarker(m Marker, nowMs int64) []byte {
	typ := kmsg.ControlRecordKeyType(controlAbort)
	if m.Commit {
		typ = controlCommit
	}
	key := kmsg.ControlRecordKey{Version: 0, Type: typ}
	val := kmsg.EndTxnMarker{Version: 0, CoordinatorEpoch: m.CoordinatorEpoch}
	rec := kmsg.Record{Key: key.AppendTo(nil), Value: val.AppendTo(nil)}
	rec.Length = int32(len(rec.AppendTo(nil)) - 1) // the zero Length varint is one byte
	recs := rec.AppendTo(nil)
	rb := kmsg.RecordBatch{
		PartitionLeaderEpoch: -1,
		Magic:                magicV2,
		Attributes:           attrTransactional | attrControl,
		LastOffsetDelta:      0,
		FirstTimestamp:       nowMs,
		MaxTimestamp:         nowMs,
		ProducerID:           m.ProducerID,
		ProducerEpoch:        m.ProducerEpoch,
		FirstSequence:        -1,
		NumRecords:           1,
		Records:              recs,
	}
	rb.Length = int32(minBatchLength + len(recs))
	b := rb.AppendTo(nil)
	binary.BigEndian.PutUint32(b[offCRC:], batchCRC(b))
	return b
}

// parseControl reads the marker a control batch with header h carries in
// recs, its (uncompressed) records section. A control batch that is not
// exactly one well-formed COMMIT or ABORT record is an error wrapping
// ErrCorruptMessage: recovery treats it as damage.
func parseControl(h *batchHeader, recs []byte) (Marker, error) {
	m := Marker{ProducerID: h.producerID, ProducerEpoch: h.producerEpoch}
	bad := func(format string, args ...any) (Marker, error) {
		return m, fmt.Errorf("control batch at offset %d: %s: %w", h.baseOffset, fmt.Sprintf(format, args...), ErrCorruptMessage)
	}
	switch {
	case h.attributes&attrTransactional == 0:
		return bad("not transactional")
	case h.attributes&attrCodecMask != codecNone:
		return bad("compressed")
	case h.recordCount != 1 || h.lastOffsetDelta != 0:
		return bad("%d records, lastOffsetDelta %d (a marker is one record)", h.recordCount, h.lastOffsetDelta)
	case h.producerID < 0 || h.producerEpoch < 0:
		return bad("producer id %d epoch %d", h.producerID, h.producerEpoch)
	case len(recs) > maxControlRecordBytes:
		return bad("%d bytes of records", len(recs))
	}
	length, n := varint(recs)
	if n <= 0 || int(length) != len(recs)-n {
		return bad("record length does not fill the batch")
	}
	if _, delta, ok := scanRecord(recs[n:]); !ok || delta != 0 {
		return bad("malformed record")
	}
	var rec kmsg.Record
	if err := rec.ReadFrom(recs); err != nil {
		return bad("record: %v", err)
	}
	var key kmsg.ControlRecordKey
	if len(rec.Key) != 4 || key.ReadFrom(rec.Key) != nil {
		return bad("key of %d bytes", len(rec.Key))
	}
	var val kmsg.EndTxnMarker
	if len(rec.Value) != 6 || val.ReadFrom(rec.Value) != nil {
		return bad("value of %d bytes", len(rec.Value))
	}
	switch key.Type {
	case controlAbort, controlCommit:
	default:
		return bad("control type %d is not COMMIT or ABORT", key.Type)
	}
	m.Commit = key.Type == controlCommit
	m.CoordinatorEpoch = val.CoordinatorEpoch
	return m, nil
}

// LastStableOffset returns min(first offset of any ongoing transaction,
// high watermark), and never less than the log start offset (Kafka's
// rule when DeleteRecords moved the start past an open transaction's
// first offset).
func (l *Log) LastStableOffset() int64 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.lastStableLocked()
}

// lastStableLocked is LastStableOffset with mu held.
func (l *Log) lastStableLocked() int64 {
	hw := l.highWatermarkLocked()
	if l.firstUnstable < 0 {
		return hw
	}
	return min(hw, max(l.firstUnstable, l.logStart))
}

// ReadCommitted is Read for isolation level read_committed: whole batches
// starting at the one containing offset, only batches below the LSO
// (offset == LSO returns nothing; LSO < offset <= HW is not out of range,
// it returns nothing), plus the aborted transactions a client needs to
// drop aborted records from what was returned: every aborted txn with
// lastOffset >= offset and firstOffset < the end of the returned range
// (Kafka's "upperBoundOffset"), ordered by first offset.
func (l *Log) ReadCommitted(offset int64, maxBytes int32) (batches []byte, aborted []AbortedTxn, err error) {
	b, err := l.read(offset, maxBytes, true, false)
	if err != nil || len(b) == 0 {
		return nil, nil, err
	}
	return b, l.abortedIn(offset, b), nil
}

// abortedIn lists the aborted transactions with data in b, batches read
// below the last stable offset from offset on.
func (l *Log) abortedIn(offset int64, b []byte) []AbortedTxn {
	upper := endOfBatches(b)
	// Taken after the read: every transaction with data in b ended before
	// the read began (b lies below the LSO), so its abort is indexed.
	l.mu.RLock()
	idx := l.aborted
	l.mu.RUnlock()
	return idx.collect(offset, upper)
}

// endOfBatches is the offset after the last of the whole batches in b.
func endOfBatches(b []byte) int64 {
	end := int64(0)
	for len(b) >= batchHeaderSize {
		h := parseHeader(b)
		end = h.lastOffset() + 1
		if h.size() > int64(len(b)) {
			break
		}
		b = b[h.size():]
	}
	return end
}

// Producers returns the producers with state on this partition, sorted by
// id.
func (l *Log) Producers() []ProducerInfo {
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	out := make([]ProducerInfo, 0, len(l.producers.m))
	for id, e := range l.producers.m {
		seq := int32(-1)
		if n := len(e.batches); n > 0 {
			seq = e.batches[n-1].lastSeq
		}
		out = append(out, ProducerInfo{
			ProducerID: id, ProducerEpoch: e.epoch, LastSequence: seq, LastTimestamp: e.lastTimestamp,
			CoordinatorEpoch: e.coordinatorEpoch, CurrentTxnStartOffset: e.txnFirst,
		})
	}
	slices.SortFunc(out, func(a, b ProducerInfo) int { return compareInt64(a.ProducerID, b.ProducerID) })
	return out
}

// ExpireProducers forgets the producers with no ongoing transaction whose
// last append was producer.id.expiration.ms or more before now (Kafka's
// removeExpiredProducers, measured from the append rather than the
// batch's timestamp: see producerEntry); a producer with an ongoing
// transaction never expires. The broker's background loop calls it; segment rolls do
// too. It returns how many were forgotten.
func (l *Log) ExpireProducers(now time.Time) int {
	l.appendMu.Lock()
	defer l.appendMu.Unlock()
	return l.expireLocked(now.UnixMilli())
}

// expireLocked is ExpireProducers with appendMu held.
func (l *Log) expireLocked(nowMs int64) int {
	n := l.producers.expire(nowMs, l.cfg.Load().ProducerIDExpirationMs)
	if n > 0 {
		l.logger.Debug("expired producers", "count", n)
	}
	return n
}
