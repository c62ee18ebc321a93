package bench

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestCheck(t *testing.T) {
	ok := Result{Records: 10}
	if err := ok.Check(); err != nil {
		t.Fatalf("clean result: %v", err)
	}
	fetchErr := errors.New("NOT_LEADER_OR_FOLLOWER")
	for _, tc := range []struct {
		name string
		r    Result
		want string
	}{
		{"missing", Result{Records: 10, ConsumeLoss: Loss{Missing: 2, FirstMissing: []uint64{3, 7}}}, "consumer read 8 of 10 records: 2 missing (first [3 7])"},
		{"duplicate", Result{Records: 10, E2ELoss: Loss{Duplicates: 1}}, "end-to-end consumer read 10 of 10 records: 0 missing (first []), 1 duplicates"},
		{"invalid", Result{Records: 10, ConsumeLoss: Loss{Invalid: 1}}, "1 invalid"},
		{"fetch error", Result{Records: 10, ConsumeLoss: Loss{Missing: 1, FetchErrors: 3, LastFetchError: fetchErr}}, "3 fetch errors, the last: NOT_LEADER_OR_FOLLOWER"},
	} {
		err := tc.r.Check()
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Check() = %v, want it to say %q", tc.name, err, tc.want)
		}
	}
}

func TestThroughputRates(t *testing.T) {
	tp := Throughput{Records: 500_000, Bytes: 50_000_000, Elapsed: 2 * time.Second}
	if got := tp.RecordsPerSec(); got != 250_000 {
		t.Errorf("RecordsPerSec = %v", got)
	}
	if got := tp.MBPerSec(); got != 25 {
		t.Errorf("MBPerSec = %v, want 25 (MB = 10^6 bytes)", got)
	}
	if (Throughput{Records: 1}).RecordsPerSec() != 0 || (Throughput{Bytes: 1}).MBPerSec() != 0 {
		t.Error("an untimed throughput has a rate")
	}
}
