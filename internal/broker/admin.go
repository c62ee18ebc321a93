package broker

// admin.go changes the set of topics. A new topic's partitions are created
// first, invisible, and the topic is added to the metadata (made visible)
// only once all exist, so a failed creation leaves nothing behind; the
// topics of one CreateTopics request are added in one metadata write. A
// deleted topic leaves the metadata first (so a crash never leaves it
// half-known), then each partition directory is renamed with the -delete
// suffix and removed (a crash in between is finished at the next start).

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/courier-dev/courier/internal/broker/topics"
	"github.com/courier-dev/courier/internal/broker/vfs"
)

// createTopic creates a topic's partitions and then persists it.
func (b *Broker) createTopic(name string, partitions int32, configs map[string]string) (topics.Topic, error) {
	return b.createTopicWith(name, partitions, configs, false)
}

// createTopicWith is createTopic that can mark the topic internal.
func (b *Broker) createTopicWith(name string, partitions int32, configs map[string]string, internal bool) (topics.Topic, error) {
	created := b.createTopics([]topicSpec{{name: name, partitions: partitions, configs: configs, internal: internal}})
	return created[0].t, created[0].err
}

// topicSpec is a topic to create.
type topicSpec struct {
	name       string
	partitions int32
	configs    map[string]string
	internal   bool
}

// topicCreated is the outcome of one topicSpec: the topic, or why not.
type topicCreated struct {
	t   topics.Topic
	err error
}

// createTopics creates several topics with one metadata write: each valid
// topic's partitions are created, then every such topic is added to the
// metadata in one batch (one fsync for all), then they are published. A
// topic that cannot be created (a bad name, one that exists or repeats,
// the partition limit, a partition that cannot be opened) gets its error
// and the others go on; if the batch cannot be written, every topic in it
// fails and its partitions are removed: nothing half-created stays.
func (b *Broker) createTopics(specs []topicSpec) []topicCreated {
	b.adminMu.Lock()
	defer b.adminMu.Unlock()
	out := make([]topicCreated, len(specs))
	var (
		valid  []int
		adding int32
		names  = make(map[string]bool, len(specs))
	)
	for i, sp := range specs {
		t, err := b.topics.NewTopic(sp.name, sp.partitions, sp.configs, sp.internal)
		if err == nil && names[sp.name] {
			err = fmt.Errorf("%w: %s (named twice)", topics.ErrTopicExists, sp.name)
		}
		if err == nil {
			err = b.checkPartitionBudget(adding + sp.partitions)
		}
		if err != nil {
			out[i].err = err
			continue
		}
		names[sp.name] = true
		adding += sp.partitions
		out[i].t = t
		valid = append(valid, i)
	}
	// Creating a partition is creating a directory and two files: the
	// kernel's work, which several at once spread over the cores.
	opened := make([][]*partition, len(specs))
	inParallel(len(valid), createWorkers, func(k int) {
		i := valid[k]
		opened[i], out[i].err = b.newPartitions(out[i].t, 0)
	})
	var (
		ready []int
		batch []topics.Topic
	)
	for _, i := range valid {
		if out[i].err == nil {
			ready = append(ready, i)
			batch = append(batch, out[i].t)
		}
	}
	if err := b.topics.AddAll(batch); err != nil {
		for _, i := range ready {
			b.discardPartitions(opened[i])
			out[i] = topicCreated{err: err}
		}
		return out
	}
	for _, i := range ready {
		b.publishPartitions(out[i].t, opened[i])
	}
	return out
}

// createWorkers bounds the topics whose partitions are created at once.
const createWorkers = 4

// inParallel calls fn with 0 to n-1 on up to workers goroutines of its
// own, and returns once every call has.
func inParallel(n, workers int, fn func(i int)) {
	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	for range min(n, workers) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				fn(i)
			}
		}()
	}
	wg.Wait()
}

// newPartitions opens new, empty partitions of t from index first on.
// A directory already there (left by an earlier topic of that name whose
// deletion failed) must not resurface as this topic's data: it is moved
// to quarantine, never deleted.
func (b *Broker) newPartitions(t topics.Topic, first int32) ([]*partition, error) {
	for i := first; i < t.Partitions; i++ {
		dir := b.partitionDir(t.Name, i)
		if _, err := os.Stat(dir); err == nil {
			dst, err := b.moveToQuarantine(dir, "leftover")
			if err != nil {
				return nil, err
			}
			b.cfg.Logger.Warn("a directory for the new partition already existed; moved it to quarantine", "path", dir, "quarantined_as", dst)
		}
	}
	opened, err := b.openPartitions(t, first, true)
	if err != nil {
		for i := first; i < t.Partitions; i++ {
			_ = os.RemoveAll(b.partitionDir(t.Name, i)) // made just now, empty
		}
		return nil, err
	}
	return opened, nil
}

