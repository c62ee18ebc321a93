package share

// model_test.go drives a share-partition with random operations against a
// model written apart from it (a map per offset, no window), with a fake
// clock: acquisitions by several members over a log with batches of
// markers and compaction gaps, acknowledgements of every type, releases,
// lock expiries, log start moves, and restarts (the live state rebuilt
// from the deltas it wrote, as the journal replays them). After every
// step the partition must agree with the model offset by offset, and the
// invariants must hold: a record is acquired by at most one member at a
// time, an accepted record is never delivered again, no record is
// delivered more than the delivery limit and one that reaches it is
// archived, and the SPSO never passes an unfinished record.

import (
	"fmt"
	"math/rand"
	"testing"
	"time"
)

type modelEntry struct {
	state    State
	count    int16
	owner    string
	deadline time.Time
}

// model is the reference: every offset below end is tracked.
type model struct {
	spso, end int64
	recs      map[int64]*modelEntry
	accepted  map[int64]bool
	lim       Limits
}

// advance moves spso past finished offsets.
func (m *model) advance() {
	for m.spso < m.end && m.recs[m.spso].state.finished() {
		delete(m.recs, m.spso)
		m.spso++
	}
}

func (m *model) release(e *modelEntry) {
	e.owner, e.deadline = "", time.Time{}
	if e.count >= m.lim.DeliveryLimit {
		e.state = Archived
	} else {
		e.state = Available
	}
}

// simLog is a partition log: batches over [start, end), some skipped
// (markers, aborted), some offsets compacted away.
type simLog struct {
	start   int64
	batches []Batch
}

func newSimLog(r *rand.Rand, n int64) *simLog {
	l := &simLog{}
	for o := int64(0); o < n; {
		size := int64(1 + r.Intn(8))
		if r.Intn(10) == 0 { // a compaction gap
			o += size
			continue
		}
		b := Batch{First: o, Last: min(o+size, n) - 1, Skip: r.Intn(12) == 0}
		l.batches = append(l.batches, b)
		o = b.Last + 1
	}
	return l
}

// read returns up to k batches from the one holding offset (or the next).
func (l *simLog) read(offset int64, k int) []Batch {
	var out []Batch
	for _, b := range l.batches {
		if b.Last < offset || b.Last < l.start {
			continue
		}
		out = append(out, b)
		if len(out) == k {
			break
		}
	}
	return out
}

func (l *simLog) end() int64 {
	if len(l.batches) == 0 {
		return 0
	}
	return l.batches[len(l.batches)-1].Last + 1
}

func TestPartitionModel(t *testing.T) {
	seeds := 300
	if testing.Short() {
		seeds = 60
	}
	for seed := range seeds {
		t.Run(fmt.Sprint(seed), func(t *testing.T) { runModel(t, int64(seed)) })
	}
}

func runModel(t *testing.T, seed int64) {
	r := rand.New(rand.NewSource(seed))
	lim := Limits{DeliveryLimit: int16(2 + r.Intn(3)), MaxLocks: 5 + r.Intn(40), LockDuration: 30 * time.Second}
	log := newSimLog(r, int64(50+r.Intn(200)))
	now := time.Unix(1_700_000_000, 0)
	p := NewPartition(0)
	durable := &Partition{}
	m := &model{recs: map[int64]*modelEntry{}, accepted: map[int64]bool{}, lim: lim}
	members := []string{"a", "b", "c"}
	persist := func() {
		if d, ok := p.TakeDelta(); ok {
			if err := durable.Apply(d); err != nil {
				t.Fatalf("seed %d: apply delta: %v", seed, err)
			}
		}
	}
	persist()
	for step := range 400 {
		now = now.Add(time.Duration(r.Intn(12)) * time.Second)
		var what string
		switch op := r.Intn(100); {
		case op < 40:
			what = modelAcquire(t, r, p, m, log, members, now)
		case op < 70:
			what = modelAck(t, r, p, m, members, now)
		case op < 78:
			mem := members[r.Intn(len(members))]
			what = "release " + mem
			p.ReleaseMember(mem, lim)
			for _, e := range m.recs {
				if e.state == Acquired && e.owner == mem {
					m.release(e)
				}
			}
			m.advance()
		case op < 88:
			what = "expire"
			p.ExpireLocks(now, lim)
			for _, e := range m.recs {
				if e.state == Acquired && !e.deadline.After(now) {
					m.release(e)
				}
			}
			m.advance()
		case op < 92:
			ls := log.start + int64(r.Intn(10))
			what = fmt.Sprintf("log start %d", ls)
			log.start = max(log.start, ls)
			p.TrimTo(log.start)
			if log.start > m.spso {
				for o := m.spso; o < min(log.start, m.end); o++ {
					delete(m.recs, o)
				}
				m.spso = log.start
				m.end = max(m.end, m.spso)
			}
		default:
			what = "restart"
			persist()
			p = durable.Clone()
			p.Restore()
			for _, e := range m.recs {
				if e.state == Acquired {
					e.state, e.owner, e.deadline = Available, "", time.Time{}
				}
			}
			m.advance()
		}
		persist()
		compareModel(t, seed, step, what, p, m, log.end())
		// The durable copy agrees too, but for locks.
		compareDurable(t, seed, step, what, durable, m, log.end())
	}
}

