package broker

// 32_describe_configs.go describes configs as Kafka does: a topic's every
// config with its effective value and where it comes from (the topic, a
// dynamic broker default, a flag, Kafka's default), with the synonyms it
// was resolved through when asked (config_resolve.go); the broker's
// configs (resource name: its id; "" lists the cluster-wide dynamic
// defaults only, as Kafka does); and the broker's loggers and levels
// (BROKER_LOGGER). Types are given from v3, documentation when asked.

import (
	"context"
	"maps"
	"slices"
	"strconv"

	"github.com/courier-dev/courier/internal/broker/loglevel"
	"github.com/courier-dev/courier/internal/broker/server"
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
		entries, err := b.describeResource(req, rr)
		if err != nil {
			sr.ErrorCode, sr.ErrorMessage = errorCode(err), errorMessage(err)
		}
		if err == nil && rr.ResourceType == kmsg.ConfigResourceTypeTopic && slices.Contains(rr.ConfigNames, CleanerStatusConfig) {
			entries = append(entries, b.cleanerStatusEntry(rr.ResourceName))
		}
		for _, e := range entries {
			if rr.ConfigNames != nil && !slices.Contains(rr.ConfigNames, e.name) {
				continue
			}
			sr.Configs = append(sr.Configs, e.toKmsg(r.IncludeSynonyms, r.IncludeDocumentation))
		}
		resp.Resources = append(resp.Resources, sr)
	}
	return server.Immediate(resp)
}

// describeResource lists one resource's configs, or why not.
func (b *Broker) describeResource(req *server.Request, rr kmsg.DescribeConfigsRequestResource) ([]configEntry, error) {
	switch rr.ResourceType {
	case kmsg.ConfigResourceTypeTopic:
		if !b.allowed(req, opDescribeConfigs, rtTopic, rr.ResourceName) {
			return nil, newAPIError(kerr.TopicAuthorizationFailed, "%s", kerr.TopicAuthorizationFailed.Description)
		}
		t, ok := b.topics.Get(rr.ResourceName)
		if !ok {
			return nil, newAPIError(kerr.UnknownTopicOrPartition, "The topic '%s' does not exist.", rr.ResourceName)
		}
		return b.brokerLayer().topicConfigEntries(t), nil
	case kmsg.ConfigResourceTypeGroupConfig:
		if !b.allowed(req, opDescribeConfigs, rtGroup, rr.ResourceName) {
			return nil, newAPIError(kerr.GroupAuthorizationFailed, "%s", kerr.GroupAuthorizationFailed.Description)
		}
		return b.groupConfigEntries(rr.ResourceName), nil
	case kmsg.ConfigResourceTypeBroker, kmsg.ConfigResourceTypeBrokerLogger:
		if !b.allowedCluster(req, opDescribeConfigs) {
			return nil, newAPIError(kerr.ClusterAuthorizationFailed, "%s", kerr.ClusterAuthorizationFailed.Description)
		}
		if rr.ResourceType == kmsg.ConfigResourceTypeBrokerLogger {
			if rr.ResourceName != strconv.Itoa(int(b.cfg.NodeID)) {
				return nil, newAPIError(kerr.InvalidRequest, "Unexpected broker id, expected %d, but received %s", b.cfg.NodeID, rr.ResourceName)
			}
			return b.loggerEntries(), nil
		}
		perBroker, err := b.brokerScope(rr.ResourceName)
		if err != nil {
			return nil, err
		}
		return b.brokerLayer().brokerConfigEntries(perBroker), nil
	}
	return nil, newAPIError(kerr.InvalidRequest, "unsupported resource type %v", rr.ResourceType)
}

// configEntry is one described config.
type configEntry struct {
	name string
	// value is nil where Kafka's is null (not set, or sensitive).
	value    *string
	doc      string
	source   kmsg.ConfigSource
	typ      kmsg.ConfigType
	readOnly bool
	synonyms []configSynonym
}

func (e configEntry) toKmsg(withSynonyms, withDoc bool) kmsg.DescribeConfigsResponseResourceConfig {
	c := kmsg.NewDescribeConfigsResponseResourceConfig()
	c.Name = e.name
	sensitive := e.typ == kmsg.ConfigTypePassword
	if e.value != nil && !sensitive {
		v := *e.value
		c.Value = &v
	}
	c.ReadOnly = e.readOnly
	c.Source = e.source
	c.IsDefault = e.source == kmsg.ConfigSourceDefaultConfig
	c.IsSensitive = sensitive
	c.ConfigType = e.typ
	if withDoc && e.doc != "" {
		d := e.doc
		c.Documentation = &d
	}
	if withSynonyms {
		for _, s := range e.synonyms {
			ks := kmsg.NewDescribeConfigsResponseResourceConfigConfigSynonym()
			ks.Name, ks.Source = s.name, s.source
			if !sensitive {
				v := s.value
				ks.Value = &v
			}
			c.ConfigSynonyms = append(c.ConfigSynonyms, ks)
		}
	}
	return c
}

// topicConfigEntries lists every topic config of t (and a removed config
// t still holds) with its effective value.
func (l brokerLayer) topicConfigEntries(t topics.Topic) []configEntry {
	var out []configEntry
	for _, d := range topics.ConfigDefs() {
		v, src, syns := l.topicEntry(t, d.Name)
		out = append(out, configEntry{name: d.Name, value: &v, doc: d.Doc, source: src, typ: d.Type, synonyms: syns})
	}
	for _, name := range slices.Sorted(maps.Keys(t.Configs)) {
		if d, removed := topics.LookupRemovedConfig(name); removed {
			v := t.Configs[name]
			out = append(out, configEntry{name: name, value: &v, doc: d.Doc, source: kmsg.ConfigSourceDynamicTopicConfig, typ: d.Type,
				synonyms: []configSynonym{{name: name, value: v, source: kmsg.ConfigSourceDynamicTopicConfig}}})
		}
	}
	return out
}

// brokerConfigEntries lists the broker configs: every one for this
// broker, or (perBroker false, resource "") the cluster-wide dynamic
// defaults only.
func (l brokerLayer) brokerConfigEntries(perBroker bool) []configEntry {
	var out []configEntry
	for _, name := range brokerConfigOrder {
		d := brokerConfigDefs[name]
		if !perBroker {
			v, ok := l.dynCluster[name]
			if !ok {
				continue
			}
			syns, _ := l.synonyms(synonymGroup(name), name)
			out = append(out, configEntry{name: name, value: &v, doc: d.doc, source: kmsg.ConfigSourceDynamicDefaultBrokerConfig,
				typ: d.typ, readOnly: !d.dynamic, synonyms: syns})
			continue
		}
		v, src, syns := l.brokerEntry(name)
		out = append(out, configEntry{name: name, value: v, doc: d.doc, source: src, typ: d.typ, readOnly: !d.dynamic, synonyms: syns})
	}
	return out
}

// synonymGroup is the synonyms a broker config is read with.
func synonymGroup(name string) []string {
	if g := brokerSynonyms[name]; g != nil {
		return g
	}
	return []string{name}
}

// loggerEntries lists the broker's loggers with their levels, as Kafka
// lists its log4j loggers.
func (b *Broker) loggerEntries() []configEntry {
	var out []configEntry
	for _, lg := range b.levels.List() {
		v := loglevel.LevelName(lg.Level)
		out = append(out, configEntry{name: lg.Name, value: &v, source: kmsg.ConfigSourceDynamicBrokerLoggerConfig, typ: kmsg.ConfigTypeString})
	}
	return out
}
