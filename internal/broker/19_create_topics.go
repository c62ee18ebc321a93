package broker

// 19_create_topics.go creates topics. Courier has one node, so a
// replication factor above one, or an assignment naming other nodes, is
// refused rather than silently ignored. The valid topics of one request
// are created together (admin.go's createTopics): one metadata write, one
// fsync, for all of them.

import (
	"context"
	"fmt"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/courier-dev/courier/internal/broker/topics"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func (b *Broker) handleCreateTopics(_ context.Context, req *server.Request) server.Reply {
	r := req.Msg.(*kmsg.CreateTopicsRequest)
	resp := r.ResponseKind().(*kmsg.CreateTopicsResponse)
	seen := map[string]int{}
	for _, rt := range r.Topics {
		seen[rt.Topic]++
	}
	// CREATE on the cluster covers every topic; otherwise CREATE on each.
	clusterCreate := b.allowedCluster(req, opCreate)
	resp.Topics = make([]kmsg.CreateTopicsResponseTopic, len(r.Topics))
	// The topics to create, by their place in the response: created
	// together, with one metadata write.
	var (
		specs []topicSpec
		at    []int
	)
	for i, rt := range r.Topics {
		st := &resp.Topics[i]
		*st = kmsg.NewCreateTopicsResponseTopic()
		st.Topic = rt.Topic
		if seen[rt.Topic] > 1 {
			st.ErrorCode = kerr.InvalidRequest.Code
			st.ErrorMessage = errorMessage(fmt.Errorf("topic %q named more than once in one request", rt.Topic))
			continue
		}
		if !clusterCreate && !b.allowed(req, opCreate, rtTopic, rt.Topic) {
			st.ErrorCode = kerr.TopicAuthorizationFailed.Code
			continue
		}
		spec, err := b.topicSpec(rt)
		if err == nil && r.ValidateOnly {
			var t topics.Topic
			t, err = b.validateTopicSpec(spec)
			b.createdTopic(req, st, t, err)
			continue
		}
		if err != nil {
			b.createdTopic(req, st, topics.Topic{}, err)
			continue
		}
		specs = append(specs, spec)
		at = append(at, i)
	}
	for k, c := range b.createTopics(specs) {
		b.createdTopic(req, &resp.Topics[at[k]], c.t, c.err)
	}
	return server.Immediate(resp)
}

// createdTopic fills one topic's answer: its error, or what was created
// (the configs only for a principal that may DESCRIBE_CONFIGS it).
func (b *Broker) createdTopic(req *server.Request, st *kmsg.CreateTopicsResponseTopic, t topics.Topic, err error) {
	if err != nil {
		st.ErrorCode = errorCode(err)
		st.ErrorMessage = errorMessage(err)
		return
	}
	st.TopicID = t.ID
	st.NumPartitions = t.Partitions
	st.ReplicationFactor = 1
	st.Configs = b.brokerLayer().describeTopicConfigsForCreate(t)
	if !b.allowed(req, opDescribeConfigs, rtTopic, st.Topic) {
		st.Configs = nil
		st.ConfigErrorCode = kerr.TopicAuthorizationFailed.Code
	}
}

// topicSpec checks what a request asks of one topic that the topic store
// does not (replication, an assignment) and resolves the partition count.
func (b *Broker) topicSpec(rt kmsg.CreateTopicsRequestTopic) (topicSpec, error) {
	partitions := rt.NumPartitions
	if len(rt.ReplicaAssignment) > 0 {
		if rt.NumPartitions != -1 || rt.ReplicationFactor != -1 {
			return topicSpec{}, fmt.Errorf("%w: give either an assignment or partitions and replication factor", errInvalidReplicaAssignment)
		}
		partitions = int32(len(rt.ReplicaAssignment))
		for _, a := range rt.ReplicaAssignment {
			if len(a.Replicas) != 1 || a.Replicas[0] != b.cfg.NodeID {
				return topicSpec{}, fmt.Errorf("%w: partition %d: replicas %v; the only broker is %d", errInvalidReplicaAssignment, a.Partition, a.Replicas, b.cfg.NodeID)
			}
		}
	}
	if partitions == -1 {
		partitions = b.cfg.DefaultPartitions
	}
	if rt.ReplicationFactor != -1 && rt.ReplicationFactor != 1 {
		return topicSpec{}, fmt.Errorf("%w: %d; Courier is a single broker, so it must be 1 (or -1 for the default)", errInvalidReplicationFactor, rt.ReplicationFactor)
	}
	if rt.Topic == topics.MetadataTopic {
		return topicSpec{}, newAPIError(kerr.InvalidRequest, "Creation of internal topic %s is prohibited.", topics.MetadataTopic)
	}
	configs := map[string]string{}
	for _, c := range rt.Configs {
		if c.Value == nil {
			continue
		}
		configs[c.Name] = *c.Value
	}
	// Held to Kafka 4's rules here: the store checks only what any
	// version stored (topics.ValidateStoredConfigs).
	if err := topics.ValidateConfigs(configs); err != nil {
		return topicSpec{}, err
	}
	// Kafka's internal topics are internal whoever creates them.
	return topicSpec{name: rt.Topic, partitions: partitions, configs: topics.NormalizeConfigs(configs), internal: topics.IsInternal(rt.Topic)}, nil
}

// validateTopicSpec answers a validate-only request: what creating the
// topic would give, or why it would fail, without creating anything.
func (b *Broker) validateTopicSpec(spec topicSpec) (topics.Topic, error) {
	if err := topics.ValidateName(spec.name); err != nil {
		return topics.Topic{}, err
	}
	if spec.partitions < 1 || spec.partitions > topics.MaxPartitions {
		return topics.Topic{}, fmt.Errorf("%w: %d", topics.ErrInvalidPartitions, spec.partitions)
	}
	if err := topics.ValidateConfigs(spec.configs); err != nil {
		return topics.Topic{}, err
	}
	if _, ok := b.topics.Get(spec.name); ok {
		return topics.Topic{}, fmt.Errorf("%w: %s", topics.ErrTopicExists, spec.name)
	}
	return topics.Topic{Name: spec.name, Partitions: spec.partitions, Configs: spec.configs}, nil
}

// describeTopicConfigsForCreate lists a new topic's effective configs,
// as DescribeConfigs would.
func (l brokerLayer) describeTopicConfigsForCreate(t topics.Topic) []kmsg.CreateTopicsResponseTopicConfig {
	var out []kmsg.CreateTopicsResponseTopicConfig
	for _, e := range l.topicConfigEntries(t) {
		c := kmsg.NewCreateTopicsResponseTopicConfig()
		c.Name = e.name
		c.Value = e.value
		c.Source = int8(e.source)
		c.IsSensitive = e.typ == kmsg.ConfigTypePassword
		out = append(out, c)
	}
	return out
}
