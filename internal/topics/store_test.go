package topics

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestValidateName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"rider-updates", true},
		{"a.b_c-D9", true},
		{strings.Repeat("x", 249), true},
		{strings.Repeat("x", 250), false},
		{"", false},
		{".", false},
		{"..", false},
		{"has space", false},
		{"slash/name", false},
		{"ünïcode", false},
	}
	for _, tc := range tests {
		err := ValidateName(tc.name)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateName(%q) = %v, want ok=%v", tc.name, err, tc.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidTopic) {
			t.Errorf("ValidateName(%q) error %v does not wrap ErrInvalidTopic", tc.name, err)
		}
	}
}

func TestValidateConfig(t *testing.T) {
	tests := []struct {
		name, value string
		ok          bool
	}{
		{"retention.ms", "-1", true},
		{"retention.ms", "-2", false},
		{"retention.ms", "1h", false},
		{"segment.bytes", "13", false},
		{"segment.bytes", "1048576", true},
		{"message.timestamp.type", "LogAppendTime", true},
		{"message.timestamp.type", "Later", false},
		{"cleanup.policy", "compact", false},
		{"message.timestamp.after.max.ms", "0", true},
		{"message.timestamp.after.max.ms", "-1", false},
		{"message.timestamp.before.max.ms", "9223372036854775807", true},
		{"message.timestamp.before.max.ms", "1d", false},
		{"message.timestamp.difference.max.ms", "60000", true},
		{"no.such.config", "1", false},
	}
	for _, tc := range tests {
		err := ValidateConfig(tc.name, tc.value)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateConfig(%s=%s) = %v, want ok=%v", tc.name, tc.value, err, tc.ok)
		}
	}
}

func TestStorePersistsEveryChange(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	created, err := s.Create("orders", 3, map[string]string{"retention.ms": "1000"}, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create("orders", 1, nil, false); !errors.Is(err, ErrTopicExists) {
		t.Fatalf("duplicate create: %v", err)
	}
	if _, err := s.Create("gone", 1, nil, false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Delete("gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetPartitions("orders", 5); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetPartitions("orders", 4); !errors.Is(err, ErrInvalidPartitions) {
		t.Fatalf("shrink: %v", err)
	}
	if _, err := s.SetConfigs("orders", map[string]string{"retention.bytes": "100"}); err != nil {
		t.Fatal(err)
	}

	again, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := again.Get("orders")
	if !ok || got.ID != created.ID || got.Partitions != 5 || got.Configs["retention.bytes"] != "100" || got.Configs["retention.ms"] != "" {
		t.Fatalf("reopened: %+v", got)
	}
	if _, ok := again.Get("gone"); ok {
		t.Fatal("deleted topic came back")
	}
	if v, isDefault, _ := got.Value("retention.ms"); v != "604800000" || !isDefault {
		t.Fatalf("retention.ms after SetConfigs dropped it: %s default=%v", v, isDefault)
	}
}

func TestOpenRejectsCorruptMetadata(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "topics.json"), []byte("{not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); err == nil {
		t.Fatal("opened corrupt metadata")
	}
}

// TestOpenRefusesDamagedMetadata: every entry of topics.json is checked on
// load; a bad one stops the open with ErrBadMetadata naming it, and never
// becomes a path.
func TestOpenRefusesDamagedMetadata(t *testing.T) {
	id := `[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]`
	id2 := `[2,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16]`
	tests := []struct{ name, file, mention string }{
		{"not json", `{"version":1,"topics":[`, "parse"},
		{"negative partitions", `{"version":1,"topics":[{"name":"a","id":` + id + `,"partitions":-1}]}`, `"a"`},
		{"zero partitions", `{"version":1,"topics":[{"name":"a","id":` + id + `,"partitions":0}]}`, `"a"`},
		{"path in name", `{"version":1,"topics":[{"name":"../../evil","id":` + id + `,"partitions":1}]}`, "evil"},
		{"empty name", `{"version":1,"topics":[{"name":"","id":` + id + `,"partitions":1}]}`, "entry 0"},
		{"zero id", `{"version":1,"topics":[{"name":"a","id":[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0],"partitions":1}]}`, "id"},
		{"bad config", `{"version":1,"topics":[{"name":"a","id":` + id + `,"partitions":1,"configs":{"retention.ms":"soon"}}]}`, "retention.ms"},
		{"duplicate name", `{"version":1,"topics":[{"name":"a","id":` + id + `,"partitions":1},{"name":"a","id":` + id2 + `,"partitions":1}]}`, "twice"},
		{"duplicate id", `{"version":1,"topics":[{"name":"a","id":` + id + `,"partitions":1},{"name":"b","id":` + id + `,"partitions":1}]}`, `"a"`},
		{"null entry", `{"version":1,"topics":[null]}`, "null"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "topics.json"), []byte(tc.file), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Open(dir)
			if !errors.Is(err, ErrBadMetadata) || !strings.Contains(err.Error(), tc.mention) {
				t.Fatalf("Open = %v, want ErrBadMetadata mentioning %q", err, tc.mention)
			}
		})
	}
}

func TestOpenReportsFresh(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil || !s.Fresh() {
		t.Fatalf("fresh store: %v, fresh=%v", err, s != nil && s.Fresh())
	}
	if _, err := s.Create("a", 1, nil, false); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir)
	if err != nil || s.Fresh() {
		t.Fatalf("reopened store: %v, fresh=%v", err, s != nil && s.Fresh())
	}
}
