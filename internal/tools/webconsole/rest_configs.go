package webconsole

// rest_configs.go answers REST Proxy v3's topic configs (KafkaTopicConfig,
// KafkaTopicConfigList): list a topic's configs with where each value comes
// from (is_default, source, synonyms), read one, set one (PUT), reset one to
// its default (DELETE), and alter several at once (POST configs:alter, REST
// Proxy's batch alter). Reads are DescribeConfigs with synonyms; changes
// are IncrementalAlterConfigs, as the user.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// configSynonym is one of a config's synonyms (where its value would come
// from without the override above it).
type configSynonym struct {
	Name   string  `json:"name"`
	Value  *string `json:"value"`
	Source string  `json:"source"`
}

// topicConfig is REST Proxy's KafkaTopicConfig.
type topicConfig struct {
	Kind          string          `json:"kind"`
	Metadata      resourceMeta    `json:"metadata"`
	ClusterID     string          `json:"cluster_id"`
	TopicName     string          `json:"topic_name"`
	Name          string          `json:"name"`
	Value         *string         `json:"value"`
	IsDefault     bool            `json:"is_default"`
	IsReadOnly    bool            `json:"is_read_only"`
	IsSensitive   bool            `json:"is_sensitive"`
	Source        string          `json:"source"`
	Synonyms      []configSynonym `json:"synonyms"`
	Documentation *string         `json:"documentation,omitempty"`
}

// alterConfigsRequest is REST Proxy's AlterConfigBatchRequestData.
type alterConfigsRequest struct {
	Data         []configValue `json:"data"`
	ValidateOnly bool          `json:"validate_only"`
}

