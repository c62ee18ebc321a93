package topics

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/vfs"
	"github.com/courier-dev/courier/internal/testkit/testwait"
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
		{"cleanup.policy", "compact", true},
		{"cleanup.policy", "compact,deletee", false},
		{"message.timestamp.after.max.ms", "0", true},
		{"message.timestamp.after.max.ms", "-1", false},
		{"message.timestamp.before.max.ms", "9223372036854775807", true},
		{"message.timestamp.before.max.ms", "1d", false},
		{"message.timestamp.difference.max.ms", "60000", false}, // removed in Kafka 4.0
		{"no.such.config", "1", false},
	}
	for _, tc := range tests {
		err := ValidateConfig(tc.name, tc.value)
		if (err == nil) != tc.ok {
			t.Errorf("ValidateConfig(%s=%s) = %v, want ok=%v", tc.name, tc.value, err, tc.ok)
		}
	}
}

// openStore opens the store in dir on fsys (nil: the OS), closing it when
// the test ends.
func openStore(t testing.TB, fsys vfs.FS, dir string) *Store {
	t.Helper()
	s, err := Open(dir, Options{FS: fsys})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestStorePersistsEveryChange(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, nil, dir)
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

	s.Close()
	again := openStore(t, nil, dir)
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
	if _, err := Open(dir, Options{}); !errors.Is(err, ErrBadMetadata) {
		t.Fatalf("opened corrupt metadata: %v", err)
	}
}

// TestOpenRefusesDamagedMetadata: every entry of a topics.json being
// imported is checked; a bad one stops the open with ErrBadMetadata naming
// it, never becomes a path, and leaves topics.json where it was.
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
			_, err := Open(dir, Options{})
			if !errors.Is(err, ErrBadMetadata) || !strings.Contains(err.Error(), tc.mention) {
				t.Fatalf("Open = %v, want ErrBadMetadata mentioning %q", err, tc.mention)
			}
			if data, _ := os.ReadFile(filepath.Join(dir, "topics.json")); string(data) != tc.file {
				t.Fatal("a refused topics.json was changed or moved")
			}
			if _, err := os.Stat(filepath.Join(dir, "topics.log")); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("a refused import left topics.log: %v", err)
			}
		})
	}
}

func TestOpenReportsFresh(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, nil, dir)
	if !s.Fresh() {
		t.Fatal("a store opened on an empty directory is not fresh")
	}
	if _, err := s.Create("a", 1, nil, false); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s := openStore(t, nil, dir); s.Fresh() {
		t.Fatal("a store with topics.log reports fresh")
	}
	// A topics.json alone (the previous version's) is not fresh either.
	legacy := t.TempDir()
	copyFile(t, "testdata/topics.json", filepath.Join(legacy, "topics.json"))
	if s := openStore(t, nil, legacy); s.Fresh() {
		t.Fatal("a store imported from topics.json reports fresh")
	}
}

// TestAddAllIsOneBatch: AddAll adds every topic or none, and refuses a
// batch with a repeated name or id, or a name that exists.
func TestAddAllIsOneBatch(t *testing.T) {
	s := openStore(t, nil, t.TempDir())
	newTopic := func(name string) Topic {
		tp, err := s.NewTopic(name, 1, nil, false)
		if err != nil {
			t.Fatal(err)
		}
		return tp
	}
	a, b, c := newTopic("a"), newTopic("b"), newTopic("c")
	if err := s.AddAll([]Topic{a, b}); err != nil {
		t.Fatal(err)
	}
	sameID := newTopic("d")
	sameID.ID = c.ID
	for name, batch := range map[string][]Topic{
		"existing name":   {c, newTopic("e"), a},
		"repeated name":   {c, c},
		"repeated id":     {c, sameID},
		"invalid topic":   {c, {Name: "bad/name", ID: [16]byte{1}, Partitions: 1}},
		"zero partitions": {c, {Name: "f", ID: [16]byte{2}, Partitions: 0}},
	} {
		if err := s.AddAll(batch); err == nil {
			t.Errorf("%s: AddAll succeeded", name)
		}
		if s.Len() != 2 {
			t.Fatalf("%s: a refused batch added topics: %d", name, s.Len())
		}
	}
	if err := s.AddAll([]Topic{c, sameID}[:1]); err != nil {
		t.Fatal(err)
	}
	if got := len(s.List()); got != 3 {
		t.Fatalf("%d topics, want 3", got)
	}
}

// TestFailedWriteChangesNothing: a change the journal cannot make durable
// (a full disk) is not visible, and the store works again once the disk
// has room.
func TestFailedWriteChangesNothing(t *testing.T) {
	efs := vfs.NewErrorFS(vfs.NewMem())
	s := openStore(t, efs, "/meta")
	if _, err := s.Create("kept", 1, nil, false); err != nil {
		t.Fatal(err)
	}
	efs.Inject(syscall.ENOSPC, vfs.OpWrite|vfs.OpSync)
	if _, err := s.Create("lost", 1, nil, false); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("create on a full disk: %v", err)
	}
	if _, err := s.Delete("kept"); err == nil {
		t.Fatal("delete on a full disk succeeded")
	}
	if _, err := s.SetPartitions("kept", 2); err == nil {
		t.Fatal("SetPartitions on a full disk succeeded")
	}
	if got, ok := s.Get("kept"); !ok || got.Partitions != 1 {
		t.Fatalf("failed changes are visible: %+v %v", got, ok)
	}
	if _, ok := s.Get("lost"); ok {
		t.Fatal("a failed create is visible")
	}
	efs.Heal()
	// The journal repairs itself after a back-off; creates fail fast
	// until then.
	testwait.For(t, 10*time.Second, "a create after the disk has room", func() string {
		if _, err := s.Create("after", 1, nil, false); err != nil {
			return err.Error()
		}
		return ""
	})
	s.Close()
	again := openStore(t, efs, "/meta")
	if names := topicNames(again); !slices.Equal(names, []string{"after", "kept"}) {
		t.Fatalf("after reopen: %v", names)
	}
}

func topicNames(s *Store) []string {
	var out []string
	for _, tp := range s.List() {
		out = append(out, tp.Name)
	}
	return out
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}
