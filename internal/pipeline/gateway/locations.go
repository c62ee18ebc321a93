package gateway

// locations.go handles the writes: POST /v1/locations (a JSON array or
// NDJSON batch) and PUT /v1/riders/{id}/location (one JSON object). Both
// follow one content-type rule (mediaTypes), read the body under
// MaxBodyBytes, validate every update before publishing any, and answer
// 202 only once the cluster acknowledged all of them.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/rider"
)

// retryAfter is the Retry-After of a 503, in seconds.
const retryAfter = 5

// acceptedBody is the JSON of a 202.
type acceptedBody struct {
	Accepted int `json:"accepted"`
}

// mediaTypes are the content types both write routes accept, with the
// layout each announces. One rule holds for POST and PUT: the type says how
// the body is laid out, and a body is never guessed from its first byte.
// application/json is one JSON value: for POST an array of updates or one
// update object, for PUT one object. application/x-ndjson is one update
// object per line (for PUT, one line). A charset parameter, if any, must be
// utf-8 (RFC 8259: JSON is UTF-8); other parameters are ignored.
//
// A request without Content-Type is refused like any other type: clients
// that leave it out are rare (curl -d, fetch and most HTTP libraries set
// one, often a wrong one), and a body the gateway must guess the format of
// is one a proxy in front of it may read differently.
var mediaTypes = map[string]rider.Format{
	"application/json":     rider.JSON,
	"application/x-ndjson": rider.NDJSON,
}

// acceptedTypes names mediaTypes in a 415's message.
const acceptedTypes = "application/json (an object or an array of objects) or application/x-ndjson (one object per line)"

// acceptBody checks the request's content type and reads its body; if
// either fails, the request has been answered (415, 413, 400).
func (g *Gateway) acceptBody(w http.ResponseWriter, r *http.Request) ([]byte, rider.Format, bool) {
	f, err := bodyFormat(r.Header.Get("Content-Type"))
	if err != nil {
		g.reject(w, http.StatusUnsupportedMediaType, err)
		return nil, 0, false
	}
	body, status, err := g.readBody(w, r)
	if err != nil {
		g.reject(w, status, err)
		return nil, 0, false
	}
	return body, f, true
}

// bodyFormat returns the layout a Content-Type announces, or the error of
// a 415 naming the accepted types.
func bodyFormat(ct string) (rider.Format, error) {
	if ct == "" {
		return 0, fmt.Errorf("Content-Type missing: send %s", acceptedTypes)
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return 0, fmt.Errorf("Content-Type %q is malformed: send %s", ct, acceptedTypes)
	}
	f, ok := mediaTypes[mt]
	switch {
	case mt == "application/x-www-form-urlencoded":
		return 0, fmt.Errorf("Content-Type %s is not accepted (curl -d sends it): send %s, e.g. curl -H 'Content-Type: application/json'", mt, acceptedTypes)
	case !ok:
		return 0, fmt.Errorf("Content-Type %s is not accepted: send %s", mt, acceptedTypes)
	}
	if cs, has := params["charset"]; has && !strings.EqualFold(cs, "utf-8") {
		return 0, fmt.Errorf("Content-Type %s: charset %s is not accepted: JSON is UTF-8 (charset=utf-8, or none)", mt, cs)
	}
	return f, nil
}

// postLocations handles POST /v1/locations.
func (g *Gateway) postLocations(w http.ResponseWriter, r *http.Request) {
	g.requests.Add(1)
	body, format, ok := g.acceptBody(w, r)
	if !ok {
		return
	}
	locs, err := rider.ParseBatch(bytes.NewReader(body), format, g.cfg.MaxBatch, time.Now(), g.cfg.Limits)
	if err != nil {
		g.reject(w, http.StatusBadRequest, err)
		return
	}
	g.publish(w, r, locs)
}

// putLocation handles PUT /v1/riders/{id}/location. The body's rider_id
// may be left out; if present it must be the path's id.
func (g *Gateway) putLocation(w http.ResponseWriter, r *http.Request) {
	g.requests.Add(1)
	id := r.PathValue("id")
	if err := rider.ValidID(id); err != nil {
		g.reject(w, http.StatusBadRequest, &rider.FieldError{Index: -1, Field: "rider_id", Msg: err.Error()})
		return
	}
	// Either type holds one object here (one line of NDJSON).
	body, _, ok := g.acceptBody(w, r)
	if !ok {
		return
	}
	loc, err := parseOne(body, id, time.Now(), g.cfg.Limits)
	if err != nil {
		g.reject(w, http.StatusBadRequest, err)
		return
	}
	g.publish(w, r, []rider.Location{loc})
}

// parseOne decodes and validates a PUT body for rider id.
func parseOne(body []byte, id string, now time.Time, lim rider.Limits) (rider.Location, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return rider.Location{}, rider.ErrEmptyBatch
	}
	loc, err := rider.UnmarshalFor(body, id, now)
	if err != nil {
		return loc, err
	}
	return loc, loc.Validate(-1, now, lim)
}

// readBody reads the whole body, at most MaxBodyBytes of it. It returns the
// status to answer with its error: 413 for a body over the limit, 400 for
// a broken one.
func (g *Gateway) readBody(w http.ResponseWriter, r *http.Request) ([]byte, int, error) {
	if r.ContentLength > g.cfg.MaxBodyBytes {
		return nil, http.StatusRequestEntityTooLarge, tooLarge(g.cfg.MaxBodyBytes)
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, g.cfg.MaxBodyBytes))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe):
		return nil, http.StatusRequestEntityTooLarge, tooLarge(g.cfg.MaxBodyBytes)
	case err != nil:
		return nil, http.StatusBadRequest, fmt.Errorf("read body: %w", err)
	}
	return body, 0, nil
}

// tooLarge is the error of a 413.
func tooLarge(max int64) error {
	return fmt.Errorf("body larger than %d bytes: send fewer locations per request", max)
}

// publish writes locs and answers 202 once the cluster acknowledged all of
// them, or 503 when it failed or did not answer within PublishTimeout.
// Publish may outlive the request: an idempotent producer cannot give up
// on a request already sent, so the answer does not wait for it.
func (g *Gateway) publish(w http.ResponseWriter, r *http.Request, locs []rider.Location) {
	ctx, cancel := context.WithTimeout(r.Context(), g.cfg.PublishTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- g.pub.Publish(ctx, locs) }()
	var err error
	select {
	case err = <-done:
	case <-ctx.Done():
		err = fmt.Errorf("no acknowledgement from the cluster within %s; some locations may have been written", g.cfg.PublishTimeout)
	}
	if err != nil {
		g.log.Warn("publish failed", "locations", len(locs), "remote", r.RemoteAddr, "err", err)
		w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
		g.reject(w, http.StatusServiceUnavailable, fmt.Errorf("publish: %w", err))
		return
	}
	g.accepted.Add(int64(len(locs)))
	writeJSON(w, http.StatusAccepted, acceptedBody{Accepted: len(locs)})
}

// reject counts a rejected write and answers err.
func (g *Gateway) reject(w http.ResponseWriter, status int, err error) {
	g.rejected.Add(1)
	writeError(w, status, err)
}
