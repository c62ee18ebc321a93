// Package sink is the consumer group that writes rider updates from the
// topic to the database in batches: the "after" picture of the seed, where
// the database sees a few large transactions instead of one per update.
//
// What it promises:
//   - A batch (up to Config.BatchRows records, or whatever arrived within
//     Config.BatchDelay) is written in one database transaction, and only
//     after that transaction commits are the batch's offsets committed to
//     the group. A crash anywhere therefore redelivers at most the
//     uncommitted batches, and the database keys history rows by
//     (topic, partition, offset) and records each one's leader epoch, so
//     a redelivered record (same epoch) is written once: the database
//     ends up with every record exactly once.
//   - A truncated log is noticed, not hidden: when the broker lost the
//     tail of a partition (a power loss with fsync by interval) and reuses
//     offsets the sink already wrote, the new records come with a newer
//     leader epoch; the old rows are moved to rider_locations_truncated and
//     the new ones written (ridersdb), the range is logged as a warning and
//     counted in Stats.Truncated. franz-go's kgo.ErrDataLoss is logged and
//     counted in Stats.DataLoss.
//   - Offsets are committed only for partitions the member owns: polling
//     blocks rebalances (kgo.BlockRebalanceOnPoll) until the batch is
//     written and committed, and records of a partition lost meanwhile
//     (session expiry) are dropped, not written or committed.
//   - A record whose value is not a valid update (rider.Decode fails, also
//     for a key given twice, in another case or unknown) is
//     counted in Stats.Invalid, logged (at most once per invalidLogEvery),
//     and skipped: its offset is committed with the batch, so it never
//     blocks its partition. It is not stored anywhere.
//   - A failed database write is retried with backoff until it succeeds or
//     Run's context ends.
//   - A cluster it cannot connect to is retried for as long as Run runs,
//     never in silence: a warning names the broker and the connection
//     error as soon as a connection fails, again every
//     Config.UnreachableLogEvery while it keeps failing, and an info line
//     says when a connection succeeds again (reach.Monitor).
//
// Several sinks in one group split the topic's partitions; when one stops
// or dies, the group gives its partitions to the others, which resume from
// the last committed offsets. In a share group (Config.ShareGroup) they
// share the partitions record by record instead, so more sinks than
// partitions all write; records are acknowledged after the database
// commit, and the same keys make the database hold each once (share.go).
package sink

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/publish"
	"github.com/courier-dev/courier/internal/pipeline/ridersdb"
	"github.com/courier-dev/courier/internal/tools/reach"
	"github.com/twmb/franz-go/pkg/kgo"
)

// Defaults for the zero values of Config. A batch is written when it has
// DefaultBatchRows records or its first record has waited DefaultBatchDelay,
// so at low rates the delay bounds it and at high rates the count does.
// The count is large because each rider's latest location is upserted once
// per batch: at 100,000 updates/s from 10,000 riders, a 20,000-row batch
// (200 ms) holds about two updates per rider and halves the upserts that a
// 5,000-row batch would make, which is what lets PostgreSQL keep up
// (docs/BENCHMARKS.md).
const (
	DefaultGroup      = "db-writer"
	DefaultBatchRows  = 20000
	DefaultBatchDelay = 200 * time.Millisecond
)

// DefaultUnreachableLogEvery is how often the sink repeats that it cannot
// connect to a broker.
const DefaultUnreachableLogEvery = 30 * time.Second

// invalidLogEvery bounds how often invalid records are logged.
const invalidLogEvery = 10 * time.Second

// shutdownFlush bounds how long a batch is still written after Run's
// context ended: a stop is orderly, so the batch in hand (or the one being
// written when the stop came) is written and committed, not abandoned to
// be written again by the next owner.
const shutdownFlush = 15 * time.Second

// commitTimeout bounds an offset commit. The commit follows a database
// commit, so it gets a context of its own: a stop arriving in between must
// not cancel it (the batch would be written again after a restart, and
// logged as a failure it is not).
const commitTimeout = 10 * time.Second

