package txn

// coordinator.go owns the transactional ids: options and Open (replay,
// the coordinator epoch, finishing what a crash left prepared), Close, and
// the one way a transition happens (write): its record is appended to the
// journal under the coordinator's lock, and applied to the id only in the
// journal's done callback once durable (Kafka's appendTransactionToLog and
// completeTransitionTo). While the record is in flight the id is
// "pending" and every other transition of it answers
// CONCURRENT_TRANSACTIONS, as Kafka's pendingState does.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/courier-dev/courier/internal/broker/group"
	"github.com/courier-dev/courier/internal/broker/journal"
	"github.com/courier-dev/courier/internal/broker/vfs"
)

// Markers is how the coordinator completes a transaction: implemented by
// the broker. Both methods must be idempotent: after a crash, or a failure
// of some partitions, the coordinator sends the same markers again.
type Markers interface {
	// WritePartitionMarkers appends a COMMIT/ABORT marker for pid/epoch
	// to each partition and returns once they are durable. The result has
	// one error per partition that failed (nil map = all durable). A
	// partition that no longer exists is not an error.
	WritePartitionMarkers(ctx context.Context, pid int64, epoch int16, commit bool, coordinatorEpoch int32, parts []Partition) map[Partition]error
	// CompleteGroupOffsets makes pid's pending transactional offset
	// commits in group visible (commit) or drops them (abort), durably.
	CompleteGroupOffsets(ctx context.Context, group string, pid int64, epoch int16, commit bool) error
}

// Defaults of Options' zero values (Kafka's broker defaults where Kafka
// has the setting).
const (
	DefaultMaxTimeout            = 15 * time.Minute
	DefaultIDExpiration          = 7 * 24 * time.Hour
	DefaultAbortInterval         = 10 * time.Second
	DefaultRemoveExpiredInterval = time.Hour
	DefaultEndTxnWait            = 5 * time.Second
	DefaultMarkerTimeout         = 30 * time.Second
	DefaultMarkerRetryMin        = 100 * time.Millisecond
	DefaultMarkerRetryMax        = 10 * time.Second
)

// Options configures a Coordinator. Path, Markers and AllocateProducerID
// are required.
type Options struct {
	// Path is the journal file, DATA/meta/transactions/txn.log.
	Path string
	// FS is where it lives; default vfs.Default.
	FS vfs.FS
	// Logger receives transitions that matter (timeouts, expiries,
	// recovery, marker failures); default discards.
	Logger *slog.Logger
	// Clock tells the time and runs timers; nil = real time.
	Clock   Clock
	Markers Markers
	// AllocateProducerID is the broker's durable producer id allocator.
	AllocateProducerID func() (int64, error)
	// MaxTimeout is transaction.max.timeout.ms: InitProducerId asking for
	// more gets INVALID_TRANSACTION_TIMEOUT. Default 15 minutes.
	MaxTimeout time.Duration
	// IDExpiration is transactional.id.expiration.ms: an id with no open
	// transaction and no request for this long is forgotten. Default 7
	// days.
	IDExpiration time.Duration
	// AbortInterval is
	// transaction.abort.timed.out.transaction.cleanup.interval.ms: how
	// often transactions past their timeout are looked for. Default 10 s.
	AbortInterval time.Duration
	// RemoveExpiredInterval is
	// transaction.remove.expired.transaction.cleanup.interval.ms: how
	// often expired ids are looked for. Default 1 hour.
	RemoveExpiredInterval time.Duration
	// EndTxnWait bounds how long EndTxn waits, after its Prepare record
	// is durable, for the markers and the Complete record, so that the
	// client's next transaction does not meet CONCURRENT_TRANSACTIONS.
	// Past it EndTxn answers anyway (Kafka answers right after Prepare)
	// and the markers go on in the background. Default 5 s; negative: do
	// not wait.
	EndTxnWait time.Duration
	// MarkerTimeout bounds one attempt at writing a transaction's markers.
	// Default 30 s.
	MarkerTimeout time.Duration
	// MarkerRetryMin and MarkerRetryMax bound the back-off between marker
	// attempts. Defaults 100 ms and 10 s.
	MarkerRetryMin, MarkerRetryMax time.Duration
	// CompactBytes is passed to the journal (journal.Options.CompactBytes).
	CompactBytes int64
}

func (o *Options) setDefaults() error {
	if o.Path == "" || o.Markers == nil || o.AllocateProducerID == nil {
		return errors.New("transaction coordinator: Options.Path, Markers and AllocateProducerID are required")
	}
	if o.FS == nil {
		o.FS = vfs.Default
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = group.RealClock{}
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.MaxTimeout, DefaultMaxTimeout)
	def(&o.IDExpiration, DefaultIDExpiration)
	def(&o.AbortInterval, DefaultAbortInterval)
	def(&o.RemoveExpiredInterval, DefaultRemoveExpiredInterval)
	if o.EndTxnWait == 0 {
		o.EndTxnWait = DefaultEndTxnWait
	}
	def(&o.MarkerTimeout, DefaultMarkerTimeout)
	def(&o.MarkerRetryMin, DefaultMarkerRetryMin)
	def(&o.MarkerRetryMax, DefaultMarkerRetryMax)
	o.MarkerRetryMax = max(o.MarkerRetryMax, o.MarkerRetryMin)
	return nil
}

