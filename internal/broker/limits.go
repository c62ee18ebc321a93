package broker

// limits.go holds the partition limit's arithmetic and its check.

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kerr"
)

// fallbackMaxPartitions is the partition limit when the open-file limit is
// unknown.
const fallbackMaxPartitions = 10000

// partitionsForFileLimit is the partitions an open-file limit of nofile
// leaves room for: an eighth (at most 1024) is kept for connections and
// other files, as much again for the closed segments' file cache, and each
// partition needs one file for its active segment.
func partitionsForFileLimit(nofile int64) int {
	return int(max(nofile-2*fileReserve(nofile), 1))
}

// fileReserve is an eighth of the open-file limit, at most 1024: what is
// kept for connections and other files, and what the closed segments' file
// cache may hold.
func fileReserve(nofile int64) int64 { return max(min(nofile/8, 1024), 1) }

// errPartitionLimit is POLICY_VIOLATION with the reason in the message.
type errPartitionLimit struct{ have, adding, limit int }

func (e errPartitionLimit) Error() string {
	return fmt.Sprintf("%s: the broker holds %d partitions and may hold at most %d (--max-partitions, "+
		"by default derived from the open-file limit, ulimit -n); %d more would exceed it",
		kerr.PolicyViolation.Message, e.have, e.limit, e.adding)
}

// checkPartitionBudget refuses adding partitions beyond MaxPartitions.
// Caller holds adminMu, so the count cannot change under it.
func (b *Broker) checkPartitionBudget(adding int32) error {
	b.mu.RLock()
	have := b.nparts
	b.mu.RUnlock()
	if have+int(adding) > b.cfg.MaxPartitions {
		return errPartitionLimit{have: have, adding: int(adding), limit: b.cfg.MaxPartitions}
	}
	return nil
}
