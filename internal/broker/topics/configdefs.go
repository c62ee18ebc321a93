package topics

// configdefs.go lists every topic config of Apache Kafka 4 (what
// kafka-configs.sh --describe --all lists for a topic), with Kafka's type,
// default and valid values (LogConfig, TopicConfig, QuotaConfig), and what
// Courier does with each: the ones that mean something on one node are
// mapped to storage.Config by the broker (broker.go's storageConfig); the
// replication and tiered-storage ones are accepted and described but have
// nothing to act on in a single-node broker without tiered storage.

import (
	"math"
	"strconv"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// Effects shared by several configs.
const (
	effectOneNode = "Accepted and described; no effect: Courier is a single node, so there is no other replica to elect, throttle or wait for."
	effectTiered  = "Accepted and described; no effect: Courier has no tiered storage (remote.storage.enable=true is refused, as by a Kafka broker with tiered storage off)."
	effectFsync   = "Accepted and described; no effect: when Courier fsyncs is the broker's --fsync setting (always: before acknowledging; interval: every --fsync-interval)."
)

func init() {
	long := kmsg.ConfigTypeLong
	integer := kmsg.ConfigTypeInt
	boolean := kmsg.ConfigTypeBoolean
	str := kmsg.ConfigTypeString
	list := kmsg.ConfigTypeList
	for _, d := range []ConfigDef{
		{Name: "cleanup.policy", Type: list, Default: "delete", check: listOf("compact", "delete"),
			Doc:    "A list of delete and compact: delete removes old segments by retention.ms and retention.bytes; compact keeps the newest record of each key (the log cleaner); both do both; the empty list does neither.",
			Effect: "Applied: delete (retention), compact (the log cleaner), or both; the empty list keeps everything."},
		{Name: "compression.type", Type: str, Default: "producer", check: oneOf("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"),
			Doc:    "The codec batches are stored with: producer keeps the producer's; uncompressed, gzip, snappy, lz4 or zstd recompresses batches in another codec.",
			Effect: "Applied: batches in another codec are recompressed on write (with the codec's level below)."},
		{Name: "compression.gzip.level", Type: integer, Default: "-1", check: gzipLevel,
			Doc: "The gzip level used when compression.type is gzip (1 to 9, or -1 for the codec's default).", Effect: "Applied with compression.type=gzip."},
		{Name: "compression.lz4.level", Type: integer, Default: "9", check: between(1, 17),
			Doc: "The lz4 level used when compression.type is lz4 (1 to 17).", Effect: "Applied with compression.type=lz4."},
		{Name: "compression.zstd.level", Type: integer, Default: "3", check: between(-131072, 22),
			Doc: "The zstd level used when compression.type is zstd (-131072 to 22).", Effect: "Applied with compression.type=zstd."},
		{Name: "delete.retention.ms", Type: long, Default: "86400000", check: atLeast(0),
			Doc: "How long a tombstone (a record with a key and no value) is kept in a compacted topic after the cleaner reached it, so that consumers reading from the start see the delete.", Effect: "Applied by the log cleaner."},
		{Name: "file.delete.delay.ms", Type: long, Default: "60000", check: atLeast(0),
			Doc:    "How long Kafka waits before removing a deleted segment's files.",
			Effect: "Accepted and described; no effect: Courier removes a segment when retention drops it (readers hold their open file until they finish)."},
		{Name: "flush.messages", Type: long, Default: strconv.FormatInt(math.MaxInt64, 10), check: atLeast(1),
			Doc: "Kafka fsyncs a partition after this many messages.", Effect: effectFsync},
		{Name: "flush.ms", Type: long, Default: strconv.FormatInt(math.MaxInt64, 10), check: atLeast(0),
			Doc: "Kafka fsyncs a partition when its oldest unflushed message is this old.", Effect: effectFsync},
		{Name: "follower.replication.throttled.replicas", Type: list, Default: "", check: throttledReplicas,
			Doc: "The replicas whose follower fetches are throttled: '*' or partition:broker pairs.", Effect: effectOneNode},
		{Name: "leader.replication.throttled.replicas", Type: list, Default: "", check: throttledReplicas,
			Doc: "The replicas whose leader-side replication is throttled: '*' or partition:broker pairs.", Effect: effectOneNode},
		{Name: "index.interval.bytes", Type: integer, Default: "4096", check: atLeast(0),
			Doc: "Bytes of batches between two offset index entries.", Effect: "Applied."},
		{Name: "local.retention.bytes", Type: long, Default: "-2", check: atLeast(-2),
			Doc: "With tiered storage, the local share of retention.bytes (-2: retention.bytes).", Effect: effectTiered},
		{Name: "local.retention.ms", Type: long, Default: "-2", check: atLeast(-2),
			Doc: "With tiered storage, the local share of retention.ms (-2: retention.ms).", Effect: effectTiered},
		{Name: "max.compaction.lag.ms", Type: long, Default: strconv.FormatInt(math.MaxInt64, 10), check: atLeast(1),
			Doc: "The longest a record may stay uncompacted: past it, its partition is cleaned whatever its dirty ratio.", Effect: "Applied by the log cleaner."},
		{Name: "max.message.bytes", Type: integer, Default: "1048588", check: atLeast(0),
			Doc: "The largest record batch accepted.", Effect: "Applied: a larger batch is refused with MESSAGE_TOO_LARGE."},
		{Name: "message.timestamp.after.max.ms", Type: long, Default: "3600000", check: atLeast(0),
			Doc: "How far after the broker's clock a CreateTime record's timestamp may lie; a batch with a later record is refused with INVALID_TIMESTAMP.", Effect: "Applied (INVALID_TIMESTAMP)."},
		{Name: "message.timestamp.before.max.ms", Type: long, Default: strconv.FormatInt(math.MaxInt64, 10), check: atLeast(0),
			Doc: "How far before the broker's clock a CreateTime record's timestamp may lie; a batch with an older record is refused with INVALID_TIMESTAMP.", Effect: "Applied (INVALID_TIMESTAMP)."},
		{Name: "message.timestamp.type", Type: str, Default: "CreateTime", check: oneOf("CreateTime", "LogAppendTime"),
			Doc: "CreateTime keeps the producer's timestamps; LogAppendTime stamps batches with the broker's clock.", Effect: "Applied."},
		{Name: "min.cleanable.dirty.ratio", Type: kmsg.ConfigTypeDouble, Default: "0.5", check: betweenFloat(0, 1),
			Doc: "The share of a compacted log not yet cleaned above which the cleaner takes it.", Effect: "Applied by the log cleaner."},
		{Name: "min.compaction.lag.ms", Type: long, Default: "0", check: atLeast(0),
			Doc: "The least time a record stays uncompacted.", Effect: "Applied by the log cleaner."},
		{Name: "min.insync.replicas", Type: integer, Default: "1", check: atLeast(1),
			Doc:    "The replicas that must have a batch before an acks=all produce succeeds.",
			Effect: "Accepted and described; no effect: the one replica has every acknowledged batch, so any value is met."},
		{Name: "preallocate", Type: boolean, Default: "false",
			Doc:    "Whether Kafka preallocates a new segment's file.",
			Effect: "Accepted and described; no effect: Courier's segment files grow as written (preallocation would only reserve space)."},
		{Name: "remote.log.copy.disable", Type: boolean, Default: "false",
			Doc: "With tiered storage, stop copying segments to remote storage.", Effect: effectTiered},
		{Name: "remote.log.delete.on.disable", Type: boolean, Default: "false",
			Doc: "With tiered storage, delete the remote data when remote storage is turned off.", Effect: effectTiered},
		{Name: "remote.storage.enable", Type: boolean, Default: "false",
			Doc: "Tier the topic's segments to remote storage.", Effect: effectTiered},
		{Name: "retention.bytes", Type: long, Default: "-1",
			Doc: "Partition size above which the oldest segments are deleted (delete policy); -1: no limit.", Effect: "Applied (delete policy); 0 deletes all but the active segment."},
		{Name: "retention.ms", Type: long, Default: "604800000", check: atLeast(-1),
			Doc: "How long a segment is kept after its newest record (delete policy); -1: forever.", Effect: "Applied (delete policy); 0 deletes all but the active segment."},
		{Name: "segment.bytes", Type: integer, Default: "1073741824", check: atLeast(1 << 20),
			Doc: "Segment file size at which a new segment is started (at least 1 MiB, as in Kafka 4).", Effect: "Applied."},
		{Name: "segment.index.bytes", Type: integer, Default: "10485760", check: atLeast(4),
			Doc: "Size of a segment's offset index at which a new segment is started.", Effect: "Applied: a segment whose offset index would pass it is rolled."},
		{Name: "segment.jitter.ms", Type: long, Default: "0", check: atLeast(0),
			Doc: "A random time up to this taken off segment.ms for each new segment, so that partitions do not all roll at once.", Effect: "Applied."},
		{Name: "segment.ms", Type: long, Default: "604800000", check: atLeast(1),
			Doc: "Segment age at which a new segment is started.", Effect: "Applied."},
		{Name: "unclean.leader.election.enable", Type: boolean, Default: "false",
			Doc: "Whether a replica out of the ISR may become leader.", Effect: effectOneNode},
		// Kafka 4 accepts this internal config (for tests: segments
		// below segment.bytes' 1 MiB minimum) and overrides segment.bytes
		// with it; like Kafka, Courier does not describe it.
		{Name: "internal.segment.bytes", Type: integer, Default: "", Internal: true, check: atLeast(14),
			Doc: "Overrides segment.bytes, below its minimum: for tests.", Effect: "Applied instead of segment.bytes."},
	} {
		configDefs[d.Name] = d
	}
	removedConfigs["message.timestamp.difference.max.ms"] = ConfigDef{
		Name: "message.timestamp.difference.max.ms", Type: long, Default: strconv.FormatInt(math.MaxInt64, 10),
		Doc:    "Removed in Kafka 4.0 (use message.timestamp.before.max.ms and after.max.ms); kept for topics that set it before.",
		Effect: "Refused in requests as Kafka 4 refuses it; a topic that stored it keeps it as the bound of a direction it does not set.",
	}
}
