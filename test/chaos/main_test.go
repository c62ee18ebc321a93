package chaos

// main_test.go builds the binary once and reads the test's settings from
// the environment.

import (
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/brokerproc"
)

// courierBin is the broker binary, built once by TestMain.
var courierBin string

func TestMain(m *testing.M) { brokerproc.TestMain(m, "courier-chaos-", &courierBin) }

// defaultDuration is how long the faults go on in CI.
const defaultDuration = 90 * time.Second

// settings are what the environment chose for one run.
type settings struct {
	seed     uint64
	duration time.Duration
	require  bool // COURIER_REQUIRE_CHAOS=1: fail instead of skipping
}

// readSettings reads COURIER_CHAOS_SEED (else a fresh seed),
// COURIER_CHAOS_DURATION (a Go duration, else defaultDuration) and
// COURIER_REQUIRE_CHAOS.
func readSettings(t *testing.T) settings {
	s := settings{seed: rand.Uint64(), duration: defaultDuration, require: os.Getenv("COURIER_REQUIRE_CHAOS") == "1"}
	if v := os.Getenv("COURIER_CHAOS_SEED"); v != "" {
		seed, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("COURIER_CHAOS_SEED=%q: %v", v, err)
		}
		s.seed = seed
	}
	if v := os.Getenv("COURIER_CHAOS_DURATION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 10*time.Second || d > time.Hour {
			t.Fatalf("COURIER_CHAOS_DURATION=%q: want a duration from 10s to 1h", v)
		}
		s.duration = d
	}
	return s
}
