package storage

import (
	"log/slog"
	"math"
	"time"
)

// SyncMode says when appended data is forced to stable storage.
type SyncMode int

const (
	// SyncInterval leaves fsync to the broker's interval flusher, which calls
	// Log.Sync; Log.WaitDurable returns at once. This is Kafka's default
	// (durability comes from replication, or here from the OS page cache).
	SyncInterval SyncMode = iota
	// SyncAlways makes Log.WaitDurable block until the offset is fsynced.
	// Concurrent waiters share one fsync (group commit).
	SyncAlways
)

// Config holds a partition's per-topic settings (Kafka topic configs). A zero
// field means Kafka's default, so Config{} is usable; because of that, the
// Kafka values retention.ms=0 and retention.bytes=0 ("delete everything not
// active") cannot be expressed: use 1 instead.
type Config struct {
	SegmentBytes       int64 // segment.bytes (default 1 GiB; capped at 2 GiB-1 so file positions fit the index)
	SegmentMs          int64 // segment.ms (default 7 days)
	RetentionMs        int64 // retention.ms, negative = forever (default 7 days)
	RetentionBytes     int64 // retention.bytes, negative = unlimited (default -1)
	MaxMessageBytes    int32 // max.message.bytes, the largest batch accepted (default 1048588)
	LogAppendTime      bool  // message.timestamp.type=LogAppendTime: the broker stamps batches
	IndexIntervalBytes int32 // index.interval.bytes, bytes between offset-index entries (default 4096)

	// TimestampBeforeMaxMs and TimestampAfterMaxMs are
	// message.timestamp.before.max.ms and message.timestamp.after.max.ms
	// (KIP-937): how far before or after the broker's clock a CreateTime
	// record's timestamp may lie. Defaults are Kafka 4's: unlimited before,
	// one hour after. As elsewhere in Config 0 selects the default, so
	// Kafka's 0 ("no difference allowed") is written as any negative value.
	TimestampBeforeMaxMs int64
	TimestampAfterMaxMs  int64

	// SegmentJitterMs is segment.jitter.ms: a random amount, up to it,
	// taken off segment.ms for each new segment so that partitions created
	// together do not all roll at once (default 0).
	SegmentJitterMs int64
	// SegmentIndexBytes is segment.index.bytes: a segment is rolled when
	// its offset index would grow past this many bytes (default 10 MiB).
	SegmentIndexBytes int32

	// Policy is cleanup.policy: delete (the zero value), compact, or both.
	Policy CleanupPolicy
	// DeleteRetentionMs is delete.retention.ms: how long a tombstone (a
	// record with a key and a null value) is kept after the cleaner first
	// reached it, so that consumers reading from the start see deletes
	// (default 1 day; as elsewhere 0 selects the default, so Kafka's 0 is
	// written as any negative value).
	DeleteRetentionMs int64
	// MinCompactionLagMs is min.compaction.lag.ms: a record younger than
	// this is never compacted away (default 0).
	MinCompactionLagMs int64
	// MaxCompactionLagMs is max.compaction.lag.ms: a record older than this
	// makes its partition eligible for cleaning whatever its dirty ratio
	// (default, as 0 here: unlimited).
	MaxCompactionLagMs int64
	// MinCleanableDirtyRatio is min.cleanable.dirty.ratio: the share of a
	// compacted log's bytes that must be uncleaned before the cleaner
	// takes it (default 0.5; as elsewhere 0 selects the default, so
	// Kafka's 0 is written as any negative value).
	MinCleanableDirtyRatio float64

	// Compression is compression.type: producer (the zero value) stores
	// batches as produced; any other codec makes Append recompress a batch
	// whose codec differs.
	Compression Compression
	// ProducerIDExpirationMs is producer.id.expiration.ms: a producer
	// with no ongoing transaction whose last batch's timestamp is this old
	// is forgotten (default 1 day, Kafka's).
	ProducerIDExpirationMs int64
	// CompressionLevel is the level for Compression (compression.gzip.level,
	// compression.lz4.level or compression.zstd.level, KIP-390); 0 is the
	// codec's default.
	CompressionLevel int
}

// CleanupPolicy is a topic's cleanup.policy.
type CleanupPolicy uint8

// The cleanup policies. Delete is the zero value, Kafka's default.
const (
	PolicyDelete        CleanupPolicy = 0
	PolicyCompact       CleanupPolicy = 1
	PolicyCompactDelete CleanupPolicy = 2
)

// Compacts reports whether the log cleaner compacts logs with the policy.
func (p CleanupPolicy) Compacts() bool { return p == PolicyCompact || p == PolicyCompactDelete }

