package bench

// keys.go gives records keys (Config.Keys) and says what the consumers'
// exactly-once check means when the topic is compacted.
//
// Record seq has key "key-<seq % Keys>", so a run produces Keys distinct
// keys, each rewritten Records/Keys times. On a topic whose cleanup.policy
// does not compact, keys change nothing: every record must still arrive
// exactly once. On a compacted topic the log cleaner may remove a record
// once a newer record with its key is in the log, at any time, even while
// a consumer reads: a record that never arrives is then no loss if it was
// superseded. What may never happen is that the newest record of a key is
// gone, or that a record arrives twice. The newest record of a key is the
// one with the highest offset; the consumer cannot see offsets of removed
// records, but it knows enough without them: one producer's records of a
// key go to one partition in the order it produced them (idempotence keeps
// that order), so the newest record of the key in the log is the last of
// that key in some producer's sequence range. The compacted check therefore
// asks, for every key, that at least one of those per-producer last records
// arrived.

import (
	"strconv"
	"strings"
)

// keyPrefix starts every key.
const keyPrefix = "key-"

// maxKeyLen is the longest key: the prefix and a 20-digit uint64.
const maxKeyLen = len(keyPrefix) + 20

// appendKey appends record seq's key, given keys distinct keys (> 0), to
// dst.
func appendKey(dst []byte, seq uint64, keys int) []byte {
	return strconv.AppendUint(append(dst, keyPrefix...), seq%uint64(keys), 10)
}

// compacts reports whether a cleanup.policy value includes compact. It
// accepts Kafka's list forms: "compact,delete" and kafka-configs.sh's
// bracketed "[compact, delete]".
func compacts(policy string) bool {
	policy = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(policy), "["), "]")
	for p := range strings.SplitSeq(policy, ",") {
		if strings.EqualFold(strings.TrimSpace(p), "compact") {
			return true
		}
	}
	return false
}

// keysLost counts the keys of which no record that might be the newest in
// the log arrived: for each key, the candidates are its last record in each
// producer's sequence range (see the file comment); s holds what arrived.
// Keys with no record at all in the run (keys > records) have no candidate
// and are not counted.
func keysLost(s *seen, records, keys, producers int) int {
	lost := 0
	for k := range keys {
		candidates, found := 0, false
		for i := range producers {
			lo, hi := i*records/producers, (i+1)*records/producers
			if hi <= lo {
				continue
			}
			// The largest seq in [lo, hi) with seq % keys == k.
			last := hi - 1 - ((hi-1-k)%keys+keys)%keys
			if last < lo {
				continue
			}
			candidates++
			if s.has(uint64(last)) {
				found = true
				break
			}
		}
		if candidates > 0 && !found {
			lost++
		}
	}
	return lost
}
