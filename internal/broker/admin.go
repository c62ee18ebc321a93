package broker

// admin.go changes the set of topics: the metadata store first (so a crash
// never leaves a topic half-known), then the partition logs.

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/courier-dev/courier/internal/topics"
)

// createTopic persists a new topic and opens its partitions.
func (b *Broker) createTopic(name string, partitions int32, configs map[string]string) (topics.Topic, error) {
	b.adminMu.Lock()
	defer b.adminMu.Unlock()
	t, err := b.topics.Create(name, partitions, configs, false)
	if err != nil {
		return topics.Topic{}, err
	}
	// A directory left by an earlier topic of the same name must not
	// resurface as this topic's data.
	for i := int32(0); i < partitions; i++ {
		if err := os.RemoveAll(b.partitionDir(name, i)); err != nil {
			return topics.Topic{}, fmt.Errorf("clear %s: %w", b.partitionDir(name, i), err)
		}
	}
	if err := b.openTopic(t); err != nil {
		return topics.Topic{}, err
	}
	return t, nil
}

// deleteTopic forgets a topic durably, then removes its logs.
func (b *Broker) deleteTopic(name string) (topics.Topic, error) {
	b.adminMu.Lock()
	defer b.adminMu.Unlock()
	t, err := b.topics.Delete(name)
	if err != nil {
		return topics.Topic{}, err
	}
	b.mu.Lock()
	ps := b.parts[name]
	delete(b.parts, name)
	delete(b.byID, t.ID)
	b.mu.Unlock()
	for _, p := range ps {
		if err := p.log.Delete(); err != nil {
			// The topic is gone from the metadata; the orphan directory is
			// removed at the next start.
			b.cfg.Logger.Error("delete partition log", "topic", name, "partition", p.index, "err", err)
		}
	}
	// As in Kafka, the groups' offsets of the topic go with it, so that a
	// topic created again under the name starts without them.
	ctx, cancel := context.WithTimeout(context.Background(), offsetsDeleteTimeout)
	defer cancel()
	if err := b.groups.DeleteTopicOffsets(name)(ctx); err != nil {
		b.cfg.Logger.Error("delete committed offsets of deleted topic", "topic", name, "err", err)
	}
	return t, nil
}

// offsetsDeleteTimeout bounds deleteTopic's wait for the deletion of the
// topic's committed offsets to be durable (one fsync of the offsets log).
const offsetsDeleteTimeout = 10 * time.Second

// addPartitions raises a topic's partition count.
func (b *Broker) addPartitions(name string, total int32) (topics.Topic, error) {
	b.adminMu.Lock()
	defer b.adminMu.Unlock()
	t, err := b.topics.SetPartitions(name, total)
	if err != nil {
		return topics.Topic{}, err
	}
	if err := b.openTopic(t); err != nil {
		return topics.Topic{}, err
	}
	return t, nil
}

// setTopicConfigs replaces a topic's configs and applies them to its logs.
func (b *Broker) setTopicConfigs(name string, configs map[string]string) (topics.Topic, error) {
	b.adminMu.Lock()
	defer b.adminMu.Unlock()
	t, err := b.topics.SetConfigs(name, configs)
	if err != nil {
		return topics.Topic{}, err
	}
	sc := storageConfig(t)
	for _, p := range b.topicPartitions(name) {
		p.log.SetConfig(sc)
	}
	return t, nil
}
