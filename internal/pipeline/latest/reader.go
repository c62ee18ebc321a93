package latest

// reader.go reads rider-latest from its start and follows it. "Caught up"
// means every partition was read to the end offset it had when the reader
// was made: then every rider the topic held then has been seen.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/rider"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Entry is one record of the topic as the reader hands it on.
type Entry struct {
	// Location is the rider's location; only RiderID is set when Deleted.
	Location rider.Location
	// Deleted says the record is a tombstone (a null value): the rider's
	// last location is to be forgotten, e.g. on a request to erase it.
	Deleted bool
	// Partition and Offset say where the record was read.
	Partition int32
	Offset    int64
}

// Decode checks one record of the topic: its key must be a valid rider id
// and its value a valid location of that rider (rider.Decode), or null (a
// tombstone). A record that fails is not to be applied: its value could
// otherwise be served as the location of the wrong rider.
func Decode(key, value []byte) (Entry, error) {
	id := string(key)
	if err := rider.ValidID(id); err != nil {
		return Entry{}, fmt.Errorf("key: %w", err)
	}
	if value == nil {
		return Entry{Location: rider.Location{RiderID: id}, Deleted: true}, nil
	}
	l, err := rider.Decode(value)
	if err != nil {
		return Entry{}, err
	}
	if l.RiderID != id {
		return Entry{}, fmt.Errorf("value's rider_id %q is not the key %q", l.RiderID, id)
	}
	return Entry{Location: l}, nil
}

// DefaultStallTimeout is how long a reader that has not caught up waits
// without reading anything before it takes itself as caught up. Reading
// stalls short of the end it listed only if records at the end are gone
// (a trailing tombstone removed by the cleaner after delete.retention.ms,
// records deleted while it read); the WARN then names the partitions.
const DefaultStallTimeout = 30 * time.Second

// invalidLogged is how many invalid records are logged one by one; later
// ones are only counted, so that a topic of foreign records cannot flood
// the log.
const invalidLogged = 10

// Stats are a reader's counters.
type Stats struct {
	// Records counts the records handed on (deletions included).
	Records int64
	// Invalid counts the records skipped because Decode refused them.
	Invalid int64
	// Skipped counts the records Skip said the caller has.
	Skipped int64
	// CaughtUp says the reader reached the end the topic had when it was
	// made (or gave up waiting for it, see DefaultStallTimeout).
	CaughtUp bool
}

// Reader reads a rider-latest topic from its start, then follows it. Run
// is called once; Close after Run returned.
type Reader struct {
	cl    *kgo.Client
	topic string
	log   *slog.Logger
	// StallTimeout is DefaultStallTimeout unless changed before Run.
	StallTimeout time.Duration
	// Skip, if set before Run, is asked about each record before it is
	// decoded: true means the caller has it already (the gateway's own
	// writes, applied when they were acknowledged), and the record is
	// neither decoded nor handed on (counted in Stats.Skipped). Decoding
	// is most of what following the topic costs.
	Skip func(*kgo.Record) bool

	pending  map[int32]int64 // partition → end offset to reach; Run's alone
	caughtUp chan struct{}
	once     sync.Once

	records, invalid, skipped atomic.Int64
}

// NewReader makes a client reading every partition of topic from its
// start (opts reach the cluster) and lists the partitions' start and end
// offsets: the end the reader catches up with. The topic must exist.
func NewReader(ctx context.Context, opts []kgo.Opt, topic string, log *slog.Logger) (*Reader, error) {
	// The topic is added to consume in Run: nothing is fetched before the
	// end offsets are listed, or Run called.
	cl, err := kgo.NewClient(append(slices.Clone(opts),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		// Control records (transaction markers) are offsets too: without
		// them a partition whose last offset is a marker never looks
		// caught up.
		kgo.KeepControlRecords(),
		// Following the topic, a fetch answered per write would wake the
		// reader (and the broker) for every record: wait for 64 KiB or a
		// second instead. Catching up is unaffected (the backlog answers
		// at once); only the last fetch of it may wait the second.
		kgo.FetchMinBytes(64<<10),
		kgo.FetchMaxWait(time.Second),
	)...)
	if err != nil {
		return nil, fmt.Errorf("%s reader: %w", topic, err)
	}
	pending, err := ends(ctx, kadm.NewClient(cl), topic)
	if err != nil {
		cl.Close()
		return nil, err
	}
	return &Reader{cl: cl, topic: topic, log: log, StallTimeout: DefaultStallTimeout,
		pending: pending, caughtUp: make(chan struct{})}, nil
}

