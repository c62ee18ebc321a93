package simulate

// streets_test.go checks the street network and the riders' movement on it,
// driven by a synthetic clock.

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/region"
	"github.com/courier-dev/courier/internal/pipeline/rider"
)

func TestStreetsInsideBoxAndDeterministic(t *testing.T) {
	for _, c := range []region.City{region.Bengaluru, {Name: "tiny", Box: region.BBox{MinLat: 51.50, MinLon: -0.13, MaxLat: 51.51, MaxLon: -0.12}}} {
		ss := Streets(c)
		if len(ss) < 2*gridLines+2 {
			t.Fatalf("%s: %d streets", c.Name, len(ss))
		}
		for _, s := range ss {
			if !c.Box.Contains(s.FromLat, s.FromLon) || !c.Box.Contains(s.ToLat, s.ToLon) {
				t.Errorf("%s: street %+v leaves the box", c.Name, s)
			}
			if s.Name == "" {
				t.Errorf("%s: street %+v has no name", c.Name, s)
			}
		}
		if !slices.Equal(ss, Streets(c)) {
			t.Errorf("%s: Streets is not deterministic", c.Name)
		}
		g := newGraph(ss)
		for i, n := range g.nodes {
			if len(n.out) < 2 {
				t.Errorf("%s: node %d at %v,%v is a dead end", c.Name, i, n.lat, n.lon)
			}
		}
		// A grid of gridLines x gridLines has that many crossings at least.
		if len(g.nodes) < gridLines*gridLines {
			t.Errorf("%s: %d intersections", c.Name, len(g.nodes))
		}
	}
}

func TestOrdinal(t *testing.T) {
	got := []string{ordinal(1), ordinal(2), ordinal(3), ordinal(4), ordinal(11), ordinal(12), ordinal(13), ordinal(21), ordinal(22)}
	want := []string{"1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd"}
	if !slices.Equal(got, want) {
		t.Errorf("ordinals %v, want %v", got, want)
	}
}

// drive runs a generator of n riders for rounds rounds (every rider reports
// once a round), step apart on a synthetic clock, and returns the reports.
func drive(c region.City, n, rounds int, step time.Duration, seed int64) []rider.Location {
	gen := newGenerator(newGraph(Streets(c)), n, seed)
	now := time.Unix(1_800_000_000, 0)
	out := make([]rider.Location, n*rounds)
	for r := range rounds {
		gen.fill(out[r*n:(r+1)*n], now)
		now = now.Add(step)
	}
	return out
}

// metersToStreet is the distance from a point to the nearest street.
func metersToStreet(ss []Street, lat, lon float64) float64 {
	cos := math.Cos(lat * math.Pi / 180)
	best := math.Inf(1)
	for _, s := range ss {
		// In meters, relative to s.From.
		ax, ay := (s.ToLon-s.FromLon)*cos*metersPerDegree, (s.ToLat-s.FromLat)*metersPerDegree
		px, py := (lon-s.FromLon)*cos*metersPerDegree, (lat-s.FromLat)*metersPerDegree
		t := max(0, min(1, (px*ax+py*ay)/(ax*ax+ay*ay)))
		best = min(best, math.Hypot(px-t*ax, py-t*ay))
	}
	return best
}

func TestRidersStayOnStreets(t *testing.T) {
	c := region.Bengaluru
	ss := Streets(c)
	const n, rounds = 300, 40
	step := 7 * time.Second
	locs := drive(c, n, rounds, step, 42)
	moved := 0
	for i, l := range locs {
		if !c.Box.Contains(l.Lat, l.Lon) {
			t.Fatalf("report %d %+v is outside the box", i, l)
		}
		if d := metersToStreet(ss, l.Lat, l.Lon); d > 0.01 {
			t.Fatalf("report %d %+v is %.3f m off the streets", i, l, d)
		}
		if i >= n {
			p := locs[i-n]
			if p.RiderID != l.RiderID {
				t.Fatalf("report %d: rider %s after %s, want round-robin", i, l.RiderID, p.RiderID)
			}
			cos := math.Cos(l.Lat * math.Pi / 180)
			d := metersPerDegree * math.Hypot(l.Lat-p.Lat, (l.Lon-p.Lon)*cos)
			if d > maxSpeed*step.Seconds()+0.01 {
				t.Fatalf("rider %s moved %.1f m in %v", l.RiderID, d, step)
			}
			if d > 1 {
				moved++
			}
		}
	}
	// A rider standing still after 7 s is one that made a U-turn-like
	// path back; nearly all must have moved.
	if moved < (rounds-1)*n*9/10 {
		t.Errorf("only %d of %d reports moved", moved, (rounds-1)*n)
	}
	if locs[0].RiderID != "rider-00000" || locs[42].RiderID != "rider-00042" {
		t.Errorf("ids %q, %q", locs[0].RiderID, locs[42].RiderID)
	}
	for _, l := range locs[:5] {
		if err := l.Validate(-1, l.TS, rider.DefaultLimits); err != nil {
			t.Errorf("%+v: %v", l, err)
		}
	}
}

func TestRidersDeterministic(t *testing.T) {
	a := drive(region.Bengaluru, 50, 30, 3*time.Second, 7)
	b := drive(region.Bengaluru, 50, 30, 3*time.Second, 7)
	if !slices.Equal(a, b) {
		t.Error("the same seed gave different moves")
	}
	c := drive(region.Bengaluru, 50, 30, 3*time.Second, 8)
	if slices.Equal(a, c) {
		t.Error("another seed gave the same moves")
	}
}

func TestRiderIDWidth(t *testing.T) {
	gen := newGenerator(newGraph(Streets(region.Bengaluru)), 123456, 1)
	if id := gen.riders[7].id; id != "rider-000007" {
		t.Errorf("id %q", id)
	}
}

func TestHugeGapStaysOnStreets(t *testing.T) {
	ss := Streets(region.Bengaluru)
	// A day between reports: the rider passes the loop bound.
	locs := drive(region.Bengaluru, 20, 3, 24*time.Hour, 3)
	for _, l := range locs {
		if d := metersToStreet(ss, l.Lat, l.Lon); d > 0.01 {
			t.Fatalf("%+v is %.3f m off the streets", l, d)
		}
	}
}

// BenchmarkGenerate measures the cost of one update: moving its rider and
// writing the location.
func BenchmarkGenerate(b *testing.B) {
	gen := newGenerator(newGraph(Streets(region.Bengaluru)), 10000, 1)
	batch := make([]rider.Location, 500)
	now := time.Now()
	b.ReportAllocs()
	b.ResetTimer()
	done := 0
	for done < b.N {
		k := min(len(batch), b.N-done)
		gen.fill(batch[:k], now)
		now = now.Add(5 * time.Millisecond)
		done += k
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "updates/s")
}
