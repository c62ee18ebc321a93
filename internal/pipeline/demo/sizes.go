package demo

// sizes.go measures the demo's two topics for the page, every few
// seconds: records (end − start offsets, ListOffsets) and bytes on disk
// (DescribeLogDirs), through the Kafka protocol (ctl.DescribeTopic), so
// that the page shows how small the compacted rider-latest stays next to
// rider-updates.

import (
	"context"
	"time"
)

// sizesEvery is how many one-second samples apart the topics are measured.
const sizesEvery = 5

// sizesTimeout bounds measuring both topics.
const sizesTimeout = 900 * time.Millisecond

// topicView is a topic as the page's sizes panel shows it.
type topicView struct {
	Topic string `json:"topic"`
	// Policy is the topic's cleanup.policy ("delete" when not set).
	Policy string `json:"cleanup_policy"`
	// Records is the sum over partitions of end − start offset: records
	// written and not deleted by retention. Compaction keeps offsets, so
	// on a compacted topic it counts the records the cleaner removed too;
	// Bytes shows what it removed.
	Records int64 `json:"records"`
	// Bytes is the size on disk of the leaders' replicas; -1 if unknown.
	Bytes int64  `json:"bytes"`
	Err   string `json:"error,omitempty"`
}

// describeTopics measures the updates topic and the latest topic.
func (s *sampler) describeTopics(ctx context.Context) []topicView {
	ctx, cancel := context.WithTimeout(ctx, sizesTimeout)
	defer cancel()
	var out []topicView
	for _, name := range []string{s.c.cfg.Topic, s.c.cfg.LatestTopic} {
		v := topicView{Topic: name, Policy: "delete", Bytes: -1}
		d, err := s.c.admin.DescribeTopic(ctx, name)
		if err != nil {
			v.Err = err.Error()
			out = append(out, v)
			continue
		}
		for _, c := range d.Configs {
			if c.Name == "cleanup.policy" {
				v.Policy = c.Value
			}
		}
		var bytes int64
		sized := false
		for _, p := range d.Partitions {
			if p.StartOffset >= 0 && p.EndOffset >= p.StartOffset {
				v.Records += p.EndOffset - p.StartOffset
			}
			if p.Size >= 0 {
				bytes, sized = bytes+p.Size, true
			}
		}
		if sized {
			v.Bytes = bytes
		}
		if d.SizesErr != nil {
			v.Err = d.SizesErr.Error()
		}
		out = append(out, v)
	}
	return out
}
