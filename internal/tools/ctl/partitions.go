package ctl

// partitions.go grows a topic's partition count.

import (
	"context"
	"fmt"
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
