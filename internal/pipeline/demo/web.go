package demo

// web.go serves the demo page (embedded static files), its JSON API and,
// under /v1/, the gateway that rider apps (and the simulator) post to.

import (
	"embed"
	"encoding/json"
	"io/fs"
	"net/http"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/region"
	"github.com/courier-dev/courier/internal/pipeline/simulate"
)

//go:embed web
var webFiles embed.FS

// mapMaxAge hides riders that stopped reporting (e.g. after a restart with
// fewer riders).
const mapMaxAge = 30 * time.Second

// cityView is the static part of the page: the city, its streets and
// regions.
type cityView struct {
	Name    string       `json:"name"`
	Box     region.BBox  `json:"box"`
	Regions []string     `json:"regions"`
	Mode    region.Mode  `json:"mode"`
	Topic   string       `json:"topic"`
	Latest  string       `json:"latest_topic"`
	Streets [][4]float64 `json:"streets"`
	// Console is Courier Console's URL ("": none; the link stays hidden).
	Console string `json:"console,omitempty"`
}

// stateView is what the page polls.
type stateView struct {
	UptimeS  float64     `json:"uptime_s"`
	Riders   []mapRider  `json:"riders"`
	Consumed int64       `json:"map_consumed"`
	Groups   []groupView `json:"groups"`
	Topics   []topicView `json:"topics"`
	History  []sample    `json:"history"`
	Totals   totals      `json:"totals"`
	Sinks    int         `json:"sinks"`
	Target   float64     `json:"target_rate"`
}

// handler routes the page, the API and the gateway.
func (c *components) handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(webFiles, "web")
	mux.Handle("/", http.FileServerFS(static))
	// The page links favicon.svg; browsers and tools that ask for the
	// traditional name get the same icon rather than a 404.
	mux.HandleFunc("GET /favicon.ico", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/svg+xml")
		http.ServeFileFS(w, r, static, "favicon.svg")
	})
	mux.HandleFunc("GET /api/city", c.serveCity)
	mux.HandleFunc("GET /api/state", c.serveState)
	mux.Handle("/v1/", c.gateway.Handler())
	return mux
}

func (c *components) serveCity(w http.ResponseWriter, r *http.Request) {
	v := cityView{Name: c.cfg.City.Name, Box: c.cfg.City.Box, Regions: region.Names, Mode: c.cfg.Mode, Topic: c.cfg.Topic, Latest: c.cfg.LatestTopic, Console: c.cfg.ConsoleURL}
	for _, s := range simulate.Streets(c.cfg.City) {
		v.Streets = append(v.Streets, [4]float64{s.FromLat, s.FromLon, s.ToLat, s.ToLon})
	}
	writeJSON(w, v)
}

func (c *components) serveState(w http.ResponseWriter, r *http.Request) {
	riders, consumed := c.livemap.snapshot(mapMaxAge)
	c.stats.mu.Lock()
	v := stateView{
		UptimeS:  time.Since(c.stats.start).Seconds(),
		Riders:   riders,
		Consumed: consumed,
		Groups:   c.stats.groups,
		Topics:   c.stats.topics,
		History:  append([]sample(nil), c.stats.history...),
		Totals:   c.stats.tot,
		Sinks:    len(c.sinks),
		Target:   c.cfg.Rate,
	}
	c.stats.mu.Unlock()
	writeJSON(w, v)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(v)
}