// ends returns the end offset of each non-empty partition of topic.
func ends(ctx context.Context, adm *kadm.Client, topic string) (map[int32]int64, error) {
	starts, err := adm.ListStartOffsets(ctx, topic)
	if err == nil {
		err = starts.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("list start offsets of %s: %w", topic, err)
	}
	endOffsets, err := adm.ListEndOffsets(ctx, topic)
	if err == nil {
		err = endOffsets.Error()
	}
	if err != nil {
		return nil, fmt.Errorf("list end offsets of %s: %w", topic, err)
	}
	if len(endOffsets[topic]) == 0 {
		return nil, fmt.Errorf("topic %s has no partitions", topic)
	}
	pending := make(map[int32]int64)
	for p, o := range endOffsets[topic] {
		if s, ok := starts.Lookup(topic, p); !ok || s.Offset < o.Offset {
			pending[p] = o.Offset
		}
	}
	return pending, nil
}

// CaughtUp is closed once the reader caught up.
func (r *Reader) CaughtUp() <-chan struct{} { return r.caughtUp }

// Stats returns the counters.
func (r *Reader) Stats() Stats {
	st := Stats{Records: r.records.Load(), Invalid: r.invalid.Load(), Skipped: r.skipped.Load()}
	select {
	case <-r.caughtUp:
		st.CaughtUp = true
	default:
	}
	return st
}

// Run reads until ctx ends, handing each valid record to apply, in each
// partition's order, from this goroutine.
func (r *Reader) Run(ctx context.Context, apply func(Entry)) {
	start := time.Now()
	progress := start
	r.cl.AddConsumeTopics(r.topic)
	r.checkCaughtUp(start)
	for {
		pollCtx, cancel := ctx, context.CancelFunc(func() {})
		if !r.Stats().CaughtUp {
			// Wake up to notice a stall.
			pollCtx, cancel = context.WithTimeout(ctx, time.Second)
		}
		fs := r.cl.PollFetches(pollCtx)
		cancel()
		if ctx.Err() != nil || fs.IsClientClosed() {
			return
		}
		failed := false
		fs.EachError(func(t string, p int32, err error) {
			if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
				return // the wake-up above
			}
			failed = true
			r.log.Warn("latest-location reader: fetch failed", "topic", t, "partition", p, "err", err)
		})
		fs.EachRecord(func(rec *kgo.Record) { r.handle(rec, apply) })
		now := time.Now()
		if fs.NumRecords() > 0 {
			progress = now
		}
		if r.checkCaughtUp(start) {
			continue
		}
		if now.Sub(progress) >= r.StallTimeout {
			r.log.Warn("latest-location reader: nothing read short of the end offsets listed at start; taking the topic as read",
				"topic", r.topic, "waited", now.Sub(progress).Round(time.Second), "partitions_short", r.pending)
			r.markCaughtUp(start)
		}
		if failed && fs.NumRecords() == 0 {
			select { // do not spin on a persistent error
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}
}

// handle accounts for rec's offset and hands it on if it is valid.
func (r *Reader) handle(rec *kgo.Record, apply func(Entry)) {
	if end, ok := r.pending[rec.Partition]; ok && rec.Offset+1 >= end {
		delete(r.pending, rec.Partition)
	}
	if rec.Attrs.IsControl() {
		return
	}
	if r.Skip != nil && r.Skip(rec) {
		r.skipped.Add(1)
		return
	}
	e, err := Decode(rec.Key, rec.Value)
	if err != nil {
		if n := r.invalid.Add(1); n <= invalidLogged {
			r.log.Warn("latest-location reader: record skipped", "topic", rec.Topic, "partition", rec.Partition,
				"offset", rec.Offset, "err", err, "note", fmt.Sprintf("the first %d are logged, all are counted", invalidLogged))
		}
		return
	}
	e.Partition, e.Offset = rec.Partition, rec.Offset
	r.records.Add(1)
	apply(e)
}

// checkCaughtUp marks the reader caught up if no partition is pending.
func (r *Reader) checkCaughtUp(start time.Time) bool {
	if len(r.pending) > 0 {
		return false
	}
	r.markCaughtUp(start)
	return true
}

// markCaughtUp closes CaughtUp once, saying so in the log.
func (r *Reader) markCaughtUp(start time.Time) {
	r.once.Do(func() {
		clear(r.pending)
		r.log.Info("latest-location topic read", "topic", r.topic, "records", r.records.Load(),
			"invalid", r.invalid.Load(), "took", time.Since(start).Round(time.Millisecond))
		close(r.caughtUp)
	})
}

// Close closes the client.
func (r *Reader) Close() { r.cl.Close() }
