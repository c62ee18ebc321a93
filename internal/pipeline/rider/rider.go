// Package rider defines a rider's location update, the unit that flows
// through the whole pipeline: rider apps send it to the gateway, the
// simulator generates it, it is a record's value on the rider-updates topic,
// and the sink writes it to the database.
//
// On the topic a record's key is the rider id and its value is the update as
// compact JSON (AppendJSON), so that any Kafka consumer can read it.
package rider

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"
)

// MaxIDLen bounds a rider id's length in bytes.
const MaxIDLen = 64

// Location is one position report of one rider.
type Location struct {
	// RiderID identifies the rider: 1 to MaxIDLen characters of
	// [A-Za-z0-9._:-].
	RiderID string
	// Lat and Lon are WGS84 degrees.
	Lat, Lon float64
	// TS is when the rider's device took the fix.
	TS time.Time
}

// FieldError is a validation failure that names the offending field and,
// in a batch, the update's index.
type FieldError struct {
	// Index is the update's position in its batch, -1 for a single update.
	Index int
	// Field is the JSON field name: rider_id, lat, lon or ts.
	Field string
	// Msg says what is wrong.
	Msg string
}

// Error implements error, e.g. "locations[3].lat: must be between -90 and 90".
func (e *FieldError) Error() string {
	if e.Index < 0 {
		return e.Field + ": " + e.Msg
	}
	return fmt.Sprintf("locations[%d].%s: %s", e.Index, e.Field, e.Msg)
}

// Limits are the bounds Validate checks beyond the coordinate ranges.
type Limits struct {
	// MaxFuture is how far ahead of the receiver's clock a ts may be
	// (device clocks drift).
	MaxFuture time.Duration
	// MaxAge is how far in the past a ts may be (apps buffer while
	// offline, but not forever).
	MaxAge time.Duration
}

// DefaultLimits are the gateway's defaults.
var DefaultLimits = Limits{MaxFuture: time.Minute, MaxAge: 7 * 24 * time.Hour}

// ValidID reports whether id is a well-formed rider id.
func ValidID(id string) error {
	if id == "" {
		return errors.New("is required")
	}
	if len(id) > MaxIDLen {
		return fmt.Errorf("is longer than %d characters", MaxIDLen)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '_', c == ':', c == '-':
		default:
			return fmt.Errorf("has character %q; allowed are letters, digits and . _ : -", rune(c))
		}
	}
	return nil
}

// Validate checks l against the coordinate ranges and lim, relative to now.
// index is reported in the FieldError (-1 for a single update).
func (l *Location) Validate(index int, now time.Time, lim Limits) error {
	if err := ValidID(l.RiderID); err != nil {
		return &FieldError{index, "rider_id", err.Error()}
	}
	if math.IsNaN(l.Lat) || l.Lat < -90 || l.Lat > 90 {
		return &FieldError{index, "lat", "must be between -90 and 90"}
	}
	if math.IsNaN(l.Lon) || l.Lon < -180 || l.Lon > 180 {
		return &FieldError{index, "lon", "must be between -180 and 180"}
	}
	if y := l.TS.Year(); y < 1 || y > 9999 {
		// Beyond RFC 3339 and the databases' timestamp range.
		return &FieldError{index, "ts", "must be within years 1 to 9999"}
	}
	if lim.MaxFuture > 0 && l.TS.After(now.Add(lim.MaxFuture)) {
		return &FieldError{index, "ts", fmt.Sprintf("is more than %s in the future", lim.MaxFuture)}
	}
	if lim.MaxAge > 0 && l.TS.Before(now.Add(-lim.MaxAge)) {
		return &FieldError{index, "ts", fmt.Sprintf("is more than %s in the past", lim.MaxAge)}
	}
	return nil
}

// wireLocation is the JSON shape; pointers tell a missing field from a zero.
type wireLocation struct {
	RiderID *string         `json:"rider_id"`
	Lat     *float64        `json:"lat"`
	Lon     *float64        `json:"lon"`
	TS      json.RawMessage `json:"ts"`
}

// decodeWire turns the JSON shape into a Location. A missing ts takes now.
func (w *wireLocation) decode(index int, now time.Time) (Location, error) {
	var l Location
	if w.RiderID == nil {
		return l, &FieldError{index, "rider_id", "is required"}
	}
	if w.Lat == nil {
		return l, &FieldError{index, "lat", "is required"}
	}
	if w.Lon == nil {
		return l, &FieldError{index, "lon", "is required"}
	}
	l.RiderID, l.Lat, l.Lon = *w.RiderID, *w.Lat, *w.Lon
	ts, err := parseTS(w.TS, now)
	if err != nil {
		return l, &FieldError{index, "ts", err.Error()}
	}
	l.TS = ts
	return l, nil
}

// parseTS accepts an RFC 3339 string or a number of milliseconds since the
// Unix epoch; absent or null means now.
func parseTS(raw json.RawMessage, now time.Time) (time.Time, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return now, nil
	}
	if raw[0] == '"' && len(raw) >= 2 {
		// An RFC 3339 string has no escapes; one with any is decoded
		// first, which costs an allocation.
		s := string(raw[1 : len(raw)-1])
		if bytes.IndexByte(raw, '\\') >= 0 {
			if err := json.Unmarshal(raw, &s); err != nil {
				return time.Time{}, errors.New("must be an RFC 3339 string or Unix milliseconds")
			}
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return time.Time{}, fmt.Errorf("must be RFC 3339 (e.g. 2026-11-25T13:00:00Z): %q", s)
		}
		return t, nil
	}
	ms, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil {
		return time.Time{}, errors.New("must be an RFC 3339 string or integer Unix milliseconds")
	}
	if err := wrongUnit(ms); err != nil {
		return time.Time{}, err
	}
	return time.UnixMilli(ms), nil
}