// describeTopicConfigs asks the cluster for a topic's configs, with
// synonyms and documentation.
func (c *call) describeTopicConfigs(ctx context.Context, cluster, topic string) ([]topicConfig, error) {
	cl, err := c.Kafka().Client()
	if err != nil {
		return nil, kafkaError("connect to the cluster", err)
	}
	req := kmsg.NewPtrDescribeConfigsRequest()
	res := kmsg.NewDescribeConfigsRequestResource()
	res.ResourceType = kmsg.ConfigResourceTypeTopic
	res.ResourceName = topic
	req.Resources = append(req.Resources, res)
	req.IncludeSynonyms = true
	req.IncludeDocumentation = true
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		return nil, kafkaError("describe the configs of topic "+topic, err)
	}
	if len(resp.Resources) != 1 {
		return nil, kafkaError("describe the configs of topic "+topic, fmt.Errorf("the cluster answered %d resources for 1", len(resp.Resources)))
	}
	r := resp.Resources[0]
	if err := kerr.ErrorForCode(r.ErrorCode); err != nil {
		if errors.Is(err, kerr.UnknownTopicOrPartition) {
			return nil, notFoundTopic(topic)
		}
		if r.ErrorMessage != nil {
			err = fmt.Errorf("%w: %s", err, *r.ErrorMessage)
		}
		return nil, kafkaError("describe the configs of topic "+topic, err)
	}
	out := make([]topicConfig, 0, len(r.Configs))
	for _, rc := range r.Configs {
		tc := topicConfig{
			Kind:          "KafkaTopicConfig",
			Metadata:      resourceMeta{Self: c.Self(topicBase(cluster, topic) + "/configs/" + rc.Name), ResourceName: "crn:///kafka=" + cluster + "/topic=" + topic + "/config=" + rc.Name},
			ClusterID:     cluster,
			TopicName:     topic,
			Name:          rc.Name,
			Value:         rc.Value,
			IsDefault:     rc.Source != kmsg.ConfigSourceDynamicTopicConfig,
			IsReadOnly:    rc.ReadOnly,
			IsSensitive:   rc.IsSensitive,
			Source:        rc.Source.String(),
			Synonyms:      make([]configSynonym, 0, len(rc.ConfigSynonyms)),
			Documentation: rc.Documentation,
		}
		for _, syn := range rc.ConfigSynonyms {
			tc.Synonyms = append(tc.Synonyms, configSynonym{Name: syn.Name, Value: syn.Value, Source: syn.Source.String()})
		}
		out = append(out, tc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// alterTopicConfigs applies changes to a topic's configs (or only
// validates them) as the user, and audits the attempt.
func (c *call) alterTopicConfigs(topic string, changes []kadm.AlterConfig, validateOnly bool) error {
	adm, err := c.admin()
	if err != nil {
		return err
	}
	ctx, cancel := c.timeout()
	defer cancel()
	alter := adm.AlterTopicConfigs
	if validateOnly {
		alter = adm.ValidateAlterTopicConfigs
	}
	resps, err := alter(ctx, changes, topic)
	var r kadm.AlterConfigsResponse
	if err == nil {
		r, err = resps.On(topic, nil)
	}
	err = topicOpError("alter the configs of topic", topic, err, r.Err, r.ErrMessage)
	if !validateOnly {
		names := make([]string, 0, len(changes))
		for _, ch := range changes {
			op := "set"
			if ch.Op == kadm.DeleteConfig {
				op = "reset"
			}
			names = append(names, op+" "+ch.Name)
		}
		c.Audit("topic.configs", topic, err, "changes", names)
	}
	return err
}

// restConfigRoutes registers the REST Proxy v3 topic config resources.
func (s *Server) restConfigRoutes() {
	const base = "/v3/clusters/{cluster_id}/topics/{topic_name}/configs"
	s.api("GET "+base, func(c *call) error {
		cluster, err := c.Cluster()
		if err != nil {
			return err
		}
		ctx, cancel := c.timeout()
		defer cancel()
		cfgs, err := c.describeTopicConfigs(ctx, cluster, c.r.PathValue("topic_name"))
		if err != nil {
			return err
		}
		return c.List("KafkaTopicConfigList", cfgs)
	})
	s.api("GET "+base+"/{name}", func(c *call) error {
		cluster, err := c.Cluster()
		if err != nil {
			return err
		}
		ctx, cancel := c.timeout()
		defer cancel()
		topic, name := c.r.PathValue("topic_name"), c.r.PathValue("name")
		cfgs, err := c.describeTopicConfigs(ctx, cluster, topic)
		if err != nil {
			return err
		}
		for _, tc := range cfgs {
			if tc.Name == name {
				return c.JSON(http.StatusOK, tc)
			}
		}
		return notFound("topic %s has no config %s", topic, name)
	})
	s.api("PUT "+base+"/{name}", func(c *call) error {
		if _, err := c.Cluster(); err != nil {
			return err
		}
		var req struct {
			Value *string `json:"value"`
		}
		if err := c.Decode(&req); err != nil {
			return err
		}
		if req.Value == nil {
			return badRequest("value is required (DELETE resets a config to its default)")
		}
		err := c.alterTopicConfigs(c.r.PathValue("topic_name"), []kadm.AlterConfig{{Op: kadm.SetConfig, Name: c.r.PathValue("name"), Value: req.Value}}, false)
		if err != nil {
			return err
		}
		c.w.WriteHeader(http.StatusNoContent)
		return nil
	})
	s.api("DELETE "+base+"/{name}", func(c *call) error {
		if _, err := c.Cluster(); err != nil {
			return err
		}
		err := c.alterTopicConfigs(c.r.PathValue("topic_name"), []kadm.AlterConfig{{Op: kadm.DeleteConfig, Name: c.r.PathValue("name")}}, false)
		if err != nil {
			return err
		}
		c.w.WriteHeader(http.StatusNoContent)
		return nil
	})
	s.api("POST "+base+":alter", func(c *call) error {
		if _, err := c.Cluster(); err != nil {
			return err
		}
		var req alterConfigsRequest
		if err := c.Decode(&req); err != nil {
			return err
		}
		changes, err := alterChanges(req.Data)
		if err != nil {
			return err
		}
		if err := c.alterTopicConfigs(c.r.PathValue("topic_name"), changes, req.ValidateOnly); err != nil {
			return err
		}
		c.w.WriteHeader(http.StatusNoContent)
		return nil
	})
}

// alterChanges turns a configs:alter request's data into the changes to
// make: operation SET (the default) needs a value, DELETE resets.
func alterChanges(data []configValue) ([]kadm.AlterConfig, error) {
	if len(data) == 0 {
		return nil, badRequest("data: no configs to alter")
	}
	seen := make(map[string]bool, len(data))
	changes := make([]kadm.AlterConfig, 0, len(data))
	for _, d := range data {
		if d.Name == "" {
			return nil, badRequest("data: a config without a name")
		}
		if seen[d.Name] {
			return nil, badRequest("data: config %s given twice", d.Name)
		}
		seen[d.Name] = true
		switch d.Operation {
		case "", "SET", "set":
			if d.Value == nil {
				return nil, badRequest("data: config %s: SET needs a value", d.Name)
			}
			changes = append(changes, kadm.AlterConfig{Op: kadm.SetConfig, Name: d.Name, Value: d.Value})
		case "DELETE", "delete":
			changes = append(changes, kadm.AlterConfig{Op: kadm.DeleteConfig, Name: d.Name})
		default:
			return nil, badRequest("data: config %s: operation %q is not SET or DELETE", d.Name, d.Operation)
		}
	}
	return changes, nil
}
