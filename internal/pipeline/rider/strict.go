package rider

// strict.go holds an update object to exactly its documented keys.
// encoding/json accepts a duplicate key (the last one wins), matches keys
// case-insensitively ("RIDER_ID", even "ſ" for "s") and ignores unknown
// ones; a proxy or validator in front of the gateway that reads the first
// "rider_id", or only the lowercase one, would then check a different
// update than the one published. So after encoding/json has decoded (and
// thereby validated the syntax of) an object, checkKeys walks its
// top-level keys once and refuses any that is not exactly rider_id, lat,
// lon or ts, and any given twice. Keys are compared after JSON unescaping,
// so "rider\u005fid" is rider_id, and a duplicate however it is spelt.

import (
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Fields lists the keys of an update object, in the order AppendJSON
// writes them. Names are case-sensitive.
var Fields = [...]string{"rider_id", "lat", "lon", "ts"}

// errBadScan is returned by checkKeys for input it cannot walk; it is
// called on valid JSON only, so this means a bug, reported, not a panic.
var errBadScan = errors.New("invalid JSON: cannot read the object's keys")

// maxKeyShown bounds how much of an unknown key an error repeats.
const maxKeyShown = 64

// checkKeys checks the top-level keys of data, which must be valid JSON
// (encoding/json has checked it). A value that is not an object has no
// keys to check; decoding it reports what is wrong with it.
func checkKeys(data []byte, index int) error {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil
	}
	i++
	var seen [len(Fields)]bool
	for {
		i = skipSpace(data, i)
		if i >= len(data) {
			return errBadScan
		}
		switch data[i] {
		case '}':
			return nil
		case ',':
			i = skipSpace(data, i+1)
		}
		end, escaped := stringEnd(data, i)
		if end < 0 {
			return errBadScan
		}
		key := data[i+1 : end-1]
		if escaped || !utf8.Valid(key) {
			// Read it as encoding/json does: escapes decoded, invalid
			// bytes as U+FFFD.
			var s string
			if err := json.Unmarshal(data[i:end], &s); err != nil {
				return errBadScan
			}
			key = []byte(s)
		}
		f := fieldIndex(key)
		switch {
		case f < 0:
			return &FieldError{index, shownKey(key), "is not a field of an update: the fields are rider_id, lat, lon and ts, in lowercase"}
		case seen[f]:
			return &FieldError{index, Fields[f], "is given twice in one object"}
		}
		seen[f] = true
		i = skipSpace(data, end)
		if i >= len(data) || data[i] != ':' {
			return errBadScan
		}
		if i = skipValue(data, skipSpace(data, i+1)); i < 0 {
			return errBadScan
		}
	}
}

// fieldIndex returns key's index in Fields, or -1. The conversion in the
// switch does not allocate.
func fieldIndex(key []byte) int {
	switch string(key) {
	case "rider_id":
		return 0
	case "lat":
		return 1
	case "lon":
		return 2
	case "ts":
		return 3
	}
	return -1
}

// shownKey is key as an error names it: at most maxKeyShown bytes, each
// invalid UTF-8 byte read as U+FFFD (as encoding/json reads it), and
// quoted unless it is plain printable ASCII.
func shownKey(key []byte) string {
	cut := len(key) > maxKeyShown
	if cut {
		key = key[:maxKeyShown]
	}
	plain := len(key) > 0
	var b strings.Builder
	for len(key) > 0 {
		r, n := utf8.DecodeRune(key)
		key = key[n:]
		if r < 0x21 || r >= 0x7f || r == '"' || r == '\\' {
			plain = false
		}
		b.WriteRune(r) // utf8.RuneError for an invalid byte
	}
	s := b.String()
	if !plain {
		s = strconv.QuoteToASCII(s)
	}
	if cut {
		s += "..."
	}
	return s
}

// skipSpace returns the index of the first non-whitespace byte at or
// after i (len(data) if none).
func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\r', '\n':
			i++
		default:
			return i
		}
	}
	return i
}

// stringEnd returns the index just past the JSON string starting at i,
// and whether it holds an escape; -1 if there is no string there.
func stringEnd(data []byte, i int) (int, bool) {
	if i >= len(data) || data[i] != '"' {
		return -1, false
	}
	escaped := false
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return j + 1, escaped
		}
	}
	return -1, false
}

// skipValue returns the index just past the JSON value starting at i, or
// -1 if the input ends first. Nested objects and arrays are skipped by
// counting brackets outside strings.
func skipValue(data []byte, i int) int {
	if i >= len(data) {
		return -1
	}
	switch data[i] {
	case '"':
		end, _ := stringEnd(data, i)
		return end
	case '{', '[':
		depth := 0
		for i < len(data) {
			switch data[i] {
			case '"':
				end, _ := stringEnd(data, i)
				if end < 0 {
					return -1
				}
				i = end
				continue
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return -1
	}
	for i < len(data) {
		switch data[i] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			return i
		}
		i++
	}
	return i
}
