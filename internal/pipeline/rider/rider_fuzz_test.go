package rider

// rider_fuzz_test.go fuzzes Decode, the sink's parser of record values
// from any producer: it must never panic, and whatever it accepts must be
// valid, hold exactly the documented keys once each, and survive an
// AppendJSON/Decode round trip unchanged.

import (
	"testing"
	"time"
)

func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"rider_id":"r1","lat":12.97,"lon":77.59,"ts":"2026-11-25T13:00:00.123Z"}`,
		`{"rider_id":"r1","lat":12.97,"lon":77.59,"ts":1764075600123}`,
		`{"rider_id":"r1","lat":"x"}`,
		`{"rider_id":"","lat":0,"lon":0,"ts":null}`,
		`[1,2]`, `nul`, ``,
		`{"rider_id":"r1","lat":1,"lat":2,"lon":3,"ts":1}`,
		`{"RIDER_ID":"r1","lat":1,"lon":3,"ts":1}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		l, err := Decode(b)
		if err != nil {
			return
		}
		if err := l.Validate(-1, time.Time{}, Limits{}); err != nil {
			t.Fatalf("Decode accepted an invalid update %+v: %v", l, err)
		}
		keys, ok := oracleKeys(b)
		seen := map[string]bool{}
		for _, k := range keys {
			if fieldIndex([]byte(k)) < 0 || seen[k] {
				t.Fatalf("Decode accepted key %q in %q", k, keys)
			}
			seen[k] = true
		}
		if !ok {
			t.Fatalf("Decode accepted %q, which is not one JSON object", b)
		}
		if y := l.TS.Year(); y < 1 || y > 9999 {
			t.Fatalf("Decode accepted ts %v, outside years 1 to 9999", l.TS)
		}
		again, err := Decode(l.AppendJSON(nil))
		if err != nil {
			t.Fatalf("round trip of %+v: %v", l, err)
		}
		if again.RiderID != l.RiderID || again.Lat != l.Lat || again.Lon != l.Lon || !again.TS.Equal(l.TS.Truncate(time.Millisecond)) {
			t.Fatalf("round trip %+v -> %+v", l, again)
		}
	})
}
