package ctl

// partitions.go grows a topic's partition count and says which partitions
// an operation on a topic works on.

import (
	"context"
	"fmt"
	"sort"

	"github.com/twmb/franz-go/pkg/kerr"
)

// AddPartitions grows the topic to total partitions. Kafka cannot remove
// partitions, so total must exceed the current count; the cluster's refusal
// comes back as a *TopicError naming the current count when the broker
// reports it.
func (a *Admin) AddPartitions(ctx context.Context, name string, total int) error {
	if name == "" {
		return fmt.Errorf("add partitions: empty topic name")
	}
	if total < 1 {
		return fmt.Errorf("add partitions to topic %s: total must be at least 1, got %d", name, total)
	}
	resps, err := a.adm.UpdatePartitions(ctx, total, name)
	if err != nil {
		return fmt.Errorf("add partitions to topic %s: %w", name, err)
	}
	r, ok := resps[name]
	if !ok {
		return fmt.Errorf("add partitions to topic %s: the cluster's response did not mention the topic", name)
	}
	return topicErr("add partitions to", name, r.Err, r.ErrMessage)
}

// topicPartitions returns the partitions of topic that operation op (a
// verb: "seek", "describe producers of") works on, sorted: all of them, or
// only partition if it is not -1. An unknown topic is a *TopicError, a
// partition the topic does not have an error naming its count.
func (a *Admin) topicPartitions(ctx context.Context, op, topic string, partition int32) ([]int32, error) {
	tds, err := a.adm.ListTopicsWithInternal(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("%s topic %s: metadata: %w", op, topic, err)
	}
	td, ok := tds[topic]
	if !ok {
		return nil, topicErr(op, topic, kerr.UnknownTopicOrPartition, "")
	}
	if err := topicErr(op, topic, td.Err, ""); err != nil {
		return nil, err
	}
	if partition >= 0 {
		if _, ok := td.Partitions[partition]; !ok {
			return nil, fmt.Errorf("partition %d does not exist: topic %s has %d partitions", partition, topic, len(td.Partitions))
		}
		return []int32{partition}, nil
	}
	var out []int32
	for p := range td.Partitions {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}
