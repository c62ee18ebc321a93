package simulate

// streets.go draws the synthetic street network of a city: a grid of main
// roads and cross roads, two diagonal arterials and a ring road, all inside
// the city's box and fixed for a given box, so that the demo page draws the
// same map the riders move on.

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/courier-dev/courier/internal/pipeline/region"
)

// Street is one straight stretch of road between two points (WGS84
// degrees). A long road is several Streets with the same Name.
type Street struct {
	FromLat, FromLon, ToLat, ToLon float64
	// Name labels the road on the map, e.g. "4th Main" or "Ring Road".
	Name string
}

const (
	// gridLines is the number of main roads (north-south) and of cross
	// roads (east-west).
	gridLines = 12
	// gridMargin is the fraction of the box left free on each side.
	gridMargin = 0.04
	// ringSides is the number of straight stretches of the ring road.
	ringSides = 32
	// ringScale is the ring road's radius as a fraction of the grid's
	// half-extent.
	ringScale = 0.6
)

// Streets returns the street network riders of city c move on. It depends
// only on c's box: the same box always gives the same streets. Every street
// lies inside the box and every road end meets another road, so a rider
// never meets a dead end.
func Streets(c region.City) []Street {
	b := c.Box
	// A fixed seed: irregular spacing that is nonetheless always the same.
	rng := rand.New(rand.NewPCG(0x436f7572, 0x69657221))
	lons := gridPositions(rng, b.MinLon, b.MaxLon)
	lats := gridPositions(rng, b.MinLat, b.MaxLat)
	south, north := lats[0], lats[gridLines-1]
	west, east := lons[0], lons[gridLines-1]

	out := make([]Street, 0, 2*gridLines+2+ringSides)
	for i, lon := range lons {
		out = append(out, Street{FromLat: south, FromLon: lon, ToLat: north, ToLon: lon, Name: ordinal(i+1) + " Main"})
	}
	for i, lat := range lats {
		out = append(out, Street{FromLat: lat, FromLon: west, ToLat: lat, ToLon: east, Name: ordinal(i+1) + " Cross"})
	}
	out = append(out,
		Street{FromLat: south, FromLon: west, ToLat: north, ToLon: east, Name: "North-East Arterial"},
		Street{FromLat: north, FromLon: west, ToLat: south, ToLon: east, Name: "South-East Arterial"},
	)
	cLat, cLon := (south+north)/2, (west+east)/2
	rLat, rLon := ringScale*(north-south)/2, ringScale*(east-west)/2
	point := func(k int) (float64, float64) {
		a := 2 * math.Pi * float64(k%ringSides) / ringSides
		return cLat + rLat*math.Sin(a), cLon + rLon*math.Cos(a)
	}
	for k := range ringSides {
		lat0, lon0 := point(k)
		lat1, lon1 := point(k + 1)
		out = append(out, Street{FromLat: lat0, FromLon: lon0, ToLat: lat1, ToLon: lon1, Name: "Ring Road"})
	}
	return out
}

// gridPositions returns gridLines increasing positions between min and max,
// inset by gridMargin, spaced unevenly (each gap 70%-130% of the mean).
func gridPositions(rng *rand.Rand, min, max float64) []float64 {
	lo := min + gridMargin*(max-min)
	hi := max - gridMargin*(max-min)
	gaps := make([]float64, gridLines-1)
	var sum float64
	for i := range gaps {
		gaps[i] = 0.7 + 0.6*rng.Float64()
		sum += gaps[i]
	}
	out := make([]float64, gridLines)
	out[0] = lo
	for i, g := range gaps {
		out[i+1] = out[i] + g/sum*(hi-lo)
	}
	out[gridLines-1] = hi // exact, whatever the rounding
	return out
}

// ordinal returns "1st", "2nd", "3rd", "4th", ..., "11th", "12th".
func ordinal(n int) string {
	suffix := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			suffix = "st"
		case 2:
			suffix = "nd"
		case 3:
			suffix = "rd"
		}
	}
	return fmt.Sprintf("%d%s", n, suffix)
}
