package broker

// group_topics.go gives the group coordinator its view of the broker's
// topics (group.Topics), which KIP-848 consumer groups assign on the
// broker: the published partitions of each topic, and a version that
// changes whenever a topic is created or deleted or gains partitions, so
// that groups look again on their members' next heartbeats.

import (
	"github.com/courier-dev/courier/internal/broker/group"
	"github.com/courier-dev/courier/internal/broker/topics"
)

// groupTopics implements group.Topics over the partition table.
type groupTopics struct{ b *Broker }

// Version implements group.Topics.
func (v groupTopics) Version() uint64 { return v.b.topicsVersion.Load() }

// Topic implements group.Topics: a topic whose partitions are published.
func (v groupTopics) Topic(name string) (group.TopicInfo, bool) {
	n := len(v.b.topicPartitions(name))
	if n == 0 {
		return group.TopicInfo{}, false
	}
	t, ok := v.b.topics.Get(name)
	if !ok {
		return group.TopicInfo{}, false
	}
	return group.TopicInfo{Name: name, ID: t.ID, Partitions: int32(n), Internal: t.Internal || topics.IsInternal(name)}, true
}

// All implements group.Topics.
func (v groupTopics) All() []group.TopicInfo {
	v.b.mu.RLock()
	names := make([]string, 0, len(v.b.parts))
	for name := range v.b.parts {
		names = append(names, name)
	}
	v.b.mu.RUnlock()
	out := make([]group.TopicInfo, 0, len(names))
	for _, name := range names {
		if t, ok := v.Topic(name); ok {
			out = append(out, t)
		}
	}
	return out
}

// consumerGroupOptions configures KIP-848 consumer groups: the topics,
// the assignors, the session timeout, heartbeat interval and migration
// policy.
func (b *Broker) consumerGroupOptions() []group.Opt {
	opts := []group.Opt{
		group.WithTopics(groupTopics{b}), group.ConsumerAssignors(b.cfg.ConsumerGroupAssignors),
		group.ConsumerGroupTimeouts(b.consumerGroupTimeouts),
	}
	if b.cfg.ConsumerGroupSessionTimeout > 0 {
		opts = append(opts, group.ConsumerSessionTimeout(b.cfg.ConsumerGroupSessionTimeout))
	}
	if b.cfg.ConsumerGroupHeartbeatInterval > 0 {
		opts = append(opts, group.ConsumerHeartbeatInterval(b.cfg.ConsumerGroupHeartbeatInterval))
	}
	if b.cfg.ConsumerGroupMigrationPolicy != "" {
		opts = append(opts, group.MigrationPolicy(b.cfg.ConsumerGroupMigrationPolicy))
	}
	return opts
}
