package demo

// livemap.go is the live-map consumer group: a second group on the same
// topic, so it receives every update the db-writer group does (the seed's
// publish/subscribe), and keeps each rider's latest position for the page.
//
// It starts from rider-latest (package latest): every rider's last known
// location is read before the group's updates are applied, so that after
// a restart every rider is on the map at once, drawn as restored (hollow)
// until its first new update arrives.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/latest"
	"github.com/courier-dev/courier/internal/pipeline/region"
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
	// Restored says the position was read from rider-latest and no
	// update of the rider has been consumed since.
	Restored bool
}

// restoreWait bounds reading rider-latest before the live updates are
// applied; the reader itself gives up after latest.DefaultStallTimeout
// without progress.
const restoreWait = time.Minute

// liveMap consumes the topic in the live-map group.
type liveMap struct {
	client *kgo.Client
	logger *slog.Logger
	// latestOpts, latestTopic: where the map starts from; place says on
	// which partition of the updates topic a restored rider's last
	// location was (its colour on the map).
	latestOpts  []kgo.Opt
	latestTopic string
	place       func(id string, lat, lon float64) int32

	mu       sync.Mutex
	riders   map[string]position
	consumed int64
	restored int64     // riders read from rider-latest
	shownTo  time.Time // restored riders are shown until then, whatever their ts
}

// newLiveMap joins the live-map group, reading from the end: the map shows
// riders as they move now, not history; it starts from latestTopic's last
// known locations (Run).
func newLiveMap(opts []kgo.Opt, topic, latestTopic string, city region.City, mode region.Mode, logger *slog.Logger) (*liveMap, error) {
	latestOpts := append([]kgo.Opt(nil), opts...)
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
	// The demo creates the updates topic with one partition per region
	// (publish.EnsureTopic): by rider, a key's partition among as many.
	place := func(id string, lat, lon float64) int32 { return mode.PartitionOf(city, id, lat, lon, region.Count) }
	return &liveMap{client: client, logger: logger, latestOpts: latestOpts, latestTopic: latestTopic, place: place,
		riders: make(map[string]position)}, nil
}

// Run reads rider-latest, then polls the group until ctx ends.
func (m *liveMap) Run(ctx context.Context) error {
	if err := m.restore(ctx); err != nil && ctx.Err() == nil {
		// The map still works, from the live updates only.
		m.logger.Warn("live map: last known locations not read", "topic", m.latestTopic, "err", err)
	}
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
			m.put(l.RiderID, position{Lat: l.Lat, Lon: l.Lon, TS: l.TS, Partition: r.Partition})
		})
		m.mu.Unlock()
	}
}

// restore reads the latest-location topic to its end into the map, so
// that every rider is shown before its next update arrives. Restored
// riders are shown for mapMaxAge whatever their ts (they may be hours old
// after a restart); a rider that moves again is live from then on.
func (m *liveMap) restore(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, restoreWait)
	defer cancel()
	r, err := latest.NewReader(ctx, append(m.latestOpts, kgo.ClientID("live-map-restore")), m.latestTopic, m.logger)
	if err != nil {
		return err
	}
	defer r.Close()
	done := make(chan struct{})
	go func() {
		defer close(done)
		r.Run(ctx, m.apply)
	}()
	var waitErr error
	select {
	case <-r.CaughtUp():
	case <-ctx.Done():
		waitErr = fmt.Errorf("not read within %s: %w", restoreWait, ctx.Err())
	}
	cancel()
	<-done
	m.mu.Lock()
	m.shownTo = time.Now().Add(mapMaxAge)
	n := m.restored
	m.mu.Unlock()
	m.logger.Info("live map: last known locations read", "topic", m.latestTopic, "riders", n)
	return waitErr
}

// apply takes in a record of the latest-location topic.
func (m *liveMap) apply(e latest.Entry) {
	m.mu.Lock()
	defer m.mu.Unlock()
	l := e.Location
	if e.Deleted {
		delete(m.riders, l.RiderID)
		return
	}
	if m.put(l.RiderID, position{Lat: l.Lat, Lon: l.Lon, TS: l.TS, Partition: m.place(l.RiderID, l.Lat, l.Lon), Restored: true}) {
		m.restored++
	}
}

// put makes p the rider's position unless the position held is newer, or
// the rider is not on the map and the map is full (maxMapRiders). It
// reports whether the rider was added. m.mu is held.
func (m *liveMap) put(id string, p position) (added bool) {
	old, ok := m.riders[id]
	if !ok && len(m.riders) >= maxMapRiders || ok && old.TS.After(p.TS) {
		return false
	}
	m.riders[id] = p
	return !ok
}

// mapRider is a rider as the page draws it: [id, lat, lon, partition,
// restored (1: read from rider-latest, not moved since; else 0)].
type mapRider [5]any

// snapshot returns the riders seen within maxAge (and those restored, for
// maxAge after they were), sorted by id, and the number of records
// consumed.
func (m *liveMap) snapshot(maxAge time.Duration) ([]mapRider, int64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := time.Now()
	cutoff := now.Add(-maxAge)
	showRestored := now.Before(m.shownTo)
	out := make([]mapRider, 0, len(m.riders))
	for id, p := range m.riders {
		restored := 0
		if p.Restored {
			restored = 1
		}
		if p.TS.Before(cutoff) && !(p.Restored && showRestored) {
			continue
		}
		out = append(out, mapRider{id, round6(p.Lat), round6(p.Lon), p.Partition, restored})
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
