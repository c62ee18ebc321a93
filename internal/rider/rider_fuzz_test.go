package rider

// rider_fuzz_test.go fuzzes Decode, the sink's parser of record values
// from any producer: it must never panic, and whatever it accepts must be
// valid and survive an AppendJSON/Decode round trip unchanged.

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
