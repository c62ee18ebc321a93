package share

// delta.go is what a share-partition persists: the changes since its last
// delta (TakeDelta), as the SPSO and runs of offsets with their state and
// delivery count, and how a delta is folded into a partition (Apply), by
// the journal's replay and by the durable copy the snapshots are written
// from. A delta is an idempotent upsert: applying it twice, or after a
// later one of the same partition, leaves what the later one says about
// each offset it names.
//
// Acquisitions are persisted too, as Acquired with the new delivery count:
// after a restart an acquired offset is available again (its lock died with
// the broker) but keeps its count, so a record that keeps crashing its
// consumers, or the broker, still reaches the delivery limit and is
// archived.

import (
	"errors"
	"fmt"
)

// maxWindow bounds the window a delta may describe. Kafka caps
// share.partition.max.record.locks at 10,000; the window may also hold
// the gaps of one batch beyond it, and a delta that names offsets further
// out than this is damage, not state (its entries would be allocated).
const maxWindow = 1 << 20

// errBadDelta marks a delta no partition could have written.
var errBadDelta = errors.New("invalid share-partition delta")

// StateRange is a run of offsets with one state and delivery count.
type StateRange struct {
	First, Last int64
	State       State
	Count       int16
}

// Delta is a share-partition's change: the SPSO and the states of the
// offsets it names. A Full delta is the whole state: whatever it does not
// name is not in flight.
type Delta struct {
	SPSO   int64
	Full   bool
	Ranges []StateRange
}

// TakeDelta returns the changes since the last TakeDelta (or since
// NewPartition, Reset or ForceFull: then the whole state), and false if
// there are none.
func (p *Partition) TakeDelta() (Delta, bool) {
	lo, hi := max(p.dlo, p.spso), min(p.dhi, p.End())
	if p.full {
		lo, hi = p.spso, p.End()
	}
	d := Delta{SPSO: p.spso, Full: p.full}
	changed := p.full || p.spsoMoved || lo < hi
	p.dlo, p.dhi, p.spsoMoved, p.full = 0, 0, false, false
	if !changed {
		return Delta{}, false
	}
	for o := lo; o < hi; o++ {
		e := p.entryAt(o)
		if k := len(d.Ranges); k > 0 && d.Ranges[k-1].Last == o-1 && d.Ranges[k-1].State == e.state && d.Ranges[k-1].Count == e.count {
			d.Ranges[k-1].Last = o
			continue
		}
		d.Ranges = append(d.Ranges, StateRange{First: o, Last: o, State: e.state, Count: e.count})
	}
	return d, true
}

// ForceFull makes the next delta a full one: an earlier delta could not
// be stored, so the durable state may lack it.
func (p *Partition) ForceFull() { p.full = true }

// Validate checks what every delta a partition writes satisfies.
func (d Delta) Validate() error {
	if d.SPSO < 0 {
		return fmt.Errorf("%w: start offset %d", errBadDelta, d.SPSO)
	}
	prev := d.SPSO - 1
	for _, r := range d.Ranges {
		switch {
		case r.First > r.Last:
			return fmt.Errorf("%w: range %d-%d", errBadDelta, r.First, r.Last)
		case r.First <= prev:
			return fmt.Errorf("%w: range %d-%d overlaps, precedes another or the start offset %d", errBadDelta, r.First, r.Last, d.SPSO)
		case r.Last-d.SPSO >= maxWindow:
			return fmt.Errorf("%w: range %d-%d is more than %d offsets past the start offset %d", errBadDelta, r.First, r.Last, maxWindow, d.SPSO)
		case r.State > Archived:
			return fmt.Errorf("%w: unknown state %d", errBadDelta, r.State)
		case r.Count < 0:
			return fmt.Errorf("%w: delivery count %d", errBadDelta, r.Count)
		}
		prev = r.Last
	}
	return nil
}

// Apply folds a delta into p (which is a durable copy or being replayed:
// nothing is marked changed). The SPSO only moves forward unless the
// delta is full; offsets between the window's end and a range are filled
// in as available, never delivered.
func (p *Partition) Apply(d Delta) error {
	if err := d.Validate(); err != nil {
		return err
	}
	spso := p.spso
	if d.Full || d.SPSO > spso {
		spso = d.SPSO
	}
	for _, r := range d.Ranges {
		if r.Last-spso >= maxWindow {
			return fmt.Errorf("%w: range %d-%d is more than %d offsets past the start offset %d", errBadDelta, r.First, r.Last, maxWindow, spso)
		}
	}
	if d.Full {
		p.recs = nil
	} else {
		drop := min(spso-p.spso, int64(len(p.recs)))
		p.recs = p.recs[drop:]
		p.compact()
	}
	p.spso = spso
	for _, r := range d.Ranges {
		if r.Last < p.spso {
			continue
		}
		for p.End() <= r.Last {
			p.recs = append(p.recs, entry{})
		}
		for o := max(r.First, p.spso); o <= r.Last; o++ {
			*p.entryAt(o) = entry{state: r.State, count: r.Count}
		}
	}
	p.dlo, p.dhi, p.spsoMoved, p.full = 0, 0, false, false
	return nil
}

// Restore makes what the durable state says was acquired available
// again, keeping its delivery count: after a restart no lock survives.
// Afterwards the next delta is full, so that the journal agrees.
func (p *Partition) Restore() {
	for i := range p.recs {
		if e := &p.recs[i]; e.state == Acquired {
			e.state, e.owner, e.deadline = Available, "", 0
		}
	}
	p.advance()
	p.full = true
}

// Clone returns a deep copy (for the durable fold's snapshot and tests).
func (p *Partition) Clone() *Partition {
	c := *p
	c.recs = append([]entry(nil), p.recs...)
	return &c
}

// fullDelta returns p's whole state as a full delta, without touching what is
// marked changed.
func (p *Partition) fullDelta() Delta {
	saved := *p
	p.full = true
	d, _ := p.TakeDelta()
	p.dlo, p.dhi, p.spsoMoved, p.full = saved.dlo, saved.dhi, saved.spsoMoved, saved.full
	return d
}
