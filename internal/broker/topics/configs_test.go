package topics

// configs_test.go checks the topic config definitions against Kafka 4's
// (every config accepted with a valid value and refused with an invalid
// one, with Kafka's messages), list values (parse, normalize, APPEND and
// SUBTRACT), and the stored-metadata leniency.

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

// kafka4Configs is every topic config kafka-configs.sh --describe --all
// lists for a topic on Apache Kafka 4, with a valid and an invalid value.
var kafka4Configs = []struct{ name, valid, invalid string }{
	{"cleanup.policy", "compact,delete", "compact,truncate"},
	{"compression.type", "zstd", "brotli"},
	{"compression.gzip.level", "9", "10"},
	{"compression.lz4.level", "17", "0"},
	{"compression.zstd.level", "-131072", "23"},
	{"delete.retention.ms", "0", "-1"},
	{"file.delete.delay.ms", "0", "soon"},
	{"flush.messages", "1", "0"},
	{"flush.ms", "0", "-1"},
	{"follower.replication.throttled.replicas", "0:1,1:1", "0-1"},
	{"leader.replication.throttled.replicas", "*", "all"},
	{"index.interval.bytes", "0", "2147483648"},
	{"local.retention.bytes", "-2", "-3"},
	{"local.retention.ms", "-2", "-3"},
	{"max.compaction.lag.ms", "1", "0"},
	{"max.message.bytes", "0", "-1"},
	{"message.timestamp.after.max.ms", "0", "-1"},
	{"message.timestamp.before.max.ms", "9223372036854775807", "9223372036854775808"},
	{"message.timestamp.type", "LogAppendTime", "logappendtime"},
	{"min.cleanable.dirty.ratio", "0", "1.01"},
	{"min.compaction.lag.ms", "0", "-1"},
	{"min.insync.replicas", "1", "0"},
	{"preallocate", "TRUE", "yes"},
	{"remote.log.copy.disable", "true", "1"},
	{"remote.log.delete.on.disable", "false", "0"},
	{"remote.storage.enable", "false", "no"},
	{"retention.bytes", "-5", "1e9"},
	{"retention.ms", "-1", "-2"},
	{"segment.bytes", "1048576", "1048575"},
	{"segment.index.bytes", "4", "3"},
	{"segment.jitter.ms", "0", "-1"},
	{"segment.ms", "1", "0"},
	{"unclean.leader.election.enable", "false", "maybe"},
}

func TestKafka4TopicConfigs(t *testing.T) {
	described := map[string]bool{}
	for _, d := range ConfigDefs() {
		described[d.Name] = true
		if d.Doc == "" || d.Effect == "" || d.Type == 0 {
			t.Errorf("%s: missing doc, effect or type", d.Name)
		}
		if err := d.Validate(d.Default); err != nil && d.Default != "" {
			t.Errorf("%s: default %q refused: %v", d.Name, d.Default, err)
		}
	}
	for _, c := range kafka4Configs {
		if !described[c.name] {
			t.Errorf("%s is not described", c.name)
		}
		delete(described, c.name)
		if err := ValidateConfig(c.name, c.valid); err != nil {
			t.Errorf("%s=%s refused: %v", c.name, c.valid, err)
		}
		err := ValidateConfig(c.name, c.invalid)
		if err == nil {
			t.Errorf("%s=%s accepted", c.name, c.invalid)
			continue
		}
		want := "Invalid value " + c.invalid + " for configuration " + c.name + ": "
		if !errors.Is(err, ErrInvalidConfig) || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%s=%s: error %q, want INVALID_CONFIG starting %q", c.name, c.invalid, err, want)
		}
	}
	for name := range described {
		t.Errorf("%s is described but is not a Kafka 4 topic config", name)
	}
}

func TestValidateConfigsRules(t *testing.T) {
	tests := []struct {
		configs map[string]string
		want    string // "" when accepted
	}{
		{map[string]string{"retention.ms": "1000"}, ""},
		{map[string]string{"message.format.version": "3.0"}, "Unknown topic config name: message.format.version"},
		{map[string]string{"message.downconversion.enable": "true"}, "Unknown topic config name: message.downconversion.enable"},
		{map[string]string{"min.compaction.lag.ms": "10", "max.compaction.lag.ms": "5"}, "conflict topic config setting min.compaction.lag.ms (10) > max.compaction.lag.ms (5)"},
		{map[string]string{"remote.storage.enable": "true"}, "Tiered Storage functionality is disabled in the broker"},
		{map[string]string{"cleanup.policy": ""}, ""},
		{map[string]string{"internal.segment.bytes": "1024"}, ""},
		{map[string]string{"internal.segment.bytes": "13"}, "Value must be at least 14"},
	}
	for _, tc := range tests {
		err := ValidateConfigs(tc.configs)
		if tc.want == "" && err != nil {
			t.Errorf("%v refused: %v", tc.configs, err)
		}
		if tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, ErrInvalidConfig)) {
			t.Errorf("%v: %v, want INVALID_CONFIG with %q", tc.configs, err, tc.want)
		}
	}
	if err := ValidateConfig("no.such", "1"); !errors.Is(err, ErrUnknownConfig) {
		t.Errorf("unknown name: %v does not match ErrUnknownConfig", err)
	}
}