func modelAcquire(t *testing.T, r *rand.Rand, p *Partition, m *model, log *simLog, members []string, now time.Time) string {
	mem := members[r.Intn(len(members))]
	from, ok := p.FetchOffset(log.end(), m.lim)
	mfrom, mok := modelFetchOffset(m, log.end())
	if ok != mok || (ok && from != mfrom) {
		t.Fatalf("FetchOffset = %d, %v; model %d, %v", from, ok, mfrom, mok)
	}
	if !ok {
		return "acquire: nothing"
	}
	batches := log.read(from, 1+r.Intn(4))
	maxRecords := 1 + r.Intn(20)
	got, _ := p.Acquire(mem, from, batches, maxRecords, now, m.lim)
	want := modelAcquireRanges(m, mem, from, batches, maxRecords, now)
	n := 0
	for _, g := range got {
		for o := g.First; o <= g.Last; o++ {
			n++
			if m.accepted[o] {
				t.Fatalf("accepted offset %d delivered again", o)
			}
			if g.DeliveryCount > m.lim.DeliveryLimit {
				t.Fatalf("offset %d delivered %d times, limit %d", o, g.DeliveryCount, m.lim.DeliveryLimit)
			}
		}
	}
	if n > maxRecords {
		t.Fatalf("acquired %d records, asked for %d", n, maxRecords)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("%s acquired %v from %d (batches %v), model %v", mem, got, from, batches, want)
	}
	return fmt.Sprintf("acquire %s from %d: %v", mem, from, got)
}

func modelFetchOffset(m *model, end int64) (int64, bool) {
	for o := m.spso; o < m.end; o++ {
		if o >= end {
			return 0, false
		}
		if m.recs[o].state == Available {
			return o, true
		}
	}
	if m.end < end && m.end-m.spso < int64(m.lim.MaxLocks) {
		return m.end, true
	}
	return 0, false
}

func modelAcquireRanges(m *model, mem string, from int64, batches []Batch, maxRecords int, now time.Time) []Range {
	var out []Range
	n := 0
	cursor := from
	defer m.advance()
	for _, b := range batches {
		for o := max(cursor, m.spso); o < min(b.First, m.end); o++ {
			if e := m.recs[o]; e.state == Available {
				e.state = Archived
			}
		}
		cursor = b.Last + 1
		for o := max(b.First, m.spso); o <= b.Last; o++ {
			if n >= maxRecords {
				return out
			}
			if o >= m.end {
				m.advance()
				if m.spso == m.end && o > m.spso {
					m.spso, m.end = o, o
				}
				if o-m.spso+1 > int64(m.lim.MaxLocks) {
					return out
				}
				for g := m.end; g < o; g++ {
					m.recs[g] = &modelEntry{state: Archived}
				}
				m.recs[o] = &modelEntry{}
				m.end = o + 1
			}
			e := m.recs[o]
			if e.state != Available {
				continue
			}
			if b.Skip || e.count >= m.lim.DeliveryLimit {
				e.state = Archived
				continue
			}
			e.state, e.owner, e.deadline = Acquired, mem, now.Add(m.lim.LockDuration)
			e.count++
			n++
			if k := len(out); k > 0 && out[k-1].Last == o-1 && out[k-1].DeliveryCount == e.count {
				out[k-1].Last = o
			} else {
				out = append(out, Range{First: o, Last: o, DeliveryCount: e.count})
			}
		}
	}
	return out
}

