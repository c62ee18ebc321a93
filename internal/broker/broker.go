package broker

// broker.go opens and closes the broker's state: topic metadata, the
// partition logs, the producer id allocator and the background loops.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/courier-dev/courier/internal/broker/acl"
	"github.com/courier-dev/courier/internal/broker/cleaner"
	"github.com/courier-dev/courier/internal/broker/group"
	"github.com/courier-dev/courier/internal/broker/loglevel"
	"github.com/courier-dev/courier/internal/broker/membudget"
	"github.com/courier-dev/courier/internal/broker/share"
	"github.com/courier-dev/courier/internal/broker/storage"
	"github.com/courier-dev/courier/internal/broker/topics"
	"github.com/courier-dev/courier/internal/broker/txn"
	"github.com/courier-dev/courier/internal/broker/users"
	"github.com/courier-dev/courier/internal/broker/vfs"
)

// Broker is a single-node Kafka broker's state and request handlers.
type Broker struct {
	cfg       Config
	topics    *topics.Store
	pids      *producerIDs
	groups    *group.Coordinator
	txns      *txn.Coordinator
	clusterID string
	metrics   *Metrics
	rejects   rejectLog // warnings about refused batches, rate limited
	lock      *dataLock
	// acls holds the ACLs (DATA/meta/acls.json), opened even when
	// enforcement is off; see Config.AuthorizerEnabled.
	acls *acl.Authorizer
	// users holds the SASL/SCRAM credentials (DATA/meta/users.json).
	users *users.Store
	// files bounds the open files of sealed segments of every partition.
	files *storage.FileCache
	// epoch is this run's leader epoch of every partition (leader_epoch.go).
	epoch int32
	// fetchMem is the Config.FetchMemoryBytes budget (fetchmem.go).
	fetchMem *membudget.Budget
	// cleaner compacts the partitions of compacted topics.
	cleaner *cleaner.Manager
	// levels are the components' loggers (broker_loggers.go).
	levels *loglevel.Levels
	// dynamic holds the broker configs set by clients
	// (dynamic_configs.go).
	dynamic *dynamicConfigs
	// share is the share-group coordinator (share_groups.go), groupCfgs
	// the GROUP config resource (group_configs.go).
	share     *share.Coordinator
	groupCfgs *groupConfigStore

	// mu guards the partition table; handlers hold it shared only to
	// look partitions up, never across I/O.
	mu     sync.RWMutex
	parts  map[string][]*partition
	byID   map[[16]byte]string
	nparts int // partitions in parts, for the partition limit
	closed bool
	// topicsVersion changes, under mu, whenever parts gains or loses a
	// topic or partitions: the group coordinator's cue (group_topics.go).
	topicsVersion atomic.Uint64

	// adminMu serializes topic creation, deletion and partition changes,
	// which touch both the metadata store and the partition table.
	adminMu sync.Mutex

	stop chan struct{}
	bg   sync.WaitGroup
}

// partition is one partition's log.
type partition struct {
	topic string
	index int32
	log   *storage.Log
}

// metaDir and logsDir split the data directory.
func (b *Broker) metaDir() string { return filepath.Join(b.cfg.DataDir, "meta") }
func (b *Broker) logsDir() string { return filepath.Join(b.cfg.DataDir, "logs") }

// partitionDir is where a partition's segments live.
func (b *Broker) partitionDir(topic string, index int32) string {
	return filepath.Join(b.logsDir(), topic+"-"+strconv.Itoa(int(index)))
}

