package storage

// This file is the idempotent-producer state: for each producer ID, its
// epoch and the sequence ranges and offsets of its last five batches, which
// is what Kafka keeps (a producer may have up to five requests in flight, so
// a retry can only duplicate one of those). It is a pure data structure:
// Log.Append consults and updates it under appendMu, and Open rebuilds it
// from the batch headers of every retained segment.

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

type producerEntry struct {
	epoch   int16
	batches []batchMeta // oldest first, at most maxCachedBatches
}

// producerState maps producer ID to its entry.
type producerState struct {
	m map[int64]*producerEntry
}

func newProducerState() *producerState { return &producerState{m: make(map[int64]*producerEntry)} }

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
		return nil, nil
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
		return nil, nil
	}
	if want := nextSequence(e.batches[len(e.batches)-1].lastSeq); first != want {
		return nil, fmt.Errorf("producer %d epoch %d sent sequence %d, expected %d: %w", id, epoch, first, want, ErrOutOfOrderSequence)
	}
	return nil, nil
}

// update records an appended batch (h carries its final base offset).
func (p *producerState) update(h *batchHeader, appendTime int64) {
	e := p.m[h.producerID]
	if e == nil {
		e = &producerEntry{epoch: h.producerEpoch}
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
}

// evictBelow forgets producers whose last batch lies wholly below the log
// start offset, as Kafka does when the log head is truncated. Doing this
// both at run time and at Open keeps the two in agreement: Open can only
// rebuild what the retained segments hold.
func (p *producerState) evictBelow(logStart int64) {
	for id, e := range p.m {
		if n := len(e.batches); n == 0 || e.batches[n-1].lastOffset < logStart {
			delete(p.m, id)
		}
	}
}
