package storage

// This file is the producer state (Kafka's ProducerStateManager): for each
// producer ID, its epoch, the sequence ranges and offsets of its last five
// batches (a producer may have up to five requests in flight, so a retry
// can only duplicate one of those), its last timestamp, the epoch of the
// transaction coordinator that last wrote it a marker, and the first offset
// of its ongoing transaction, if any. The ongoing transactions give the
// last stable offset (txn.go).
//
// It is a pure data structure: Log.Append and Log.AppendMarker consult and
// update it under appendMu, and Open rebuilds it from a snapshot
// (snapshot.go) and the batch headers after it.

import (
	"fmt"
	"math"
)

// maxCachedBatches is how many recent batches are remembered per producer.
const maxCachedBatches = 5

// batchMeta is what is remembered of one appended batch.
type batchMeta struct {
	firstSeq, lastSeq      int32
	baseOffset, lastOffset int64
	appendTime             int64 // the LogAppendTime it got, or -1
}

// producerEntry is one producer's state.
type producerEntry struct {
	epoch   int16
	batches []batchMeta // oldest first, at most maxCachedBatches
	// lastTimestamp is the max timestamp of its last batch or marker (-1
	// if none), as DescribeProducers reports it.
	lastTimestamp int64
	// lastAppendMs is the broker's clock at its last batch or marker:
	// what producer.id.expiration.ms is measured from. Kafka measures from
	// lastTimestamp, which forgets at once a producer that writes old
	// CreateTime timestamps (replaying history), losing its deduplication;
	// the append time does not. A batch replayed at Open counts as
	// appended then, so a restart can make a producer live longer, never
	// shorter.
	lastAppendMs int64
	// lastOffset is the last offset of its last batch or marker.
	lastOffset int64
	// coordinatorEpoch is that of its last marker (-1 if none).
	coordinatorEpoch int32
	// txnFirst is the first offset of its ongoing transaction, -1 if none.
	txnFirst int64
}

// producerState maps producer ID to its entry.
type producerState struct {
	m map[int64]*producerEntry
	// ongoing maps the producers with an ongoing transaction to its first
	// offset: the few entries the last stable offset is the minimum of.
	ongoing map[int64]int64
}

func newProducerState() *producerState {
	return &producerState{m: make(map[int64]*producerEntry), ongoing: make(map[int64]int64)}
}

// newEntry returns an empty entry at epoch.
func newEntry(epoch int16) *producerEntry {
	return &producerEntry{epoch: epoch, lastTimestamp: -1, lastOffset: -1, coordinatorEpoch: -1, txnFirst: -1}
}

// put installs e for id, keeping the ongoing set in step.
func (p *producerState) put(id int64, e *producerEntry) {
	p.m[id] = e
	if e.txnFirst >= 0 {
		p.ongoing[id] = e.txnFirst
	} else {
		delete(p.ongoing, id)
	}
}

// remove forgets producer id.
func (p *producerState) remove(id int64) {
	delete(p.m, id)
	delete(p.ongoing, id)
}

// firstUnstable is the first offset of the oldest ongoing transaction, or
// -1 if there is none.
func (p *producerState) firstUnstable() int64 {
	first := int64(-1)
	for _, off := range p.ongoing {
		if first < 0 || off < first {
			first = off
		}
	}
	return first
}

// nextSequence is the sequence that follows seq (Kafka wraps MaxInt32 to 0).
func nextSequence(seq int32) int32 {
	if seq == math.MaxInt32 {
		return 0
	}
	return seq + 1
}

// check decides what to do with a validated batch from an idempotent
// producer (h.producerID >= 0) before it is written. It returns the cached
// original if the batch is a retry of one of the last five, an error if the
// batch must be rejected, or (nil, nil) to append it. historyTrimmed says
// the log has lost its oldest data (log start offset > 0), in which case a
// producer without state may be mid-sequence and is accepted as is.
//
// As in Kafka, a retry is recognized before the transaction rules apply;
// then a non-transactional batch from a producer with an ongoing
// transaction is ErrInvalidTxnState.
func (p *producerState) check(h *batchHeader, historyTrimmed bool) (*batchMeta, error) {
	id, epoch := h.producerID, h.producerEpoch
	first, last := h.baseSequence, h.lastSequence()
	e := p.m[id]
	if e == nil {
		if first != 0 && !historyTrimmed {
			return nil, fmt.Errorf("producer %d has no state and its batch starts at sequence %d, not 0: %w", id, first, ErrOutOfOrderSequence)
		}
		return nil, nil
	}
	switch {
	case epoch < e.epoch:
		return nil, fmt.Errorf("producer %d epoch %d is older than the current epoch %d: %w", id, epoch, e.epoch, ErrInvalidProducerEpoch)
	case epoch > e.epoch:
		// A bumped epoch restarts the sequence.
		if first != 0 {
			return nil, fmt.Errorf("producer %d new epoch %d must start at sequence 0, got %d: %w", id, epoch, first, ErrOutOfOrderSequence)
		}
		return nil, e.checkTxn(id, h)
	}
	for i := range e.batches {
		if b := &e.batches[i]; b.firstSeq == first && b.lastSeq == last {
			dup := *b
			return &dup, nil
		}
	}
	if len(e.batches) == 0 {
		if first != 0 {
			return nil, fmt.Errorf("producer %d epoch %d has no batches and its batch starts at sequence %d, not 0: %w", id, epoch, first, ErrOutOfOrderSequence)
		}
		return nil, e.checkTxn(id, h)
	}
	if want := nextSequence(e.batches[len(e.batches)-1].lastSeq); first != want {
		return nil, fmt.Errorf("producer %d epoch %d sent sequence %d, expected %d: %w", id, epoch, first, want, ErrOutOfOrderSequence)
	}
	return nil, e.checkTxn(id, h)
}

