package ctl

// create.go creates topics and parses the k=v topic configs given for them.

import (
	"context"
	"fmt"
)

// CreateSpec describes a topic to create.
type CreateSpec struct {
	Name              string             // Name is the topic name.
	Partitions        int32              // Partitions is the partition count; -1 asks for the broker default.
	ReplicationFactor int16              // ReplicationFactor is replicas per partition; -1 asks for the broker default.
	Configs           map[string]*string // Configs are topic config overrides, e.g. retention.ms; may be nil.
}

// Created is what the cluster reports about a topic it created.
type Created struct {
	Name              string // Name is the topic name.
	ID                string // ID is the topic ID in Kafka's notation, or "" if the broker does not report one.
	Partitions        int32  // Partitions is the partition count.
	ReplicationFactor int16  // ReplicationFactor is the number of replicas per partition.
}

// CreateTopic creates the topic described by spec. A refusal by the cluster
// is returned as a *TopicError ("topic X already exists").
func (a *Admin) CreateTopic(ctx context.Context, spec CreateSpec) (Created, error) {
	if err := spec.Validate(); err != nil {
		return Created{}, err
	}
	resps, err := a.adm.CreateTopics(ctx, spec.Partitions, spec.ReplicationFactor, spec.Configs, spec.Name)
	if err != nil {
		return Created{}, fmt.Errorf("create topic %s: %w", spec.Name, err)
	}
	r, ok := resps[spec.Name]
	if !ok {
		return Created{}, fmt.Errorf("create topic %s: the cluster's response did not mention the topic", spec.Name)
	}
	if err := topicErr("create", spec.Name, r.Err, r.ErrMessage); err != nil {
		return Created{}, err
	}
	c := Created{Name: spec.Name, ID: formatTopicID(r.ID), Partitions: r.NumPartitions, ReplicationFactor: r.ReplicationFactor}
	// Brokers before Kafka 2.4 do not echo the layout; report what was asked.
	if c.Partitions <= 0 {
		c.Partitions = spec.Partitions
	}
	if c.ReplicationFactor <= 0 {
		c.ReplicationFactor = spec.ReplicationFactor
	}
	return c, nil
}

// Validate reports what CreateTopic would refuse in spec before asking the
// cluster, so that a caller can check its flags before it connects.
func (spec CreateSpec) Validate() error {
	if spec.Name == "" {
		return fmt.Errorf("create topic: empty topic name")
	}
	if spec.Partitions < 1 && spec.Partitions != -1 {
		return fmt.Errorf("create topic %s: partitions must be at least 1 (or -1 for the broker default), got %d", spec.Name, spec.Partitions)
	}
	if spec.ReplicationFactor < 1 && spec.ReplicationFactor != -1 {
		return fmt.Errorf("create topic %s: replication factor must be at least 1 (or -1 for the broker default), got %d", spec.Name, spec.ReplicationFactor)
	}
	return nil
}

// ParseConfigs parses topic config overrides given as "key=value" strings.
// The value may be empty and may contain '=' and ','; a list value may be
// given in kafka-configs.sh's brackets ([compact,delete]); a key may
// appear once.
func ParseConfigs(kvs []string) (map[string]*string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	out := make(map[string]*string, len(kvs))
	for _, kv := range kvs {
		k, v, err := parseConfig(kv)
		if err != nil {
			return nil, err
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("config %s given more than once", k)
		}
		out[k] = &v
	}
	return out, nil
}
