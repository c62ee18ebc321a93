package region

// partitioning.go chooses how producers place updates on partitions: by
// region (the seed's design) or by rider id (Kafka's key hashing).

import (
	"fmt"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Mode is a partitioning strategy.
type Mode string

const (
	// ByRegion puts each update on its region's partition. A consumer that
	// owns a partition owns a region; a rider crossing a region border
	// moves to another partition, so that rider's updates are ordered
	// within each region's partition only, not across them.
	ByRegion Mode = "region"
	// ByRider hashes the rider id (Kafka's murmur2, as every Kafka client
	// does for keyed records): all of one rider's updates stay in order on
	// one partition, and regions are spread over all partitions.
	ByRider Mode = "rider"
)

// ParseMode checks a --partition-by value.
func ParseMode(s string) (Mode, error) {
	switch Mode(s) {
	case ByRegion, ByRider:
		return Mode(s), nil
	}
	return "", fmt.Errorf("partitioning %q: want %q or %q", s, ByRegion, ByRider)
}

// Partitioner returns the client option that places records for mode:
// the records' own Partition field (set by Place) for ByRegion, the key
// hash for ByRider.
func (m Mode) Partitioner() kgo.Opt {
	if m == ByRider {
		return kgo.RecordPartitioner(kgo.StickyKeyPartitioner(nil))
	}
	return kgo.RecordPartitioner(kgo.ManualPartitioner())
}

// Place sets a record's key to the rider id and, for ByRegion, its
// partition to the location's region.
func (m Mode) Place(c City, r *kgo.Record, riderID string, lat, lon float64) {
	r.Key = []byte(riderID)
	if m == ByRegion {
		r.Partition = c.Of(lat, lon)
	}
}
