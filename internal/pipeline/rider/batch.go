package rider

// batch.go parses a request body holding many updates: a JSON array (or
// one update object) or newline-delimited JSON (NDJSON), as the request's
// content type says.

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// ErrEmptyBatch is returned for a body with no updates.
var ErrEmptyBatch = errors.New("no locations in the body")

// ErrTooMany is wrapped when a batch exceeds its maximum count.
var ErrTooMany = errors.New("too many locations in one request")

// Format is how a body lays out its updates.
type Format int

const (
	// JSON is one JSON value: an array of updates or a single update
	// object (application/json).
	JSON Format = iota
	// NDJSON is one update object per line; blank lines are skipped
	// (application/x-ndjson).
	NDJSON
)

// ParseBatch reads a body of updates laid out as f, at most max of them,
// and validates each against lim relative to now. An update without ts
// takes now. The first bad update's error is returned (a *FieldError when
// a field is wrong).
func ParseBatch(r io.Reader, f Format, max int, now time.Time, lim Limits) ([]Location, error) {
	br := bufio.NewReader(r)
	first, err := firstByte(br)
	if err == io.EOF {
		return nil, ErrEmptyBatch
	}
	if err != nil {
		return nil, err
	}
	var out []Location
	add := func(raw []byte) error {
		if len(out) >= max {
			return fmt.Errorf("%w: at most %d", ErrTooMany, max)
		}
		l, err := UnmarshalOne(raw, len(out), now)
		if err != nil {
			return err
		}
		if err := l.Validate(len(out), now, lim); err != nil {
			return err
		}
		out = append(out, l)
		return nil
	}
	switch {
	case f == NDJSON:
		err = parseNDJSON(br, add)
	case first == '[':
		err = parseArray(br, add)
	default:
		err = parseValue(br, add)
	}
	if err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return nil, ErrEmptyBatch
	}
	return out, nil
}

// firstByte peeks at the first non-space byte.
func firstByte(br *bufio.Reader) (byte, error) {
	for {
		c, err := br.ReadByte()
		if err != nil {
			return 0, err
		}
		if c != ' ' && c != '\t' && c != '\r' && c != '\n' {
			return c, br.UnreadByte()
		}
	}
}

// parseArray streams the elements of a JSON array to add.
func parseArray(r io.Reader, add func([]byte) error) error {
	dec := json.NewDecoder(r)
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("invalid JSON: %v", err)
	}
	for dec.More() {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("invalid JSON: %v", err)
		}
		if err := add(raw); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return fmt.Errorf("invalid JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("invalid JSON: data after the array")
	}
	return nil
}

// parseValue gives a JSON body that is not an array, which must be one
// update object, to add.
func parseValue(r io.Reader, add func([]byte) error) error {
	dec := json.NewDecoder(r)
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return fmt.Errorf("invalid JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("invalid JSON: data after the first value (one update per line is application/x-ndjson)")
	}
	return add(raw)
}

// parseNDJSON gives each non-blank line to add.
func parseNDJSON(r io.Reader, add func([]byte) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		b := bytes.TrimSpace(sc.Bytes())
		if len(b) == 0 {
			continue
		}
		if err := add(b); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read line %d: %w", line+1, err)
	}
	return nil
}
