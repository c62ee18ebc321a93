package publish

// latest_test.go checks which locations of a Publish go to the latest
// topic (latestOf) and where the partitioner puts them.

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/region"
	"github.com/courier-dev/courier/internal/pipeline/rider"
	"github.com/twmb/franz-go/pkg/kgo"
)

// knownIndex is a LatestIndex holding a ts (Unix ms) per rider.
type knownIndex map[string]int64

func (k knownIndex) Newer(l *rider.Location) bool {
	ts, ok := k[l.RiderID]
	return ok && ts > l.TS.UnixMilli()
}

func (knownIndex) Acked(*rider.Location, int32, int64) {}

func TestLatestOf(t *testing.T) {
	at := func(id string, s int64) rider.Location {
		return rider.Location{RiderID: id, TS: time.UnixMilli(s * 1000)}
	}
	for _, c := range []struct {
		name  string
		locs  []rider.Location
		known knownIndex
		want  []int
	}{
		{"one", []rider.Location{at("a", 1)}, nil, []int{0}},
		{"one, newer known", []rider.Location{at("a", 1)}, knownIndex{"a": 2000}, nil},
		{"one, same ts known", []rider.Location{at("a", 1)}, knownIndex{"a": 1000}, []int{0}},
		{"distinct riders", []rider.Location{at("a", 1), at("b", 1), at("c", 1)}, nil, []int{0, 1, 2}},
		{"newest per rider", []rider.Location{at("a", 1), at("b", 5), at("a", 3), at("b", 4)}, nil, []int{2, 1}},
		{"equal ts: the later", []rider.Location{at("a", 1), at("a", 1)}, nil, []int{1}},
		{"known filters", []rider.Location{at("a", 1), at("b", 2), at("a", 3)}, knownIndex{"a": 9000, "b": 1000}, []int{1}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := &Publisher{cfg: Config{LatestTopic: "rider-latest"}}
			if c.known != nil {
				p.cfg.LatestIndex = c.known
			}
			if got := p.latestOf(c.locs); !slices.Equal(got, c.want) {
				t.Errorf("latestOf = %v, want %v", got, c.want)
			}
		})
	}
	if got := (&Publisher{}).latestOf([]rider.Location{at("a", 1)}); got != nil {
		t.Errorf("without LatestTopic: %v", got)
	}
}

// TestLatestPartitioner: by region, updates go where their Partition says,
// latest records by their key's hash (Kafka's murmur2).
func TestLatestPartitioner(t *testing.T) {
	p := latestPartitioner{updates: region.ByRegion.RecordPartitioner(), latestTopic: "rider-latest"}
	for i := range 50 {
		id := fmt.Sprintf("rider-%d", i)
		r := &kgo.Record{Key: []byte(id), Partition: 3}
		if got := p.ForTopic("rider-updates").Partition(r, 4); got != 3 {
			t.Fatalf("update placed on %d, want its Partition 3", got)
		}
		if got, want := p.ForTopic("rider-latest").Partition(r, 4), region.KeyPartition(id, 4); int32(got) != want {
			t.Fatalf("latest record of %s on %d, want %d", id, got, want)
		}
	}
}
