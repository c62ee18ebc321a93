// Package gateway is the HTTP entry point for rider apps. It accepts
// location updates (POST /v1/locations for a batch, PUT
// /v1/riders/{id}/location for one), validates them with package rider and
// publishes them with package publish, to rider-updates and (each rider's
// newest) to the compacted rider-latest; it answers a rider's last known
// location (GET /v1/riders/{id}/location, latest.go) and streams a rider's
// updates back as Server-Sent Events (GET /v1/riders/{id}/live).
//
// A write says how its body is laid out with its Content-Type:
// application/json or application/x-ndjson, for both routes (locations.go);
// any other type, or none, is answered 415.
//
// Its promise: a write is answered 202 only after every update in it was
// acknowledged by the cluster (acks=all), on both topics, and a GET of the
// location of a rider it wrote, sent after the 202, answers that location
// or a newer one. A request that fails validation
// is answered 400 naming the field, and nothing of it is published; a
// request whose updates could not be published in time is answered 503,
// and some of its updates may have been written (the app retries, and the
// pipeline is at-least-once). Every error body is JSON: {"error": "..."},
// with "field" and "index" when a field of an update is wrong.
package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/latest"
	"github.com/courier-dev/courier/internal/pipeline/publish"
	"github.com/courier-dev/courier/internal/pipeline/rider"
	"github.com/twmb/franz-go/pkg/kadm"
)

// Defaults of the Config fields left zero.
const (
	DefaultMaxBodyBytes   = 1 << 20
	DefaultMaxBatch       = 10000
	DefaultPublishTimeout = 10 * time.Second
	DefaultKeepAlive      = 15 * time.Second
	DefaultLiveBuffer     = 256
)

// Config configures a Gateway. Zero fields take the defaults above.
type Config struct {
	// Publish says where to publish (ClientOpts, Topic, City, Mode,
	// CreateTopic, LatestTopic: latest.DefaultTopic if empty). The live
	// streams consume Topic, and the map of last known locations
	// LatestTopic, through the same ClientOpts; CreateTopic creates both
	// topics. LatestIndex is the gateway's own.
	Publish publish.Config
	// MaxRiders bounds the map of last known locations (see latest.go).
	// Default DefaultMaxRiders.
	MaxRiders int
	// Limits bound an update's ts; the zero value means rider.DefaultLimits.
	Limits rider.Limits
	// MaxBodyBytes bounds a request body; a larger one is answered 413.
	// Default 1 MiB.
	MaxBodyBytes int64
	// MaxBatch bounds the updates of one POST; more are answered 400.
	// Default 10000.
	MaxBatch int
	// PublishTimeout bounds how long a request waits for the cluster's
	// acknowledgement before it is answered 503. Default 10s.
	PublishTimeout time.Duration
	// KeepAlive is the period of the comment sent on an idle live stream,
	// so that proxies and clients see it alive. Default 15s.
	KeepAlive time.Duration
	// LiveBuffer is how many updates a live stream may fall behind before
	// further ones are dropped for it (counted in Stats.LiveDropped).
	// Default 256.
	LiveBuffer int
	// Logger receives the gateway's logs; nil discards them.
	Logger *slog.Logger
}

// Stats are the gateway's counters since New.
type Stats struct {
	// Accepted counts updates acknowledged by the cluster and answered 202.
	Accepted int64
	// Rejected counts write requests (POST, PUT) answered with an error:
	// 4xx for a bad request, 503 when publishing failed.
	Rejected int64
	// Requests counts write requests (POST, PUT) received.
	Requests int64
	// LiveSubscribers is the number of open live streams.
	LiveSubscribers int
	// LiveDropped counts updates not delivered to a live stream that fell
	// more than Config.LiveBuffer updates behind.
	LiveDropped int64
	// LatestRiders is the number of riders whose last known location the
	// gateway holds; LatestUntracked counts locations of riders not added
	// because the map was full (Config.MaxRiders).
	LatestRiders    int
	LatestUntracked int64
	// LatestLoaded says the latest-location topic was read to the end it
	// had at start: GET of a location is answered from then on.
	LatestLoaded bool
	// LatestInvalid counts records of the latest-location topic skipped
	// because they are not a valid location keyed by its rider id.
	LatestInvalid int64
}

// Gateway serves the /v1 HTTP API. It is safe for concurrent use.
type Gateway struct {
	cfg Config
	log *slog.Logger
	pub *publish.Publisher
	hub *hub

	riders     *riders
	reader     *latest.Reader
	stopReader context.CancelFunc
	readerDone chan struct{}

	accepted, rejected, requests atomic.Int64
	closeOnce                    sync.Once
}

