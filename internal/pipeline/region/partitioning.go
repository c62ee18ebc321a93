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
func (m Mode) Partitioner() kgo.Opt { return kgo.RecordPartitioner(m.RecordPartitioner()) }

// RecordPartitioner is the partitioner behind Partitioner, for a client
// that places other topics' records differently (package publish).
func (m Mode) RecordPartitioner() kgo.Partitioner {
	if m == ByRider {
		return kgo.StickyKeyPartitioner(nil)
	}
	return kgo.ManualPartitioner()
}

// KeyPartition is the partition of n that Kafka's key hashing (murmur2,
// as ByRider and every Kafka client place keyed records) gives riderID.
func KeyPartition(riderID string, n int) int32 {
	if n <= 0 {
		return 0
	}
	return int32(keyHash.Partition(&kgo.Record{Key: []byte(riderID)}, n))
}

// keyHash computes KeyPartition: a keyed record is placed by its hash
// alone (the stickiness applies to records without a key).
var keyHash = ByRider.RecordPartitioner().ForTopic("")

// PartitionOf is the partition of n that m puts an update of riderID at
// lat, lon on: what Place and the client's partitioner choose together.
func (m Mode) PartitionOf(c City, riderID string, lat, lon float64, n int) int32 {
	if m == ByRider {
		return KeyPartition(riderID, n)
	}
	return c.Of(lat, lon)
}

// Place sets a record's key to the rider id and, for ByRegion, its
// partition to the location's region.
func (m Mode) Place(c City, r *kgo.Record, riderID string, lat, lon float64) {
	r.Key = []byte(riderID)
	if m == ByRegion {
		r.Partition = c.Of(lat, lon)
	}
}
