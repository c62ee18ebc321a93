package webconsole

// msgscan.go reads a topic's records for browsing and search, without ever
// loading a whole topic: a consumer client of the user reads exact offset
// ranges (kgo.ConsumePartitions at exact offsets, bounded fetch sizes),
// the filter picks matches, and each call stops at its budget (records,
// bytes, time) or when every partition has a page of matches or reached
// its end, whichever comes first.
//
// Promises:
//   - nothing is skipped: after a call, every record of a partition between
//     the scan's origin and its cursor position was either returned or did
//     not match, so continuing from the cursor finds every match;
//   - the caller learns how far each partition got (reached) of how far it
//     could go (end): a search never stops silently;
//   - forward, a page holds the oldest matches (by timestamp across
//     partitions, offset within one); backward, the newest.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// scanBudget bounds one call's scan.
type scanBudget struct {
	Records int64
	Bytes   int64
	Time    time.Duration
}

// defaultBudget is a call's budget unless the client asks for less: large
// enough that a search of a million small records finishes in one call,
// small enough that a call answers within seconds.
var defaultBudget = scanBudget{Records: 5_000_000, Bytes: 512 << 20, Time: 4 * time.Second}

// Fetch sizes of the scanning consumer: bounded, so that a scan holds at
// most a few fetches of memory whatever the topic's size. A fetch is
// decoded whole into records (some 170 bytes each beside their data), and
// when the console is embedded its garbage shares the broker's heap, which
// the collector lets grow to twice what is live: 8 MiB fetches two at a
// time made a search of a million records add some 300 MB to the broker's
// resident memory, 256 KiB one at a time adds a tenth of that and keeps
// the search well under a second (docs/BENCHMARKS.md, Courier Console).
// A fetch still returns the first batch whole, however large (KIP-74).
const (
	scanFetchMaxBytes     = 256 << 10
	scanFetchMaxPartBytes = 64 << 10
	scanFetchMaxWait      = 200 * time.Millisecond
	// maxBackwardWindow is the largest range a backward scan reads at
	// once per partition (windows grow from the page size up to it).
	maxBackwardWindow = 1 << 20
)

// partScan is one partition's part of a scan.
type partScan struct {
	partition int32
	origin    int64 // where the whole scan (over all calls) began
	pos       int64 // where this call began
	end       int64 // forward: the end offset; backward: the start offset
	reached   int64 // forward: next offset to read; backward: lowest offset done
	matches   []*kgo.Record
	done      bool
}

// scanner runs one call's scan and keeps its counters.
type scanner struct {
	newClient func(opts ...kgo.Opt) (*kgo.Client, error)
	topic     string
	filter    *msgFilter
	limit     int
	budget    scanBudget
	deadline  time.Time

	scanned int64 // records examined
	bytes   int64 // their key, value and header bytes
	stopped string
}

// Reasons a call stopped.
const (
	stopEnd     = "end"     // every partition reached its end
	stopLimit   = "limit"   // a page of matches
	stopRecords = "records" // the record budget
	stopBytes   = "bytes"   // the byte budget
	stopTime    = "time"    // the time budget
)

// rangeRead is one partition's range for read: [from, to).
type rangeRead struct {
	partition int32
	from, to  int64
	reached   int64 // next offset not examined
	done      bool
}