// errClosed is returned for requests after Close: the journal's own
// error, which errorCode maps to COORDINATOR_NOT_AVAILABLE.
var errClosed = journal.ErrClosed

// Coordinator is the transaction coordinator of a single-node broker. Its
// methods are safe for concurrent use.
type Coordinator struct {
	opts  Options
	log   *slog.Logger
	clock Clock
	jl    *journal.Journal

	// ctx ends at Close: it stops marker attempts, back-offs and waits.
	ctx    context.Context
	cancel context.CancelFunc
	// wg counts the goroutines completing transactions (complete.go).
	wg sync.WaitGroup

	// mu guards everything below, and each entry. It is never held while
	// waiting for the journal, calling Markers or allocating an id. The
	// journal's callbacks take it; Append is called under it, which the
	// journal allows (it holds no lock of its own while calling back).
	mu      sync.Mutex
	txns    map[string]*entry
	epoch   int32 // the durable coordinator epoch (bumped by each Open)
	closed  bool
	abortT  Timer
	expireT Timer

	stats struct {
		committed, aborted, timedOut, expired, markerRetries, writeFailures atomic.Uint64
	}
}

// entry is one transactional id.
type entry struct {
	id string
	// m is the durable metadata, valid when known. A transition's
	// metadata becomes m only once its record is durable.
	m     meta
	known bool
	// pending is set while a record of this id is in flight.
	pending bool
	// completed, while m is PrepareCommit or PrepareAbort, is closed once
	// the Complete record is durable.
	completed chan struct{}
}

// Open replays the journal at opts.Path (creating it as needed), writes
// this run's coordinator epoch, and starts finishing every transaction
// the journal left in PrepareCommit or PrepareAbort (in the background:
// their markers are sent again) and the timers that abort timed-out
// transactions and expire idle ids. A damaged record is skipped and
// reported by the journal (JournalStats, the log); a journal that cannot
// be read safely, or an epoch that cannot be written, fails Open.
func Open(opts Options) (*Coordinator, error) {
	if err := opts.setDefaults(); err != nil {
		return nil, err
	}
	c := &Coordinator{opts: opts, log: opts.Logger, clock: opts.Clock, txns: map[string]*entry{}}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	jl, err := journal.Open(opts.Path, journal.Options{
		FS: opts.FS, Logger: opts.Logger, CompactBytes: opts.CompactBytes,
		Replay: c.replay, Snapshot: c.snapshot,
	})
	if err != nil {
		return nil, fmt.Errorf("transaction coordinator: %w", err)
	}
	c.jl = jl
	if err := c.bumpEpoch(); err != nil {
		jl.Close()
		return nil, fmt.Errorf("transaction coordinator: %w", err)
	}
	c.mu.Lock()
	prepared, ongoing := 0, 0
	for _, e := range c.txns {
		switch {
		case e.m.state.preparing():
			prepared++
			c.startCompletion(e, nil)
		case e.m.state == stateOngoing:
			ongoing++
		}
	}
	c.abortT = c.clock.AfterFunc(opts.AbortInterval, c.abortTimedOut)
	c.expireT = c.clock.AfterFunc(opts.RemoveExpiredInterval, c.expireIDs)
	c.log.Info("transaction coordinator loaded", "file", opts.Path, "ids", len(c.txns),
		"ongoing", ongoing, "prepared_to_finish", prepared, "coordinator_epoch", c.epoch)
	c.mu.Unlock()
	return c, nil
}

// bumpEpoch makes this run's coordinator epoch durable before any marker
// carries it.
func (c *Coordinator) bumpEpoch() error {
	c.mu.Lock()
	next := c.epoch + 1
	c.mu.Unlock()
	if next == math.MaxInt32 {
		return fmt.Errorf("coordinator epoch %d exhausted", next)
	}
	res := make(chan error, 1)
	err := c.jl.Append([][]byte{encodeEpoch(next)}, func(err error) {
		if err == nil {
			c.mu.Lock()
			c.epoch = next
			c.mu.Unlock()
		}
		res <- err
	})
	if err == nil {
		err = <-res
	}
	if err != nil {
		return fmt.Errorf("write coordinator epoch %d: %w", next, err)
	}
	return nil
}

// Close stops the timers and the marker retries, and closes the journal
// after writing what is queued. Transactions still in PrepareCommit or
// PrepareAbort are finished by the next Open. Requests still waiting are
// answered COORDINATOR_NOT_AVAILABLE or with what their record became.
func (c *Coordinator) Close() error {
	c.mu.Lock()
	first := !c.closed
	if first {
		c.closed = true
		c.abortT.Stop()
		c.expireT.Stop()
	}
	c.mu.Unlock()
	if !first {
		return nil
	}
	c.cancel()
	c.wg.Wait()
	return c.jl.Close()
}

