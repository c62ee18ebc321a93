package txn

// state.go is one transactional id's state machine, Kafka's
// TransactionMetadata: the states, the metadata a record persists, and the
// transitions each request asks for. Like group.Group it has no locks, no
// I/O and no clock: the coordinator passes the time in, holds the lock,
// writes the transition's record and applies it once it is durable. A
// transition either returns the metadata to write or a Kafka error code,
// with Kafka's checks in Kafka's order (TransactionCoordinator.scala), so
// that clients see the codes they were written against.

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// txnState is a transaction's state; the values are Kafka's state ids
// (TransactionState.fromId), which the journal records also use.
type txnState int8

const (
	stateEmpty             txnState = 0
	stateOngoing           txnState = 1
	statePrepareCommit     txnState = 2
	statePrepareAbort      txnState = 3
	stateCompleteCommit    txnState = 4
	stateCompleteAbort     txnState = 5
	stateDead              txnState = 6
	statePrepareEpochFence txnState = 7
)

// stateNames are Kafka's names, shown by DescribeTransactions and
// ListTransactions and accepted as ListTransactions filters.
var stateNames = [...]string{
	"Empty", "Ongoing", "PrepareCommit", "PrepareAbort",
	"CompleteCommit", "CompleteAbort", "Dead", "PrepareEpochFence",
}

// String returns Kafka's name for s.
func (s txnState) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "Unknown"
}

// parseState returns the state named name (Kafka's spelling).
func parseState(name string) (txnState, bool) {
	i := slices.Index(stateNames[:], name)
	return txnState(i), i >= 0
}

// KnownState reports whether name is one of Kafka's transaction state
// names, for ListTransactions' unknown_state_filters.
func KnownState(name string) bool {
	_, ok := parseState(name)
	return ok
}

// preparing reports whether markers are being written for s.
func (s txnState) preparing() bool { return s == statePrepareCommit || s == statePrepareAbort }

// expirable reports whether an id idle in s may be forgotten (Kafka's
// isExpirationAllowed): no transaction is open.
func (s txnState) expirable() bool {
	return s == stateEmpty || s == stateCompleteCommit || s == stateCompleteAbort
}

// persisted reports whether s can be in a record. Dead and
// PrepareEpochFence are transient in Kafka and never reach this
// coordinator's journal: an expiry writes a deletion, a fence writes the
// PrepareAbort it leads to.
func (s txnState) persisted() bool { return s >= stateEmpty && s <= stateCompleteAbort }

// Kafka's "none" values for a producer id and epoch (RecordBatch.NO_*).
const (
	noPID   int64 = -1
	noEpoch int16 = -1
)

// epochExhausted is Kafka's TransactionMetadata.isEpochExhausted: one
// epoch is kept in reserve so that fencing an ongoing transaction can
// always bump once more.
func epochExhausted(e int16) bool { return e >= math.MaxInt16-1 }

// Partition is a topic partition in a transaction.
type Partition struct {
	Topic     string
	Partition int32
}

// comparePartitions orders partitions by topic, then number.
func comparePartitions(a, b Partition) int {
	if c := strings.Compare(a.Topic, b.Topic); c != 0 {
		return c
	}
	return cmp.Compare(a.Partition, b.Partition)
}

// meta is what a transactional id's record holds: Kafka's
// TxnTransitMetadata.
type meta struct {
	pid, lastPID     int64
	epoch, lastEpoch int16
	timeoutMs        int32
	state            txnState
	parts            []Partition // sorted, distinct
	groups           []string    // sorted, distinct
	start            time.Time   // the transaction's first addition; zero when none
	lastUpdate       time.Time
}

// clone returns m with its own slices, so a transition never changes the
// metadata it started from (which stays the durable state until the new
// record is durable).
func (m meta) clone() meta {
	m.parts = slices.Clone(m.parts)
	m.groups = slices.Clone(m.groups)
	return m
}

// producerRef is the producer id and epoch an InitProducerId request
// carries (KIP-360) when the producer already has one.
type producerRef struct {
	pid   int64
	epoch int16
}

