package rider

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

var now = time.Date(2026, 11, 25, 13, 0, 0, 0, time.UTC)

func TestValidate(t *testing.T) {
	ok := Location{RiderID: "rider-1", Lat: 12.97, Lon: 77.59, TS: now}
	tests := []struct {
		name  string
		edit  func(*Location)
		field string
	}{
		{"valid", func(*Location) {}, ""},
		{"empty id", func(l *Location) { l.RiderID = "" }, "rider_id"},
		{"long id", func(l *Location) { l.RiderID = strings.Repeat("a", MaxIDLen+1) }, "rider_id"},
		{"id with space", func(l *Location) { l.RiderID = "a b" }, "rider_id"},
		{"id with quote", func(l *Location) { l.RiderID = `a"b` }, "rider_id"},
		{"max id", func(l *Location) { l.RiderID = strings.Repeat("a", MaxIDLen) }, ""},
		{"lat high", func(l *Location) { l.Lat = 90.0001 }, "lat"},
		{"lat low", func(l *Location) { l.Lat = -91 }, "lat"},
		{"lat NaN", func(l *Location) { l.Lat = math.NaN() }, "lat"},
		{"lat edge", func(l *Location) { l.Lat = -90 }, ""},
		{"lon high", func(l *Location) { l.Lon = 180.5 }, "lon"},
		{"lon inf", func(l *Location) { l.Lon = math.Inf(-1) }, "lon"},
		{"future", func(l *Location) { l.TS = now.Add(2 * time.Minute) }, "ts"},
		{"slightly ahead", func(l *Location) { l.TS = now.Add(30 * time.Second) }, ""},
		{"too old", func(l *Location) { l.TS = now.Add(-8 * 24 * time.Hour) }, "ts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := ok
			tt.edit(&l)
			err := l.Validate(2, now, DefaultLimits)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.Field != tt.field || fe.Index != 2 {
				t.Fatalf("got %v, want a FieldError on %s at index 2", err, tt.field)
			}
			if !strings.HasPrefix(err.Error(), "locations[2]."+tt.field+": ") {
				t.Fatalf("message %q does not name the field", err)
			}
		})
	}
}

func TestJSONRoundTrip(t *testing.T) {
	in := Location{RiderID: "r:1.a_b-c", Lat: -12.3456789, Lon: 177.000001, TS: time.Date(2026, 11, 25, 13, 0, 0, 123e6, time.UTC)}
	b := in.AppendJSON(nil)
	want := `{"rider_id":"r:1.a_b-c","lat":-12.3456789,"lon":177.000001,"ts":"2026-11-25T13:00:00.123Z"}`
	if string(b) != want {
		t.Fatalf("AppendJSON = %s, want %s", b, want)
	}
	out, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if out.RiderID != in.RiderID || out.Lat != in.Lat || out.Lon != in.Lon || !out.TS.Equal(in.TS) {
		t.Fatalf("round trip: %+v != %+v", out, in)
	}
}

func TestDecodeRejects(t *testing.T) {
	for _, v := range []string{
		``, `null`, `{}`, `[1]`, `{"rider_id":"a","lat":1,"lon":2}`, // no ts
		`{"rider_id":"a","lat":100,"lon":2,"ts":1}`,
		`{"rider_id":"a b","lat":1,"lon":2,"ts":1}`,
		`{"rider_id":"a","lat":"1","lon":2,"ts":1}`,
		`{"rider_id":"a","lat":1,"lon":2,"ts":"yesterday"}`,
	} {
		if _, err := Decode([]byte(v)); err == nil {
			t.Errorf("Decode(%s) succeeded", v)
		}
	}
}

// TestTSUnits checks integer timestamps: milliseconds are taken, values
// that look like seconds, microseconds or nanoseconds are refused with the
// unit they look like and the value in milliseconds.
func TestTSUnits(t *testing.T) {
	ms := now.UnixMilli()
	for _, tc := range []struct {
		name, ts string
		want     time.Time // zero: refused
		errHas   string
	}{
		{"milliseconds", fmt.Sprint(ms), now, ""},
		{"zero", "0", time.UnixMilli(0), ""},
		{"small", "123456", time.UnixMilli(123456), ""},
		{"seconds", fmt.Sprint(now.Unix()), time.Time{}, fmt.Sprintf("ts: %d looks like Unix seconds; ts is Unix milliseconds (%d)", now.Unix(), ms)},
		{"seconds of 2001", "1000000000", time.Time{}, "looks like Unix seconds"},
		{"microseconds", fmt.Sprint(now.UnixMicro()), time.Time{}, fmt.Sprintf("looks like Unix microseconds; ts is Unix milliseconds (%d)", ms)},
		{"nanoseconds", fmt.Sprint(now.UnixNano()), time.Time{}, fmt.Sprintf("looks like Unix nanoseconds; ts is Unix milliseconds (%d)", ms)},
		{"negative", "-1764547200", time.UnixMilli(-1764547200), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, err := UnmarshalOne([]byte(`{"rider_id":"a","lat":1,"lon":2,"ts":`+tc.ts+`}`), -1, now)
			if tc.errHas != "" {
				var fe *FieldError
				if !errors.As(err, &fe) || fe.Field != "ts" || !strings.Contains(err.Error(), tc.errHas) {
					t.Fatalf("ts %s: %v, want a ts error containing %q", tc.ts, err, tc.errHas)
				}
				return
			}
			if err != nil || !l.TS.Equal(tc.want) {
				t.Fatalf("ts %s: %v, %v; want %v", tc.ts, l.TS, err, tc.want)
			}
		})
	}
}