// read reads ranges forward, calling visit for each record in offset order
// per partition until visit says the partition is done, the range ends or
// the budget runs out (then it returns the reason; "" when every range
// finished).
func (sc *scanner) read(ctx context.Context, ranges []*rangeRead, visit func(rr *rangeRead, r *kgo.Record) bool) (string, error) {
	offsets := map[int32]kgo.Offset{}
	byPart := map[int32]*rangeRead{}
	for _, rr := range ranges {
		rr.reached = rr.from
		if rr.from >= rr.to {
			rr.done = true
			continue
		}
		offsets[rr.partition] = kgo.NewOffset().At(rr.from)
		byPart[rr.partition] = rr
	}
	if len(offsets) == 0 {
		return "", nil
	}
	cl, err := sc.newClient(
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{sc.topic: offsets}),
		kgo.FetchMaxBytes(scanFetchMaxBytes),
		kgo.FetchMaxPartitionBytes(scanFetchMaxPartBytes),
		kgo.FetchMaxWait(scanFetchMaxWait),
		kgo.MaxConcurrentFetches(1),
		// Transaction markers are kept (and skipped below) so that a
		// partition whose last offsets are markers still reaches its end.
		kgo.KeepControlRecords(),
		// Records deleted since the cursor was made: go on from the start.
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	if err != nil {
		return "", kafkaError("create a consumer", err)
	}
	defer cl.Close()
	pctx, cancel := context.WithDeadline(ctx, sc.deadline)
	defer cancel()
	left := len(byPart)
	for left > 0 {
		fetches := cl.PollRecords(pctx, 10_000)
		if pctx.Err() != nil {
			if ctx.Err() != nil {
				return "", ctx.Err()
			}
			return stopTime, nil
		}
		for _, fe := range fetches.Errors() {
			if err := fatalFetchError(fe); err != nil {
				return "", kafkaError(fmt.Sprintf("read %s/%d", fe.Topic, fe.Partition), err)
			}
		}
		var pause []int32
		var reason string
		fetches.EachPartition(func(fp kgo.FetchTopicPartition) {
			rr := byPart[fp.Partition]
			if rr == nil || rr.done || reason != "" {
				return
			}
			for _, r := range fp.Records {
				if r.Offset < rr.reached {
					continue
				}
				if r.Offset >= rr.to {
					rr.done, rr.reached = true, rr.to
					break
				}
				rr.reached = r.Offset + 1
				if r.Attrs.IsControl() {
					if rr.reached >= rr.to {
						rr.done = true
						break
					}
					continue
				}
				sc.scanned++
				sc.bytes += recordBytes(r)
				if visit(rr, r) || rr.reached >= rr.to {
					rr.done = true
					break
				}
				if sc.scanned >= sc.budget.Records {
					reason = stopRecords
					return
				}
				if sc.bytes >= sc.budget.Bytes {
					reason = stopBytes
					return
				}
			}
			if rr.done {
				left--
				pause = append(pause, rr.partition)
			}
		})
		if reason != "" {
			return reason, nil
		}
		if len(pause) > 0 {
			cl.PauseFetchPartitions(map[string][]int32{sc.topic: pause})
		}
	}
	return "", nil
}

// fatalFetchError is a fetch error that ends a read (nil for those the
// client retries by itself, and for the read's own context ending).
func fatalFetchError(fe kgo.FetchError) error {
	if errors.Is(fe.Err, context.Canceled) || errors.Is(fe.Err, context.DeadlineExceeded) {
		return nil
	}
	var ke *kerr.Error
	if errors.As(fe.Err, &ke) && ke.Retriable {
		return nil
	}
	return fe.Err
}

// recordBytes is what a record counts against the byte budget.
func recordBytes(r *kgo.Record) int64 {
	n := len(r.Key) + len(r.Value)
	for _, h := range r.Headers {
		n += len(h.Key) + len(h.Value)
	}
	return int64(n)
}

// forward scans each partition from pos toward end, keeping up to limit
// matches per partition.
func (sc *scanner) forward(ctx context.Context, parts []*partScan) error {
	ranges := make([]*rangeRead, len(parts))
	for i, ps := range parts {
		ranges[i] = &rangeRead{partition: ps.partition, from: ps.pos, to: ps.end}
	}
	stopped, err := sc.read(ctx, ranges, func(rr *rangeRead, r *kgo.Record) bool {
		ps := parts[indexOf(ranges, rr)]
		if sc.filter.match(r) {
			ps.matches = append(ps.matches, r)
		}
		return len(ps.matches) >= sc.limit
	})
	if err != nil {
		return err
	}
	for i, ps := range parts {
		ps.reached = max(ranges[i].reached, ps.pos)
		ps.done = ps.reached >= ps.end
	}
	sc.stopped = stopped
	return nil
}

