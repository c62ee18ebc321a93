package broker

// transactions.go joins the transaction coordinator (package txn) to the
// broker: it opens the coordinator over DATA/meta/transactions, and gives
// it the two ways a transaction ends, which the broker owns: a COMMIT or
// ABORT marker appended to each partition the transaction wrote to (made
// durable before the coordinator records the transaction complete), and
// the pending transactional offsets of each group it committed offsets to
// made visible or dropped. It also maps the coordinator's answers to the
// codes older request versions expect, and runs the partitions' producer
// expiry (producer.id.expiration.ms).

import (
	"cmp"
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/courier-dev/courier/internal/broker/storage"
	"github.com/courier-dev/courier/internal/broker/txn"
	"github.com/twmb/franz-go/pkg/kerr"
)

// Kafka's defaults of the transaction settings.
const (
	txnDefaultMaxTimeout        = 15 * time.Minute
	txnDefaultIDExpiration      = 7 * 24 * time.Hour
	defaultProducerIDExpiration = 24 * time.Hour
	// producerExpiryInterval is Kafka's
	// producer.id.expiration.check.interval.ms.
	producerExpiryInterval = 10 * time.Minute
)

// transactionStateTopic is Kafka's internal topic of transaction state.
// Courier keeps that state in its own journal; the topic is created, empty
// and internal, so that clients that look for it find it.
const transactionStateTopic = "__transaction_state"

// durationMsOr is d in milliseconds, or def's when d is not set.
func durationMsOr(d, def time.Duration) string {
	return strconv.FormatInt(cmp.Or(max(d, 0), def).Milliseconds(), 10)
}

// openTransactions opens the transaction coordinator. It runs after the
// partitions and the group coordinator are open: its recovery finishes the
// transactions a crash left prepared, by writing their markers.
func (b *Broker) openTransactions() (*txn.Coordinator, error) {
	c, err := txn.Open(txn.Options{
		Path:               filepath.Join(b.metaDir(), "transactions", "txn.log"),
		Logger:             b.levels.Logger(loggerTxn),
		Markers:            txnMarkers{b},
		AllocateProducerID: b.pids.allocate,
		MaxTimeout:         cmp.Or(b.cfg.TransactionMaxTimeout, txnDefaultMaxTimeout),
		IDExpiration:       cmp.Or(b.cfg.TransactionalIDExpiration, txnDefaultIDExpiration),
	})
	if err != nil {
		return nil, fmt.Errorf("open transaction coordinator: %w", err)
	}
	return c, nil
}

// txnMarkers is how the coordinator ends transactions on this broker.
type txnMarkers struct{ b *Broker }

// WritePartitionMarkers appends the marker to each partition, then waits
// until every one is durable (the fsyncs of different partitions run
// concurrently). A partition that no longer exists (its topic
// was deleted) has nothing left to end.
func (m txnMarkers) WritePartitionMarkers(ctx context.Context, pid int64, epoch int16, commit bool, coordinatorEpoch int32, parts []txn.Partition) map[txn.Partition]error {
	var (
		mu     sync.Mutex
		failed map[txn.Partition]error
	)
	fail := func(tp txn.Partition, err error) {
		mu.Lock()
		defer mu.Unlock()
		if failed == nil {
			failed = map[txn.Partition]error{}
		}
		failed[tp] = err
	}
	type written struct {
		tp     txn.Partition
		log    *storage.Log
		offset int64
	}
	var wrote []written
	for _, tp := range parts {
		if err := ctx.Err(); err != nil {
			fail(tp, err)
			continue
		}
		p := m.b.lookup(tp.Topic, tp.Partition)
		if p == nil {
			continue
		}
		off, err := p.log.AppendMarker(storage.Marker{ProducerID: pid, ProducerEpoch: epoch, Commit: commit, CoordinatorEpoch: coordinatorEpoch})
		if err != nil {
			fail(tp, err)
			continue
		}
		if off >= 0 {
			wrote = append(wrote, written{tp, p.log, off})
		}
	}
	// The partitions' fsyncs run at once: EndTxn waits for the slowest,
	// not for their sum.
	var wg sync.WaitGroup
	for _, w := range wrote {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := durable(w.log, w.offset, m.b.cfg.Sync); err != nil {
				fail(w.tp, err)
			}
		}()
	}
	wg.Wait()
	return failed
}

// durable waits until offset of l is on disk: under --fsync always the
// log's group commit does it; otherwise the marker is fsynced now, since
// the coordinator forgets a completed transaction's partitions.
func durable(l *storage.Log, offset int64, mode storage.SyncMode) error {
	if mode == storage.SyncAlways {
		return l.WaitDurable(offset)
	}
	return l.Sync()
}

// CompleteGroupOffsets commits or drops the transaction's offsets in group.
func (m txnMarkers) CompleteGroupOffsets(ctx context.Context, group string, pid int64, epoch int16, commit bool) error {
	return m.b.groups.CompleteTxn(ctx, group, pid, epoch, commit)
}

// fencedCode is code as a request of the given version may carry it:
// PRODUCER_FENCED (KIP-588) is answered only from the version that
// introduced it on; older clients know INVALID_PRODUCER_EPOCH.
func fencedCode(code int16, version, since int16) int16 {
	if code == kerr.ProducerFenced.Code && version < since {
		return kerr.InvalidProducerEpoch.Code
	}
	return code
}

// expireProducers forgets, in every partition, the idempotent producers
// idle longer than producer.id.expiration.ms.
func (b *Broker) expireProducers(now time.Time) {
	b.mu.RLock()
	var logs []*storage.Log
	for _, ps := range b.parts {
		for _, p := range ps {
			logs = append(logs, p.log)
		}
	}
	b.mu.RUnlock()
	for _, l := range logs {
		l.ExpireProducers(now)
	}
}