// checkTxn refuses a non-transactional batch while the producer has a
// transaction open (Kafka's InvalidTxnStateException).
func (e *producerEntry) checkTxn(id int64, h *batchHeader) error {
	if e.txnFirst >= 0 && h.attributes&attrTransactional == 0 {
		return fmt.Errorf("producer %d sent a non-transactional batch while its transaction from offset %d is ongoing: %w", id, e.txnFirst, ErrInvalidTxnState)
	}
	return nil
}

// update records an appended data batch (h carries its final base offset
// and max timestamp). A transactional batch opens the producer's
// transaction if none is ongoing.
func (p *producerState) update(h *batchHeader, appendTime, nowMs int64) {
	e := p.m[h.producerID]
	if e == nil {
		e = newEntry(h.producerEpoch)
		p.m[h.producerID] = e
	}
	if h.producerEpoch != e.epoch {
		e.epoch = h.producerEpoch
		e.batches = e.batches[:0]
	}
	if len(e.batches) == maxCachedBatches {
		copy(e.batches, e.batches[1:])
		e.batches = e.batches[:maxCachedBatches-1]
	}
	e.batches = append(e.batches, batchMeta{
		firstSeq:   h.baseSequence,
		lastSeq:    h.lastSequence(),
		baseOffset: h.baseOffset,
		lastOffset: h.lastOffset(),
		appendTime: appendTime,
	})
	e.lastTimestamp = h.maxTimestamp
	e.lastAppendMs = nowMs
	e.lastOffset = h.lastOffset()
	if h.attributes&attrTransactional != 0 && e.txnFirst < 0 {
		e.txnFirst = h.baseOffset
		p.ongoing[h.producerID] = h.baseOffset
	}
}

// checkMarker decides whether marker m may be written: write is false
// when the producer has no ongoing transaction (a re-sent marker; nothing
// to do), and an error fences a marker from an older producer or
// coordinator epoch.
func (p *producerState) checkMarker(m Marker) (write bool, err error) {
	e := p.m[m.ProducerID]
	if e == nil {
		return false, nil
	}
	if m.ProducerEpoch < e.epoch {
		return false, fmt.Errorf("marker for producer %d has epoch %d, older than the current epoch %d: %w", m.ProducerID, m.ProducerEpoch, e.epoch, ErrInvalidProducerEpoch)
	}
	if e.txnFirst < 0 {
		return false, nil
	}
	if m.CoordinatorEpoch < e.coordinatorEpoch {
		return false, fmt.Errorf("marker for producer %d has coordinator epoch %d, older than %d: %w", m.ProducerID, m.CoordinatorEpoch, e.coordinatorEpoch, ErrCoordinatorFenced)
	}
	return true, nil
}

// completeTxn applies a marker written at offset with timestamp ts: the
// producer's transaction ends, its epoch becomes the marker's if newer
// (the coordinator bumped it to fence a producer; sequences restart). An
// abort returns the aborted transaction for the index, with the last
// stable offset right after it (Kafka's CompletedTxn). A producer without
// an ongoing transaction is left as it is (recovery replays what Append
// wrote, and Append writes no such marker).
func (p *producerState) completeTxn(m Marker, offset, ts, nowMs int64) (abortedTxn, bool) {
	e := p.m[m.ProducerID]
	if e == nil || e.txnFirst < 0 {
		return abortedTxn{}, false
	}
	if m.ProducerEpoch > e.epoch {
		e.epoch = m.ProducerEpoch
		e.batches = e.batches[:0]
	}
	e.coordinatorEpoch = m.CoordinatorEpoch
	e.lastTimestamp = ts
	e.lastAppendMs = nowMs
	e.lastOffset = offset
	first := e.txnFirst
	e.txnFirst = -1
	delete(p.ongoing, m.ProducerID)
	if m.Commit {
		return abortedTxn{}, false
	}
	lso := offset + 1
	if f := p.firstUnstable(); f >= 0 && f < lso {
		lso = f
	}
	return abortedTxn{producerID: m.ProducerID, first: first, last: offset, lso: lso}, true
}

// evictBelow forgets producers whose last batch or marker lies wholly
// below the log start offset and who have no ongoing transaction (its
// marker is still to come), as Kafka does when the log head is truncated.
// Doing this both at run time and at Open keeps the two in agreement: Open
// can only rebuild what the retained segments (and snapshot) hold.
func (p *producerState) evictBelow(logStart int64) {
	for id, e := range p.m {
		if e.txnFirst < 0 && e.lastOffset < logStart {
			p.remove(id)
		}
	}
}

// expire forgets producers with no ongoing transaction whose last append
// is at least expirationMs before nowMs (producer.id.expiration.ms), and
// returns how many.
func (p *producerState) expire(nowMs, expirationMs int64) int {
	n := 0
	for id, e := range p.m {
		if e.txnFirst < 0 && nowMs-e.lastAppendMs >= expirationMs {
			p.remove(id)
			n++
		}
	}
	return n
}