// initResult is what InitProducerId asks of a transactional id.
type initResult struct {
	next    meta
	write   bool  // next is to be written (else code is the answer)
	fence   bool  // next aborts an ongoing transaction; answer CONCURRENT_TRANSACTIONS once it is durable
	needPID bool  // the epoch is exhausted: call again with a fresh producer id
	code    int16 // the answer when nothing is written
}

// initProducerID is Kafka's prepareInitProducerIdTransit on an id that has
// no transition in flight. freshPID is a producer id allocated for a
// rotation, or noPID.
func (m meta) initProducerID(expected *producerRef, timeoutMs int32, now time.Time, freshPID int64) initResult {
	if expected != nil && !(m.epoch == noEpoch || expected.pid == m.pid ||
		(expected.pid == m.lastPID && epochExhausted(expected.epoch))) {
		return initResult{code: kerr.ProducerFenced.Code}
	}
	switch m.state {
	case statePrepareCommit, statePrepareAbort:
		return initResult{code: kerr.ConcurrentTransactions.Code}
	case stateOngoing:
		// Abort the transaction first, fencing its producer; the client
		// retries and its retry bumps the epoch again (or rotates the
		// id if the fence exhausted it), as Kafka does.
		return initResult{next: m.fenceAbort(now), write: true, fence: true}
	case stateEmpty, stateCompleteCommit, stateCompleteAbort:
	default:
		return initResult{code: kerr.UnknownServerError.Code} // never persisted (state.persisted)
	}
	next := m.clone()
	next.state, next.timeoutMs, next.lastUpdate = stateEmpty, timeoutMs, now
	next.parts, next.groups, next.start = nil, nil, time.Time{}
	if epochExhausted(m.epoch) && (expected == nil || expected.epoch == m.epoch) {
		if freshPID == noPID {
			return initResult{needPID: true}
		}
		next.lastPID, next.pid, next.epoch, next.lastEpoch = m.pid, freshPID, 0, noEpoch
		if expected != nil {
			next.lastEpoch = m.epoch // so that a retry of this request gets the same answer
		}
		return initResult{next: next, write: true}
	}
	switch {
	case expected == nil:
		next.epoch, next.lastEpoch = m.epoch+1, noEpoch
	case m.epoch == noEpoch || expected.epoch == m.epoch:
		// The producer continues after an error (KIP-360), and no other
		// producer took the id meanwhile.
		next.epoch, next.lastEpoch = m.epoch+1, m.epoch
	case expected.epoch == m.lastEpoch:
		// A retry of a bump whose response was lost: the same answer.
	default:
		return initResult{code: kerr.ProducerFenced.Code}
	}
	return initResult{next: next, write: true}
}

// fenceAbort is the PrepareAbort that fences an ongoing transaction's
// producer (Kafka's prepareFenceProducerEpoch followed by the abort):
// the epoch is bumped so that the producer's next request is fenced and
// the markers, written with the new epoch, fence it on the partitions.
// Kafka also keeps a hasFailedEpochFence flag so that a fence whose write
// failed is not bumped twice; here a failed write leaves the metadata as
// it was (the bump is part of the record), so the next attempt bumps from
// the same epoch without it.
func (m meta) fenceAbort(now time.Time) meta {
	next := m.clone()
	if next.epoch < math.MaxInt16 { // never reached: epochs exhaust at MaxInt16-1
		next.epoch++
	}
	next.lastEpoch = noEpoch
	next.state, next.lastUpdate = statePrepareAbort, now
	return next
}

// checkProducer is the check every transactional request starts with:
// the id must map to pid, and epoch must be the current one.
func (m meta) checkProducer(pid int64, epoch int16) int16 {
	switch {
	case m.pid != pid:
		return kerr.InvalidProducerIDMapping.Code
	case m.epoch != epoch:
		return kerr.ProducerFenced.Code
	}
	return 0
}

