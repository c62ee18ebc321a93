package broker

// 32_describe_configs.go describes topic configs (each effective value and
// whether it is the default) and the broker's own read-only settings.

import (
	"context"
	"strconv"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/courier-dev/courier/internal/broker/storage"
	"github.com/courier-dev/courier/internal/broker/topics"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleDescribeConfigs(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.DescribeConfigsRequest)
	resp := r.ResponseKind().(*kmsg.DescribeConfigsResponse)
	for _, rr := range r.Resources {
		sr := kmsg.NewDescribeConfigsResponseResource()
		sr.ResourceType = rr.ResourceType
		sr.ResourceName = rr.ResourceName
		var entries []configEntry
		switch rr.ResourceType {
		case kmsg.ConfigResourceTypeTopic:
			if !b.allowed(req, opDescribeConfigs, rtTopic, rr.ResourceName) {
				sr.ErrorCode = kerr.TopicAuthorizationFailed.Code
				break
			}
			t, ok := b.topics.Get(rr.ResourceName)
			if !ok {
				sr.ErrorCode = kerr.UnknownTopicOrPartition.Code
				break
			}
			entries = topicConfigEntries(t)
		case kmsg.ConfigResourceTypeBroker:
			if !b.allowedCluster(req, opDescribeConfigs) {
				sr.ErrorCode = kerr.ClusterAuthorizationFailed.Code
				break
			}
			if rr.ResourceName != "" && rr.ResourceName != strconv.Itoa(int(b.cfg.NodeID)) {
				sr.ErrorCode = kerr.InvalidRequest.Code
				msg := "unknown broker " + rr.ResourceName
				sr.ErrorMessage = &msg
				break
			}
			entries = b.brokerConfigEntries()
		default:
			sr.ErrorCode = kerr.InvalidRequest.Code
			msg := "unsupported resource type"
			sr.ErrorMessage = &msg
		}
		for _, e := range entries {
			if rr.ConfigNames != nil && !contains(rr.ConfigNames, e.name) {
				continue
			}
			sr.Configs = append(sr.Configs, e.toKmsg(r.IncludeDocumentation))
		}
		resp.Resources = append(resp.Resources, sr)
	}
	return server.Immediate(resp)
}

// configEntry is one described config.
type configEntry struct {
	name, value, doc string
	source           kmsg.ConfigSource
	readOnly         bool
}

func (e configEntry) toKmsg(withDoc bool) kmsg.DescribeConfigsResponseResourceConfig {
	c := kmsg.NewDescribeConfigsResponseResourceConfig()
	c.Name = e.name
	v := e.value
	c.Value = &v
	c.ReadOnly = e.readOnly
	c.Source = e.source
	c.IsDefault = e.source == kmsg.ConfigSourceDefaultConfig
	if withDoc && e.doc != "" {
		d := e.doc
		c.Documentation = &d
	}
	return c
}

// topicConfigEntries lists every topic config's effective value.
func topicConfigEntries(t topics.Topic) []configEntry {
	var out []configEntry
	for _, d := range topics.ConfigDefs() {
		v, isDefault, _ := t.Value(d.Name)
		src := kmsg.ConfigSourceDynamicTopicConfig
		if isDefault {
			src = kmsg.ConfigSourceDefaultConfig
		}
		out = append(out, configEntry{name: d.Name, value: v, doc: d.Doc, source: src})
	}
	return out
}

// brokerConfigEntries lists the broker settings clients commonly ask for.
func (b *Broker) brokerConfigEntries() []configEntry {
	flush := "interval"
	if b.cfg.Sync == storage.SyncAlways {
		flush = "always"
	}
	static := kmsg.ConfigSourceStaticBrokerConfig
	return []configEntry{
		{name: "broker.id", value: strconv.Itoa(int(b.cfg.NodeID)), source: static, readOnly: true},
		{name: "auto.create.topics.enable", value: strconv.FormatBool(b.cfg.AutoCreateTopics), source: static, readOnly: true},
		{name: "num.partitions", value: strconv.Itoa(int(b.cfg.DefaultPartitions)), source: static, readOnly: true},
		{name: "default.replication.factor", value: "1", source: static, readOnly: true},
		{name: "offsets.topic.replication.factor", value: "1", source: static, readOnly: true},
		{name: "log.dirs", value: b.logsDir(), source: static, readOnly: true},
		{name: "courier.fsync", value: flush, doc: "always: acknowledged batches are fsynced first; interval: fsynced periodically", source: static, readOnly: true},
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
