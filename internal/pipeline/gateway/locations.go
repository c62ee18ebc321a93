package gateway

// locations.go handles the writes: POST /v1/locations (a JSON array or
// NDJSON batch) and PUT /v1/riders/{id}/location (one JSON object). Both
// read the body under MaxBodyBytes, validate every update before publishing
// any, and answer 202 only once the cluster acknowledged all of them.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/rider"
)

// retryAfter is the Retry-After of a 503, in seconds.
const retryAfter = 5

// acceptedBody is the JSON of a 202.
type acceptedBody struct {
	Accepted int `json:"accepted"`
}

// batchTypes are the media types a POST body may declare; the body's
// first character tells a JSON array from NDJSON whatever the type says.
// text/plain is accepted for tools that label NDJSON so.
var batchTypes = map[string]bool{
	"application/json":     true,
	"application/x-ndjson": true,
	"application/ndjson":   true,
	"application/jsonl":    true,
	"application/x-jsonl":  true,
	"text/plain":           true,
}

// singleTypes are the content types PUT accepts.
var singleTypes = map[string]bool{"application/json": true}

// acceptBody checks the request's content type against types and reads
// its body; if either fails, the request has been answered (415, 413, 400).
func (g *Gateway) acceptBody(w http.ResponseWriter, r *http.Request, types map[string]bool) ([]byte, bool) {
	if err := checkType(r, types); err != nil {
		g.reject(w, http.StatusUnsupportedMediaType, err)
		return nil, false
	}
	body, status, err := g.readBody(w, r)
	if err != nil {
		g.reject(w, status, err)
		return nil, false
	}
	return body, true
}

// postLocations handles POST /v1/locations.
func (g *Gateway) postLocations(w http.ResponseWriter, r *http.Request) {
	g.requests.Add(1)
	body, ok := g.acceptBody(w, r, batchTypes)
	if !ok {
		return
	}
	locs, err := rider.ParseBatch(bytes.NewReader(body), g.cfg.MaxBatch, time.Now(), g.cfg.Limits)
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
	body, ok := g.acceptBody(w, r, singleTypes)
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

// checkType answers whether the request's Content-Type is empty or one of
// allowed.
func checkType(r *http.Request, allowed map[string]bool) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil && allowed[mt] {
		return nil
	}
	if err == nil && mt == "application/x-www-form-urlencoded" {
		return fmt.Errorf("Content-Type %s is not accepted: send JSON (curl: -H 'Content-Type: application/json')", mt)
	}
	return fmt.Errorf("Content-Type %q is not accepted: send application/json or application/x-ndjson", ct)
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
