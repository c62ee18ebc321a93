package broker

// config_resolve.go computes effective config values the way Kafka does
// (ConfigHelper, DynamicBrokerConfig): a topic's own value wins; otherwise
// its broker synonyms are looked up by source, this broker's dynamic
// value first, then the cluster-wide dynamic default, then the static
// value from a flag, then Kafka's default; within a source, in the
// synonyms' order (log.retention.ms before .minutes before .hours). The
// same resolution feeds DescribeConfigs (value, source, synonyms) and the
// logs' storage.Config, so what is described is what is used.

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/courier-dev/courier/internal/broker/storage"
	"github.com/courier-dev/courier/internal/broker/topics"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// configSynonym is one entry of a described config's synonyms.
type configSynonym struct {
	name, value string
	source      kmsg.ConfigSource
}

// brokerLayer is a snapshot of the broker-level values topic configs
// fall back to.
type brokerLayer struct {
	cfg        *Config
	dynBroker  map[string]string // this broker's dynamic configs
	dynCluster map[string]string // the cluster-wide dynamic defaults
}

// sourceOrder is the order in which sources are searched.
var sourceOrder = []kmsg.ConfigSource{
	kmsg.ConfigSourceDynamicBrokerConfig,
	kmsg.ConfigSourceDynamicDefaultBrokerConfig,
	kmsg.ConfigSourceStaticBrokerConfig,
	kmsg.ConfigSourceDefaultConfig,
}

// at returns a broker config's value in one source.
func (l brokerLayer) at(src kmsg.ConfigSource, name string) (string, bool) {
	d := brokerConfigDefs[name]
	switch src {
	case kmsg.ConfigSourceDynamicBrokerConfig:
		v, ok := l.dynBroker[name]
		return v, ok
	case kmsg.ConfigSourceDynamicDefaultBrokerConfig:
		v, ok := l.dynCluster[name]
		return v, ok
	case kmsg.ConfigSourceStaticBrokerConfig:
		v, ok := l.cfg.StaticConfigs[name]
		if ok && v == "" && d.derived != nil {
			v = d.derived(l.cfg)
		}
		return v, ok
	case kmsg.ConfigSourceDefaultConfig:
		if d.derived != nil {
			return d.derived(l.cfg), true
		}
		return d.def, d.hasDef
	}
	return "", false
}

// synonyms lists the values of names (a synonym group) by source, then
// drops the entries before the first one named self, as Kafka's
// ConfigHelper does (so log.retention.hours' default is not listed
// under log.retention.ms). all is the list before the drop.
func (l brokerLayer) synonyms(names []string, self string) (kept, all []configSynonym) {
	for _, src := range sourceOrder {
		for _, n := range names {
			if v, ok := l.at(src, n); ok {
				all = append(all, configSynonym{name: n, value: v, source: src})
			}
		}
	}
	for i, s := range all {
		if s.name == self {
			return all[i:], all
		}
	}
	return nil, all
}

// brokerEntry resolves one broker config: its value (nil where Kafka's is
// null), source and synonyms.
func (l brokerLayer) brokerEntry(name string) (value *string, src kmsg.ConfigSource, syns []configSynonym) {
	group := brokerSynonyms[name]
	if group == nil {
		group = []string{name}
	}
	syns, _ = l.synonyms(group, name)
	src = kmsg.ConfigSourceDefaultConfig
	if len(syns) > 0 {
		src = syns[0].source
	}
	for _, s := range sourceOrder {
		if v, ok := l.at(s, name); ok {
			return &v, src, syns
		}
	}
	return nil, src, syns
}

// topicEntry resolves one topic config for t: its effective value,
// source and synonyms.
func (l brokerLayer) topicEntry(t topics.Topic, name string) (value string, src kmsg.ConfigSource, syns []configSynonym) {
	own, set := t.Configs[name]
	if set {
		syns = append(syns, configSynonym{name: name, value: own, source: kmsg.ConfigSourceDynamicTopicConfig})
	}
	var all []configSynonym
	if group := topicSynonyms[name]; len(group) > 0 {
		var kept []configSynonym
		kept, all = l.synonyms(group, group[0])
		syns = append(syns, kept...)
	}
	src = kmsg.ConfigSourceDefaultConfig
	if len(syns) > 0 {
		src = syns[0].source
	}
	switch {
	case set:
		value = own
	case len(all) > 0:
		value = all[0].value
		if conv := brokerConfigDefs[all[0].name].toTopic; conv != nil {
			value = conv(value)
		}
	default:
		value, _, _ = t.Value(name)
	}
	return value, src, syns
}

