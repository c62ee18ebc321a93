// Package testcompact is the model a read of a compacted partition is
// checked against, for the compatibility suites that drive compaction
// with third-party clients (test/compat, test/sarama): a keyed workload
// with several versions of each key and tombstones, and what a read from
// the start may hold once the log cleaner has run. It knows nothing of how
// the records were written or read.
package testcompact

import (
	"fmt"
	"strings"
)

// KV is one record of the workload; a nil Value is a tombstone.
type KV struct {
	Key   []byte `json:"key"`
	Value []byte `json:"value"`
}

// OffsetKV is a record read back at its offset.
type OffsetKV struct {
	Offset int64
	Key    []byte
	Value  []byte // nil: a tombstone
}

// Rounds is the workload: rounds of one record per key, each round
// meant to be produced as one batch, offsets counting from 0 in order.
// The values are padded so that a 4 KiB segment holds a few rounds. key-3
// is deleted in the last round (a tombstone, which the cleaner keeps for
// delete.retention.ms), key-5 is deleted midway and written again.
func Rounds(keys, rounds int) [][]KV {
	out := make([][]KV, rounds)
	for r := range rounds {
		for k := range keys {
			key := fmt.Sprintf("key-%d", k)
			value := []byte(fmt.Sprintf("%s version %d %s", key, r, strings.Repeat("x", 100)))
			if (k == 3 && r == rounds-1) || (k == 5 && r == rounds/2) {
				value = nil
			}
			out[r] = append(out[r], KV{Key: []byte(key), Value: value})
		}
	}
	return out
}

// Flatten lists the rounds' records in offset order.
func Flatten(rounds [][]KV) []KV {
	var out []KV
	for _, r := range rounds {
		out = append(out, r...)
	}
	return out
}

// Problem returns what is wrong with got, a read from the start
// of a partition to which produced (at offsets 0, 1, ...) was written, as
// a compacted read, or "": offsets increase; each record is the one
// produced at its offset; the newest record of every key is there,
// tombstones included (so every record missing was superseded by a later
// record of its key); and at least one is missing.
func Problem(produced []KV, got []OffsetKV) string {
	newest := map[string]int64{}
	for i, r := range produced {
		newest[string(r.Key)] = int64(i)
	}
	present := map[int64]bool{}
	prev := int64(-1)
	for _, r := range got {
		if r.Offset <= prev {
			return fmt.Sprintf("offset %d read after %d", r.Offset, prev)
		}
		prev = r.Offset
		if r.Offset >= int64(len(produced)) {
			return fmt.Sprintf("offset %d read, beyond the %d produced", r.Offset, len(produced))
		}
		p := produced[r.Offset]
		if string(r.Key) != string(p.Key) || string(r.Value) != string(p.Value) || (r.Value == nil) != (p.Value == nil) {
			return fmt.Sprintf("offset %d: read %s=%s, produced %s=%s", r.Offset, r.Key, show(r.Value), p.Key, show(p.Value))
		}
		present[r.Offset] = true
	}
	for k, o := range newest {
		if !present[o] {
			return fmt.Sprintf("the newest record of %s (offset %d, %s) is missing", k, o, show(produced[o].Value))
		}
	}
	if len(got) == len(produced) {
		return fmt.Sprintf("all %d records still there: nothing was compacted", len(got))
	}
	return ""
}

// show renders a value for messages.
func show(v []byte) string {
	if v == nil {
		return "<tombstone>"
	}
	if len(v) > 20 {
		return string(v[:20]) + "..."
	}
	return string(v)
}
