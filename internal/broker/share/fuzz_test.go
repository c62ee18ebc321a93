package share

// fuzz_test.go fuzzes the record decoder and the recovery path: no input
// panics, whatever decodes is a state the coordinator could have written,
// and whatever Open accepts is kept by the next Open.

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/courier-dev/courier/internal/broker/group"
	"github.com/courier-dev/courier/internal/broker/journal"
	"github.com/courier-dev/courier/internal/broker/vfs"
)

func FuzzDecodeRecord(f *testing.F) {
	for _, r := range sampleRecords() {
		f.Add(r)
	}
	f.Add([]byte{kindPartition, '{', '}'})
	f.Add([]byte(`\x03{"group":"g","topic":"t","topic_id":"00000000000000000000000000000000","partition":0,"ranges":[[0,1099511627776,0,0]]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := decodeRecord(b)
		if err != nil {
			if !errors.Is(err, errCorrupt) {
				t.Fatalf("error %v does not wrap errCorrupt", err)
			}
			return
		}
		if r.kind == kindPartition {
			if err := r.delta.Validate(); err != nil {
				t.Fatalf("decoded an invalid delta: %v", err)
			}
			var p Partition
			if err := p.Apply(r.delta); err != nil {
				t.Fatalf("a decoded delta does not apply: %v", err)
			}
		}
		again, err := decodeRecord(r.encode())
		if err != nil || fmt.Sprint(again) != fmt.Sprint(r) {
			t.Fatalf("round trip: %+v (%v), want %+v", again, err, r)
		}
	})
}

// FuzzReplay opens the coordinator on a damaged journal file: Open either
// refuses it with the journal's DamageError or yields a state that a
// second Open (from the compacted or repaired file) yields again.
func FuzzReplay(f *testing.F) {
	fs := vfs.NewMem()
	writeJournal(f, fs, sampleRecords()...)
	valid, err := vfs.ReadFile(fs, testPath)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(valid)
	f.Add(valid[:len(valid)/2])
	f.Add(append(append([]byte{}, valid...), valid[:20]...))
	flipped := append([]byte{}, valid...)
	flipped[len(flipped)/3] ^= 0x40
	f.Add(flipped)
	f.Fuzz(func(t *testing.T, data []byte) {
		fs := vfs.NewMem()
		if err := vfs.MkdirAllDurable(fs, "/data/meta/share", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := vfs.WriteAtomic(fs, testPath, data, 0o644); err != nil {
			t.Fatal(err)
		}
		opts := Options{Path: testPath, FS: fs, Clock: group.NewFakeClock(t0), Topics: testTopics()}
		c, err := Open(opts)
		if err != nil {
			if !errors.Is(err, journal.ErrDamaged) {
				t.Fatalf("Open refused with %v, want a DamageError", err)
			}
			return
		}
		first := stateOf(c)
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		c, err = Open(opts)
		if err != nil {
			t.Fatalf("second Open: %v", err)
		}
		defer c.Close()
		if again := stateOf(c); again != first {
			t.Fatalf("state changed across reopen:\n%s\nthen\n%s", first, again)
		}
	})
}

// stateOf renders every group's share-partitions.
func stateOf(c *Coordinator) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out string
	for _, id := range slices.Sorted(maps.Keys(c.groups)) {
		out += "group " + id + "\n"
		g := c.groups[id]
		keys := slices.SortedFunc(maps.Keys(g.parts), func(a, b TopicPartition) int {
			return strings.Compare(fmt.Sprint(a.TopicID, a.Partition), fmt.Sprint(b.TopicID, b.Partition))
		})
		for _, tp := range keys {
			out += fmt.Sprintf("  %s-%d: %+v\n", g.parts[tp].topic, tp.Partition, g.parts[tp].p.fullDelta())
		}
	}
	return out
}
