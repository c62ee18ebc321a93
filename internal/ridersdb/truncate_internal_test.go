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
