package demo

// livemap.go is the live-map consumer group: a second group on the same
// topic, so it receives every update the db-writer group does (the seed's
// publish/subscribe), and keeps each rider's latest position for the page.

import (
	"context"
	"errors"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/rider"
	"github.com/twmb/franz-go/pkg/kgo"
)

// maxMapRiders bounds the live map's memory whatever the topic holds.
const maxMapRiders = 20000

// position is a rider's latest place on the map.
type position struct {
	Lat, Lon  float64
	TS        time.Time
	Partition int32
}

// liveMap consumes the topic in the live-map group.
type liveMap struct {
	client *kgo.Client
	logger *slog.Logger

	mu       sync.Mutex
	riders   map[string]position
	consumed int64
}

// newLiveMap joins the live-map group, reading from the end: the map shows
// riders as they move now, not history.
func newLiveMap(opts []kgo.Opt, topic string, logger *slog.Logger) (*liveMap, error) {
	opts = append(opts,
		kgo.ConsumerGroup(MapGroup),
		kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()),
		// The page shows this group's lag: commit often so that it
		// reflects how far behind the map is, not the commit period.
		kgo.AutoCommitInterval(time.Second),
	)
	client, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, err
	}
	return &liveMap{client: client, logger: logger, riders: make(map[string]position)}, nil
}

// Run polls until ctx ends.
func (m *liveMap) Run(ctx context.Context) error {
	for {
		fetches := m.client.PollRecords(ctx, 10000)
		if ctx.Err() != nil {
			return nil
		}
		fetches.EachError(func(topic string, p int32, err error) {
			if errors.Is(err, context.Canceled) {
				return
			}
			m.logger.Warn("live map fetch", "topic", topic, "partition", p, "err", err)
		})
		m.mu.Lock()
		fetches.EachRecord(func(r *kgo.Record) {
			m.consumed++
			l, err := rider.Decode(r.Value)
			if err != nil {
				return
			}
			old, ok := m.riders[l.RiderID]
			if !ok && len(m.riders) >= maxMapRiders {
				return
			}
			if ok && old.TS.After(l.TS) {
				return
			}
			m.riders[l.RiderID] = position{Lat: l.Lat, Lon: l.Lon, TS: l.TS, Partition: r.Partition}
		})
		m.mu.Unlock()
	}
}

// mapRider is a rider as the page draws it: [id, lat, lon, partition].
type mapRider [4]any

// snapshot returns the riders seen within maxAge, sorted by id, and the
// number of records consumed.
func (m *liveMap) snapshot(maxAge time.Duration) ([]mapRider, int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	cutoff := time.Now().Add(-maxAge)
	out := make([]mapRider, 0, len(m.riders))
	for id, p := range m.riders {
		if p.TS.Before(cutoff) {
			continue
		}
		out = append(out, mapRider{id, round6(p.Lat), round6(p.Lon), p.Partition})
	}
	sort.Slice(out, func(i, j int) bool { return out[i][0].(string) < out[j][0].(string) })
	return out, m.consumed
}

// round6 keeps ~10 cm of precision, enough for a map and shorter JSON.
func round6(f float64) float64 {
	return float64(int64(f*1e6+0.5*sign(f))) / 1e6
}

func sign(f float64) float64 {
	if f < 0 {
		return -1
	}
	return 1
}

// Close leaves the group.
func (m *liveMap) Close() { m.client.Close() }
