package group

// durable.go is how a group learns the outcome of the records it
// produced: a durable record changes what the group shows (its offsets,
// its death), a failed one changes nothing, and a record that waits for
// its outcome (an assignment, a static member's new id) is answered. This
// keeps Kafka's rule that a commit is visible only once its append
// completed: until then it is a "pending offset commit".

import (
	"errors"
	"time"

	"github.com/courier-dev/courier/internal/broker/journal"
	"github.com/twmb/franz-go/pkg/kerr"
)

// storageErrorCode is the answer to a request whose records could not be
// written. Kafka's coordinator turns a KAFKA_STORAGE_ERROR from its log
// append into NOT_COORDINATOR (GroupMetadataManager.storeOffsets and
// storeGroup; GroupCoordinatorService.normalizeException in the new
// coordinator), which clients treat as retriable: they look up the
// coordinator again, find this broker, and retry, which succeeds once the
// journal has repaired itself.
var storageErrorCode = kerr.NotCoordinator.Code

// ErrorCode maps an error from a coordinator's wait function to the Kafka
// error code to answer with: NOT_COORDINATOR when the records could not be
// written (as Kafka does), COORDINATOR_NOT_AVAILABLE when the coordinator
// is closing.
func ErrorCode(err error) int16 {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, journal.ErrClosed), errors.Is(err, errClosed):
		return kerr.CoordinatorNotAvailable.Code
	default:
		return storageErrorCode
	}
}

// persisted reports the outcome of records the group produced, in the
// order it produced them: err is nil once they are durable.
func (g *Group) persisted(now time.Time, recs []record, err error) {
	for _, r := range recs {
		if r.kind == kindOffset || r.kind == kindTxnOffset {
			if g.inflight[r.tp]--; g.inflight[r.tp] <= 0 {
				delete(g.inflight, r.tp)
			}
		}
		switch {
		case r.kind == kindTxnOffset || r.kind == kindTxnMarker:
			g.txnPersisted(r, err == nil)
		case r.kind == kindConsumerGroup || r.kind == kindConsumerMember || r.kind == kindConsumerMemberDelete:
			g.consumerPersisted(r, err)
		case err == nil:
			g.applyDurable(now, r)
		}
		if r.then != nil {
			r.then(now, err)
		}
	}
}

// applyDurable folds a durable record into what the group shows. A
// group's membership (kindGroup) is live state that ran ahead of its
// record; offsets and deletions wait for theirs. (Transactional records
// are folded by txnPersisted.) A deletion takes the pending transactional
// offsets of what it deletes with it, as Kafka's tombstones do.
func (g *Group) applyDurable(now time.Time, r record) {
	switch r.kind {
	case kindOffset:
		g.seq++
		o := r.offset
		o.seq = g.seq
		g.offsets[r.tp] = o
	case kindOffsetDelete:
		delete(g.offsets, r.tp)
		g.txns.drop(r.tp)
	case kindGroupDelete:
		clear(g.offsets)
		g.txns.dropAll()
		// The group dies unless it came back to life while the deletion
		// was being written (a member joined, a commit is on its way):
		// then, as after a replay, it goes on without its old offsets.
		if g.state == Empty && len(g.members) == 0 && len(g.inflight) == 0 && (g.cg == nil || len(g.cg.members) == 0) {
			clear(g.pending)
			g.transition(Dead, now)
		}
	}
}
