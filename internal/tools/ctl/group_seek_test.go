package ctl

// group_seek_test.go checks the parsing of seek targets (--to).

import (
	"testing"
	"time"
)

func TestParseSeekTarget(t *testing.T) {
	rfc := time.Date(2025, 6, 1, 8, 0, 0, 0, time.UTC)
	for in, want := range map[string]SeekTarget{
		"earliest":                            {Kind: SeekEarliest},
		"latest":                              {Kind: SeekLatest},
		" latest ":                            {Kind: SeekLatest},
		"offset:0":                            {Kind: SeekOffset},
		"offset:1500":                         {Kind: SeekOffset, Value: 1500},
		"timestamp:1748764800000":             {Kind: SeekTimestamp, Value: 1748764800000},
		"timestamp:2025-06-01T08:00:00Z":      {Kind: SeekTimestamp, Value: rfc.UnixMilli()},
		"timestamp:2025-06-01T10:00:00+02:00": {Kind: SeekTimestamp, Value: rfc.UnixMilli()},
	} {
		got, err := ParseSeekTarget(in)
		if err != nil || got != want {
			t.Errorf("ParseSeekTarget(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, tc := range []struct{ in, out string }{
		{"earliest", "earliest"}, {"offset:7", "offset:7"}, {"timestamp:5", "timestamp:5"},
	} {
		if got, _ := ParseSeekTarget(tc.in); got.String() != tc.out {
			t.Errorf("%q renders as %q", tc.in, got.String())
		}
	}
	for _, bad := range []string{"", "start", "earliest:1", "offset", "offset:", "offset:-1", "offset:x",
		"timestamp:", "timestamp:-5", "timestamp:yesterday", "Latest"} {
		if got, err := ParseSeekTarget(bad); err == nil {
			t.Errorf("ParseSeekTarget(%q) = %+v, want an error", bad, got)
		}
	}
}