// discardPartitions removes partitions created for a topic that could not
// be added: they are empty and nobody has seen them.
func (b *Broker) discardPartitions(ps []*partition) {
	for _, p := range ps {
		if err := p.log.Delete(); err != nil {
			b.cfg.Logger.Error("remove partition of a failed topic creation", "topic", p.topic, "partition", p.index, "err", err)
		}
	}
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
	b.nparts -= len(ps)
	b.topicsVersion.Add(1)
	b.mu.Unlock()
	for _, p := range ps {
		if err := b.removePartition(p, t); err != nil {
			// The topic is gone from the metadata; the directory is moved
			// to quarantine at the next start.
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

// removePartition closes a deleted topic's partition, renames its
// directory with the -delete suffix (durably), then removes it.
func (b *Broker) removePartition(p *partition, t topics.Topic) error {
	cerr := p.log.Close()
	dir := b.partitionDir(p.topic, p.index)
	doomed := dir + "." + strconv.FormatInt(time.Now().UnixNano(), 36) + deleteSuffix
	if err := os.Rename(dir, doomed); err != nil {
		return errors.Join(cerr, fmt.Errorf("rename %s for deletion: %w", dir, err))
	}
	if err := vfs.Default.SyncDir(b.logsDir()); err != nil {
		return errors.Join(cerr, fmt.Errorf("fsync %s: %w", b.logsDir(), err))
	}
	if err := os.RemoveAll(doomed); err != nil {
		return errors.Join(cerr, fmt.Errorf("remove %s: %w", doomed, err))
	}
	return cerr
}

// offsetsDeleteTimeout bounds deleteTopic's wait for the deletion of the
// topic's committed offsets to be durable (one fsync of the offsets log).
const offsetsDeleteTimeout = 10 * time.Second

// addPartitions raises a topic's partition count: the new partitions are
// created first and published only once the new count is persisted.
func (b *Broker) addPartitions(name string, total int32) (topics.Topic, error) {
	b.adminMu.Lock()
	defer b.adminMu.Unlock()
	t, ok := b.topics.Get(name)
	if !ok {
		return topics.Topic{}, fmt.Errorf("%w: %s", topics.ErrUnknownTopic, name)
	}
	if total <= t.Partitions || total > topics.MaxPartitions {
		return topics.Topic{}, fmt.Errorf("%w: topic %s has %d partitions; new total %d must be larger and at most %d",
			topics.ErrInvalidPartitions, name, t.Partitions, total, topics.MaxPartitions)
	}
	if err := b.checkPartitionBudget(total - t.Partitions); err != nil {
		return topics.Topic{}, err
	}
	grown := t
	grown.Partitions = total
	opened, err := b.newPartitions(grown, t.Partitions)
	if err != nil {
		return topics.Topic{}, err
	}
	if grown, err = b.topics.SetPartitions(name, total); err != nil {
		b.discardPartitions(opened)
		return topics.Topic{}, err
	}
	b.publishPartitions(grown, opened)
	return grown, nil
}

// changeTopicConfigs computes a topic's new configs from a copy of its
// current ones with edit, validates them and, unless validateOnly, stores
// them and applies them to its logs (and to the partitions' metadata
// copies). It holds adminMu throughout, so that two changes of one topic
// never both start from the same configs and one of them is lost.
func (b *Broker) changeTopicConfigs(name string, edit func(map[string]string) (map[string]string, error), validateOnly bool) error {
	b.adminMu.Lock()
	defer b.adminMu.Unlock()
	t, ok := b.topics.Get(name) // a copy
	if !ok {
		return fmt.Errorf("%w: %s", topics.ErrUnknownTopic, name)
	}
	current := t.Configs
	configs, err := edit(copyMap(current))
	if err != nil {
		return err
	}
	configs = topics.NormalizeConfigs(configs)
	if err := topics.ValidateChange(current, configs); err != nil {
		return err
	}
	if validateOnly {
		return nil
	}
	if t, err = b.topics.SetConfigs(name, configs); err != nil {
		return err
	}
	sc := b.storageConfig(t)
	for _, p := range b.topicPartitions(name) {
		p.log.SetConfig(sc)
		if err := writePartitionMeta(b.partitionDir(name, p.index), t, p.index); err != nil {
			b.cfg.Logger.Warn("write partition metadata copy", "topic", name, "partition", p.index, "err", err)
		}
	}
	b.cleaner.Wake() // a topic now compacted (or a lower ratio) need not wait for the backoff
	return nil
}
