// Package testseed gives randomized tests (crash tests above all) their
// seeds: a fixed list by default, so that every run tries the same
// rounds, or the one seed in $COURIER_CRASH_SEED, to replay a round a
// failure message named.
package testseed

import (
	"os"
	"strconv"
	"testing"
)

// EnvVar names the environment variable that replays one seed.
const EnvVar = "COURIER_CRASH_SEED"

// Seeds returns the seeds 1 to n, or the one in $COURIER_CRASH_SEED when it
// is set (failing the test if it is not a number).
func Seeds(t testing.TB, n int) []uint64 {
	t.Helper()
	if s := os.Getenv(EnvVar); s != "" {
		seed, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("%s=%q: %v", EnvVar, s, err)
		}
		return []uint64{seed}
	}
	seeds := make([]uint64, n)
	for i := range seeds {
		seeds[i] = uint64(i + 1)
	}
	return seeds
}
