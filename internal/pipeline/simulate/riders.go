package simulate

// riders.go moves riders along the road graph and writes their position
// reports. A generator is used by one goroutine; it allocates nothing per
// update.

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/rider"
)

// Rider speeds, meters per second (18 to 43 km/h: city traffic on a
// two-wheeler).
const (
	minSpeed = 5.0
	maxSpeed = 12.0
)

// riderState is one rider's place on the graph.
type riderState struct {
	id string
	// edge is the edge the rider is on, at meters from its start.
	edge   int32
	meters float64
	// speed is in meters per second.
	speed float64
	// last is when the rider last moved (Unix nanoseconds; 0 = never).
	last int64
}

// generator owns the riders and writes their reports round-robin.
type generator struct {
	g      *graph
	rng    *rand.Rand
	riders []riderState
	// next is the rider that reports next.
	next int
}

// newGenerator places n riders at random points of g's streets, chosen by
// seed.
func newGenerator(g *graph, n int, seed int64) *generator {
	gen := &generator{
		g:      g,
		rng:    rand.New(rand.NewPCG(uint64(seed), uint64(seed)^0x5eed5eed5eed5eed)),
		riders: make([]riderState, n),
	}
	width := len(fmt.Sprint(n - 1))
	width = max(width, 5)
	for i := range gen.riders {
		r := &gen.riders[i]
		r.id = fmt.Sprintf("rider-%0*d", width, i)
		r.edge = int32(gen.rng.IntN(len(g.edges)))
		r.meters = gen.rng.Float64() * g.edges[r.edge].meters
		r.speed = gen.randomSpeed()
	}
	return gen
}

// randomSpeed returns a speed between minSpeed and maxSpeed.
func (gen *generator) randomSpeed() float64 {
	return minSpeed + (maxSpeed-minSpeed)*gen.rng.Float64()
}

// fill writes the next len(locs) reports at time now, round-robin over the
// riders: each rider first moves for the time since its previous report.
func (gen *generator) fill(locs []rider.Location, now time.Time) {
	ns := now.UnixNano()
	for i := range locs {
		r := &gen.riders[gen.next]
		if gen.next++; gen.next == len(gen.riders) {
			gen.next = 0
		}
		if r.last != 0 && ns > r.last {
			gen.advance(r, r.speed*float64(ns-r.last)/1e9)
		}
		r.last = ns
		e := &gen.g.edges[r.edge]
		f := r.meters / e.meters
		locs[i] = rider.Location{RiderID: r.id, Lat: e.lat + f*e.dLat, Lon: e.lon + f*e.dLon, TS: now}
	}
}

// advance moves r forward by d meters, turning at intersections onto a
// random street other than the one it came along (unless it is a dead end).
func (gen *generator) advance(r *riderState, d float64) {
	r.meters += d
	// Bounded: a rider passes a few intersections per report at most, but a
	// huge gap between reports must not spin here.
	for turns := 0; ; turns++ {
		e := &gen.g.edges[r.edge]
		if r.meters < e.meters {
			return
		}
		if turns == 1000 {
			r.meters = gen.rng.Float64() * e.meters
			return
		}
		r.meters -= e.meters
		r.edge = gen.turn(e)
		r.speed = gen.randomSpeed()
	}
}

// turn picks the edge to take at the end of e.
func (gen *generator) turn(e *edge) int32 {
	out := gen.g.nodes[e.to].out
	if len(out) == 1 {
		return out[0] // dead end: U-turn
	}
	k := gen.rng.IntN(len(out) - 1)
	if out[k] == e.reverse {
		k = len(out) - 1
	}
	return out[k]
}
