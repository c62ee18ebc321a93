package share

// partition.go is one share-partition's state machine (Kafka's
// SharePartition): the share-partition start offset (SPSO), the in-flight
// window of offsets from it to the end offset (SPEO + 1), each offset's
// state, delivery count and acquisition lock. No locks, no I/O, no clock:
// every input carries the time, and the changes to persist accumulate as
// a Delta the caller takes (TakeDelta) and writes to the journal.
//
// The window is dense: every offset in [SPSO, End) has an entry. Offsets
// the log does not hold (compacted away, between batches) and offsets
// never to be delivered (transaction markers, aborted transactional
// records under read_committed) are archived as they are passed, so that
// the SPSO can move over them. The window only grows by acquiring: End is
// one past the highest offset ever acquired or archived.

import (
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// State is one offset's delivery state.
type State uint8

// The delivery states (Kafka's RecordState).
const (
	// Available: may be acquired by any member.
	Available State = 0
	// Acquired: delivered to one member, locked until its deadline.
	Acquired State = 1
	// Acknowledged: accepted by a member; never delivered again.
	Acknowledged State = 2
	// Archived: rejected, past the delivery limit, or never deliverable
	// (a gap, a marker, an aborted record); never delivered again.
	Archived State = 3
)

func (s State) String() string {
	switch s {
	case Available:
		return "available"
	case Acquired:
		return "acquired"
	case Acknowledged:
		return "acknowledged"
	case Archived:
		return "archived"
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// finished reports whether an offset in s is done with for good: the SPSO
// may move past it.
func (s State) finished() bool { return s == Acknowledged || s == Archived }

// Acknowledgement types (Kafka's AcknowledgeType; 0 is the gap a client
// acknowledges for an offset it was given no record for).
const (
	AckGap     int8 = 0
	AckAccept  int8 = 1
	AckRelease int8 = 2
	AckReject  int8 = 3
	// AckRenew extends an acquisition lock (KIP-1222, ShareFetch and
	// ShareAcknowledge v2 with IsRenewAck).
	AckRenew int8 = 4
)

// Limits are a group's settings that the state machine applies.
type Limits struct {
	// DeliveryLimit is share.delivery.count.limit: a record delivered
	// this many times is archived instead of made available again.
	DeliveryLimit int16
	// MaxLocks is share.partition.max.record.locks: the window (SPSO to
	// End) grows no larger by new acquisitions.
	MaxLocks int
	// LockDuration is share.record.lock.duration.ms.
	LockDuration time.Duration
}

// Batch is one record batch of the log as a fetch read it.
type Batch struct {
	First, Last int64
	// Skip marks batches never delivered: transaction markers, and
	// aborted transactional batches under read_committed.
	Skip bool
}

// Range is a run of acquired offsets with one delivery count, as
// ShareFetch's AcquiredRecords report them.
type Range struct {
	First, Last   int64
	DeliveryCount int16
}

// AckBatch is one acknowledgement batch: the offsets First..Last, with one
// type for all (len(Types) == 1) or one per offset.
type AckBatch struct {
	First, Last int64
	Types       []int8
}

// AckCounts counts what an acknowledgement did, for metrics.
type AckCounts struct {
	Accepted, Released, Rejected, Gaps, Renewed int
	// ArchivedAtLimit counts releases that archived the record because
	// it had reached the delivery limit.
	ArchivedAtLimit int
}

// entry is one offset of the window.
type entry struct {
	owner    string // the member holding it, while Acquired
	deadline int64  // the lock's expiry (Unix nanoseconds), while Acquired
	count    int16  // deliveries so far
	state    State
}

// Partition is one share-partition's state. The zero value is not usable:
// see NewPartition.
type Partition struct {
	spso int64
	recs []entry // recs[i] is offset spso+i

	// Changes since the last TakeDelta: offsets [dlo, dhi) and whether
	// the SPSO moved; full asks for the whole state (after a reset, or
	// when an earlier delta could not be stored).
	dlo, dhi  int64
	spsoMoved bool
	full      bool
}

// NewPartition returns a share-partition starting at spso with nothing in
// flight. Its first delta is a full one.
func NewPartition(spso int64) *Partition {
	return &Partition{spso: spso, full: true}
}

// SPSO is the share-partition start offset: every offset below it is done
// with.
func (p *Partition) SPSO() int64 { return p.spso }

// End is one past the last offset in flight (Kafka's SPEO + 1); End ==
// SPSO when nothing is.
func (p *Partition) End() int64 { return p.spso + int64(len(p.recs)) }

// StateAt returns an offset's state and delivery count. Offsets below the
// SPSO are finished (reported Acknowledged); offsets at or past End are
// Available and never delivered.
func (p *Partition) StateAt(o int64) (State, int16) {
	switch {
	case o < p.spso:
		return Acknowledged, 0
	case o >= p.End():
		return Available, 0
	}
	e := p.recs[o-p.spso]
	return e.state, e.count
}

// Owner returns the member holding an acquired offset ("" otherwise).
func (p *Partition) Owner(o int64) string {
	if o < p.spso || o >= p.End() {
		return ""
	}
	return p.recs[o-p.spso].owner
}

// mark records offset o as changed.
func (p *Partition) mark(o int64) {
	if p.dhi <= p.dlo {
		p.dlo, p.dhi = o, o+1
		return
	}
	p.dlo, p.dhi = min(p.dlo, o), max(p.dhi, o+1)
}

// entryAt returns offset o's entry, which must be in the window.
func (p *Partition) entryAt(o int64) *entry { return &p.recs[o-p.spso] }

// FetchOffset is where a read for this partition should start, given the
// end of what may be delivered (the high watermark, or the last stable
// offset under read_committed): the first available offset in the window,
// else End if the window may grow and the log has more. ok is false when
// there is nothing to acquire.
func (p *Partition) FetchOffset(limitEnd int64, lim Limits) (int64, bool) {
	for i := range p.recs {
		o := p.spso + int64(i)
		if o >= limitEnd {
			return 0, false
		}
		if p.recs[i].state == Available {
			return o, true
		}
	}
	end := p.End()
	if end < limitEnd && len(p.recs) < lim.MaxLocks {
		return end, true
	}
	return 0, false
}

// Acquire gives member up to maxRecords available offsets of batches (the
// log's batches, in offset order, as one read from offset from returned
// them), locked until now+lim.LockDuration, and returns them as ranges.
// Only offsets of the batches are ever acquired, so a client is never
// told it holds an offset it was not sent. Offsets of the window from
// from on that lie before or between the batches are gone from the log
// (compacted) and are archived, as are the offsets of skipped batches.
// The window grows over new offsets, archiving the gaps between batches;
// it does not grow past lim.MaxLocks. An available record already
// delivered lim.DeliveryLimit times is archived instead (counted in
// archivedAtLimit).
func (p *Partition) Acquire(member string, from int64, batches []Batch, maxRecords int, now time.Time, lim Limits) (acquired []Range, archivedAtLimit int) {
	deadline := now.Add(lim.LockDuration).UnixNano()
	n := 0
	defer p.advance()
	cursor := from
	for _, b := range batches {
		for o := max(cursor, p.spso); o < min(b.First, p.End()); o++ {
			if e := p.entryAt(o); e.state == Available {
				e.state = Archived
				p.mark(o)
			}
		}
		cursor = b.Last + 1
		for o := max(b.First, p.spso); o <= b.Last; o++ {
			if n >= maxRecords {
				return acquired, archivedAtLimit
			}
			if o >= p.End() {
				if !p.growTo(o, lim.MaxLocks) {
					return acquired, archivedAtLimit
				}
			}
			e := p.entryAt(o)
			if e.state != Available {
				continue
			}
			if b.Skip {
				e.state = Archived
				p.mark(o)
				continue
			}
			if e.count >= lim.DeliveryLimit {
				e.state = Archived
				archivedAtLimit++
				p.mark(o)
				continue
			}
			e.state, e.owner, e.deadline = Acquired, member, deadline
			e.count++
			p.mark(o)
			n++
			if k := len(acquired); k > 0 && acquired[k-1].Last == o-1 && acquired[k-1].DeliveryCount == e.count {
				acquired[k-1].Last = o
			} else {
				acquired = append(acquired, Range{First: o, Last: o, DeliveryCount: e.count})
			}
		}
	}
	return acquired, archivedAtLimit
}

// growTo extends the window to hold offset o >= End, unless that would
// make it longer than maxLocks (reported false). The offsets between End
// and o are gaps the log does not hold (a read returned batches past
// them), so they are archived; o itself is new and available. A gap at
// the front of an empty window is not kept at all: the SPSO jumps over
// it, so a gap longer than maxLocks cannot stall the partition.
func (p *Partition) growTo(o int64, maxLocks int) bool {
	p.advance()
	if len(p.recs) == 0 && o > p.spso {
		p.spso = o
		p.spsoMoved = true
	}
	if int64(len(p.recs))+(o-p.End())+1 > int64(maxLocks) {
		return false
	}
	for end := p.End(); end < o; end++ {
		p.recs = append(p.recs, entry{state: Archived})
		p.mark(end)
	}
	p.recs = append(p.recs, entry{})
	p.mark(o)
	return true
}

// Acknowledge applies member's acknowledgement batches, all or none: every
// batch is checked first (well formed, in order, and every offset
// acquired by member), then applied. renew allows AckRenew (an IsRenewAck
// request), which extends the lock to now+lim.LockDuration. The error is
// INVALID_REQUEST for a malformed batch and INVALID_RECORD_STATE for an
// offset member does not hold.
func (p *Partition) Acknowledge(member string, batches []AckBatch, renew bool, now time.Time, lim Limits) (AckCounts, error) {
	var c AckCounts
	if err := p.checkAcks(member, batches, renew); err != nil {
		return c, err
	}
	deadline := now.Add(lim.LockDuration).UnixNano()
	for _, b := range batches {
		for o := b.First; o <= b.Last; o++ {
			t := b.Types[0]
			if len(b.Types) > 1 {
				t = b.Types[o-b.First]
			}
			e := p.entryAt(o)
			switch t {
			case AckGap:
				e.state, e.owner = Archived, ""
				c.Gaps++
			case AckAccept:
				e.state, e.owner = Acknowledged, ""
				c.Accepted++
			case AckReject:
				e.state, e.owner = Archived, ""
				c.Rejected++
			case AckRelease:
				if p.release(e, lim) {
					c.ArchivedAtLimit++
				}
				c.Released++
			case AckRenew:
				e.deadline = deadline
				c.Renewed++
				continue // nothing durable changes
			}
			p.mark(o)
		}
	}
	p.advance()
	return c, nil
}

// checkAcks validates acknowledgement batches without changing anything.
func (p *Partition) checkAcks(member string, batches []AckBatch, renew bool) error {
	maxType := AckReject
	if renew {
		maxType = AckRenew
	}
	prev := int64(-1)
	for _, b := range batches {
		switch {
		case b.First < 0 || b.First > b.Last:
			return fmt.Errorf("%w: acknowledgement batch %d-%d", kerr.InvalidRequest, b.First, b.Last)
		case b.First <= prev:
			return fmt.Errorf("%w: acknowledgement batches overlap or are out of order at %d", kerr.InvalidRequest, b.First)
		case len(b.Types) == 0 || (len(b.Types) > 1 && int64(len(b.Types)) != b.Last-b.First+1):
			return fmt.Errorf("%w: acknowledgement batch %d-%d has %d types", kerr.InvalidRequest, b.First, b.Last, len(b.Types))
		}
		for _, t := range b.Types {
			if t < AckGap || t > maxType {
				return fmt.Errorf("%w: acknowledgement type %d", kerr.InvalidRequest, t)
			}
		}
		prev = b.Last
		if b.First < p.spso || b.Last >= p.End() {
			return fmt.Errorf("%w: offsets %d-%d are not in flight (in flight: %d-%d)", kerr.InvalidRecordState, b.First, b.Last, p.spso, p.End()-1)
		}
		for o := b.First; o <= b.Last; o++ {
			if e := p.entryAt(o); e.state != Acquired || e.owner != member {
				return fmt.Errorf("%w: offset %d is %s, not acquired by this member", kerr.InvalidRecordState, o, e.state)
			}
		}
	}
	return nil
}

// release makes an acquired entry available again, or archives it if it
// has reached the delivery limit (reported true).
func (p *Partition) release(e *entry, lim Limits) (archived bool) {
	e.owner, e.deadline = "", 0
	if e.count >= lim.DeliveryLimit {
		e.state = Archived
		return true
	}
	e.state = Available
	return false
}

// ReleaseMember releases every offset member holds (it left, was fenced,
// or closed its share session), as if their locks had expired.
func (p *Partition) ReleaseMember(member string, lim Limits) (released, archived int) {
	return p.releaseWhere(func(e *entry) bool { return e.owner == member }, lim)
}

// ExpireLocks releases every offset whose lock expired at now.
func (p *Partition) ExpireLocks(now time.Time, lim Limits) (expired, archived int) {
	t := now.UnixNano()
	return p.releaseWhere(func(e *entry) bool { return e.deadline <= t }, lim)
}

// releaseWhere releases the acquired offsets for which match is true.
func (p *Partition) releaseWhere(match func(*entry) bool, lim Limits) (released, archived int) {
	for i := range p.recs {
		e := &p.recs[i]
		if e.state != Acquired || !match(e) {
			continue
		}
		if p.release(e, lim) {
			archived++
		}
		released++
		p.mark(p.spso + int64(i))
	}
	p.advance()
	return released, archived
}

// NextDeadline returns the earliest lock expiry, if any offset is acquired.
func (p *Partition) NextDeadline() (time.Time, bool) {
	var at int64
	found := false
	for i := range p.recs {
		if e := p.recs[i]; e.state == Acquired && (!found || e.deadline < at) {
			at, found = e.deadline, true
		}
	}
	return time.Unix(0, at), found
}

// Reset moves the SPSO to spso and forgets everything in flight
// (AlterShareGroupOffsets on an empty group).
func (p *Partition) Reset(spso int64) {
	p.spso, p.recs = spso, nil
	p.full = true
}

// TrimTo moves the SPSO up to the log start offset when retention or
// DeleteRecords removed records below it; what was in flight there is
// gone with them. It reports whether anything moved.
func (p *Partition) TrimTo(logStart int64) bool {
	if logStart <= p.spso {
		return false
	}
	drop := min(logStart-p.spso, int64(len(p.recs)))
	p.recs = p.recs[drop:]
	p.spso = logStart
	p.spsoMoved = true
	p.compact()
	return true
}

// advance moves the SPSO past the finished offsets at the window's front.
func (p *Partition) advance() {
	i := 0
	for i < len(p.recs) && p.recs[i].state.finished() {
		i++
	}
	if i == 0 {
		return
	}
	p.recs = p.recs[i:]
	p.spso += int64(i)
	p.spsoMoved = true
	p.compact()
}

// compact copies the window once most of its backing array lies before
// it, so memory stays proportional to what is in flight.
func (p *Partition) compact() {
	if cap(p.recs) > 64 && len(p.recs) < cap(p.recs)/4 {
		p.recs = append(make([]entry, 0, 2*len(p.recs)), p.recs...)
	}
}

// Counts returns how many offsets of the window are in each state.
func (p *Partition) Counts() (available, acquired, finished int) {
	for _, e := range p.recs {
		switch {
		case e.state == Available:
			available++
		case e.state == Acquired:
			acquired++
		default:
			finished++
		}
	}
	return
}

// Lag is how many records below hwm are still to be delivered and
// finished (DescribeShareGroupOffsets v1, KIP-1226): hwm - SPSO less the
// finished offsets in between.
func (p *Partition) Lag(hwm int64) int64 {
	if hwm <= p.spso {
		return 0
	}
	lag := hwm - p.spso
	for i := range p.recs {
		if p.spso+int64(i) >= hwm {
			break
		}
		if p.recs[i].state.finished() {
			lag--
		}
	}
	return max(lag, 0)
}