// Open loads the broker's state from cfg.DataDir, recovering every
// partition log, and starts its background loops.
func Open(cfg Config) (*Broker, error) {
	cfg = cfg.withDefaults()
	if err := cfg.checkShareDefaults(); err != nil {
		return nil, err
	}
	b := &Broker{
		cfg:     cfg,
		parts:   make(map[string][]*partition),
		byID:    make(map[[16]byte]string),
		stop:    make(chan struct{}),
		metrics: newMetrics(),
		files:   storage.NewFileCache(segmentFileCacheSize()),
		// The fetch memory budget, shared by every connection's fetches.
		fetchMem: membudget.New(cfg.FetchMemoryBytes),
		levels:   cfg.LogLevels,
	}
	b.cleaner = cleaner.New(cfg.Cleaner, b.cleanerTargets)
	b.levels.Register(loggerBroker, loggerStorage, loggerGroup, loggerTopics, loggerACL, loggerUsers, loggerCleaner, loggerTxn, LoggerServer)
	b.metrics.registry.MustRegister(partitionCollector{b}, journalCollector{b}, txnCollector{b}, shareCollector{b}, groupCollector{b})
	b.metrics.observeCleaner(b.cleaner)
	b.metrics.observeFetchMemory(b.fetchMem)
	// Durably: a partition's directory is made durable with its first
	// data, on the assumption that DATA/logs itself already is.
	for _, d := range []string{b.logsDir(), b.metaDir()} {
		if err := vfs.MkdirAllDurable(vfs.Default, d, 0o755); err != nil {
			return nil, fmt.Errorf("create data dir: %w", err)
		}
	}
	var err error
	if b.lock, err = lockDataDir(cfg.DataDir); err != nil {
		return nil, err
	}
	opened := false
	defer func() {
		if !opened {
			if b.topics != nil {
				b.topics.Close()
			}
			b.lock.release()
		}
	}()
	var ignored int
	if b.dynamic, ignored, err = openDynamicConfigs(b.metaDir(), cfg.Logger); err != nil {
		return nil, err
	}
	b.metrics.brokerConfigsIgnored.Set(float64(ignored))
	if b.groupCfgs, err = openGroupConfigs(b.metaDir(), cfg.Logger); err != nil {
		return nil, err
	}
	if b.topics, err = b.openTopicStore(); err != nil {
		return nil, err
	}
	if err := b.checkMetadataPresent(); err != nil {
		return nil, err
	}
	if b.pids, err = openProducerIDs(filepath.Join(b.metaDir(), "producer-ids")); err != nil {
		return nil, err
	}
	if b.clusterID, err = loadClusterID(filepath.Join(b.metaDir(), "cluster-id")); err != nil {
		return nil, err
	}
	if b.epoch, err = nextLeaderEpoch(filepath.Join(b.metaDir(), "leader-epoch")); err != nil {
		return nil, err
	}
	clean, err := b.takeCleanShutdownMarker()
	if err != nil {
		return nil, err
	}
	if err := b.sweepLogsDir(); err != nil {
		return nil, err
	}
	if b.acls, err = acl.Open(b.metaDir(), cfg.SuperUsers, b.levels.Logger(loggerACL)); err != nil {
		return nil, err
	}
	if b.users, err = users.Open(b.metaDir(), b.levels.Logger(loggerUsers)); err != nil {
		return nil, err
	}
	if b.groups, err = group.Open(filepath.Join(b.metaDir(), "groups"), b.groupOptions()...); err != nil {
		return nil, err
	}
	start := time.Now()
	for _, t := range b.topics.List() {
		if err := b.openTopic(t); err != nil {
			b.closeLogs()
			b.groups.Close()
			return nil, err
		}
	}
	// The logs left the fsync of what they recovered to this one call,
	// needed only after an unclean stop: Close fsyncs everything.
	if !clean {
		if err := syncFilesystem(b.cfg.DataDir); err != nil {
			b.closeLogs()
			b.groups.Close()
			return nil, err
		}
	}
	unknownTopic := func(t string) bool { _, ok := b.topics.Get(t); return !ok }
	if err := b.groups.DeleteOffsetsWhere(unknownTopic)(context.Background()); err != nil {
		b.closeLogs()
		b.groups.Close()
		return nil, fmt.Errorf("drop offsets of deleted topics: %w", err)
	}
	if b.txns, err = b.openTransactions(); err != nil {
		b.closeLogs()
		b.groups.Close()
		return nil, err
	}
	if b.share, err = b.openShare(); err != nil {
		b.txns.Close()
		b.closeLogs()
		b.groups.Close()
		return nil, err
	}
	cfg.Logger.Info("broker state loaded", "data", cfg.DataDir, "topics", len(b.parts), "leader_epoch", b.epoch, "took", time.Since(start).Round(time.Millisecond))
	b.startBackground()
	opened = true
	return b, nil
}

// openTopic opens (creating as needed) the logs of t's partitions that are
// not open yet, and publishes them. On error it closes what it opened.
func (b *Broker) openTopic(t topics.Topic) error {
	b.mu.RLock()
	have := len(b.parts[t.Name])
	b.mu.RUnlock()
	opened, err := b.openPartitions(t, int32(have), false)
	if err != nil {
		return err
	}
	b.publishPartitions(t, opened)
	return nil
}

// openPartitions opens the logs of t's partitions from index first on,
// without publishing them. Each partition directory gets its
// partition.metadata copy: written for new partitions, and for existing
// ones only if it is missing (one stat, so that a start with thousands of
// partitions does not read them all).
func (b *Broker) openPartitions(t topics.Topic, first int32, fresh bool) ([]*partition, error) {
	// The name becomes a path: never build one from an unchecked name.
	if err := topics.ValidateName(t.Name); err != nil {
		return nil, fmt.Errorf("open topic: %w", err)
	}
	var opened []*partition
	sc, opts := b.storageConfig(t), b.storageOptions() // resolved once for every partition
	for i := first; i < t.Partitions; i++ {
		dir := b.partitionDir(t.Name, i)
		l, err := storage.Open(dir, sc, opts)
		if err != nil {
			for _, p := range opened {
				p.log.Close()
			}
			return nil, fmt.Errorf("open partition %s-%d: %w", t.Name, i, err)
		}
		b.metrics.recovery.add(l.Recovery())
		opened = append(opened, &partition{topic: t.Name, index: i, log: l})
		if !fresh && hasPartitionMeta(dir) {
			continue
		}
		if err := writePartitionMeta(dir, t, i); err != nil {
			b.cfg.Logger.Warn("write partition metadata copy", "topic", t.Name, "partition", i, "err", err)
		}
	}
	return opened, nil
}

