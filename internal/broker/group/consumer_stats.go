package group

// consumer_stats.go counts what consumer groups did since the
// coordinator opened, for /metrics: group epoch bumps (rebalances),
// target assignments computed, and members fenced, by reason.

import "sync/atomic"

// FenceReason is why a consumer group member was removed.
type FenceReason int

const (
	// FenceLeave: the member left (epoch -1).
	FenceLeave FenceReason = iota
	// FenceSession: its session timeout passed without a heartbeat.
	FenceSession
	// FenceRebalance: it did not revoke partitions within its rebalance
	// timeout.
	FenceRebalance
	fenceReasons
)

// String names the reason as the metric label.
func (r FenceReason) String() string {
	switch r {
	case FenceLeave:
		return "left"
	case FenceSession:
		return "session_timeout"
	case FenceRebalance:
		return "rebalance_timeout"
	}
	return "unknown"
}

// consumerStats are the counters, shared by the coordinator's groups.
type consumerStats struct {
	rebalances  atomic.Int64
	assignments atomic.Int64
	migrations  atomic.Int64
	fenced      [fenceReasons]atomic.Int64
}

func (s *consumerStats) fence(r FenceReason) { s.fenced[r].Add(1) }

// ConsumerStats is a snapshot of the counters.
type ConsumerStats struct {
	// Rebalances counts group epoch bumps.
	Rebalances int64
	// Assignments counts target assignments computed (assignment epoch
	// bumps).
	Assignments int64
	// Migrations counts groups with members converted between the
	// classic and the consumer protocol (group.consumer.migration.policy).
	Migrations int64
	// Fenced counts members removed, by reason.
	Fenced map[FenceReason]int64
}

func (s *consumerStats) snapshot() ConsumerStats {
	out := ConsumerStats{Rebalances: s.rebalances.Load(), Assignments: s.assignments.Load(), Migrations: s.migrations.Load(), Fenced: map[FenceReason]int64{}}
	for r := FenceReason(0); r < fenceReasons; r++ {
		out.Fenced[r] = s.fenced[r].Load()
	}
	return out
}