// Config says what to consume and where to write it.
type Config struct {
	// ClientOpts reach the cluster (seed brokers, client id, ...).
	ClientOpts []kgo.Opt
	// Topic is consumed; publish.DefaultTopic if empty.
	Topic string
	// Group is the consumer group; DefaultGroup if empty.
	Group string
	// DB receives the batches. Required; the caller closes it after Run.
	DB ridersdb.DB
	// BatchRows is the most records in one transaction; DefaultBatchRows
	// if zero.
	BatchRows int
	// BatchDelay is how long a batch may wait for more records after its
	// first one arrived; DefaultBatchDelay if zero.
	BatchDelay time.Duration
	// InstanceID, if set, makes the member static (kgo.InstanceID): a
	// restart with the same id gets its partitions back without a
	// rebalance.
	InstanceID string
	// ShareGroup, if set, consumes in this share group (KIP-932) instead
	// of the consumer group Group: every sink reads every partition and
	// the broker hands each record to one of them, so more sinks than
	// partitions all write (share.go). Records are acknowledged after the
	// database commit; the group's share.auto.offset.reset is set to
	// earliest at start. It cannot be combined with InstanceID.
	ShareGroup string
	// Logger receives events; slog.Default() if nil.
	Logger *slog.Logger
	// UnreachableLogEvery is how often a warning that a broker cannot be
	// connected to is repeated while it lasts; DefaultUnreachableLogEvery
	// if zero.
	UnreachableLogEvery time.Duration
	// ObserveDelay, if set, is called from the sink's goroutine with each
	// written record's delay: from its producer timestamp to the commit
	// of the transaction that wrote it (benchmarks keep every delay;
	// Stats keeps a sample).
	ObserveDelay func(time.Duration)
}

// Sink consumes the topic in a group and writes batches to the database.
type Sink struct {
	cfg Config
	log *slog.Logger

	consumed, inserted, duplicates, invalid, txs atomic.Int64
	truncated, stale, dataLoss                   atomic.Int64
	lastCommit                                   atomic.Int64 // unix nanoseconds
	delays                                       delayWindow

	mu        sync.Mutex
	owned     map[int32]bool      // partitions currently assigned
	seen      map[int32]time.Time // share mode: when records of each partition were last written
	ackErrors atomic.Int64        // share mode: acknowledgements the broker refused

	hurry       atomic.Bool // a rebalance is waiting for the batch
	invalidMu   sync.Mutex
	invalidLast time.Time // when an invalid record was last logged
	invalidHeld int64     // invalid records since then, not logged
}

