package rider

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParseBatch(t *testing.T) {
	tests := []struct {
		name   string
		format Format
		body   string
		n      int    // updates expected
		errHas string // error substring expected
	}{
		{"array", JSON, `[{"rider_id":"a","lat":1,"lon":2,"ts":"2026-11-25T12:59:00Z"},{"rider_id":"b","lat":3,"lon":4,"ts":1795611540000}]`, 2, ""},
		{"one object", JSON, `{"rider_id":"a","lat":1,"lon":2}`, 1, ""},
		{"one object and spaces", JSON, " \n{\"rider_id\":\"a\",\"lat\":1,\"lon\":2}\n ", 1, ""},
		{"json holding ndjson", JSON, "{\"rider_id\":\"a\",\"lat\":1,\"lon\":2}\n{\"rider_id\":\"b\",\"lat\":3,\"lon\":4}\n", 0, "application/x-ndjson"},
		{"json scalar", JSON, `17`, 0, "one object"},
		{"json truncated object", JSON, `{"rider_id":"a"`, 0, "invalid JSON"},
		{"ndjson", NDJSON, "{\"rider_id\":\"a\",\"lat\":1,\"lon\":2}\n\n{\"rider_id\":\"b\",\"lat\":3,\"lon\":4}\n", 2, ""},
		{"ndjson no newline at end", NDJSON, `{"rider_id":"a","lat":1,"lon":2}`, 1, ""},
		{"ndjson holding an array", NDJSON, `[{"rider_id":"a","lat":1,"lon":2}]`, 0, "one object"},
		{"leading space array", JSON, "  \n[{\"rider_id\":\"a\",\"lat\":1,\"lon\":2}]", 1, ""},
		{"empty body", JSON, "", 0, "no locations"},
		{"empty ndjson body", NDJSON, "\n\n", 0, "no locations"},
		{"empty array", JSON, "[]", 0, "no locations"},
		{"bad lat in array", JSON, `[{"rider_id":"a","lat":1,"lon":2},{"rider_id":"b","lat":91,"lon":2}]`, 0, "locations[1].lat: must be between -90 and 90"},
		{"missing lon", NDJSON, `{"rider_id":"a","lat":1}`, 0, "locations[0].lon: is required"},
		{"lat as string", JSON, `[{"rider_id":"a","lat":"x","lon":2}]`, 0, "lat"},
		{"bad ts", JSON, `{"rider_id":"a","lat":1,"lon":2,"ts":"noon"}`, 0, "locations[0].ts: must be RFC 3339"},
		{"future ts", JSON, `{"rider_id":"a","lat":1,"lon":2,"ts":"2027-01-01T00:00:00Z"}`, 0, "locations[0].ts: is more than"},
		{"truncated array", JSON, `[{"rider_id":"a","lat":1,"lon":2}`, 0, "invalid JSON"},
		{"trailing data", JSON, `[{"rider_id":"a","lat":1,"lon":2}] x`, 0, "invalid JSON"},
		{"garbage ndjson line", NDJSON, "{\"rider_id\":\"a\",\"lat\":1,\"lon\":2}\nnope\n", 0, "locations[1]: invalid JSON"},
		{"too many", NDJSON, strings.Repeat("{\"rider_id\":\"a\",\"lat\":1,\"lon\":2}\n", 4), 0, "too many"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			locs, err := ParseBatch(strings.NewReader(tt.body), tt.format, 3, now, DefaultLimits)
			if tt.errHas != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errHas) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.errHas)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(locs) != tt.n {
				t.Fatalf("got %d updates, want %d", len(locs), tt.n)
			}
		})
	}
}

func TestParseBatchDefaultsTSAndKeepsOrder(t *testing.T) {
	locs, err := ParseBatch(strings.NewReader(`[{"rider_id":"a","lat":1,"lon":2},{"rider_id":"b","lat":3,"lon":4,"ts":1795611540000}]`), JSON, 10, now, DefaultLimits)
	if err != nil {
		t.Fatal(err)
	}
	if !locs[0].TS.Equal(now) || locs[0].RiderID != "a" {
		t.Fatalf("first = %+v, want rider a at now", locs[0])
	}
	if !locs[1].TS.Equal(time.UnixMilli(1795611540000)) || locs[1].Lat != 3 {
		t.Fatalf("second = %+v", locs[1])
	}
	var fe *FieldError
	_, err = ParseBatch(strings.NewReader(`{"rider_id":"","lat":1,"lon":2}`), NDJSON, 10, now, DefaultLimits)
	if !errors.As(err, &fe) || fe.Field != "rider_id" {
		t.Fatalf("err = %v, want FieldError on rider_id", err)
	}
}

// FuzzParseBatch: any body, read as JSON and as NDJSON, is either rejected
// with an error or yields updates that are all valid and survive the
// topic's encoding.
func FuzzParseBatch(f *testing.F) {
	f.Add(`[{"rider_id":"a","lat":1,"lon":2,"ts":"2026-11-25T12:59:00Z"}]`)
	f.Add("{\"rider_id\":\"a\",\"lat\":1,\"lon\":2}\n{\"rider_id\":\"b\",\"lat\":-3.5,\"lon\":4e1,\"ts\":1795611540000}")
	f.Add(`[{"rider_id":"a","lat":1e400,"lon":2}]`)
	f.Add(`[`)
	f.Add(`[{"rider_id":"a","lat":1,"lon":2},{"rider_id":"b","lat":1,"lon":2,"lon":3}]`)
	f.Add("{\"Rider_Id\":\"a\",\"lat\":1,\"lon\":2}")
	f.Fuzz(func(t *testing.T, body string) {
		locs, err := ParseBatch(strings.NewReader(body), JSON, 100, now, DefaultLimits)
		if nd, errND := ParseBatch(strings.NewReader(body), NDJSON, 100, now, DefaultLimits); errND == nil {
			locs, err = append(locs, nd...), nil
		}
		if err != nil {
			return
		}
		for i := range locs {
			if err := locs[i].Validate(i, now, DefaultLimits); err != nil {
				t.Fatalf("accepted invalid update %+v: %v", locs[i], err)
			}
			back, err := Decode(locs[i].AppendJSON(nil))
			if err != nil {
				t.Fatalf("encoded update does not decode: %v", err)
			}
			if back.RiderID != locs[i].RiderID || back.Lat != locs[i].Lat || back.Lon != locs[i].Lon || back.TS.UnixMilli() != locs[i].TS.UnixMilli() {
				t.Fatalf("round trip changed %+v into %+v", locs[i], back)
			}
		}
	})
}
