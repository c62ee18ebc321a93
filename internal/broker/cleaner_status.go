package broker

// cleaner_status.go answers the one Courier-specific name DescribeConfigs
// knows for a topic: CleanerStatusConfig, the dirty ratio of each of a
// compacted topic's partitions (Kafka shows it only over JMX). It is a
// status, not a config: returned only when a request names it, read-only,
// so tools that list every config (and Kafka clients that compare them
// with Kafka's) never see it.

import (
	"strconv"
	"strings"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// CleanerStatusConfig is the name under which DescribeConfigs reports a
// compacted topic's dirty ratios: "PARTITION:RATIO" pairs, comma-separated,
// e.g. "0:0.523,1:0.000". It is null for a topic that is not compacted.
const CleanerStatusConfig = "courier.cleaner.dirty.ratio"

// cleanerStatusEntry describes the dirty ratios of topic's partitions.
func (b *Broker) cleanerStatusEntry(topic string) configEntry {
	e := configEntry{name: CleanerStatusConfig, source: kmsg.ConfigSourceDefaultConfig, typ: kmsg.ConfigTypeList, readOnly: true,
		doc: "Courier status, not a config: the share of each partition's cleanable bytes the log cleaner has not compacted yet (PARTITION:RATIO pairs); null when the topic is not compacted."}
	var pairs []string
	for _, p := range b.topicPartitions(topic) {
		st := p.log.CleanerState()
		if !st.Compacted {
			return e
		}
		pairs = append(pairs, strconv.Itoa(int(p.index))+":"+strconv.FormatFloat(st.DirtyRatio, 'f', 3, 64))
	}
	v := strings.Join(pairs, ",")
	e.value = &v
	return e
}
