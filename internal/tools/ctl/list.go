package ctl

// list.go lists the topics of a cluster.

import (
	"context"
	"fmt"
	"sort"
)

// TopicSummary is one line of a topic listing.
type TopicSummary struct {
	Name       string // Name is the topic name.
	Partitions int    // Partitions is the partition count.
	Internal   bool   // Internal is whether the cluster marks the topic internal (e.g. __consumer_offsets).
}

// ListTopics returns the cluster's topics sorted by name. Internal topics are
// left out unless includeInternal is set.
func (a *Admin) ListTopics(ctx context.Context, includeInternal bool) ([]TopicSummary, error) {
	tds, err := a.adm.ListTopicsWithInternal(ctx)
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	out := make([]TopicSummary, 0, len(tds))
	for _, td := range tds {
		if td.IsInternal && !includeInternal {
			continue
		}
		out = append(out, TopicSummary{Name: td.Topic, Partitions: len(td.Partitions), Internal: td.IsInternal})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}
