package simulate

// graph.go turns a list of streets into the road graph riders drive on:
// every crossing of two streets is an intersection (a node), and each piece
// of street between two consecutive intersections is a pair of directed
// edges, one per direction, with its length in meters.

import (
	"math"
	"slices"
)

// metersPerDegree is the length of one degree of latitude (and of longitude
// at the equator).
const metersPerDegree = 111_320.0

// nodeEpsilon is how close (in degrees, ~1 mm) two crossings must be to be
// the same intersection.
const nodeEpsilon = 1e-8

// node is an intersection.
type node struct {
	lat, lon float64
	// out are the edges leaving the node.
	out []int32
}

// edge is one direction of a street piece between two intersections.
type edge struct {
	from, to int32
	// reverse is the edge going the other way.
	reverse int32
	// lat, lon is the start; dLat, dLon the vector to the end.
	lat, lon, dLat, dLon float64
	// meters is the length.
	meters float64
}

// graph is the road network.
type graph struct {
	nodes []node
	edges []edge
}

// newGraph builds the graph of streets. Streets meeting at an end or
// crossing in the middle share an intersection.
func newGraph(streets []Street) *graph {
	g := &graph{}
	for i, s := range streets {
		// Parameters along s (0 = From, 1 = To) where it meets others.
		ts := []float64{0, 1}
		for j, o := range streets {
			if i == j {
				continue
			}
			if t, ok := crossing(s, o); ok {
				ts = append(ts, t)
			}
		}
		slices.Sort(ts)
		prev := int32(-1)
		for _, t := range ts {
			n := g.nodeAt(s.FromLat+t*(s.ToLat-s.FromLat), s.FromLon+t*(s.ToLon-s.FromLon))
			if prev >= 0 && n != prev {
				g.connect(prev, n)
			}
			prev = n
		}
	}
	return g
}

// crossing returns where s meets o as a parameter along s, if they meet
// (ends included). Parallel streets never meet.
func crossing(s, o Street) (float64, bool) {
	const eps = 1e-9
	rx, ry := s.ToLon-s.FromLon, s.ToLat-s.FromLat
	qx, qy := o.ToLon-o.FromLon, o.ToLat-o.FromLat
	den := rx*qy - ry*qx
	if math.Abs(den) < 1e-18 {
		return 0, false
	}
	wx, wy := o.FromLon-s.FromLon, o.FromLat-s.FromLat
	t := (wx*qy - wy*qx) / den
	u := (wx*ry - wy*rx) / den
	if t < -eps || t > 1+eps || u < -eps || u > 1+eps {
		return 0, false
	}
	return min(max(t, 0), 1), true
}

// nodeAt returns the intersection at lat, lon, adding it if new.
func (g *graph) nodeAt(lat, lon float64) int32 {
	for i := range g.nodes {
		n := &g.nodes[i]
		if math.Abs(n.lat-lat) < nodeEpsilon && math.Abs(n.lon-lon) < nodeEpsilon {
			return int32(i)
		}
	}
	g.nodes = append(g.nodes, node{lat: lat, lon: lon})
	return int32(len(g.nodes) - 1)
}

// connect adds the two directed edges between a and b, unless there already
// are some.
func (g *graph) connect(a, b int32) {
	for _, e := range g.nodes[a].out {
		if g.edges[e].to == b {
			return
		}
	}
	ab, ba := int32(len(g.edges)), int32(len(g.edges)+1)
	g.edges = append(g.edges, g.newEdge(a, b, ba), g.newEdge(b, a, ab))
	g.nodes[a].out = append(g.nodes[a].out, ab)
	g.nodes[b].out = append(g.nodes[b].out, ba)
}

// newEdge returns the edge from a to b.
func (g *graph) newEdge(a, b, reverse int32) edge {
	na, nb := g.nodes[a], g.nodes[b]
	e := edge{from: a, to: b, reverse: reverse, lat: na.lat, lon: na.lon, dLat: nb.lat - na.lat, dLon: nb.lon - na.lon}
	cos := math.Cos((na.lat + nb.lat) / 2 * math.Pi / 180)
	e.meters = metersPerDegree * math.Hypot(e.dLat, e.dLon*cos)
	return e
}