// New checks cfg and fills in its defaults. Nothing connects until Run.
func New(cfg Config) (*Sink, error) {
	if cfg.DB == nil {
		return nil, errors.New("sink: Config.DB is required")
	}
	if cfg.ShareGroup != "" && cfg.InstanceID != "" {
		return nil, errors.New("sink: a share group has no static members: give ShareGroup or InstanceID, not both")
	}
	if cfg.Topic == "" {
		cfg.Topic = publish.DefaultTopic
	}
	if cfg.Group == "" {
		cfg.Group = DefaultGroup
	}
	if cfg.BatchRows <= 0 {
		cfg.BatchRows = DefaultBatchRows
	}
	if cfg.BatchDelay <= 0 {
		cfg.BatchDelay = DefaultBatchDelay
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.UnreachableLogEvery <= 0 {
		cfg.UnreachableLogEvery = DefaultUnreachableLogEvery
	}
	log := cfg.Logger.With("group", cfg.Group, "topic", cfg.Topic)
	if cfg.ShareGroup != "" {
		log = cfg.Logger.With("share_group", cfg.ShareGroup, "topic", cfg.Topic)
	}
	return &Sink{cfg: cfg, log: log, owned: make(map[int32]bool), seen: make(map[int32]time.Time)}, nil
}

// client builds the group consumer.
func (s *Sink) client() (*kgo.Client, error) {
	opts := []kgo.Opt{
		kgo.ConsumerGroup(s.cfg.Group),
		kgo.ConsumeTopics(s.cfg.Topic),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.OnPartitionsAssigned(s.onAssigned),
		kgo.OnPartitionsRevoked(s.onRevoked),
		kgo.OnPartitionsLost(s.onLost),
		kgo.OnPartitionsCallbackBlocked(func(context.Context, *kgo.Client) { s.hurry.Store(true) }),
		kgo.FetchMaxWait(time.Second),
		kgo.WithHooks(reach.NewMonitor(s.cfg.UnreachableLogEvery, 0, s.reachEvent)),
	}
	if s.cfg.InstanceID != "" {
		opts = append(opts, kgo.InstanceID(s.cfg.InstanceID))
	}
	cl, err := kgo.NewClient(append(opts, s.cfg.ClientOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("sink: kafka client: %w", err)
	}
	return cl, nil
}

// Run joins the group and writes batches until ctx ends; then it finishes
// the batch being written or in hand (bounded by shutdownFlush), commits
// it and leaves the group. It returns nil after a clean stop, or the error
// that stopped it.
func (s *Sink) Run(ctx context.Context) error {
	if s.cfg.ShareGroup != "" {
		return s.runShare(ctx)
	}
	cl, err := s.client()
	if err != nil {
		return err
	}
	defer func() {
		cl.AllowRebalance()
		cl.Close() // leaves the group (unless static)
		s.setOwned(nil)
	}()
	// Batches are written under wctx, which outlives ctx by shutdownFlush:
	// a stop during a write lets the write finish.
	wctx, stopW := afterStop(ctx, shutdownFlush)
	defer stopW()
	s.log.Info("sink started", "batch_rows", s.cfg.BatchRows, "batch_delay", s.cfg.BatchDelay)
	var (
		batch      = make([]*kgo.Record, 0, s.cfg.BatchRows)
		batchStart time.Time
	)
	for {
		if ctx.Err() != nil {
			if len(batch) > 0 {
				s.flush(wctx, cl, batch)
			}
			s.log.Info("sink stopped")
			return nil
		}
		wait := time.Second // an idle poll still ends, to allow rebalances
		if len(batch) > 0 {
			wait = time.Until(batchStart.Add(s.cfg.BatchDelay))
		}
		pctx, cancel := context.WithTimeout(ctx, max(wait, time.Millisecond))
		fs := cl.PollRecords(pctx, s.cfg.BatchRows-len(batch))
		cancel()
		if fs.IsClientClosed() {
			return errors.New("sink: kafka client closed")
		}
		fs.EachError(s.fetchError)
		fs.EachRecord(func(r *kgo.Record) {
			if len(batch) == 0 {
				batchStart = time.Now()
			}
			batch = append(batch, r)
		})
		if len(batch) == 0 {
			cl.AllowRebalance()
			continue
		}
		if len(batch) >= s.cfg.BatchRows || !time.Now().Before(batchStart.Add(s.cfg.BatchDelay)) || s.hurry.Load() || ctx.Err() != nil {
			if ctx.Err() != nil {
				continue // the shutdown path above writes it
			}
			s.flush(wctx, cl, batch)
			batch = batch[:0]
			s.hurry.Store(false)
			cl.AllowRebalance()
		}
	}
}

// afterStop returns a context that ends grace after parent ends (or at
// once when the returned stop is called): the time an orderly stop gives
// work already started. Its goroutine ends with it.
func afterStop(parent context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.WithoutCancel(parent))
	stopWatch := context.AfterFunc(parent, func() {
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-t.C:
			cancel()
		case <-ctx.Done():
		}
	})
	return ctx, func() { stopWatch(); cancel() }
}

// fetchError logs a fetch error. kgo.ErrDataLoss is franz-go noticing,
// through the leader epochs (KIP-320), that the broker lost records the
// sink had fetched: it resets to where the log diverged and goes on, and
// the records it then reads at those offsets are written over the lost
// ones (see ridersdb's truncation rule).
func (s *Sink) fetchError(topic string, p int32, err error) {
	var loss *kgo.ErrDataLoss
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
	case errors.As(err, &loss):
		s.dataLoss.Add(1)
		s.log.Warn("broker lost records the sink had fetched (log truncated); resuming where the log diverged",
			"topic", loss.Topic, "partition", loss.Partition, "consumed_to", loss.ConsumedTo, "consumed_epoch", loss.ConsumedToEpoch,
			"reset_to", loss.ResetTo, "reset_epoch", loss.ResetToEpoch)
	default:
		s.log.Warn("fetch error", "topic", topic, "partition", p, "err", err)
	}
}

// reachEvent logs a change in whether a broker can be connected to: the
// client retries by itself, the log says that it does and why.
func (s *Sink) reachEvent(e reach.Event) {
	if e.Reachable {
		s.log.Info("connected to the Kafka cluster again", "broker", e.Addr, "down_for", e.At.Sub(e.Since).Round(time.Millisecond))
		return
	}
	s.log.Warn("cannot connect to the Kafka cluster; retrying", "broker", e.Addr, "err", e.Err,
		"down_for", e.At.Sub(e.Since).Round(time.Millisecond))
}

// Logger returns the sink's logger (with group and topic attributes).
func (s *Sink) Logger() *slog.Logger { return s.log }
