package region

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kgo"
)

func TestOf(t *testing.T) {
	c := City{Box: BBox{MinLat: 10, MinLon: 20, MaxLat: 12, MaxLon: 24}} // center 11,22
	tests := []struct {
		name     string
		lat, lon float64
		want     string
	}{
		{"top middle", 11.9, 22, "north"},
		{"bottom middle", 10.1, 22, "south"},
		{"right middle", 11, 23.9, "east"},
		{"left middle", 11, 20.1, "west"},
		// The box is twice as wide as tall in degrees: the diagonals, not
		// 45° lines, divide it.
		{"near top right corner, above diagonal", 11.95, 23.8, "north"},
		{"near top right corner, below diagonal", 11.8, 23.9, "east"},
		{"center", 11, 22, "north"},
		{"far outside north", 50, 22, "north"},
		{"far outside west", 11, -100, "west"},
	}
	for _, tt := range tests {
		if got := Names[c.Of(tt.lat, tt.lon)]; got != tt.want {
			t.Errorf("%s: Of(%v,%v) = %s, want %s", tt.name, tt.lat, tt.lon, got, tt.want)
		}
	}
}

func TestParseBBox(t *testing.T) {
	b, err := ParseBBox(" 12.86, 77.48,13.08,77.72")
	if err != nil || b != Bengaluru.Box {
		t.Fatalf("ParseBBox = %+v, %v", b, err)
	}
	for _, bad := range []string{"", "1,2,3", "a,2,3,4", "13,77,12,78", "12,78,13,77", "-91,0,0,1", "0,0,1,181"} {
		if _, err := ParseBBox(bad); err == nil {
			t.Errorf("ParseBBox(%q) succeeded", bad)
		}
	}
}

func TestModePlace(t *testing.T) {
	if _, err := ParseMode("zone"); err == nil {
		t.Fatal("ParseMode accepted zone")
	}
	for _, s := range []string{"region", "rider"} {
		if m, err := ParseMode(s); err != nil || string(m) != s {
			t.Fatalf("ParseMode(%s) = %v, %v", s, m, err)
		}
	}
	lat, lon := Bengaluru.Box.MaxLat-0.001, (Bengaluru.Box.MinLon+Bengaluru.Box.MaxLon)/2
	var r kgo.Record
	r.Partition = -1
	ByRegion.Place(Bengaluru, &r, "rider-7", lat, lon)
	if string(r.Key) != "rider-7" || r.Partition != 0 {
		t.Fatalf("by region: key %q partition %d, want rider-7 on 0 (north)", r.Key, r.Partition)
	}
	r = kgo.Record{Partition: -1}
	ByRider.Place(Bengaluru, &r, "rider-7", lat, lon)
	if string(r.Key) != "rider-7" || r.Partition != -1 {
		t.Fatalf("by rider: key %q partition %d, want the key and no partition set", r.Key, r.Partition)
	}
}
