package crash

// share_ledger_test.go is the share-kill test's record of what happened to
// every record (each delivery, its delivery count, the acknowledgement
// sent and whether the broker confirmed it) and the checks made of it at
// the end.
//
// An acknowledgement counts as confirmed only if the broker answered it
// without error: the consumer marks a poll's records, then FlushAcks waits
// until every pending acknowledgement was answered (kgo.ShareAckCallback
// reports each answer per partition). If FlushAcks succeeds and no answer
// for a partition in that window was an error, the window's
// acknowledgements of that partition are confirmed; anything else leaves
// them unconfirmed ("in doubt": the broker may or may not have applied
// them). An answer of an earlier window arriving late can only turn a
// window's partition unconfirmed, never confirm what was not answered.

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/twmb/franz-go/pkg/kgo"
)

// ackState is where an acknowledgement stands.
type ackState int8

const (
	ackNone        ackState = iota // not acknowledged: the consumer died first
	ackPending                     // sent, not yet answered
	ackConfirmed                   // the broker answered it without error
	ackUnconfirmed                 // refused, lost, or its answer unknown
)

// String names the state in violation reports.
func (s ackState) String() string {
	return [...]string{"unacknowledged", "pending", "confirmed", "unconfirmed"}[s]
}

// delivery is one delivery of a record to a consumer incarnation.
type delivery struct {
	dc     int32         // the broker's delivery count
	by     int           // the consumer incarnation
	action kgo.AckStatus // what the consumer acknowledged it with
	state  ackState
}

// shareLedger holds the deliveries of every record, by record number.
type shareLedger struct {
	mu      sync.Mutex
	records [][]delivery
	// buffered is the highest delivery count with which each record
	// reached a consumer's buffer, polled or not: a consumer killed with
	// records fetched but not yet polled never sees those deliveries,
	// which still count toward the limit.
	buffered []int32
	settled  int // records with a confirmed accept or reject
	byInc    map[int]int
}

func newShareLedger(n int) *shareLedger {
	return &shareLedger{records: make([][]delivery, n), buffered: make([]int32, n), byInc: map[int]int{}}
}

// OnFetchRecordBuffered implements kgo.HookFetchRecordBuffered: it notes
// the delivery count of every record a consumer fetched.
func (l *shareLedger) OnFetchRecordBuffered(r *kgo.Record) {
	k, err := strconv.Atoi(string(r.Value))
	if err != nil || k < 0 || k >= len(l.buffered) {
		return // the consumer reports it when polled
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buffered[k] = max(l.buffered[k], r.DeliveryCount())
}

// ackRef names one delivery: record k's i-th.
type ackRef struct {
	k, i      int
	partition int32
}

// deliver notes that incarnation inc received record k with delivery
// count dc and acknowledged it with action.
func (l *shareLedger) deliver(k int, dc int32, inc int, action kgo.AckStatus, partition int32) ackRef {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records[k] = append(l.records[k], delivery{dc: dc, by: inc, action: action, state: ackPending})
	l.byInc[inc]++
	return ackRef{k: k, i: len(l.records[k]) - 1, partition: partition}
}

// settle records whether the acknowledgement of a delivery was confirmed.
func (l *shareLedger) settle(r ackRef, confirmed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	d := &l.records[r.k][r.i]
	if !confirmed {
		d.state = ackUnconfirmed
		return
	}
	d.state = ackConfirmed
	if d.action == kgo.AckAccept || d.action == kgo.AckReject {
		l.settled++
	}
}

// progress returns how many records have a confirmed accept or reject.
func (l *shareLedger) progress() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.settled
}

// shareVerdict is what the checks found.
type shareVerdict struct {
	accepted, rejected, archived, inDoubt int // by final outcome
	// unseen counts records the broker archived after a delivery no
	// consumer received: the fetch response that carried it was lost to a
	// kill (of the consumer, or of the broker after it wrote the
	// acquisition down).
	unseen      int
	unseenSome  []string // a few of them, described
	redelivered int      // records delivered more than once
	deliveries  int
	violations  []string
}

// check applies the test's rules to every record, given the delivery
// limit: each record was delivered; no record has two confirmed terminal
// acknowledgements; none was delivered again (with a higher delivery
// count) after a confirmed terminal acknowledgement; and each record's
// final delivery (of the highest count) settled it: a confirmed accept or reject, a terminal
// acknowledgement in doubt, or the delivery limit reached (the broker
// archives it), counting deliveries that reached a consumer's buffer
// unpolled. A record whose last delivery was released or left
// unacknowledged below the limit, and which the broker nevertheless no
// longer offers, is counted as unseen: it was lost unless deliveries no
// consumer received took it to the limit, which the caller bounds by the
// kills.
func (l *shareLedger) check(limit int32) shareVerdict {
	l.mu.Lock()
	defer l.mu.Unlock()
	var v shareVerdict
	bad := func(k int, ds []delivery, format string, args ...any) {
		if len(v.violations) < 20 {
			v.violations = append(v.violations, fmt.Sprintf("record %d: %s (deliveries %s)", k, fmt.Sprintf(format, args...), describe(ds)))
		}
	}
	for k, ds := range l.records {
		v.deliveries += len(ds)
		if len(ds) == 0 {
			bad(k, ds, "never delivered")
			continue
		}
		if len(ds) > 1 {
			v.redelivered++
		}
		terminal, terminalDC := 0, int32(-1)
		for _, d := range ds {
			if d.state == ackConfirmed && (d.action == kgo.AckAccept || d.action == kgo.AckReject) {
				terminal++
				if terminalDC < 0 {
					terminalDC = d.dc
				}
			}
		}
		if terminal > 1 {
			bad(k, ds, "%d confirmed accepts or rejects", terminal)
		}
		for _, d := range ds {
			if terminalDC >= 0 && d.dc > terminalDC {
				bad(k, ds, "delivered again (count %d) after a confirmed acknowledgement at count %d", d.dc, terminalDC)
				break
			}
		}
		// The final delivery is the one of the highest count: a consumer
		// may poll a stale copy (its lock long lapsed, the record since
		// delivered again) after a later delivery.
		last := ds[0]
		for _, d := range ds[1:] {
			if d.dc >= last.dc {
				last = d
			}
		}
		switch {
		case last.state == ackConfirmed && last.action == kgo.AckAccept:
			v.accepted++
		case last.state == ackConfirmed && last.action == kgo.AckReject:
			v.rejected++
		case last.state != ackConfirmed && (last.action == kgo.AckAccept || last.action == kgo.AckReject):
			v.inDoubt++
		case last.dc >= limit || l.buffered[k] >= limit:
			v.archived++
		default:
			v.unseen++
			if len(v.unseenSome) < 10 {
				v.unseenSome = append(v.unseenSome, fmt.Sprintf("record %d: buffered up to count %d, deliveries %s", k, l.buffered[k], describe(ds)))
			}
		}
	}
	return v
}

// describe renders deliveries as "dc:action:state@incarnation ...".
func describe(ds []delivery) string {
	var b strings.Builder
	for i, d := range ds {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d:%v:%v@%d", d.dc, d.action, d.state, d.by)
	}
	return b.String()
}

// consumersThatReceived returns the consumer slots (incarnation %
// consumers) that received records, sorted.
func (l *shareLedger) consumersThatReceived(consumers int) []int {
	l.mu.Lock()
	defer l.mu.Unlock()
	seen := map[int]bool{}
	for inc, n := range l.byInc {
		if n > 0 {
			seen[inc%consumers] = true
		}
	}
	var out []int
	for s := range seen {
		out = append(out, s)
	}
	sort.Ints(out)
	return out
}
