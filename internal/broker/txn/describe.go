package txn

// describe.go answers the admin APIs (DescribeTransactions,
// ListTransactions; DescribeProducers is the partitions' business) and
// reports the coordinator's counters for /metrics. They show durable
// state only: a transition still being written is not visible yet.

import (
	"slices"
	"time"

	"github.com/courier-dev/courier/internal/broker/journal"
)

// TxnInfo is one transactional id as DescribeTransactions and
// ListTransactions show it.
type TxnInfo struct {
	ID string
	// State is Kafka's name: Empty, Ongoing, PrepareCommit,
	// PrepareAbort, CompleteCommit or CompleteAbort (Dead and
	// PrepareEpochFence are never stored, so never shown).
	State         string
	ProducerID    int64
	ProducerEpoch int16
	TimeoutMs     int32
	// StartTime is when the transaction's first partition or group was
	// added; zero if none (Kafka's -1).
	StartTime  time.Time
	LastUpdate time.Time
	Partitions []Partition // sorted
	Groups     []string    // sorted
}

func (e *entry) info() TxnInfo {
	return TxnInfo{
		ID: e.id, State: e.m.state.String(), ProducerID: e.m.pid, ProducerEpoch: e.m.epoch,
		TimeoutMs: e.m.timeoutMs, StartTime: e.m.start, LastUpdate: e.m.lastUpdate,
		Partitions: slices.Clone(e.m.parts), Groups: slices.Clone(e.m.groups),
	}
}

// Describe returns txnID's state; false if the id is unknown (the handler
// answers TRANSACTIONAL_ID_NOT_FOUND).
func (c *Coordinator) Describe(txnID string) (TxnInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.known(txnID)
	if e == nil {
		return TxnInfo{}, false
	}
	return e.info(), true
}

// List is ListTransactions (KIP-664, and v1's duration filter, KIP-994),
// sorted by id. states (Kafka's names; unknown names match nothing, see
// KnownState) and pids filter when not empty. durationFilter < 0 does not
// filter; otherwise only transactions running longer than it are listed.
// (Kafka compares against a start time of -1 for ids with no transaction,
// which lists them under any filter; here an id with no start time has
// been running for no time at all.)
func (c *Coordinator) List(states []string, pids []int64, durationFilter time.Duration) []TxnInfo {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.clock.Now()
	var out []TxnInfo
	for _, e := range c.sortedEntries() {
		m := e.m
		switch {
		case !e.known:
		case len(states) > 0 && !slices.Contains(states, m.state.String()):
		case len(pids) > 0 && !slices.Contains(pids, m.pid):
		case durationFilter >= 0 && (m.start.IsZero() || now.Sub(m.start) <= durationFilter):
		default:
			out = append(out, e.info())
		}
	}
	return out
}

// Stats are the coordinator's counters, for /metrics.
type Stats struct {
	// IDs is how many transactional ids are known; Ongoing and
	// Completing how many are in Ongoing and in PrepareCommit or
	// PrepareAbort.
	IDs, Ongoing, Completing int
	// Committed and Aborted count transactions completed since Open
	// (including those a crash left prepared); TimedOut counts the
	// aborts the coordinator started itself; Expired counts ids
	// forgotten.
	Committed, Aborted, TimedOut, Expired uint64
	// MarkerRetries counts marker attempts that left something to retry;
	// WriteFailures counts records that could not be stored (each
	// request answered NOT_COORDINATOR, or retried in the background).
	MarkerRetries, WriteFailures uint64
}

// Stats returns the counters.
func (c *Coordinator) Stats() Stats {
	s := Stats{
		Committed: c.stats.committed.Load(), Aborted: c.stats.aborted.Load(),
		TimedOut: c.stats.timedOut.Load(), Expired: c.stats.expired.Load(),
		MarkerRetries: c.stats.markerRetries.Load(), WriteFailures: c.stats.writeFailures.Load(),
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.txns {
		if !e.known {
			continue
		}
		s.IDs++
		switch {
		case e.m.state == stateOngoing:
			s.Ongoing++
		case e.m.state.preparing():
			s.Completing++
		}
	}
	return s
}

// JournalStats returns the counters of the coordinator's journal: damaged
// records skipped and torn tails cut at Open, failed writes, repairs.
func (c *Coordinator) JournalStats() journal.Stats { return c.jl.Stats() }

// msDuration converts Kafka milliseconds.
func msDuration(ms int32) time.Duration { return time.Duration(ms) * time.Millisecond }
