package broker

// 19_create_topics.go creates topics. Courier has one node, so a
// replication factor above one, or an assignment naming other nodes, is
// refused rather than silently ignored.

import (
	"context"
	"fmt"

	"github.com/courier-dev/courier/internal/server"
	"github.com/courier-dev/courier/internal/topics"
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
	for _, rt := range r.Topics {
		st := kmsg.NewCreateTopicsResponseTopic()
		st.Topic = rt.Topic
		if seen[rt.Topic] > 1 {
			st.ErrorCode = kerr.InvalidRequest.Code
			st.ErrorMessage = errorMessage(fmt.Errorf("topic %q named more than once in one request", rt.Topic))
			resp.Topics = append(resp.Topics, st)
			continue
		}
		if !clusterCreate && !b.allowed(req, opCreate, rtTopic, rt.Topic) {
			st.ErrorCode = kerr.TopicAuthorizationFailed.Code
			resp.Topics = append(resp.Topics, st)
			continue
		}
		t, err := b.createOne(rt, r.ValidateOnly)
		if err != nil {
			st.ErrorCode = errorCode(err)
			st.ErrorMessage = errorMessage(err)
		} else {
			st.TopicID = t.ID
			st.NumPartitions = t.Partitions
			st.ReplicationFactor = 1
			st.Configs = describeTopicConfigsForCreate(t)
			if !b.allowed(req, opDescribeConfigs, rtTopic, rt.Topic) {
				st.Configs = nil
				st.ConfigErrorCode = kerr.TopicAuthorizationFailed.Code
			}
		}
		resp.Topics = append(resp.Topics, st)
	}
	return server.Immediate(resp)
}

// createOne validates and (unless validateOnly) creates one topic.
func (b *Broker) createOne(rt kmsg.CreateTopicsRequestTopic, validateOnly bool) (topics.Topic, error) {
	partitions := rt.NumPartitions
	if len(rt.ReplicaAssignment) > 0 {
		if rt.NumPartitions != -1 || rt.ReplicationFactor != -1 {
			return topics.Topic{}, fmt.Errorf("%w: give either an assignment or partitions and replication factor", errInvalidReplicaAssignment)
		}
		partitions = int32(len(rt.ReplicaAssignment))
		for _, a := range rt.ReplicaAssignment {
			if len(a.Replicas) != 1 || a.Replicas[0] != b.cfg.NodeID {
				return topics.Topic{}, fmt.Errorf("%w: partition %d: replicas %v; the only broker is %d", errInvalidReplicaAssignment, a.Partition, a.Replicas, b.cfg.NodeID)
			}
		}
	}
	if partitions == -1 {
		partitions = b.cfg.DefaultPartitions
	}
	if rt.ReplicationFactor != -1 && rt.ReplicationFactor != 1 {
		return topics.Topic{}, fmt.Errorf("%w: %d; Courier is a single broker, so it must be 1 (or -1 for the default)", errInvalidReplicationFactor, rt.ReplicationFactor)
	}
	configs := map[string]string{}
	for _, c := range rt.Configs {
		if c.Value == nil {
			continue
		}
		configs[c.Name] = *c.Value
	}
	if validateOnly {
		if err := topics.ValidateName(rt.Topic); err != nil {
			return topics.Topic{}, err
		}
		if partitions < 1 || partitions > topics.MaxPartitions {
			return topics.Topic{}, fmt.Errorf("%w: %d", topics.ErrInvalidPartitions, partitions)
		}
		if err := topics.ValidateConfigs(configs); err != nil {
			return topics.Topic{}, err
		}
		if _, ok := b.topics.Get(rt.Topic); ok {
			return topics.Topic{}, fmt.Errorf("%w: %s", topics.ErrTopicExists, rt.Topic)
		}
		return topics.Topic{Name: rt.Topic, Partitions: partitions, Configs: configs}, nil
	}
	return b.createTopic(rt.Topic, partitions, configs)
}

// describeTopicConfigsForCreate lists a new topic's effective configs.
func describeTopicConfigsForCreate(t topics.Topic) []kmsg.CreateTopicsResponseTopicConfig {
	var out []kmsg.CreateTopicsResponseTopicConfig
	for _, d := range topics.ConfigDefs() {
		v, isDefault, _ := t.Value(d.Name)
		c := kmsg.NewCreateTopicsResponseTopicConfig()
		c.Name = d.Name
		val := v
		c.Value = &val
		c.Source = int8(kmsg.ConfigSourceDynamicTopicConfig)
		if isDefault {
			c.Source = int8(kmsg.ConfigSourceDefaultConfig)
		}
		out = append(out, c)
	}
	return out
}
