package broker

// broker_configs.go defines the broker configs Courier describes (the
// BROKER config resource): Kafka's names, types and defaults, which of
// them Kafka lets a client change at run time (cluster-wide or for one
// broker; the others are read-only), and the topic config each log.*
// config is the broker-wide default of (ServerTopicConfigSynonyms, in
// Kafka's order). Read-only values come from the broker's flags
// (Config.StaticConfigs, or the Config field the flag sets).

import (
	"cmp"
	"math"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/courier-dev/courier/internal/broker/cleaner"
	"github.com/courier-dev/courier/internal/broker/group"
	"github.com/courier-dev/courier/internal/broker/share"
	"github.com/courier-dev/courier/internal/broker/storage"
	"github.com/courier-dev/courier/internal/broker/topics"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// brokerConfigDef is one broker config.
type brokerConfigDef struct {
	name string
	typ  kmsg.ConfigType
	// def is Kafka's default; hasDef is false where Kafka's is null (no
	// value unless set).
	def    string
	hasDef bool
	doc    string
	// dynamic: a client may set it (cluster-wide or for this broker);
	// otherwise it is read-only.
	dynamic bool
	// topic is the topic config this is a default of, and toTopic turns
	// its value into that config's unit (hours to ms); nil: the same.
	topic   string
	toTopic func(string) string
	// derived reads the value from the broker's Config when no flag set
	// it explicitly (nil: Kafka's default).
	derived func(*Config) string
}

// Unit converters of Kafka's synonyms (ConfigSynonym.HOURS_TO_MILLISECONDS).
func hoursToMs(v string) string   { return scale(v, 3600000) }
func minutesToMs(v string) string { return scale(v, 60000) }

func scale(v string, by int64) string {
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	if err != nil {
		return v
	}
	if n > math.MaxInt64/by || n < math.MinInt64/by {
		return strconv.FormatInt(math.MaxInt64, 10)
	}
	return strconv.FormatInt(n*by, 10)
}

// brokerConfigDefs are the broker configs, by name; brokerConfigOrder is
// their order in DescribeConfigs (by name, as Kafka sorts them).
var (
	brokerConfigDefs  = map[string]brokerConfigDef{}
	brokerConfigOrder []string
	// topicSynonyms maps a topic config to its broker synonyms, first
	// the one that wins.
	topicSynonyms = map[string][]string{}
	// brokerSynonyms maps a broker config to the group it is read with
	// (DynamicBrokerConfig.brokerConfigSynonyms): log.retention.hours to
	// log.retention.ms, .minutes and .hours.
	brokerSynonyms = map[string][]string{}
)

// topicDefault builds the definition of a log.* (or same-named) broker
// config from the topic config it defaults: same type, default, ranges.
func topicDefault(name, topic string) brokerConfigDef {
	td, _ := topics.LookupConfig(topic)
	return brokerConfigDef{name: name, typ: td.Type, def: td.Default, hasDef: true, dynamic: true, topic: topic,
		doc: "The default of the topic config " + topic + " for topics that do not set it. " + td.Doc}
}

func init() {
	long := kmsg.ConfigTypeLong
	integer := kmsg.ConfigTypeInt
	defs := []brokerConfigDef{
		topicDefault("log.segment.bytes", "segment.bytes"),
		topicDefault("log.roll.ms", "segment.ms"),
		topicDefault("log.roll.jitter.ms", "segment.jitter.ms"),
		topicDefault("log.index.size.max.bytes", "segment.index.bytes"),
		topicDefault("log.flush.interval.messages", "flush.messages"),
		topicDefault("log.flush.interval.ms", "flush.ms"),
		topicDefault("log.retention.bytes", "retention.bytes"),
		topicDefault("log.retention.ms", "retention.ms"),
		topicDefault("message.max.bytes", "max.message.bytes"),
		topicDefault("log.index.interval.bytes", "index.interval.bytes"),
		topicDefault("log.cleaner.delete.retention.ms", "delete.retention.ms"),
		topicDefault("log.cleaner.min.compaction.lag.ms", "min.compaction.lag.ms"),
		topicDefault("log.cleaner.max.compaction.lag.ms", "max.compaction.lag.ms"),
		topicDefault("log.segment.delete.delay.ms", "file.delete.delay.ms"),
		topicDefault("log.cleaner.min.cleanable.ratio", "min.cleanable.dirty.ratio"),
		topicDefault("log.cleanup.policy", "cleanup.policy"),
		topicDefault("unclean.leader.election.enable", "unclean.leader.election.enable"),
		topicDefault("min.insync.replicas", "min.insync.replicas"),
		topicDefault("compression.type", "compression.type"),
		topicDefault("compression.gzip.level", "compression.gzip.level"),
		topicDefault("compression.lz4.level", "compression.lz4.level"),
		topicDefault("compression.zstd.level", "compression.zstd.level"),
		topicDefault("log.preallocate", "preallocate"),
		topicDefault("log.message.timestamp.type", "message.timestamp.type"),
		topicDefault("log.message.timestamp.before.max.ms", "message.timestamp.before.max.ms"),
		topicDefault("log.message.timestamp.after.max.ms", "message.timestamp.after.max.ms"),
		topicDefault("log.local.retention.ms", "local.retention.ms"),
		topicDefault("log.local.retention.bytes", "local.retention.bytes"),
		// Read-only synonyms in other units, and Kafka's null defaults.
		{name: "log.roll.hours", typ: integer, def: "168", hasDef: true, topic: "segment.ms", toTopic: hoursToMs,
			doc: "segment.ms's broker default in hours, where log.roll.ms is not set."},
		{name: "log.roll.jitter.hours", typ: integer, def: "0", hasDef: true, topic: "segment.jitter.ms", toTopic: hoursToMs,
			doc: "segment.jitter.ms's broker default in hours, where log.roll.jitter.ms is not set."},
		{name: "log.retention.minutes", typ: integer, topic: "retention.ms", toTopic: minutesToMs,
			doc: "retention.ms's broker default in minutes, where log.retention.ms is not set."},
		{name: "log.retention.hours", typ: integer, def: "168", hasDef: true, topic: "retention.ms", toTopic: hoursToMs,
			doc: "retention.ms's broker default in hours, where log.retention.ms and log.retention.minutes are not set."},
		{name: "log.flush.scheduler.interval.ms", typ: long, def: strconv.FormatInt(math.MaxInt64, 10), hasDef: true, topic: "flush.ms",
			doc: "flush.ms's broker default where log.flush.interval.ms is not set. No effect: --fsync decides when Courier fsyncs."},
		// The broker's own settings, from its flags.
		{name: "broker.id", typ: integer, def: "-1", hasDef: true, doc: "This broker's id (--node-id).",
			derived: func(c *Config) string { return strconv.Itoa(int(c.NodeID)) }},
		{name: "node.id", typ: integer, def: "-1", hasDef: true, doc: "This node's id (--node-id).",
			derived: func(c *Config) string { return strconv.Itoa(int(c.NodeID)) }},
		{name: "log.dirs", typ: kmsg.ConfigTypeList, doc: "Where partition logs live (DATA/logs of --data).",
			derived: func(c *Config) string { return filepath.Join(c.DataDir, "logs") }},
		{name: "num.partitions", typ: integer, def: "1", hasDef: true, doc: "Partitions of auto-created topics and of CreateTopics that leave it to the broker (--default-partitions).",
			derived: func(c *Config) string { return strconv.Itoa(int(c.DefaultPartitions)) }},
		{name: "default.replication.factor", typ: integer, def: "1", hasDef: true, doc: "Courier is one node: always 1."},
		{name: "offsets.topic.replication.factor", typ: kmsg.ConfigTypeShort, def: "3", hasDef: true, doc: "Courier is one node: always 1.",
			derived: func(*Config) string { return "1" }},
		{name: "auto.create.topics.enable", typ: kmsg.ConfigTypeBoolean, def: "true", hasDef: true, doc: "Create unknown topics that clients ask for (--auto-create-topics).",
			derived: func(c *Config) string { return strconv.FormatBool(c.AutoCreateTopics) }},
		{name: "delete.topic.enable", typ: kmsg.ConfigTypeBoolean, def: "true", hasDef: true, doc: "Topics can be deleted: always true."},
		{name: "log.retention.check.interval.ms", typ: long, def: "300000", hasDef: true, doc: "How often retention runs (--retention-check-interval).",
			derived: func(c *Config) string { return strconv.FormatInt(c.RetentionCheckInterval.Milliseconds(), 10) }},
		{name: "offsets.retention.minutes", typ: integer, def: "10080", hasDef: true, doc: "How long an empty group's committed offsets are kept (--offsets-retention).",
			derived: func(c *Config) string {
				if c.OffsetsRetention <= 0 {
					return "10080"
				}
				return strconv.FormatInt(int64(c.OffsetsRetention.Minutes()), 10)
			}},
		{name: "transaction.max.timeout.ms", typ: integer, def: "900000", hasDef: true, doc: "The longest transaction.timeout.ms a transactional producer may ask for (--transaction-max-timeout).",
			derived: func(c *Config) string { return durationMsOr(c.TransactionMaxTimeout, txnDefaultMaxTimeout) }},
		{name: "transactional.id.expiration.ms", typ: integer, def: "604800000", hasDef: true, doc: "How long an idle transactional id is remembered (--transactional-id-expiration).",
			derived: func(c *Config) string { return durationMsOr(c.TransactionalIDExpiration, txnDefaultIDExpiration) }},
		{name: "producer.id.expiration.ms", typ: integer, def: "86400000", hasDef: true, doc: "How long a partition remembers an idle producer's sequence numbers (--producer-id-expiration).",
			derived: func(c *Config) string { return durationMsOr(c.ProducerIDExpiration, defaultProducerIDExpiration) }},
		{name: "group.initial.rebalance.delay.ms", typ: integer, def: "3000", hasDef: true, doc: "How long a new group waits for more members before its first rebalance (--group-initial-rebalance-delay).",
			derived: func(c *Config) string {
				if c.GroupInitialRebalanceDelay < 0 {
					return "3000"
				}
				return strconv.FormatInt(c.GroupInitialRebalanceDelay.Milliseconds(), 10)
			}},
		{name: "group.coordinator.rebalance.protocols", typ: kmsg.ConfigTypeList, def: "classic,consumer,share", hasDef: true, doc: "The group protocols served (--group-protocols): classic, consumer (KIP-848), share (KIP-932).",
			derived: func(c *Config) string { return strings.Join(c.GroupProtocols, ",") }},
		// Share groups (KIP-932): the defaults of the share.* group
		// configs (group_configs.go) and their bounds.
		{name: "group.share.record.lock.duration.ms", typ: integer, def: "30000", hasDef: true, doc: "How long a share group member holds a record before it is available again, for groups that do not set share.record.lock.duration.ms (--share-record-lock-duration).",
			derived: func(c *Config) string { return durationMsOr(c.ShareRecordLockDuration, 30*time.Second) }},
		{name: "group.share.min.record.lock.duration.ms", typ: integer, def: "15000", hasDef: true, doc: "The least share.record.lock.duration.ms a group may set."},
		{name: "group.share.max.record.lock.duration.ms", typ: integer, def: "60000", hasDef: true, doc: "The most share.record.lock.duration.ms a group may set."},
		{name: "group.share.delivery.count.limit", typ: integer, def: "5", hasDef: true, doc: "The most times a record is delivered to a share group before it is archived, for groups that do not set share.delivery.count.limit (--share-delivery-count-limit).",
			derived: func(c *Config) string { return strconv.Itoa(cmpOr(c.ShareDeliveryCountLimit, 5)) }},
		{name: "group.share.partition.max.record.locks", typ: integer, def: "2000", hasDef: true, doc: "The most records in flight per share-partition, for groups that do not set share.partition.max.record.locks (--share-partition-max-record-locks).",
			derived: func(c *Config) string { return strconv.Itoa(cmpOr(c.SharePartitionMaxRecordLocks, 2000)) }},
		{name: "group.share.session.timeout.ms", typ: integer, def: "45000", hasDef: true, doc: "The session timeout of share group members, for groups that do not set share.session.timeout.ms."},
		{name: "group.share.heartbeat.interval.ms", typ: integer, def: "5000", hasDef: true, doc: "The heartbeat interval of share group members, for groups that do not set share.heartbeat.interval.ms."},
		{name: "group.share.max.size", typ: integer, def: "200", hasDef: true, doc: "The most members of one share group (--share-max-group-size).",
			derived: func(c *Config) string { return strconv.Itoa(cmpOr(c.ShareMaxGroupSize, share.DefaultMaxGroupSize)) }},
		{name: "group.share.max.share.sessions", typ: integer, def: "2000", hasDef: true, doc: "The most share sessions open on the broker at once (--share-max-sessions).",
			derived: func(c *Config) string { return strconv.Itoa(cmpOr(c.ShareMaxSessions, share.DefaultMaxSessions)) }},
		{name: "group.consumer.assignors", typ: kmsg.ConfigTypeList, def: "uniform,range", hasDef: true, doc: "Server-side assignors of KIP-848 consumer groups, the first the default (--group-consumer-assignors).",
			derived: func(c *Config) string { return strings.Join(c.consumerAssignors(), ",") }},
		{name: "group.consumer.session.timeout.ms", typ: integer, def: "45000", hasDef: true, doc: "A KIP-848 consumer group member silent this long is removed (--group-consumer-session-timeout).",
			derived: func(c *Config) string { return durationMsOr(c.ConsumerGroupSessionTimeout, 45*time.Second) }},
		{name: "group.consumer.heartbeat.interval.ms", typ: integer, def: "1000", hasDef: true, doc: "The heartbeat interval KIP-848 consumer group members are given (--group-consumer-heartbeat-interval).",
			derived: func(c *Config) string {
				return durationMsOr(c.ConsumerGroupHeartbeatInterval, group.DefaultConsumerHeartbeatInterval)
			}},
		{name: "group.consumer.migration.policy", typ: kmsg.ConfigTypeString, def: "bidirectional", hasDef: true, doc: "Converting groups with members between the classic and consumer protocols: disabled, upgrade, downgrade or bidirectional (--group-consumer-migration-policy).",
			derived: func(c *Config) string { return cmp.Or(c.ConsumerGroupMigrationPolicy, "bidirectional") }},
		{name: "fetch.max.bytes", typ: integer, def: "57671680", hasDef: true, doc: "The most bytes one fetch response carries.",
			derived: func(c *Config) string { return strconv.Itoa(int(c.FetchMaxBytes)) }},
		{name: "super.users", typ: kmsg.ConfigTypeString, doc: "Principals allowed everything whatever the ACLs say (--super-users).",
			derived: func(c *Config) string { return strings.Join(c.SuperUsers, ";") }},
		{name: "listeners", typ: kmsg.ConfigTypeString, def: "PLAINTEXT://127.0.0.1:9092", hasDef: true, doc: "The listeners (--addr, --listener); the default is Courier's, --addr's."},
		{name: "advertised.listeners", typ: kmsg.ConfigTypeString, doc: "The addresses given to clients (--advertised-addr, --advertised-listener)."},
		{name: "socket.request.max.bytes", typ: integer, def: "104857600", hasDef: true, doc: "The largest request accepted (--max-request-bytes)."},
		// The log cleaner's settings, from the --cleaner-* flags. Kafka
		// lets clients change these at run time; in Courier they are
		// read-only.
		{name: "log.cleaner.enable", typ: kmsg.ConfigTypeBoolean, def: "true", hasDef: true, doc: "Whether the log cleaner compacts topics with cleanup.policy=compact (--cleaner-threads 0 disables it).",
			derived: func(c *Config) string { return strconv.FormatBool(c.Cleaner.Threads > 0) }},
		{name: "log.cleaner.threads", typ: integer, def: "1", hasDef: true, doc: "Log cleaner threads (--cleaner-threads).",
			derived: func(c *Config) string { return strconv.Itoa(max(c.Cleaner.Threads, 0)) }},
		{name: "log.cleaner.dedupe.buffer.size", typ: long, def: "134217728", hasDef: true, doc: "Memory of the cleaner's key maps, all threads together; a partition with more keys is cleaned in several passes (--cleaner-dedupe-buffer-size).",
			derived: func(c *Config) string {
				return strconv.FormatInt(cmp.Or(c.Cleaner.KeyMapBytes, cleaner.DefaultKeyMapBytes), 10)
			}},
		{name: "log.cleaner.io.max.bytes.per.second", typ: kmsg.ConfigTypeDouble, def: "1.7976931348623157E308", hasDef: true, doc: "Most bytes per second the cleaner reads and writes, all threads together (--cleaner-io-max-bytes-per-second).",
			derived: func(c *Config) string {
				if c.Cleaner.IOBytesPerSecond <= 0 {
					return "1.7976931348623157E308"
				}
				return strconv.FormatInt(c.Cleaner.IOBytesPerSecond, 10)
			}},
		{name: "log.cleaner.backoff.ms", typ: long, def: "15000", hasDef: true, doc: "How long an idle cleaner thread sleeps before looking for work again (--cleaner-backoff).",
			derived: func(c *Config) string {
				return strconv.FormatInt(cmp.Or(c.Cleaner.Backoff, cleaner.DefaultBackoff).Milliseconds(), 10)
			}},
		{name: "courier.fsync", typ: kmsg.ConfigTypeString, def: "interval", hasDef: true, doc: "always: acknowledged batches are fsynced first; interval: fsynced every --fsync-interval (--fsync).",
			derived: func(c *Config) string {
				if c.Sync == storage.SyncAlways {
					return "always"
				}
				return "interval"
			}},
	}
	for _, d := range defs {
		brokerConfigDefs[d.name] = d
		brokerConfigOrder = append(brokerConfigOrder, d.name)
		if d.topic != "" {
			topicSynonyms[d.topic] = append(topicSynonyms[d.topic], d.name)
		}
	}
	// Kafka's null defaults: these have a value only where set, and the
	// read-only synonyms after them give the default.
	for _, n := range []string{"log.roll.ms", "log.roll.jitter.ms", "log.retention.ms", "log.flush.interval.ms"} {
		d := brokerConfigDefs[n]
		d.def, d.hasDef = "", false
		brokerConfigDefs[n] = d
	}
	// Kafka's order where a topic config has several synonyms.
	topicSynonyms["segment.ms"] = []string{"log.roll.ms", "log.roll.hours"}
	topicSynonyms["segment.jitter.ms"] = []string{"log.roll.jitter.ms", "log.roll.jitter.hours"}
	topicSynonyms["flush.ms"] = []string{"log.flush.interval.ms", "log.flush.scheduler.interval.ms"}
	topicSynonyms["retention.ms"] = []string{"log.retention.ms", "log.retention.minutes", "log.retention.hours"}
	for _, group := range [][]string{topicSynonyms["segment.ms"], topicSynonyms["segment.jitter.ms"], topicSynonyms["retention.ms"]} {
		for _, n := range group {
			brokerSynonyms[n] = group
		}
	}
	brokerSynonyms["log.flush.interval.ms"] = topicSynonyms["flush.ms"]
	sort.Strings(brokerConfigOrder)
}