// Integer timestamps in another unit than milliseconds, read as
// milliseconds, land far from now: seconds in 1970-1973, microseconds and
// nanoseconds beyond the year 9999. Values in these ranges, which no device
// clock reports in milliseconds, are refused with the unit they look like,
// instead of "too old" or "beyond 9999", which would not say what to fix.
const (
	secondsFrom, secondsTo = 1e9, 1e11  // 2001-09-09 to 5138 in seconds
	microsFrom, microsTo   = 1e15, 1e17 // 2001-09-09 to 5138 in microseconds
	nanosFrom              = 1e18       // 2001-09-09 on in nanoseconds
)

// wrongUnit returns the error for an integer ts that looks like Unix
// seconds, microseconds or nanoseconds, or nil.
func wrongUnit(v int64) error {
	var unit string
	var ms int64
	switch {
	case v >= secondsFrom && v < secondsTo:
		unit, ms = "seconds", v*1000
	case v >= microsFrom && v < microsTo:
		unit, ms = "microseconds", v/1000
	case v >= nanosFrom:
		unit, ms = "nanoseconds", v/1000000
	default:
		return nil
	}
	return fmt.Errorf("%d looks like Unix %s; ts is Unix milliseconds (%d)", v, unit, ms)
}

// UnmarshalOne decodes a single JSON object strictly (see strict.go): a
// key that is not exactly rider_id, lat, lon or ts, or one given twice, is
// refused. It does not Validate.
func UnmarshalOne(data []byte, index int, now time.Time) (Location, error) {
	var w wireLocation
	if err := w.unmarshal(data, index); err != nil {
		return Location{}, err
	}
	return w.decode(index, now)
}

// UnmarshalFor decodes, like UnmarshalOne, one update of rider id (a PUT
// body, whose path names the rider): rider_id may be left out or null, and
// if given must be id. It does not Validate.
func UnmarshalFor(data []byte, id string, now time.Time) (Location, error) {
	var w wireLocation
	if err := w.unmarshal(data, -1); err != nil {
		return Location{}, err
	}
	if w.RiderID == nil {
		w.RiderID = &id
	} else if *w.RiderID != id {
		return Location{}, &FieldError{-1, "rider_id", fmt.Sprintf("is %q but the path says %q", *w.RiderID, id)}
	}
	return w.decode(-1, now)
}

// unmarshal decodes data into w. json.Unmarshal checks the whole input's
// syntax before it decodes anything, so once it returned nil or a type
// error the input is valid JSON, and checkKeys may walk it; key errors
// come before type errors, which may stem from a key matched loosely.
func (w *wireLocation) unmarshal(data []byte, index int) error {
	err := json.Unmarshal(data, w)
	var ute *json.UnmarshalTypeError
	if err != nil && !errors.As(err, &ute) {
		return syntaxError(index, err)
	}
	if i := skipSpace(data, 0); i < len(data) && data[i] != '{' {
		return syntaxError(index, errors.New(`an update must be one object {"rider_id":..,"lat":..,"lon":..,"ts":..}`))
	}
	if kerr := checkKeys(data, index); kerr != nil {
		return kerr
	}
	if err != nil {
		return syntaxError(index, err)
	}
	return nil
}

// syntaxError names where a JSON body went wrong.
func syntaxError(index int, err error) error {
	var ute *json.UnmarshalTypeError
	if errors.As(err, &ute) && ute.Field != "" {
		return &FieldError{index, ute.Field, "must be a " + ute.Type.String()}
	}
	if index < 0 {
		return fmt.Errorf("invalid JSON: %v", err)
	}
	return fmt.Errorf("locations[%d]: invalid JSON: %v", index, err)
}

// AppendJSON appends l as compact JSON, the topic's record value:
// {"rider_id":"r1","lat":12.97,"lon":77.59,"ts":"2026-11-25T13:00:00.123Z"}.
// RiderID must be valid (ValidID): it is written without escaping.
func (l *Location) AppendJSON(b []byte) []byte {
	b = append(b, `{"rider_id":"`...)
	b = append(b, l.RiderID...)
	b = append(b, `","lat":`...)
	b = strconv.AppendFloat(b, l.Lat, 'f', -1, 64)
	b = append(b, `,"lon":`...)
	b = strconv.AppendFloat(b, l.Lon, 'f', -1, 64)
	b = append(b, `,"ts":"`...)
	b = l.TS.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z07:00")
	return append(b, `"}`...)
}

// Decode parses a record value written by AppendJSON (or any producer that
// writes the same JSON) and validates the coordinates and id, so that a
// foreign producer's bad record is reported, not written.
func Decode(value []byte) (Location, error) {
	l, err := UnmarshalOne(value, -1, time.Time{})
	if err != nil {
		return l, err
	}
	if l.TS.IsZero() {
		return l, &FieldError{-1, "ts", "is required"}
	}
	return l, l.Validate(-1, time.Time{}, Limits{})
}