// add is Kafka's handleAddPartitionsToTransaction (AddOffsetsToTxn adds a
// group the same way): it returns the metadata to write, or write false
// and the answer. pending is whether another transition is in flight.
func (m meta) add(pid int64, epoch int16, parts []Partition, groups []string, pending bool, now time.Time) (next meta, write bool, code int16) {
	if code := m.checkProducer(pid, epoch); code != 0 {
		return meta{}, false, code
	}
	if m.epoch == math.MaxInt16 {
		// Only a fence reaches the last epoch, and a fence's epoch is
		// never handed to a producer: whoever sends it is not one. A
		// transaction there could not be fenced again.
		return meta{}, false, kerr.ProducerFenced.Code
	}
	if pending || m.state.preparing() {
		return meta{}, false, kerr.ConcurrentTransactions.Code
	}
	if m.state == stateOngoing && m.contains(parts, groups) {
		return meta{}, false, 0
	}
	next = m.clone()
	if m.state != stateOngoing {
		next.start = now
	}
	next.state, next.lastUpdate = stateOngoing, now
	next.parts = mergeSorted(next.parts, parts, comparePartitions)
	next.groups = mergeSorted(next.groups, groups, strings.Compare)
	return next, true, 0
}

// contains reports whether every one of parts and groups is in m.
func (m meta) contains(parts []Partition, groups []string) bool {
	for _, p := range parts {
		if _, ok := slices.BinarySearchFunc(m.parts, p, comparePartitions); !ok {
			return false
		}
	}
	for _, g := range groups {
		if _, ok := slices.BinarySearch(m.groups, g); !ok {
			return false
		}
	}
	return true
}

// mergeSorted returns sorted with add's elements that are not in it yet,
// sorted.
func mergeSorted[T any](sorted, add []T, cmp func(a, b T) int) []T {
	for _, a := range add {
		if i, ok := slices.BinarySearchFunc(sorted, a, cmp); !ok {
			sorted = slices.Insert(sorted, i, a)
		}
	}
	return sorted
}

// endTxn is Kafka's endTransaction for a client's EndTxn (strict epoch
// equality: a client never bumps the epoch with it). It returns the
// Prepare record to write, or write false and the answer.
func (m meta) endTxn(pid int64, epoch int16, commit, pending bool, now time.Time) (next meta, write bool, code int16) {
	if code := m.checkProducer(pid, epoch); code != 0 {
		return meta{}, false, code
	}
	if pending {
		return meta{}, false, kerr.ConcurrentTransactions.Code
	}
	same := kerr.InvalidTxnState.Code // the outcome asked is the other one
	switch m.state {
	case stateOngoing:
		next = m.clone()
		next.state, next.lastUpdate = statePrepareAbort, now
		if commit {
			next.state = statePrepareCommit
		}
		return next, true, 0
	case stateCompleteCommit, stateCompleteAbort:
		// A retry of an EndTxn that completed: the same outcome is
		// success.
		if (m.state == stateCompleteCommit) == commit {
			same = 0
		}
	case statePrepareCommit, statePrepareAbort:
		if (m.state == statePrepareCommit) == commit {
			same = kerr.ConcurrentTransactions.Code
		}
	}
	return meta{}, false, same // Empty: nothing to end
}

// complete is the CompleteCommit or CompleteAbort record written once
// every marker of a Prepare state is durable.
func (m meta) complete(now time.Time) meta {
	next := m.clone()
	next.state = stateCompleteAbort
	if m.state == statePrepareCommit {
		next.state = stateCompleteCommit
	}
	next.parts, next.groups, next.lastUpdate = nil, nil, now
	return next
}

// verify is Kafka's handleVerifyPartitionsInTransaction (and the same
// check for a group before TxnOffsetCommit): each partition or group is 0
// when it is in pid/epoch's ongoing transaction, INVALID_TXN_STATE when
// not. A fencing code or CONCURRENT_TRANSACTIONS (the transaction is
// being completed) answers for all. The durable metadata is what counts:
// an addition still being written is not in the transaction yet.
func (m meta) verify(pid int64, epoch int16) (all int16, member func(p *Partition, g string) int16) {
	if code := m.checkProducer(pid, epoch); code != 0 {
		return code, nil
	}
	if m.state.preparing() {
		return kerr.ConcurrentTransactions.Code, nil
	}
	return 0, func(p *Partition, g string) int16 {
		ok := m.state == stateOngoing
		if p != nil {
			ok = ok && m.contains([]Partition{*p}, nil)
		} else {
			ok = ok && m.contains(nil, []string{g})
		}
		if ok {
			return 0
		}
		return kerr.InvalidTxnState.Code
	}
}