// TestStoredConfigsAreLenient: metadata written by an earlier version (a
// removed config, a value below a minimum Kafka 4 raised) still loads,
// and a change keeps it while holding what it changes to Kafka 4's rules.
func TestStoredConfigsAreLenient(t *testing.T) {
	stored := map[string]string{"message.timestamp.difference.max.ms": "60000", "segment.bytes": "262144"}
	if err := ValidateStoredConfigs(stored); err != nil {
		t.Fatalf("stored configs refused: %v", err)
	}
	if err := ValidateStoredConfigs(map[string]string{"retention.ms": "soon"}); err == nil {
		t.Fatal("a stored value of the wrong type accepted")
	}
	next := map[string]string{"message.timestamp.difference.max.ms": "60000", "segment.bytes": "262144", "retention.ms": "5"}
	if err := ValidateChange(stored, next); err != nil {
		t.Fatalf("change keeping stored entries refused: %v", err)
	}
	next["segment.bytes"] = "262145"
	if err := ValidateChange(stored, next); err == nil {
		t.Fatal("a changed segment.bytes below 1 MiB accepted")
	}
}

func TestListValues(t *testing.T) {
	tests := []struct {
		op, current, arg, want string
	}{
		{"normalize", " compact , delete ", "", "compact,delete"},
		{"normalize", "compact,compact", "", "compact"},
		{"normalize", "", "", ""},
		{"append", "delete", "compact", "delete,compact"},
		{"append", "delete", "delete", "delete"},
		{"append", "", "compact,delete", "compact,delete"},
		{"subtract", "compact,delete", "delete", "compact"},
		{"subtract", "compact,delete", "compact,delete", ""},
		{"subtract", "delete", "compact", "delete"},
	}
	for _, tc := range tests {
		var got string
		switch tc.op {
		case "normalize":
			got = NormalizeList(tc.current)
		case "append":
			got = AppendList(tc.current, tc.arg)
		case "subtract":
			got = SubtractList(tc.current, tc.arg)
		}
		if got != tc.want {
			t.Errorf("%s(%q, %q) = %q, want %q", tc.op, tc.current, tc.arg, got, tc.want)
		}
	}
}

// FuzzListValue: parsing, normalizing, appending and subtracting never
// panic, normalizing is idempotent, and a normalized list holds no
// spaces around items, no repeats, and every item of the input.
func FuzzListValue(f *testing.F) {
	for _, s := range []string{"", "compact", " compact , delete ", "a,,b", ",", "*", "0:1, 1:1", "x,x,x"} {
		f.Add(s, "delete")
	}
	f.Fuzz(func(t *testing.T, v, other string) {
		if !utf8.ValidString(v) {
			return
		}
		n := NormalizeList(v)
		if NormalizeList(n) != n {
			t.Fatalf("NormalizeList not idempotent: %q -> %q -> %q", v, n, NormalizeList(n))
		}
		items := ParseList(n)
		seen := map[string]bool{}
		for _, it := range items {
			if it != strings.TrimSpace(it) || (seen[it] && n != "") {
				t.Fatalf("NormalizeList(%q) = %q: item %q untrimmed or repeated", v, n, it)
			}
			seen[it] = true
		}
		for _, it := range ParseList(v) {
			if !seen[it] && n != "" {
				t.Fatalf("NormalizeList(%q) = %q lost %q", v, n, it)
			}
		}
		// An empty item (",") cannot survive on its own: "" is the empty
		// list. Validators refuse empty items anyway.
		sum := AppendList(n, other)
		for _, it := range ParseList(other) {
			if it != "" && !slices.Contains(ParseList(sum), it) {
				t.Fatalf("AppendList(%q, %q) = %q lacks %q", n, other, sum, it)
			}
		}
		diff := SubtractList(sum, other)
		for _, it := range ParseList(diff) {
			if it != "" && slices.Contains(ParseList(other), it) {
				t.Fatalf("SubtractList(%q, %q) = %q keeps %q", sum, other, diff, it)
			}
		}
		_ = ValidateConfig("cleanup.policy", v)
		_ = ValidateConfig("leader.replication.throttled.replicas", v)
	})
}
