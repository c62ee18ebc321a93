package ctl

// create_test.go checks the parsing of --config key=value overrides.

import (
	"testing"
)

func TestParseConfigs(t *testing.T) {
	got, err := ParseConfigs([]string{"retention.ms=1000", "cleanup.policy=compact,delete", "empty=", "eq=a=b"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"retention.ms": "1000", "cleanup.policy": "compact,delete", "empty": "", "eq": "a=b"}
	if len(got) != len(want) {
		t.Fatalf("got %d configs, want %d", len(got), len(want))
	}
	for k, v := range want {
		if got[k] == nil || *got[k] != v {
			t.Errorf("%s: got %v, want %q", k, got[k], v)
		}
	}
	if m, err := ParseConfigs(nil); m != nil || err != nil {
		t.Errorf("ParseConfigs(nil) = %v, %v", m, err)
	}
	for _, bad := range [][]string{{"noequals"}, {"=v"}, {"a=1", "a=2"}} {
		if _, err := ParseConfigs(bad); err == nil {
			t.Errorf("ParseConfigs(%q): no error", bad)
		}
	}
}