// New connects to the cluster (publish.New), checks the topic, creating it
// if cfg.Publish.CreateTopic is set, and returns a Gateway ready to serve.
func New(ctx context.Context, cfg Config) (*Gateway, error) {
	if cfg.Limits == (rider.Limits{}) {
		cfg.Limits = rider.DefaultLimits
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.PublishTimeout <= 0 {
		cfg.PublishTimeout = DefaultPublishTimeout
	}
	if cfg.KeepAlive <= 0 {
		cfg.KeepAlive = DefaultKeepAlive
	}
	if cfg.LiveBuffer <= 0 {
		cfg.LiveBuffer = DefaultLiveBuffer
	}
	if cfg.MaxRiders <= 0 {
		cfg.MaxRiders = DefaultMaxRiders
	}
	if cfg.Publish.LatestTopic == "" {
		cfg.Publish.LatestTopic = latest.DefaultTopic
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rs := newRiders(cfg.MaxRiders, log)
	cfg.Publish.LatestIndex = rs
	pub, err := publish.New(ctx, cfg.Publish)
	if err != nil {
		return nil, err
	}
	topic := cfg.Publish.LatestTopic
	if err := latest.Ensure(ctx, kadm.NewClient(pub.Client()), topic, cfg.Publish.CreateTopic, log); err != nil {
		pub.Close()
		return nil, err
	}
	reader, err := latest.NewReader(ctx, cfg.Publish.ClientOpts, topic, log)
	if err != nil {
		pub.Close()
		return nil, err
	}
	reader.Skip = ownRecords(ctx, pub.Client(), log)
	g := &Gateway{cfg: cfg, log: log, pub: pub, riders: rs, reader: reader, readerDone: make(chan struct{})}
	g.hub = newHub(pub, cfg.Publish.ClientOpts, cfg.LiveBuffer, log)
	// The reader fills the map in the background: writes are served at
	// once, GET of a location once it has caught up.
	var runCtx context.Context
	runCtx, g.stopReader = context.WithCancel(context.Background())
	go func() {
		defer close(g.readerDone)
		reader.Run(runCtx, rs.apply)
	}()
	return g, nil
}

// WaitLoaded waits until the latest-location topic was read to the end it
// had at start (GET of a location is answered from then on), or ctx ends.
func (g *Gateway) WaitLoaded(ctx context.Context) error {
	select {
	case <-g.reader.CaughtUp():
		return nil
	case <-ctx.Done():
		return fmt.Errorf("reading %s: %w", g.cfg.Publish.LatestTopic, ctx.Err())
	}
}

// Handler returns the handler of the /v1 routes. It can be mounted in
// another mux under "/v1/".
func (g *Gateway) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v1/locations", g.postLocations)
	mux.HandleFunc("PUT /v1/riders/{id}/location", g.putLocation)
	mux.HandleFunc("GET /v1/riders/{id}/location", g.getLocation)
	mux.HandleFunc("GET /v1/riders/{id}/live", g.live)
	mux.HandleFunc("GET /v1/healthz", g.healthz)
	// The patterns without a method are less specific than the ones above,
	// so they catch only the wrong methods: answered 405 in JSON, not in
	// ServeMux's plain text.
	for path, allow := range map[string]string{
		"/v1/locations":            "POST",
		"/v1/riders/{id}/location": "GET, HEAD, PUT",
		"/v1/riders/{id}/live":     "GET, HEAD",
		"/v1/healthz":              "GET, HEAD",
	} {
		mux.HandleFunc(path, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Allow", allow)
			writeError(w, http.StatusMethodNotAllowed, fmt.Errorf("method %s not allowed; use %s", r.Method, allow))
		})
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, fmt.Errorf("no route %s", r.URL.Path))
	})
	return mux
}

// Stats returns the counters.
func (g *Gateway) Stats() Stats {
	n, dropped := g.hub.stats()
	held, _ := g.riders.len()
	rst := g.reader.Stats()
	return Stats{
		Accepted:        g.accepted.Load(),
		Rejected:        g.rejected.Load(),
		Requests:        g.requests.Load(),
		LiveSubscribers: n,
		LiveDropped:     dropped,
		LatestRiders:    held,
		LatestUntracked: g.riders.untracked.Load(),
		LatestLoaded:    rst.CaughtUp,
		LatestInvalid:   rst.Invalid,
	}
}

// CloseLive ends every live stream, stops the live consumer and answers
// later subscribers 503; writes keep working. An http.Server's Shutdown
// waits for streams to end, so register it: srv.RegisterOnShutdown(g.CloseLive).
func (g *Gateway) CloseLive() { g.hub.close() }

// Close ends the live streams (CloseLive), stops reading the
// latest-location topic and closes the clients; later writes are answered
// 503. It is safe to call more than once.
func (g *Gateway) Close() {
	g.closeOnce.Do(func() {
		g.hub.close()
		g.stopReader()
		<-g.readerDone
		g.reader.Close()
		g.pub.Close()
	})
}

// healthz answers 200 "ok" when a broker of the cluster answers a request
// within two seconds, else 503: it tells a load balancer whether writes
// can succeed.
func (g *Gateway) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := g.pub.Client().Ping(ctx); err != nil {
		writeError(w, http.StatusServiceUnavailable, fmt.Errorf("cluster unreachable: %w", err))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

// errorBody is the JSON shape of every error.
type errorBody struct {
	Error string `json:"error"`
	Field string `json:"field,omitempty"`
	Index *int   `json:"index,omitempty"`
}

// writeError answers err as JSON; a *rider.FieldError also names its field
// and, in a batch, the update's index.
func writeError(w http.ResponseWriter, status int, err error) {
	body := errorBody{Error: err.Error()}
	var fe *rider.FieldError
	if errors.As(err, &fe) {
		body.Field = fe.Field
		if fe.Index >= 0 {
			body.Index = &fe.Index
		}
	}
	writeJSON(w, status, body)
}

// writeJSON answers v as JSON with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":"encode response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}
