package demo

// livemap_test.go checks that the live map starts from rider-latest: every
// rider there is on the map (restored, in its region's colour) before any
// update arrives, a tombstoned one is not, and an update makes a rider
// live.

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/region"
	"github.com/courier-dev/courier/internal/pipeline/rider"
	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kfake"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestLiveMapStartsFromLatest(t *testing.T) {
	c, err := kfake.NewCluster(kfake.NumBrokers(1), kfake.SeedTopics(4, "rider-updates", "rider-latest"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	seeds := c.ListenAddrs()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	// An hour old: older than mapMaxAge, shown all the same (last known).
	old := time.Now().Add(-time.Hour).Truncate(time.Millisecond).UTC()
	riders := map[string]rider.Location{
		"n1":   {RiderID: "n1", Lat: 13.05, Lon: 77.6, TS: old},
		"s1":   {RiderID: "s1", Lat: 12.88, Lon: 77.61, TS: old},
		"gone": {RiderID: "gone", Lat: 12.97, Lon: 77.7, TS: old},
	}
	var recs []*kgo.Record
	for id, l := range riders {
		recs = append(recs, &kgo.Record{Topic: "rider-latest", Partition: region.KeyPartition(id, 4), Key: []byte(id), Value: l.AppendJSON(nil)})
	}
	recs = append(recs, &kgo.Record{Topic: "rider-latest", Partition: region.KeyPartition("gone", 4), Key: []byte("gone")})
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}

	m, err := newLiveMap([]kgo.Opt{kgo.SeedBrokers(seeds...)}, "rider-updates", "rider-latest", region.Bengaluru, region.ByRegion, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() { cancel(); <-done }()

	want := fmt.Sprint([]mapRider{
		{"n1", 13.05, 77.6, region.Bengaluru.Of(13.05, 77.6), 1},
		{"s1", 12.88, 77.61, region.Bengaluru.Of(12.88, 77.61), 1},
	})
	testwait.For(t, 30*time.Second, "the riders of rider-latest on the map", func() string {
		if got, _ := m.snapshot(mapMaxAge); fmt.Sprint(got) != want {
			return fmt.Sprintf("map %v, want %v", got, want)
		}
		return ""
	})

	// An update of n1 makes it live, where it is now.
	now := rider.Location{RiderID: "n1", Lat: 12.97, Lon: 77.5}
	testwait.For(t, 30*time.Second, "n1 live", func() string {
		now.TS = time.Now().Truncate(time.Millisecond).UTC()
		p := region.Bengaluru.Of(now.Lat, now.Lon)
		if err := cl.ProduceSync(ctx, &kgo.Record{Topic: "rider-updates", Partition: p, Key: []byte("n1"), Value: now.AppendJSON(nil)}).FirstErr(); err != nil {
			return err.Error()
		}
		got, _ := m.snapshot(mapMaxAge)
		if len(got) != 2 || fmt.Sprint(got[0]) != fmt.Sprint(mapRider{"n1", 12.97, 77.5, p, 0}) {
			return fmt.Sprintf("map %v", got)
		}
		return ""
	})
}