// effectiveConfigs is every config value t's logs use: its own, or the
// broker's default, or Kafka's.
func (l brokerLayer) effectiveConfigs(t topics.Topic) map[string]string {
	out := make(map[string]string, 40)
	for _, d := range topics.ConfigDefs() {
		out[d.Name], _, _ = l.topicEntry(t, d.Name)
	}
	for name, v := range t.Configs {
		if _, done := out[name]; !done {
			out[name] = v // internal.segment.bytes, or a config Kafka 4 removed
		}
	}
	// As in Kafka 3.6 to 3.9, a topic that stored the removed
	// message.timestamp.difference.max.ms keeps it as the bound of a
	// direction it does not set itself.
	if diff, ok := t.Configs["message.timestamp.difference.max.ms"]; ok {
		for _, name := range []string{"message.timestamp.before.max.ms", "message.timestamp.after.max.ms"} {
			if _, own := t.Configs[name]; !own {
				out[name] = diff
			}
		}
	}
	return out
}

// storageConfig maps a topic's effective configs to its logs' settings.
// storage.Config reads 0 as "the default", so a Kafka value of 0 that
// means something else is written as storage documents it: retention.ms
// and retention.bytes 0 as 1 (delete all but the active segment);
// message.timestamp.*.max.ms, delete.retention.ms and
// min.cleanable.dirty.ratio 0 as -1.
func storageConfig(v map[string]string) storage.Config {
	num := func(name string) int64 {
		n, _ := strconv.ParseInt(strings.TrimSpace(v[name]), 10, 64)
		return n
	}
	int32Of := func(name string) int32 { return int32(max(min(num(name), math.MaxInt32), math.MinInt32)) }
	c := storage.Config{
		SegmentBytes:       num("segment.bytes"),
		SegmentMs:          num("segment.ms"),
		RetentionMs:        nonZero(num("retention.ms")),
		RetentionBytes:     nonZero(num("retention.bytes")),
		MaxMessageBytes:    int32Of("max.message.bytes"),
		LogAppendTime:      v["message.timestamp.type"] == "LogAppendTime",
		IndexIntervalBytes: int32Of("index.interval.bytes"),
		SegmentJitterMs:    num("segment.jitter.ms"),
		SegmentIndexBytes:  int32Of("segment.index.bytes"),
		DeleteRetentionMs:  zeroAsNegative(num("delete.retention.ms")),
		MinCompactionLagMs: num("min.compaction.lag.ms"),
		MaxCompactionLagMs: num("max.compaction.lag.ms"),

		// Kafka's 0, "no difference allowed", as -1.
		TimestampBeforeMaxMs: zeroAsNegative(num("message.timestamp.before.max.ms")),
		TimestampAfterMaxMs:  zeroAsNegative(num("message.timestamp.after.max.ms")),
	}
	if s := strings.TrimSpace(v["internal.segment.bytes"]); s != "" {
		c.SegmentBytes = num("internal.segment.bytes") // Kafka's override, below segment.bytes' minimum
	}
	if r, err := strconv.ParseFloat(strings.TrimSpace(v["min.cleanable.dirty.ratio"]), 64); err == nil {
		c.MinCleanableDirtyRatio = r
		if r == 0 {
			c.MinCleanableDirtyRatio = -1 // storage reads 0 as the default
		}
	}
	policy := topics.ParseList(v["cleanup.policy"])
	compact, del := slices.Contains(policy, "compact"), slices.Contains(policy, "delete")
	switch {
	case compact && del:
		c.Policy = storage.PolicyCompactDelete
	case compact:
		c.Policy = storage.PolicyCompact
	case !del:
		// The empty list: neither deleted nor compacted, so kept whole.
		c.Policy, c.RetentionMs, c.RetentionBytes = storage.PolicyDelete, -1, -1
	}
	c.Compression, c.CompressionLevel = compression(v)
	return c
}

// compression maps compression.type and the chosen codec's level.
func compression(v map[string]string) (storage.Compression, int) {
	level := func(name string) int { n, _ := strconv.Atoi(strings.TrimSpace(v[name])); return n }
	switch v["compression.type"] {
	case "uncompressed":
		return storage.CompressionNone, 0
	case "gzip":
		if l := level("compression.gzip.level"); l > 0 {
			return storage.CompressionGzip, l
		}
		return storage.CompressionGzip, 0 // -1: the codec's default
	case "snappy":
		return storage.CompressionSnappy, 0
	case "lz4":
		return storage.CompressionLZ4, level("compression.lz4.level")
	case "zstd":
		return storage.CompressionZstd, level("compression.zstd.level")
	}
	return storage.CompressionProducer, 0
}

// zeroAsNegative writes a Kafka 0 that storage.Config would read as "the
// default" as -1.
func zeroAsNegative(n int64) int64 {
	if n == 0 {
		return -1
	}
	return n
}

// storageConfig is the broker's storage.Config for t, with the current
// broker-level defaults.
func (b *Broker) storageConfig(t topics.Topic) storage.Config {
	c := storageConfig(b.brokerLayer().effectiveConfigs(t))
	c.ProducerIDExpirationMs = cmp.Or(b.cfg.ProducerIDExpiration, defaultProducerIDExpiration).Milliseconds()
	return c
}