// Epoch returns this run's coordinator epoch, which markers carry.
func (c *Coordinator) Epoch() int32 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.epoch
}

// replay folds one journal record into the state at Open; a record that
// does not decode is refused, and the journal skips it loudly.
func (c *Coordinator) replay(b []byte) error {
	r, err := decodeRecord(b)
	if err != nil {
		return err
	}
	switch r.kind {
	case kindTxn:
		c.txns[r.id] = &entry{id: r.id, m: r.m, known: true}
	case kindDelete:
		delete(c.txns, r.id)
	case kindEpoch:
		c.epoch = max(c.epoch, r.epoch)
	}
	return nil
}

// snapshot writes the durable state: the coordinator epoch and every
// known id's metadata. Called on the journal's writer goroutine (and by
// Open after skipping damage).
func (c *Coordinator) snapshot(add func([]byte)) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	add(encodeEpoch(c.epoch))
	for id, e := range c.txns {
		if e.known {
			add(encodeTxn(id, e.m))
		}
	}
	return nil
}

// change is one record for one id: next's metadata, or the id's deletion
// when next is nil.
type change struct {
	next *meta
	// completed is the channel a Prepare record's completion closes
	// (EndTxn waits on it); nil makes one.
	completed chan struct{}
	// done, if set, receives the record's outcome. It is called on the
	// journal's writer goroutine, without the lock, and must not block.
	done func(error)
}

// write appends ch's record for e; c.mu is held. The id is pending until
// the journal reports the outcome (written). An error means the journal
// refused the record at once (it is repairing itself, or closed): nothing
// changed and done is not called.
func (c *Coordinator) write(e *entry, ch change) error {
	if c.closed {
		return errClosed
	}
	rec := encodeDelete(e.id)
	if ch.next != nil {
		rec = encodeTxn(e.id, *ch.next)
	}
	e.pending = true
	if err := c.jl.Append([][]byte{rec}, func(err error) { c.written(e, ch, err) }); err != nil {
		e.pending = false
		c.forgetUnknown(e)
		c.writeFailed(e.id, err)
		return err
	}
	return nil
}

// written applies a record's outcome to its id: a durable record becomes
// the id's state (and a Prepare state starts its completion; a Complete
// state releases EndTxn), a failed one changes nothing.
func (c *Coordinator) written(e *entry, ch change, err error) {
	c.mu.Lock()
	e.pending = false
	switch {
	case err != nil:
		c.forgetUnknown(e)
	case ch.next == nil:
		if c.txns[e.id] == e {
			delete(c.txns, e.id)
		}
		e.known = false
	default:
		prev := e.m.state
		e.m, e.known = *ch.next, true
		if e.m.state.preparing() {
			c.startCompletion(e, ch.completed)
		} else if prev.preparing() {
			// Counted here, before anyone can see the Complete state.
			if e.m.state == stateCompleteCommit {
				c.stats.committed.Add(1)
			} else {
				c.stats.aborted.Add(1)
			}
			if e.completed != nil {
				close(e.completed)
				e.completed = nil
			}
		}
	}
	c.mu.Unlock()
	if err != nil {
		c.writeFailed(e.id, err)
	}
	if ch.done != nil {
		ch.done(err)
	}
}

// forgetUnknown drops an id whose first record failed; c.mu is held.
func (c *Coordinator) forgetUnknown(e *entry) {
	if !e.known && !e.pending && c.txns[e.id] == e {
		delete(c.txns, e.id)
	}
}

// writeFailed logs and counts a record that could not be written (not at
// Close).
func (c *Coordinator) writeFailed(id string, err error) {
	if errors.Is(err, journal.ErrClosed) {
		return
	}
	c.stats.writeFailures.Add(1)
	c.log.Error("transaction state not stored; the transactional id keeps its previous state", "transactional_id", id, "err", err)
}

// awaitWrite writes ch for e and waits for its outcome; c.mu is held on
// entry and released on return.
func (c *Coordinator) awaitWrite(ctx context.Context, e *entry, ch change) error {
	res := make(chan error, 1)
	ch.done = func(err error) { res <- err }
	err := c.write(e, ch)
	c.mu.Unlock()
	if err != nil {
		return err
	}
	select {
	case err := <-res:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-c.ctx.Done():
		// Close writes what is queued: the outcome comes.
		return <-res
	}
}

// errorCode maps a failed write to the answer, as the group coordinator
// does (group.ErrorCode): NOT_COORDINATOR, which clients treat as
// retriable (Kafka's coordinator answers a failed append to its log so:
// clients look the coordinator up again, find this broker and retry,
// which succeeds once the journal has repaired itself), or
// COORDINATOR_NOT_AVAILABLE when the coordinator is closing.
func errorCode(err error) int16 { return group.ErrorCode(err) }