// publishPartitions makes opened partitions of t reachable by handlers.
func (b *Broker) publishPartitions(t topics.Topic, opened []*partition) {
	b.mu.Lock()
	b.parts[t.Name] = append(b.parts[t.Name], opened...)
	b.byID[t.ID] = t.Name
	b.nparts += len(opened)
	b.topicsVersion.Add(1)
	b.mu.Unlock()
}

// storageOptions are the broker-wide storage settings. Recovery's fsyncs
// are left to one syncfs in Open (new partitions have nothing to fsync).
func (b *Broker) storageOptions() storage.Options {
	return storage.Options{Sync: b.cfg.Sync, Logger: b.levels.Logger(loggerStorage), Files: b.files, SkipRecoverySync: true, LeaderEpoch: b.epoch}
}

// lookup returns a partition, or nil.
func (b *Broker) lookup(topic string, index int32) *partition {
	b.mu.RLock()
	defer b.mu.RUnlock()
	ps := b.parts[topic]
	if index < 0 || int(index) >= len(ps) {
		return nil
	}
	return ps[index]
}

// topicPartitions returns a topic's partitions, or nil when unknown.
func (b *Broker) topicPartitions(topic string) []*partition {
	b.mu.RLock()
	defer b.mu.RUnlock()
	return b.parts[topic]
}

// topicName resolves a topic id.
func (b *Broker) topicName(id [16]byte) (string, bool) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	name, ok := b.byID[id]
	return name, ok
}

// Close stops the background loops and syncs and closes every log.
func (b *Broker) Close() error {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return nil
	}
	b.closed = true
	b.mu.Unlock()
	close(b.stop)
	b.bg.Wait()
	b.cleaner.Close()
	// The transaction coordinator first: it may be writing markers.
	err := errors.Join(b.txns.Close(), b.share.Close(), b.groups.Close(), b.closeLogs(), b.topics.Close())
	if err == nil {
		err = b.markCleanShutdown()
	}
	return errors.Join(err, b.lock.release())
}

// closeLogs closes every open log.
func (b *Broker) closeLogs() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	var errs []error
	for _, ps := range b.parts {
		for _, p := range ps {
			if err := p.log.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close %s-%d: %w", p.topic, p.index, err))
			}
		}
	}
	b.parts = map[string][]*partition{}
	b.nparts = 0
	return errors.Join(errs...)
}

// ClusterID is the cluster id reported to clients, stable across restarts.
func (b *Broker) ClusterID() string { return b.clusterID }

// forEachPartition calls fn for every open partition (outside the lock).
func (b *Broker) forEachPartition(fn func(*partition)) {
	b.mu.RLock()
	var all []*partition
	for _, ps := range b.parts {
		all = append(all, ps...)
	}
	b.mu.RUnlock()
	for _, p := range all {
		fn(p)
	}
}

// background loops -------------------------------------------------------

// startBackground runs the log cleaner, the interval flusher and the
// retention loop. With
// --fsync always the flusher is a backstop: it makes visible (fsyncs) what
// no producer waited for. Idle partitions cost it nothing.
func (b *Broker) startBackground() {
	b.cleaner.Start()
	b.every(b.cfg.SyncInterval, func() {
		b.forEachPartition(func(p *partition) {
			// A log closed by a concurrent topic deletion has nothing left to sync.
			if err := p.log.Sync(); err != nil && !errors.Is(err, fs.ErrClosed) {
				b.cfg.Logger.Error("interval fsync failed", "partition", p.topic+"-"+strconv.Itoa(int(p.index)), "err", err)
			}
		})
	})
	b.every(producerExpiryInterval, func() { b.expireProducers(time.Now()) })
	b.every(b.cfg.RetentionCheckInterval, func() {
		b.forEachPartition(func(p *partition) {
			if err := p.log.ApplyRetention(); err != nil && !errors.Is(err, fs.ErrClosed) {
				b.cfg.Logger.Error("retention failed", "partition", p.topic+"-"+strconv.Itoa(int(p.index)), "err", err)
			}
		})
	})
}

// every runs fn each period until Close.
func (b *Broker) every(period time.Duration, fn func()) {
	b.bg.Add(1)
	go func() {
		defer b.bg.Done()
		t := time.NewTicker(period)
		defer t.Stop()
		for {
			select {
			case <-b.stop:
				return
			case <-t.C:
				fn()
			}
		}
	}()
}

// ctxDone reports whether ctx has ended.
func ctxDone(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return true
	default:
		return false
	}
}

// nonZero maps a retention setting of 0 ("keep nothing") to 1: storage
// reads a zero field as "use the default".
func nonZero(v int64) int64 {
	if v == 0 {
		return 1
	}
	return v
}

// cleanerTargets lists the partitions of compacted topics for the cleaner.
func (b *Broker) cleanerTargets() []cleaner.Target {
	var out []cleaner.Target
	b.forEachPartition(func(p *partition) {
		if p.log.Config().Policy.Compacts() {
			out = append(out, cleaner.Target{Name: p.topic + "-" + strconv.Itoa(int(p.index)), Log: p.log})
		}
	})
	return out
}
