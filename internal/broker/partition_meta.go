package broker

// partition_meta.go keeps a copy of each partition's topic identity in its
// directory (partition.metadata, as Kafka does): the topic name, id and
// configs. The broker never reads it in normal operation; it is what
// --rebuild-metadata uses when the topic metadata itself is lost. It is
// written without fsync (a lost or torn copy only makes a rebuild fall back
// to safe defaults), so it costs topic creation nothing measurable.

import (
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/courier-dev/courier/internal/broker/topics"
)

// partitionMetaName is the file in each partition directory.
const partitionMetaName = "partition.metadata"

// partitionMeta is the file's content.
type partitionMeta struct {
	Version   int               `json:"version"`
	Topic     string            `json:"topic"`
	TopicID   [16]byte          `json:"topic_id"`
	Partition int32             `json:"partition"`
	Internal  bool              `json:"internal,omitempty"`
	Configs   map[string]string `json:"configs,omitempty"`
}

// writePartitionMeta replaces dir's partition.metadata (tmp + rename, no
// fsync).
func writePartitionMeta(dir string, t topics.Topic, index int32) error {
	data, err := json.Marshal(partitionMeta{Version: 1, Topic: t.Name, TopicID: t.ID, Partition: index, Internal: t.Internal, Configs: t.Configs})
	if err != nil {
		return fmt.Errorf("encode partition metadata: %w", err)
	}
	path := filepath.Join(dir, partitionMetaName)
	if err := os.WriteFile(path+".tmp", data, 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(path+".tmp", path); err != nil {
		return fmt.Errorf("rename %s: %w", path, err)
	}
	return nil
}

// hasPartitionMeta reports whether dir has a partition.metadata file.
func hasPartitionMeta(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, partitionMetaName))
	return err == nil
}

// readPartitionMeta reads dir's partition.metadata.
func readPartitionMeta(dir string) (partitionMeta, error) {
	var pm partitionMeta
	data, err := os.ReadFile(filepath.Join(dir, partitionMetaName))
	if err != nil {
		return pm, err
	}
	if err := json.Unmarshal(data, &pm); err != nil {
		return pm, fmt.Errorf("parse %s: %w", filepath.Join(dir, partitionMetaName), err)
	}
	if pm.Version != 1 || pm.TopicID == ([16]byte{}) {
		return pm, fmt.Errorf("%s: version %d, topic id %x: not a partition metadata file this broker wrote", filepath.Join(dir, partitionMetaName), pm.Version, pm.TopicID)
	}
	return pm, nil
}

// randomID fills id with random bytes.
func randomID(id *[16]byte) {
	_, _ = rand.Read(id[:]) // crypto/rand.Read never fails on Linux
}
