package ctl

// delete.go deletes topics.

import (
	"context"
	"fmt"
)

// DeleteTopic deletes the topic and all its records. Deleting a topic that
// does not exist fails with a *TopicError ("unknown topic X").
func (a *Admin) DeleteTopic(ctx context.Context, name string) error {
	if name == "" {
		return fmt.Errorf("delete topic: empty topic name")
	}
	resps, err := a.adm.DeleteTopics(ctx, name)
	if err != nil {
		return fmt.Errorf("delete topic %s: %w", name, err)
	}
	r, ok := resps[name]
	if !ok {
		return fmt.Errorf("delete topic %s: the cluster's response did not mention the topic", name)
	}
	return topicErr("delete", name, r.Err, r.ErrMessage)
}