// Deletes reports whether retention.ms and retention.bytes apply.
func (p CleanupPolicy) Deletes() bool { return p == PolicyDelete || p == PolicyCompactDelete }

// Compression is a topic's compression.type.
type Compression uint8

// The compression types. CompressionProducer keeps the producer's codec.
const (
	CompressionProducer Compression = iota
	CompressionNone
	CompressionGzip
	CompressionSnappy
	CompressionLZ4
	CompressionZstd
)

// Options are broker-wide settings shared by every partition's log.
type Options struct {
	Sync   SyncMode
	Now    func() time.Time // injectable clock for retention, rolling and LogAppendTime; nil = time.Now
	Logger *slog.Logger     // nil = slog.Default()
	// Files bounds the open files of sealed segments across the logs that
	// share it; nil uses a process-wide cache of 1024.
	Files *FileCache
	// LeaderEpoch is the leader epoch appends are stamped with (KIP-101):
	// the broker starts a new one at every start. It also bounds the
	// epochs stored batches may carry (see epoch.go).
	LeaderEpoch int32
	// SkipRecoverySync leaves the fsync of what Open recovered to the
	// caller, which must make the whole filesystem durable (syncfs) before
	// serving: a broker opening thousands of partitions then pays one
	// syncfs instead of two fsyncs per partition.
	SkipRecoverySync bool
}

// Kafka's defaults for the topic configs above.
const (
	defaultSegmentBytes        = 1 << 30
	defaultSegmentMs           = 7 * 24 * 60 * 60 * 1000
	defaultRetentionMs         = 7 * 24 * 60 * 60 * 1000
	defaultMaxMessageBytes     = 1048588
	defaultIndexIntervalBytes  = 4096
	defaultTimestampAfterMaxMs = 60 * 60 * 1000
	defaultSegmentIndexBytes   = 10 << 20
	defaultProducerIDExpiry    = 24 * 60 * 60 * 1000
)

// withDefaults fills zero fields with Kafka's defaults and clamps values the
// on-disk format cannot represent.
func (c Config) withDefaults() Config {
	if c.SegmentBytes <= 0 {
		c.SegmentBytes = defaultSegmentBytes
	}
	// Index entries store file positions as uint32 and Kafka's segment.bytes
	// is an int; keeping segments under 2 GiB keeps both honest.
	if c.SegmentBytes > math.MaxInt32 {
		c.SegmentBytes = math.MaxInt32
	}
	if c.SegmentMs <= 0 {
		c.SegmentMs = defaultSegmentMs
	}
	if c.RetentionMs == 0 {
		c.RetentionMs = defaultRetentionMs
	}
	if c.RetentionBytes == 0 {
		c.RetentionBytes = -1
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = defaultMaxMessageBytes
	}
	if c.IndexIntervalBytes <= 0 {
		c.IndexIntervalBytes = defaultIndexIntervalBytes
	}
	if c.SegmentIndexBytes <= 0 {
		c.SegmentIndexBytes = defaultSegmentIndexBytes
	}
	if c.ProducerIDExpirationMs <= 0 {
		c.ProducerIDExpirationMs = defaultProducerIDExpiry
	}
	// Kafka's minimum segment.index.bytes holds at least one entry.
	c.SegmentIndexBytes = max(c.SegmentIndexBytes, timeEntrySize)
	return c
}

// timestampBeforeMax is the effective message.timestamp.before.max.ms.
func (c *Config) timestampBeforeMax() int64 {
	switch {
	case c.TimestampBeforeMaxMs < 0:
		return 0
	case c.TimestampBeforeMaxMs == 0:
		return math.MaxInt64
	}
	return c.TimestampBeforeMaxMs
}

// timestampAfterMax is the effective message.timestamp.after.max.ms.
func (c *Config) timestampAfterMax() int64 {
	switch {
	case c.TimestampAfterMaxMs < 0:
		return 0
	case c.TimestampAfterMaxMs == 0:
		return defaultTimestampAfterMaxMs
	}
	return c.TimestampAfterMaxMs
}

// withDefaults fills the nil hooks.
func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Files == nil {
		o.Files = defaultFileCache
	}
	return o
}

// codec returns the batch codec id compression.type asks for; ok is false
// for producer (keep the producer's codec).
func (c Compression) codec() (id int8, ok bool) {
	switch c {
	case CompressionNone:
		return codecNone, true
	case CompressionGzip:
		return codecGzip, true
	case CompressionSnappy:
		return codecSnappy, true
	case CompressionLZ4:
		return codecLZ4, true
	case CompressionZstd:
		return codecZstd, true
	}
	return 0, false
}
