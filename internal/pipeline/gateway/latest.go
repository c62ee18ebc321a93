package gateway

// latest.go answers GET /v1/riders/{id}/location: the rider's last known
// location, from an in-memory map of every rider's newest location. The
// map is filled from the rider-latest topic (read from its start when the
// gateway starts, then followed, so that riders written through other
// gateways appear too; this gateway's own records are skipped there,
// ownRecords) and from this gateway's own writes as the cluster
// acknowledges them: a location written here is in the map before its
// POST or PUT is answered 202, so a GET after the 202 sees it
// (read-your-writes) without waiting for the topic to be read back.
//
// The newest location wins: by ts, and of two with the same ts the later
// in the topic (higher offset), which is what compaction keeps. So the
// order in which the acknowledgements and the topic's records arrive does
// not matter. Two requests for one rider in flight at once, the older
// written after the newer, are the one case where the map (newest by ts)
// and the compacted topic (last written) may differ; rider apps send a
// rider's updates one request after the other.
//
// The map is bounded (Config.MaxRiders): at the bound, riders not yet in
// it are not added (counted in Stats.LatestUntracked, one WARN); those in
// it keep being updated. A GET for an untracked rider is answered 404
// saying the map is full.

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/latest"
	"github.com/courier-dev/courier/internal/pipeline/rider"
	"github.com/twmb/franz-go/pkg/kgo"
)

// DefaultMaxRiders bounds the map of last known locations: about 100
// bytes a rider, so 100 MB at the bound.
const DefaultMaxRiders = 1_000_000

// spot is a rider's newest location and where it was written.
type spot struct {
	lat, lon  float64
	ts        int64 // Unix milliseconds, the precision of the record value
	partition int32
	offset    int64
}

// replaces reports whether s is newer than old.
func (s spot) replaces(old spot) bool {
	return s.ts > old.ts || s.ts == old.ts && (s.partition != old.partition || s.offset >= old.offset)
}

// riders is the map of last known locations. It implements
// publish.LatestIndex. It is safe for concurrent use.
type riders struct {
	max int
	log *slog.Logger

	mu sync.RWMutex
	m  map[string]spot

	untracked atomic.Int64
	fullOnce  sync.Once
}

func newRiders(max int, log *slog.Logger) *riders {
	return &riders{max: max, log: log, m: make(map[string]spot)}
}

// Newer implements publish.LatestIndex.
func (x *riders) Newer(l *rider.Location) bool {
	x.mu.RLock()
	s, ok := x.m[l.RiderID]
	x.mu.RUnlock()
	return ok && s.ts > l.TS.UnixMilli()
}

// Acked implements publish.LatestIndex.
func (x *riders) Acked(l *rider.Location, partition int32, offset int64) {
	x.set(l, partition, offset)
}

// apply takes in a record read from the topic.
func (x *riders) apply(e latest.Entry) {
	if e.Deleted {
		x.mu.Lock()
		delete(x.m, e.Location.RiderID)
		x.mu.Unlock()
		return
	}
	x.set(&e.Location, e.Partition, e.Offset)
}

// set makes l the rider's location if it is newer than the one held.
func (x *riders) set(l *rider.Location, partition int32, offset int64) {
	s := spot{lat: l.Lat, lon: l.Lon, ts: l.TS.UnixMilli(), partition: partition, offset: offset}
	x.mu.Lock()
	defer x.mu.Unlock()
	old, ok := x.m[l.RiderID]
	switch {
	case ok:
		if s.replaces(old) {
			x.m[l.RiderID] = s
		}
	case len(x.m) < x.max:
		x.m[l.RiderID] = s
	default:
		x.untracked.Add(1)
		x.fullOnce.Do(func() {
			x.log.Warn("the map of last known locations is full: riders not in it are not added, and GET of their location answers 404 (raise --max-riders)",
				"max_riders", x.max)
		})
	}
}

// ownRecords returns the latest.Reader.Skip that skips the records this
// gateway's producer wrote: they were applied when they were acknowledged
// (Acked), and an idempotent producer fails a record only when it was not
// written, so the reader need not decode them again. Without the
// producer's id (the cluster did not give one) it skips nothing: records
// are then decoded, which is slower, not wrong. Should the client get a
// new producer id, its records are decoded likewise.
func ownRecords(ctx context.Context, cl *kgo.Client, log *slog.Logger) func(*kgo.Record) bool {
	id, epoch, err := cl.ProducerID(ctx)
	if err != nil {
		log.Info("producer id unknown: the gateway's own writes to the latest-location topic are read back in full", "err", err)
		return nil
	}
	return func(r *kgo.Record) bool { return r.ProducerID == id && r.ProducerEpoch == epoch }
}

// get returns the rider's last known location.
func (x *riders) get(id string) (rider.Location, bool) {
	x.mu.RLock()
	s, ok := x.m[id]
	x.mu.RUnlock()
	return rider.Location{RiderID: id, Lat: s.lat, Lon: s.lon, TS: time.UnixMilli(s.ts)}, ok
}

// len returns the number of riders held, and whether the map is full.
func (x *riders) len() (int, bool) {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.m), len(x.m) >= x.max
}

// getLocation handles GET /v1/riders/{id}/location: 200 with the rider's
// last known location in the topics' JSON, 404 for a rider with none, 400
// for an invalid id, 503 while the topic is still being read at start.
func (g *Gateway) getLocation(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := rider.ValidID(id); err != nil {
		writeError(w, http.StatusBadRequest, &rider.FieldError{Index: -1, Field: "rider_id", Msg: err.Error()})
		return
	}
	select {
	case <-g.reader.CaughtUp():
	default:
		w.Header().Set("Retry-After", strconv.Itoa(1))
		writeError(w, http.StatusServiceUnavailable, fmt.Errorf("reading %s: last known locations are not loaded yet", g.cfg.Publish.LatestTopic))
		return
	}
	l, ok := g.riders.get(id)
	if !ok {
		msg := fmt.Sprintf("rider %s: no location known", id)
		if _, full := g.riders.len(); full {
			msg += fmt.Sprintf("; this gateway holds the last locations of at most %d riders and is full, so the rider may have one it does not hold", g.riders.max)
		}
		writeError(w, http.StatusNotFound, fmt.Errorf("%s", msg))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(append(l.AppendJSON(make([]byte, 0, 128)), '\n'))
}