func modelAck(t *testing.T, r *rand.Rand, p *Partition, m *model, members []string, now time.Time) string {
	mem := members[r.Intn(len(members))]
	// Mostly a valid acknowledgement of a run the member holds; sometimes
	// something else, which must be refused and change nothing.
	var held []int64
	for o := m.spso; o < m.end; o++ {
		if e := m.recs[o]; e.state == Acquired && e.owner == mem {
			held = append(held, o)
		}
	}
	var b AckBatch
	valid := len(held) > 0 && r.Intn(8) != 0
	if valid {
		i := r.Intn(len(held))
		j := i
		for j+1 < len(held) && held[j+1] == held[j]+1 && r.Intn(3) != 0 {
			j++
		}
		b = AckBatch{First: held[i], Last: held[j]}
	} else {
		first := m.spso - 2 + int64(r.Intn(int(m.end-m.spso)+4))
		b = AckBatch{First: first, Last: first + int64(r.Intn(3))}
	}
	renew := r.Intn(4) == 0
	maxType := AckReject
	if renew {
		maxType = AckRenew
	}
	if r.Intn(2) == 0 {
		b.Types = []int8{int8(r.Intn(int(maxType) + 1))}
	} else {
		for o := b.First; o <= b.Last; o++ {
			b.Types = append(b.Types, int8(r.Intn(int(maxType)+1)))
		}
	}
	_, err := p.Acknowledge(mem, []AckBatch{b}, renew, now, m.lim)
	ok := b.First >= m.spso && b.Last < m.end
	for o := b.First; ok && o <= b.Last; o++ {
		e := m.recs[o]
		ok = e.state == Acquired && e.owner == mem
	}
	if ok != (err == nil) {
		t.Fatalf("%s acknowledged %+v: err %v, model says valid=%v", mem, b, err, ok)
	}
	if !ok {
		return fmt.Sprintf("ack %s %+v refused", mem, b)
	}
	for o := b.First; o <= b.Last; o++ {
		typ := b.Types[0]
		if len(b.Types) > 1 {
			typ = b.Types[o-b.First]
		}
		e := m.recs[o]
		switch typ {
		case AckGap, AckReject:
			e.state, e.owner = Archived, ""
		case AckAccept:
			e.state, e.owner = Acknowledged, ""
			m.accepted[o] = true
		case AckRelease:
			m.release(e)
		case AckRenew:
			e.deadline = now.Add(m.lim.LockDuration)
		}
	}
	m.advance()
	return fmt.Sprintf("ack %s %+v", mem, b)
}

func compareModel(t *testing.T, seed int64, step int, what string, p *Partition, m *model, logEnd int64) {
	t.Helper()
	if p.SPSO() != m.spso || p.End() != m.end {
		t.Fatalf("seed %d step %d (%s): SPSO/End %d/%d, model %d/%d", seed, step, what, p.SPSO(), p.End(), m.spso, m.end)
	}
	owners := map[int64]string{}
	for o := m.spso; o < m.end; o++ {
		e := m.recs[o]
		st, c := p.StateAt(o)
		if st != e.state || c != e.count || p.Owner(o) != e.owner {
			t.Fatalf("seed %d step %d (%s): offset %d is %s/%d/%q, model %s/%d/%q", seed, step, what, o, st, c, p.Owner(o), e.state, e.count, e.owner)
		}
		if e.count > m.lim.DeliveryLimit {
			t.Fatalf("seed %d step %d: offset %d delivered %d times", seed, step, o, e.count)
		}
		if e.state == Acquired {
			if prev, dup := owners[o]; dup {
				t.Fatalf("offset %d held by %s and %s", o, prev, e.owner)
			}
			owners[o] = e.owner
		}
		if m.accepted[o] && e.state != Acknowledged {
			t.Fatalf("seed %d step %d (%s): accepted offset %d is %s", seed, step, what, o, e.state)
		}
	}
	for o := range m.accepted {
		if o >= m.end {
			t.Fatalf("accepted offset %d beyond the window", o)
		}
	}
	_ = logEnd
}

// compareDurable checks the durable copy: what a restart would find is the
// model with every lock gone.
func compareDurable(t *testing.T, seed int64, step int, what string, d *Partition, m *model, logEnd int64) {
	t.Helper()
	r := d.Clone()
	r.Restore()
	for o := m.spso; o < m.end; o++ {
		e := m.recs[o]
		st, c := r.StateAt(o)
		want := e.state
		if want == Acquired {
			want = Available
		}
		if (st != want && !(o < r.SPSO() && want.finished())) || (st != Acknowledged && c != e.count) {
			t.Fatalf("seed %d step %d (%s): restored offset %d is %s/%d, model %s/%d", seed, step, what, o, st, c, e.state, e.count)
		}
	}
	_ = logEnd
}