// indexOf finds rr in ranges (few partitions per scan: a linear search is
// cheaper than a map per record).
func indexOf(ranges []*rangeRead, rr *rangeRead) int {
	for i, r := range ranges {
		if r == rr {
			return i
		}
	}
	return -1
}

// backward scans each partition from pos down toward end (its start
// offset) in growing windows, keeping its newest limit matches. A window
// the budget cut short is dropped whole, so that what is done is always
// the contiguous range [reached, origin).
func (sc *scanner) backward(ctx context.Context, parts []*partScan) error {
	for _, ps := range parts {
		ps.reached = ps.pos
		ps.done = ps.reached <= ps.end
	}
	window := int64(max(sc.limit, 100))
	for {
		var ranges []*rangeRead
		var owners []*partScan
		for _, ps := range parts {
			if !ps.done {
				ranges = append(ranges, &rangeRead{partition: ps.partition, from: max(ps.end, ps.reached-window), to: ps.reached})
				owners = append(owners, ps)
			}
		}
		if len(ranges) == 0 {
			return nil
		}
		found := make([][]*kgo.Record, len(ranges))
		stopped, err := sc.read(ctx, ranges, func(rr *rangeRead, r *kgo.Record) bool {
			if sc.filter.match(r) {
				i := indexOf(ranges, rr)
				found[i] = append(found[i], r)
			}
			return false
		})
		if err != nil {
			return err
		}
		for i, rr := range ranges {
			if rr.reached < rr.to {
				continue // cut short: dropped, read again next call
			}
			ps := owners[i]
			ps.matches = append(found[i], ps.matches...)
			ps.reached = rr.from
			if n := len(ps.matches); n >= sc.limit {
				if n > sc.limit {
					// The older matches go back: the cursor stops just
					// above the newest of them.
					ps.reached = ps.matches[n-sc.limit-1].Offset + 1
					ps.matches = ps.matches[n-sc.limit:]
				}
				ps.done = true
			}
			ps.done = ps.done || ps.reached <= ps.end
		}
		if stopped != "" {
			sc.stopped = stopped
			return nil
		}
		window = min(window*8, maxBackwardWindow)
	}
}

// page picks the call's page from the partitions' matches (the oldest
// limit forward, the newest backward) and moves each partition's cursor to
// just past what the page took, so that matches left out are found by the
// next call. Partitions are merged by timestamp, each kept in offset order,
// so what a page takes of a partition is a run of its matches.
func page(parts []*partScan, limit int, backward bool) []*kgo.Record {
	take := make([]int, len(parts)) // matches taken per partition
	var out []*kgo.Record           // in the order taken
	for len(out) < limit {
		best := -1
		var bestR *kgo.Record
		for i, ps := range parts {
			if take[i] == len(ps.matches) {
				continue
			}
			r := ps.matches[take[i]]
			if backward {
				r = ps.matches[len(ps.matches)-1-take[i]]
			}
			if best < 0 || backward && r.Timestamp.After(bestR.Timestamp) || !backward && r.Timestamp.Before(bestR.Timestamp) {
				best, bestR = i, r
			}
		}
		if best < 0 {
			break
		}
		take[best]++
		out = append(out, bestR)
	}
	if backward {
		slices.Reverse(out) // oldest first
	}
	for i, ps := range parts {
		k := take[i]
		if k == len(ps.matches) {
			continue
		}
		ps.done = false
		if backward {
			ps.reached = ps.matches[len(ps.matches)-k-1].Offset + 1
			ps.matches = ps.matches[len(ps.matches)-k:]
		} else {
			ps.reached = ps.matches[k].Offset
			ps.matches = ps.matches[:k]
		}
	}
	return out
}
