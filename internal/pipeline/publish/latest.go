package publish

// latest.go chooses what a Publish writes to Config.LatestTopic and where:
// one record per rider of the call, the newest, on the partition of its
// key's hash.

import (
	"github.com/courier-dev/courier/internal/pipeline/region"
	"github.com/courier-dev/courier/internal/pipeline/rider"
	"github.com/twmb/franz-go/pkg/kgo"
)

// latestOf returns the indexes in locs of each rider's newest location
// (by ts; of equal ones the later in locs, as a rider app sends them in
// order), without those LatestIndex knows a newer location for, in the
// order of locs. None without Config.LatestTopic.
//
// Writing one record per rider rather than per location costs nothing in
// what the topic answers: compaction would keep only the last of them.
func (p *Publisher) latestOf(locs []rider.Location) []int {
	if p.cfg.LatestTopic == "" {
		return nil
	}
	idx := p.cfg.LatestIndex
	if len(locs) == 1 { // a PUT, or a POST of one: no map to build
		if idx != nil && idx.Newer(&locs[0]) {
			return nil
		}
		return []int{0}
	}
	newest := make(map[string]int, len(locs))
	keep := make([]int, 0, len(locs))
	for i := range locs {
		l := &locs[i]
		j, seen := newest[l.RiderID]
		switch {
		case !seen:
			newest[l.RiderID] = len(keep)
			keep = append(keep, i)
		case !locs[keep[j]].TS.After(l.TS):
			keep[j] = i
		}
	}
	if idx == nil {
		return keep
	}
	out := keep[:0]
	for _, i := range keep {
		if !idx.Newer(&locs[i]) {
			out = append(out, i)
		}
	}
	return out
}

// latestPartitioner places records of the latest topic by their key's
// hash (as region.ByRider does: murmur2, as every Kafka client does) and
// all others as the updates' mode does. Compaction keeps the newest record of a key per
// partition, so a rider's records must all land on one partition, which
// partitioning by region would not do for a rider crossing a border.
type latestPartitioner struct {
	updates     kgo.Partitioner
	latestTopic string
}

// ForTopic implements kgo.Partitioner.
func (p latestPartitioner) ForTopic(topic string) kgo.TopicPartitioner {
	if topic == p.latestTopic {
		return region.ByRider.RecordPartitioner().ForTopic(topic)
	}
	return p.updates.ForTopic(topic)
}
