package rider

// strict_test.go checks that an update object's keys are held to exactly
// rider_id, lat, lon and ts, once each, and fuzzes that rule against an
// independent reading of the keys by encoding/json's tokenizer.

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestStrictKeys(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		field string // FieldError field wanted, "" for success
		msg   string // error substring wanted
	}{
		{"exact", `{"rider_id":"a","lat":1,"lon":2,"ts":1}`, "", ""},
		{"any order", `{"ts":1,"lon":2,"lat":1,"rider_id":"a"}`, "", ""},
		{"escaped key is the same key", `{"rider\u005fid":"a","lat":1,"lon":2}`, "", ""},
		{"duplicate rider_id", `{"rider_id":"a","lat":1,"lon":2,"rider_id":"b"}`, "rider_id", "locations[4].rider_id: is given twice"},
		{"duplicate lat", `{"rider_id":"a","lat":1,"lat":91,"lon":2}`, "lat", "given twice"},
		{"duplicate spelt with an escape", `{"rider_id":"a","lat":1,"l\u0061t":2,"lon":2}`, "lat", "given twice"},
		{"duplicate null", `{"rider_id":"a","lat":1,"lon":2,"ts":null,"ts":1}`, "ts", "given twice"},
		{"upper case", `{"RIDER_ID":"a","lat":1,"lon":2}`, "RIDER_ID", "is not a field"},
		{"upper case beside the real one", `{"rider_id":"a","RIDER_ID":"b","lat":1,"lon":2}`, "RIDER_ID", "is not a field"},
		{"mixed case", `{"rider_id":"a","Lat":1,"lon":2}`, "Lat", "in lowercase"},
		{"kelvin sign folds to k in encoding/json", "{\"rider_id\":\"a\",\"lat\":1,\"lon\":2,\"t\u017f\":1}", `"t\u017f"`, "is not a field"},
		{"unknown", `{"rider_id":"a","lat":1,"lon":2,"speed":3}`, "speed", "is not a field"},
		{"empty key", `{"rider_id":"a","lat":1,"lon":2,"":3}`, `""`, "is not a field"},
		{"long key cut", `{"` + strings.Repeat("k", 200) + `":1}`, strings.Repeat("k", maxKeyShown) + "...", "is not a field"},
		{"nested value skipped", `{"rider_id":"a","lat":1,"lon":{"lat":[1,"}",{"x":2}]}}`, "lon", "must be a float64"},
		{"unknown before a type error", `{"rider_id":1,"LAT":2}`, "LAT", "is not a field"},
		{"not an object", `[1]`, "", "one object"},
		{"null", ` null `, "", "one object"},
		{"broken", `{"rider_id":"a",,}`, "", "invalid JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := UnmarshalOne([]byte(tt.body), 4, now)
			if tt.field == "" && tt.msg == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.msg)
			}
			var fe *FieldError
			if tt.field != "" && (!errors.As(err, &fe) || fe.Field != tt.field || fe.Index != 4) {
				t.Fatalf("err = %#v, want a FieldError on %s at index 4", err, tt.field)
			}
		})
	}
}

func TestUnmarshalFor(t *testing.T) {
	tests := []struct {
		body, errHas string
	}{
		{`{"lat":1,"lon":2}`, ""},
		{`{"rider_id":null,"lat":1,"lon":2}`, ""},
		{`{"rider_id":"r1","lat":1,"lon":2}`, ""},
		{`{"rider_id":"r2","lat":1,"lon":2}`, `is "r2" but the path says "r1"`},
		{`{"rider_id":"r1","rider_id":"r2","lat":1,"lon":2}`, "rider_id: is given twice"},
		{`{"RIDER_ID":"r2","lat":1,"lon":2}`, "RIDER_ID: is not a field"},
	}
	for _, tt := range tests {
		l, err := UnmarshalFor([]byte(tt.body), "r1", now)
		switch {
		case tt.errHas == "" && (err != nil || l.RiderID != "r1"):
			t.Errorf("%s: %+v, %v", tt.body, l, err)
		case tt.errHas != "" && (err == nil || !strings.Contains(err.Error(), tt.errHas)):
			t.Errorf("%s: err %v, want %q", tt.body, err, tt.errHas)
		}
	}
}

// oracleKeys reads the top-level keys of a JSON object with encoding/json's
// tokenizer; ok is false when b is not one valid JSON object.
func oracleKeys(b []byte) (keys []string, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		keys = append(keys, tok.(string))
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, false
		}
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, false
	}
	if _, err := dec.Token(); err == nil || !json.Valid(b) {
		return nil, false // data after the object
	}
	return keys, true
}

// FuzzStrictKeys: on a valid JSON object, UnmarshalOne refuses exactly the
// objects with a key outside Fields or a key given twice, as encoding/json's
// tokenizer reads them, and names that key; it never panics on any input.
func FuzzStrictKeys(f *testing.F) {
	for _, s := range []string{
		`{"rider_id":"a","lat":1,"lon":2,"ts":1}`,
		`{"rider_id":"a","lat":1,"lat":2,"lon":2}`,
		`{"RIDER_ID":"a","lat":1,"lon":2}`,
		`{"rider\u005fid":"a","lat":1,"lon":2}`,
		`{"rider_id":"a","lat":1,"lon":{"a":["}",{"b":"\""}]}}`,
		"{\"t\u017f\":1}", `{"":1}`, `{}`, `[]`, `{"a`, `{"a":}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_, err := UnmarshalOne(b, 0, now)
		keys, ok := oracleKeys(b)
		if !ok {
			return
		}
		seen := map[string]bool{}
		bad, found := "", false
		for _, k := range keys {
			if fieldIndex([]byte(k)) < 0 || seen[k] {
				bad, found = k, true
				break
			}
			seen[k] = true
		}
		var fe *FieldError
		keyErr := errors.As(err, &fe) && (strings.Contains(fe.Msg, "given twice") || strings.Contains(fe.Msg, "is not a field"))
		switch {
		case !found && keyErr:
			t.Fatalf("keys %q are fine, but %v", keys, err)
		case found && !keyErr:
			t.Fatalf("key %q of %q not refused: %v", bad, keys, err)
		case found && fe.Field != shownKey([]byte(bad)):
			t.Fatalf("refused %q but named %q", bad, fe.Field)
		}
	})
}
