package ridersdb

// truncate_internal_test.go checks the fast test for a batch without a
// repeated position, which lets WriteBatch skip building a map.

import "testing"

func TestIncreasing(t *testing.T) {
	at := func(topic string, p int32, o int64) Update { return Update{Topic: topic, Partition: p, Offset: o} }
	cases := []struct {
		name string
		us   []Update
		want bool
	}{
		{"empty", nil, true},
		{"one partition", []Update{at("t", 0, 1), at("t", 0, 2), at("t", 0, 9)}, true},
		{"interleaved partitions", []Update{at("t", 0, 1), at("t", 1, 1), at("t", 0, 2), at("t", 1, 2)}, true},
		{"repeat in a run", []Update{at("t", 0, 1), at("t", 0, 1)}, false},
		{"backwards in a run", []Update{at("t", 0, 2), at("t", 0, 1)}, false},
		{"repeat after another partition", []Update{at("t", 0, 1), at("t", 1, 1), at("t", 0, 1)}, false},
		{"backwards after another topic", []Update{at("t", 0, 5), at("u", 0, 1), at("t", 0, 4)}, false},
		{"same partition, other topic", []Update{at("t", 0, 5), at("u", 0, 5)}, true},
	}
	for _, c := range cases {
		if got := increasing(c.us); got != c.want {
			t.Errorf("%s: increasing = %v, want %v", c.name, got, c.want)
		}
	}
}

// FuzzSplitBatch: any batch (positions and epochs from the fuzzer's
// bytes, three per update) splits into one kept update per position, of
// the newest epoch there, stale updates each older than what was kept, and
// duplicates, which together account for every update.
func FuzzSplitBatch(f *testing.F) {
	f.Add([]byte{0, 1, 0, 0, 2, 0, 1, 1, 0})
	f.Add([]byte{0, 5, 0, 0, 5, 1, 0, 5, 0, 0, 5, 2})
	f.Add([]byte{1, 3, 4, 1, 3, 4, 0, 3, 4})
	f.Fuzz(func(t *testing.T, b []byte) {
		var us []Update
		for i := 0; i+2 < len(b) && len(us) < 200; i += 3 {
			us = append(us, Update{Topic: "t", Partition: int32(b[i] % 3), Offset: int64(b[i+1] % 8), LeaderEpoch: int32(b[i+2]%4) - 1})
		}
		keep, stale, dups := splitBatch(us)
		newest := map[position]int32{}
		for i := range us {
			p := posOf(&us[i])
			if e, ok := newest[p]; !ok || us[i].LeaderEpoch > e {
				newest[p] = us[i].LeaderEpoch
			}
		}
		if len(keep) != len(newest) {
			t.Fatalf("%d kept for %d positions", len(keep), len(newest))
		}
		for i := range keep {
			if e := newest[posOf(&keep[i])]; keep[i].LeaderEpoch != e {
				t.Fatalf("kept epoch %d at %+v, newest is %d", keep[i].LeaderEpoch, posOf(&keep[i]), e)
			}
		}
		for _, l := range stale {
			if l.lostEpoch >= l.keptEpoch || l.keptEpoch != newest[l.pos] || l.u == nil {
				t.Fatalf("stale %+v, newest at its position %d", l, newest[l.pos])
			}
		}
		if len(keep)+len(stale)+dups != len(us) {
			t.Fatalf("%d kept + %d stale + %d duplicates != %d updates", len(keep), len(stale), dups, len(us))
		}
	})
}
