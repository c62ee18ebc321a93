package share

// options.go is what the coordinator is given: where its journal lives,
// the broker's topics and partition logs (Topics, Log), each group's
// settings (GroupConfig, from the GROUP config resource), the fetch
// memory budget, and its clock.

import (
	"errors"
	"log/slog"
	"time"

	"github.com/courier-dev/courier/internal/broker/group"
	"github.com/courier-dev/courier/internal/broker/membudget"
	"github.com/courier-dev/courier/internal/broker/storage"
	"github.com/courier-dev/courier/internal/broker/vfs"
)

// Log is what the coordinator reads of a partition; *storage.Log is one.
type Log interface {
	LogStartOffset() int64
	HighWatermark() int64
	LastStableOffset() int64
	// Read returns whole batches from the one holding offset.
	Read(offset int64, maxBytes int32) ([]byte, error)
	// ReadCommitted is Read below the last stable offset, with the
	// aborted transactions of what it returned.
	ReadCommitted(offset int64, maxBytes int32) ([]byte, []storage.AbortedTxn, error)
	// OffsetForTime is the first offset with a timestamp >= ts, or -1.
	OffsetForTime(ts int64) (offset int64, timestamp int64, err error)
	// Notify returns a channel closed at the next append.
	Notify() <-chan struct{}
}

// Topics is the broker's topic table as the coordinator sees it.
type Topics interface {
	// Topic returns a topic's id and partition count.
	Topic(name string) (id [16]byte, partitions int32, ok bool)
	// TopicName resolves a topic id.
	TopicName(id [16]byte) (string, bool)
	// Log returns a partition's log, or nil.
	Log(topic string, partition int32) Log
}

// Offset reset strategies of share.auto.offset.reset.
const (
	ResetLatest   = 0
	ResetEarliest = 1
	// ResetByDuration starts at the first record not older than
	// GroupConfig.ResetDuration.
	ResetByDuration = 2
)

// GroupConfig is one share group's effective settings: the group's
// configs (the GROUP config resource) over the broker's defaults.
type GroupConfig struct {
	// SessionTimeout is share.session.timeout.ms: a member not heard
	// from for this long is removed and its records released.
	SessionTimeout time.Duration
	// HeartbeatInterval is share.heartbeat.interval.ms, told to members.
	HeartbeatInterval time.Duration
	// LockDuration is share.record.lock.duration.ms.
	LockDuration time.Duration
	// DeliveryLimit is share.delivery.count.limit.
	DeliveryLimit int16
	// MaxLocks is share.partition.max.record.locks.
	MaxLocks int
	// Reset is share.auto.offset.reset (ResetLatest, ResetEarliest,
	// ResetByDuration with ResetDuration): where a share-partition
	// starts when the group first reads it.
	Reset         int
	ResetDuration time.Duration
	// ReadCommitted is share.isolation.level=read_committed: only
	// committed transactional records are delivered, up to the last
	// stable offset.
	ReadCommitted bool
	// RenewDisabled is share.renew.acknowledge.enable=false.
	RenewDisabled bool
}

// DefaultGroupConfig is Kafka's defaults.
func DefaultGroupConfig() GroupConfig {
	return GroupConfig{
		SessionTimeout:    45 * time.Second,
		HeartbeatInterval: 5 * time.Second,
		LockDuration:      30 * time.Second,
		DeliveryLimit:     5,
		MaxLocks:          2000,
	}
}

func (g GroupConfig) limits() Limits {
	return Limits{DeliveryLimit: g.DeliveryLimit, MaxLocks: g.MaxLocks, LockDuration: g.LockDuration}
}

// Defaults of Options' zero values.
const (
	// DefaultMaxGroupSize is group.share.max.size.
	DefaultMaxGroupSize = 200
	// DefaultSweepInterval is how often expired locks and sessions are
	// looked for.
	DefaultSweepInterval = 200 * time.Millisecond
	// DefaultMaxSessions is group.share.max.share.sessions.
	DefaultMaxSessions = 2000
)

// Options configures a Coordinator. Path and Topics are required.
type Options struct {
	// Path is the journal, DATA/meta/share/state.log.
	Path string
	// FS is where it lives; default vfs.Default.
	FS vfs.FS
	// Logger receives what recovery, expiries and failures did.
	Logger *slog.Logger
	// Clock tells the time and runs the sweeps; nil = real time.
	Clock  group.Clock
	Topics Topics
	// Config returns a group's settings; nil = DefaultGroupConfig.
	Config func(group string) GroupConfig
	// OtherGroup reports whether a classic or consumer group of that id
	// exists: the id is then refused to share groups (one namespace).
	OtherGroup func(group string) bool
	// MaxGroupSize is group.share.max.size (default 200).
	MaxGroupSize int
	// MaxSessions bounds the share sessions (default 2000).
	MaxSessions int
	// SweepInterval is how often locks and sessions are checked for
	// expiry (default 200 ms).
	SweepInterval time.Duration
	// FetchMemory is the broker's fetch memory budget: ShareFetch takes
	// what a partition read may allocate from it before reading, and
	// gives it back once the response is written (FetchReply). nil: no
	// bound.
	FetchMemory *membudget.Budget
	// CompactBytes is passed to the journal.
	CompactBytes int64
	// OnPanic is told when a sweep panicked (recovered and logged).
	OnPanic func(task string)
}

func (o *Options) setDefaults() error {
	if o.Path == "" || o.Topics == nil {
		return errors.New("share coordinator: Options.Path and Topics are required")
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
	if o.Config == nil {
		o.Config = func(string) GroupConfig { return DefaultGroupConfig() }
	}
	if o.OtherGroup == nil {
		o.OtherGroup = func(string) bool { return false }
	}
	if o.MaxGroupSize <= 0 {
		o.MaxGroupSize = DefaultMaxGroupSize
	}
	if o.MaxSessions <= 0 {
		o.MaxSessions = DefaultMaxSessions
	}
	if o.FetchMemory == nil {
		o.FetchMemory = membudget.New(0)
	}
	if o.SweepInterval <= 0 {
		o.SweepInterval = DefaultSweepInterval
	}
	return nil
}
