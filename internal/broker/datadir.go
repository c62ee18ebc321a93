package broker

// datadir.go keeps the data directory's layout honest at start: the topic
// metadata must be there if partition data is, directories the metadata
// does not know are moved aside (never deleted), deletions already decided
// are finished, and --rebuild-metadata reconstructs lost metadata from the
// partition directories. Nothing here deletes data it cannot prove
// worthless: the only directories removed are those a topic deletion
// renamed with the "-delete" suffix, and empty ones a failed creation made.

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/courier-dev/courier/internal/broker/topics"
	"github.com/courier-dev/courier/internal/broker/vfs"
)

// deleteSuffix marks a partition directory whose topic was deleted: the
// deletion renames it first (one atomic step), then removes it, so a crash
// in between leaves a name that no live partition can have (those end in
// "-<digits>") and that start removes.
const deleteSuffix = "-delete"

// quarantineDir is DATA/quarantine: what the broker moved aside at start.
// Nothing reads or removes it; the README says what to do with it.
func (b *Broker) quarantineDir() string { return filepath.Join(b.cfg.DataDir, "quarantine") }

// moveToQuarantine renames path into DATA/quarantine, keeping its name with
// the time appended, and returns the new path.
func (b *Broker) moveToQuarantine(path, why string) (string, error) {
	dst, err := vfs.MoveAside(vfs.Default, path, b.quarantineDir(), why, time.Now())
	if err != nil {
		return "", fmt.Errorf("quarantine: %w", err)
	}
	b.metrics.quarantined.WithLabelValues(why).Inc()
	return dst, nil
}

// partitionDirName splits a logs/ entry named "<topic>-<n>" into a valid
// topic name and partition index.
func partitionDirName(name string) (topic string, index int32, ok bool) {
	i := strings.LastIndexByte(name, '-')
	if i <= 0 {
		return "", 0, false
	}
	n, err := strconv.ParseInt(name[i+1:], 10, 32)
	if err != nil || n < 0 || strconv.Itoa(int(n)) != name[i+1:] {
		return "", 0, false
	}
	if topics.ValidateName(name[:i]) != nil {
		return "", 0, false
	}
	return name[:i], int32(n), true
}

// logsEntries lists DATA/logs.
func (b *Broker) logsEntries() ([]os.DirEntry, error) {
	entries, err := os.ReadDir(b.logsDir())
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", b.logsDir(), err)
	}
	return entries, nil
}

// checkMetadataPresent refuses to start when the topic metadata file is
// missing but partition directories exist: starting would treat every
// partition as unknown. The way out is --rebuild-metadata.
func (b *Broker) checkMetadataPresent() error {
	if !b.topics.Fresh() || b.cfg.RebuildMetadata {
		return nil
	}
	entries, err := b.logsEntries()
	if err != nil {
		return err
	}
	var found []string
	for _, e := range entries {
		if _, _, ok := partitionDirName(e.Name()); ok && e.IsDir() {
			found = append(found, e.Name())
		}
	}
	if len(found) == 0 {
		return nil
	}
	return fmt.Errorf("topic metadata %s (or, from an earlier version, topics.json) is missing, but %s holds %d partition directories (%s): "+
		"refusing to start, since every one of them would be unknown. If the file was lost, start once with "+
		"--rebuild-metadata to rebuild the topics from the partition directories; if the data directory is "+
		"not the one you meant, check --data",
		b.topics.Path(), b.logsDir(), len(found), strings.Join(found[:min(len(found), 3)], ", "))
}

// sweepLogsDir finishes interrupted topic deletions and moves directories
// the metadata does not know into quarantine.
func (b *Broker) sweepLogsDir() error {
	entries, err := b.logsEntries()
	if err != nil {
		return err
	}
	for _, e := range entries {
		path := filepath.Join(b.logsDir(), e.Name())
		if strings.HasSuffix(e.Name(), deleteSuffix) && e.IsDir() {
			b.cfg.Logger.Info("finishing an interrupted topic deletion", "path", path)
			if err := os.RemoveAll(path); err != nil {
				return fmt.Errorf("remove deleted partition %s: %w", path, err)
			}
			continue
		}
		if b.isLivePartitionDir(e.Name()) {
			continue
		}
		dst, err := b.moveToQuarantine(path, "unknown")
		if err != nil {
			return err
		}
		b.cfg.Logger.Error("data directory entry belongs to no known topic partition; moved it to quarantine",
			"path", path, "quarantined_as", dst)
	}
	return nil
}

// isLivePartitionDir reports whether a logs/ entry names a partition of a
// known topic.
func (b *Broker) isLivePartitionDir(name string) bool {
	topic, index, ok := partitionDirName(name)
	if !ok {
		return false
	}
	t, ok := b.topics.Get(topic)
	return ok && index < t.Partitions
}

