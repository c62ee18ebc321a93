package testcompact

import (
	"strings"
	"testing"
)

// TestProblem checks the model against reads it must accept and refuse.
func TestProblem(t *testing.T) {
	produced := Flatten(Rounds(10, 4)) // key-3's last record (offset 33) is a tombstone
	all := make([]OffsetKV, len(produced))
	for i, r := range produced {
		all[i] = OffsetKV{Offset: int64(i), Key: r.Key, Value: r.Value}
	}
	newest := all[30:] // the last round: the newest record of every key
	for _, tc := range []struct {
		name string
		got  []OffsetKV
		want string // a part of the problem reported; "" for none
	}{
		{"only the newest of each key", newest, ""},
		{"an older version kept too", append([]OffsetKV{all[5]}, newest...), ""},
		{"nothing removed", all, "nothing was compacted"},
		{"the tombstone dropped", append(append([]OffsetKV{}, newest[:3]...), newest[4:]...), "newest record of key-3"},
		{"offsets out of order", append([]OffsetKV{all[31]}, newest...), "read after"},
		{"a value changed", append([]OffsetKV{{Offset: 5, Key: all[5].Key, Value: []byte("other")}}, newest...), "offset 5: read"},
		{"a tombstone read as empty", append([]OffsetKV{all[20]}, append(append([]OffsetKV{}, newest[:3]...), append([]OffsetKV{{Offset: 33, Key: all[33].Key, Value: []byte{}}}, newest[4:]...)...)...), "offset 33: read"},
		{"beyond the end", append(append([]OffsetKV{}, newest...), OffsetKV{Offset: 40, Key: []byte("key-0")}), "beyond"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Problem(produced, tc.got)
			if (tc.want == "") != (got == "") || !strings.Contains(got, tc.want) {
				t.Fatalf("Problem = %q, want one containing %q", got, tc.want)
			}
		})
	}
}
