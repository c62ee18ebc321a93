// Package region maps a rider's location to a partition of the
// rider-updates topic, as in the seed: one partition per region of the city
// (north, south, east, west), so that consumers can own whole regions.
//
// The city is a bounding box. A location's region is the triangle of the
// box, cut by its two diagonals, that holds it: north is the top triangle,
// south the bottom, east the right, west the left. Locations outside the box
// still get the region of the direction they lie in, so every valid location
// has a partition.
package region

import (
	"fmt"
	"strconv"
	"strings"
)

// BBox is a latitude/longitude rectangle.
type BBox struct {
	MinLat, MinLon, MaxLat, MaxLon float64
}

// City is the area riders move in.
type City struct {
	// Name is shown on the demo page.
	Name string
	// Box bounds the city.
	Box BBox
}

// Bengaluru is the default city: the seed's example is an Indian food
// delivery company.
var Bengaluru = City{Name: "Bengaluru", Box: BBox{MinLat: 12.86, MinLon: 77.48, MaxLat: 13.08, MaxLon: 77.72}}

// Names are the regions in partition order: region i is partition i.
var Names = []string{"north", "south", "east", "west"}

// Count is the number of regions, and so the topic's partition count when
// partitioning by region.
const Count = 4

// Center returns the box's center.
func (b BBox) Center() (lat, lon float64) {
	return (b.MinLat + b.MaxLat) / 2, (b.MinLon + b.MaxLon) / 2
}

// Contains reports whether the point is inside the box.
func (b BBox) Contains(lat, lon float64) bool {
	return lat >= b.MinLat && lat <= b.MaxLat && lon >= b.MinLon && lon <= b.MaxLon
}

// Of returns the region index (partition) of a location.
func (c City) Of(lat, lon float64) int32 {
	cLat, cLon := c.Box.Center()
	dy := (lat - cLat) / ((c.Box.MaxLat - c.Box.MinLat) / 2)
	dx := (lon - cLon) / ((c.Box.MaxLon - c.Box.MinLon) / 2)
	if abs(dy) >= abs(dx) {
		if dy >= 0 {
			return 0 // north
		}
		return 1 // south
	}
	if dx > 0 {
		return 2 // east
	}
	return 3 // west
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// ParseBBox parses "minLat,minLon,maxLat,maxLon".
func ParseBBox(s string) (BBox, error) {
	parts := strings.Split(s, ",")
	if len(parts) != 4 {
		return BBox{}, fmt.Errorf("bounding box %q: want minLat,minLon,maxLat,maxLon", s)
	}
	var v [4]float64
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil {
			return BBox{}, fmt.Errorf("bounding box %q: %q is not a number", s, p)
		}
		v[i] = f
	}
	b := BBox{MinLat: v[0], MinLon: v[1], MaxLat: v[2], MaxLon: v[3]}
	switch {
	case b.MinLat < -90 || b.MaxLat > 90 || b.MinLon < -180 || b.MaxLon > 180:
		return BBox{}, fmt.Errorf("bounding box %q: outside -90..90 / -180..180", s)
	case b.MinLat >= b.MaxLat || b.MinLon >= b.MaxLon:
		return BBox{}, fmt.Errorf("bounding box %q: min must be below max", s)
	}
	return b, nil
}