// openTopicStore opens the topic metadata, or with --rebuild-metadata
// rebuilds it: metadata that cannot be trusted (topics.log, and a
// topics.json not yet imported, whichever exist) is moved to quarantine
// first, then every topic found in the partition directories and missing
// from the metadata is added.
func (b *Broker) openTopicStore() (*topics.Store, error) {
	opts := topics.Options{Logger: b.levels.Logger(loggerTopics)}
	store, err := topics.Open(b.metaDir(), opts)
	if err == nil && !b.cfg.RebuildMetadata {
		return store, nil
	}
	if err != nil && !errors.Is(err, topics.ErrBadMetadata) {
		return nil, err
	}
	if err != nil && !b.cfg.RebuildMetadata {
		return nil, fmt.Errorf("%w; refusing to start on metadata that cannot be trusted. Start once with "+
			"--rebuild-metadata to move it to %s and rebuild the topics from the partition directories",
			err, b.quarantineDir())
	}
	if err != nil {
		for _, name := range []string{"topics.log", "topics.json"} {
			path := filepath.Join(b.metaDir(), name)
			if _, serr := os.Stat(path); errors.Is(serr, os.ErrNotExist) {
				continue
			}
			dst, qerr := b.moveToQuarantine(path, "damaged")
			if qerr != nil {
				return nil, qerr
			}
			b.cfg.Logger.Warn("damaged topic metadata moved to quarantine", "err", err, "quarantined_as", dst)
		}
		if store, err = topics.Open(b.metaDir(), opts); err != nil {
			return nil, err
		}
	}
	if err := b.rebuildTopics(store); err != nil {
		store.Close()
		return nil, err
	}
	return store, nil
}

// rebuildTopics adds to store every topic that has partition directories
// but no metadata. The topic id and configs come from the partitions'
// partition.metadata files when they can be read; otherwise the topic gets
// a new id and retention switched off (retention.ms=-1,
// retention.bytes=-1), since default retention could delete data the lost
// configs kept.
func (b *Broker) rebuildTopics(store *topics.Store) error {
	entries, err := b.logsEntries()
	if err != nil {
		return err
	}
	found := map[string]int32{} // topic -> highest partition index + 1
	for _, e := range entries {
		topic, index, ok := partitionDirName(e.Name())
		if !ok || !e.IsDir() {
			continue
		}
		found[topic] = max(found[topic], index+1)
	}
	var rebuilt []topics.Topic
	for _, name := range slices.Sorted(maps.Keys(found)) {
		count := found[name]
		if t, ok := store.Get(name); ok {
			if t.Partitions < count {
				if _, err := store.SetPartitions(name, count); err != nil {
					return fmt.Errorf("rebuild topic %s: %w", name, err)
				}
				b.cfg.Logger.Warn("rebuilt metadata: raised partition count to the directories found", "topic", name, "partitions", count)
			}
			continue
		}
		t, fromFiles := b.rebuiltTopic(name, count)
		rebuilt = append(rebuilt, t)
		if fromFiles {
			b.cfg.Logger.Warn("rebuilt topic from its partition directories", "topic", name, "partitions", count, "configs", t.Configs)
		} else {
			b.cfg.Logger.Warn("rebuilt topic from its partition directories; its id and configs were not found, "+
				"so it has a new id and retention switched off: set its configs again",
				"topic", name, "partitions", count)
		}
	}
	// One metadata write for every rebuilt topic.
	if err := store.AddAll(rebuilt); err != nil {
		return fmt.Errorf("rebuild %d topics: %w", len(rebuilt), err)
	}
	return nil
}

// rebuiltTopic makes the metadata of a topic found on disk with count
// partitions, from the first readable partition.metadata file.
func (b *Broker) rebuiltTopic(name string, count int32) (topics.Topic, bool) {
	for i := int32(0); i < count; i++ {
		pm, err := readPartitionMeta(b.partitionDir(name, i))
		if err != nil {
			if !errors.Is(err, os.ErrNotExist) {
				b.cfg.Logger.Warn("partition metadata unreadable", "topic", name, "partition", i, "err", err)
			}
			continue
		}
		if pm.Topic != name || topics.ValidateStoredConfigs(pm.Configs) != nil {
			b.cfg.Logger.Warn("partition metadata does not match its directory", "topic", name, "partition", i, "names", pm.Topic)
			continue
		}
		return topics.Topic{Name: name, ID: pm.TopicID, Partitions: count, Configs: pm.Configs, Internal: pm.Internal}, true
	}
	t := topics.Topic{Name: name, Partitions: count, Internal: name == offsetsTopic,
		Configs: map[string]string{"retention.ms": "-1", "retention.bytes": "-1"}}
	randomID(&t.ID)
	return t, false
}
