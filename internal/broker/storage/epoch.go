package storage

// This file is the partition's leader-epoch cache (KIP-101, KIP-320): for
// each leader epoch that wrote to the log, the first offset it wrote. The
// broker starts a new epoch at every start (it is the only leader, and a
// start may follow a crash that lost the log's tail), and Append stamps it
// into each batch's partitionLeaderEpoch field. Clients remember the epoch
// of the last record they consumed and ask OffsetForLeaderEpoch where that
// epoch ended; an answer below their position means the log was truncated
// under them, which they can now detect instead of silently reading reused
// offsets.
//
// The cache is not a file of its own: every batch carries its epoch, and
// Open already reads every batch header, so the cache is rebuilt from the
// retained batches (as Kafka does during recovery). The durable part is
// the broker's epoch counter, which guarantees that a new start never
// reuses an epoch. partitionLeaderEpoch is not under the batch CRC, so a
// damaged value is recognised by breaking the rules: epochs never decrease
// along the log and never exceed the broker's counter.

import "sort"

// epochEntry says that leader epoch epoch wrote its first batch at start.
type epochEntry struct {
	epoch int32
	start int64
}

// epochCache is a partition's epoch entries in offset (and epoch) order.
// Readers hold Log.mu; writers hold Log.appendMu and Log.mu.
type epochCache struct {
	entries []epochEntry
	// bound is the largest epoch a stored batch may carry (the broker's
	// epoch counter); -1 means no bound is known.
	bound int32
}

// latest is the newest epoch in the cache, or -1.
func (c *epochCache) latest() int32 {
	if n := len(c.entries); n > 0 {
		return c.entries[n-1].epoch
	}
	return -1
}

// assign records that epoch wrote a batch starting at start. It reports
// false, and records nothing, for an epoch that breaks the rules (older
// than the latest, beyond the bound, or negative): a damaged field.
func (c *epochCache) assign(epoch int32, start int64) bool {
	switch {
	case epoch < 0 || (c.bound >= 0 && epoch > c.bound):
		return false
	case epoch == c.latest():
		return true
	case epoch < c.latest():
		return false
	}
	c.entries = append(c.entries, epochEntry{epoch: epoch, start: start})
	return true
}

// endOffsetFor answers OffsetForLeaderEpoch as Kafka's
// LeaderEpochFileCache.endOffsetFor does: the largest epoch at or below
// requested that the log knows, and the offset where it ended (the next
// epoch's start, or logEnd for the latest epoch). An epoch older than
// every known one ends where the first known one starts; one newer than
// current is unknown: (-1, -1).
func (c *epochCache) endOffsetFor(requested, current int32, logEnd int64) (int32, int64) {
	if requested < 0 || requested > current {
		return -1, -1
	}
	if requested >= c.latest() {
		return max(c.latest(), requested), logEnd
	}
	// The first entry with a larger epoch ends the requested one.
	i := sort.Search(len(c.entries), func(i int) bool { return c.entries[i].epoch > requested })
	if i == 0 {
		return requested, c.entries[0].start
	}
	return c.entries[i-1].epoch, c.entries[i].start
}

// epochAt returns the epoch that wrote offset (-1 if unknown).
func (c *epochCache) epochAt(offset int64) int32 {
	i := sort.Search(len(c.entries), func(i int) bool { return c.entries[i].start > offset })
	if i == 0 {
		return -1
	}
	return c.entries[i-1].epoch
}

// truncateFromStart forgets epochs that ended before logStart, as Kafka
// does when the log's head is deleted; the entry covering logStart keeps
// its epoch.
func (c *epochCache) truncateFromStart(logStart int64) {
	i := sort.Search(len(c.entries), func(i int) bool { return c.entries[i].start > logStart })
	if i > 1 {
		c.entries = append([]epochEntry(nil), c.entries[i-1:]...)
	}
}

// LeaderEpoch returns the epoch appends are stamped with.
func (l *Log) LeaderEpoch() int32 { return l.opts.LeaderEpoch }

// EndOffsetForEpoch answers OffsetForLeaderEpoch for a consumer: the
// largest epoch at or below requested that wrote to the log and the offset
// where it ended (for the current epoch, the high watermark), or (-1, -1)
// for an epoch this log cannot have had.
func (l *Log) EndOffsetForEpoch(requested int32) (epoch int32, endOffset int64) {
	l.mu.RLock()
	defer l.mu.RUnlock()
	return l.epochs.endOffsetFor(requested, l.opts.LeaderEpoch, l.highWatermarkLocked())
}

// EpochAt returns the leader epoch that wrote offset, or -1 if none is
// known (an offset at the high watermark has the current epoch).
func (l *Log) EpochAt(offset int64) int32 {
	l.mu.RLock()
	defer l.mu.RUnlock()
	if offset >= l.highWatermarkLocked() {
		return l.opts.LeaderEpoch
	}
	return l.epochs.epochAt(offset)
}
