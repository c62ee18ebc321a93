package chaos

// schedule_test.go checks the test's own machinery that needs no broker:
// the schedule replays from its seed, and record values round-trip.

import (
	"slices"
	"testing"
	"time"
)

func TestScheduleReplaysFromSeed(t *testing.T) {
	for _, seed := range []uint64{0, 1, 42, 8950119348126570955} {
		for _, d := range []time.Duration{10 * time.Second, defaultDuration, 5 * time.Minute} {
			a, b := schedule(seed, d), schedule(seed, d)
			if !slices.Equal(a, b) {
				t.Fatalf("seed %d, %v: two schedules differ:\n%v\n%v", seed, d, a, b)
			}
			var spent time.Duration
			for _, f := range a {
				if f.pause < 3*time.Second || f.pause >= 8*time.Second || f.hold < 2*time.Second || f.hold >= 5*time.Second {
					t.Errorf("seed %d: fault %v out of bounds", seed, f)
				}
				if f.again < 0 || f.again >= 300*time.Millisecond || (f.again > 0 && f.kind != faultKill) {
					t.Errorf("seed %d: fault %v: a second kill out of bounds", seed, f)
				}
				if f.mode != "always" && f.mode != "interval" {
					t.Errorf("seed %d: fault %v restarts with --fsync %q", seed, f, f.mode)
				}
				spent += f.pause
			}
			if spent > d+8*time.Second {
				t.Errorf("seed %d, %v: the schedule's pauses alone take %v", seed, d, spent)
			}
			if len(a) >= 3 {
				for k := range faultKillWhileFull + 1 {
					if !hasKind(a, k) {
						t.Errorf("seed %d, %v: no %s fault in %v", seed, d, k, a)
					}
				}
			}
		}
	}
	if slices.Equal(schedule(1, defaultDuration), schedule(2, defaultDuration)) {
		t.Error("seeds 1 and 2 give the same schedule")
	}
}

func TestRecordValueRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		topic string
		n     int
	}{{"chaos-a", 0}, {"chaos-b", 47}, {"churn-0012", 99_999_999}} {
		v := recordValue(tc.topic, tc.n)
		topic, n, ok := parseValue(v)
		if !ok || topic != tc.topic || n != tc.n {
			t.Errorf("parseValue(recordValue(%q, %d)) = %q, %d, %v", tc.topic, tc.n, topic, n, ok)
		}
		bad := append([]byte(nil), v...)
		bad[len(bad)-1] ^= 1
		if _, _, ok := parseValue(bad); ok {
			t.Errorf("parseValue accepted %q, a value with its last byte changed", bad)
		}
	}
	for _, v := range []string{"", "#", "chaos-a#1#x", "chaos-a#0000000x#abc", "chaos-a#-0000001#"} {
		if _, _, ok := parseValue([]byte(v)); ok {
			t.Errorf("parseValue(%q) accepted it", v)
		}
	}
}
