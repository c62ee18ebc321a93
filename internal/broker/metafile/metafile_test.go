package metafile

// metafile_test.go: every kind of file Load meets (good, missing, newer,
// damaged in each way, with unknown fields, a leftover temporary file),
// files written by the stores before this package, failed saves, and a
// fuzz target over Decode.

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/courier-dev/courier/internal/broker/vfs"
	"github.com/courier-dev/courier/internal/testkit/testlog"
)

// item and body are a format like the stores': a list of objects.
type item struct {
	Name  string `json:"name"`
	Count int    `json:"count"`
}

type body struct {
	Items []item `json:"items"`
}

var format = Format{What: "items", Version: 2, Perm: 0o600}

func TestLoad(t *testing.T) {
	cases := []struct {
		name    string
		file    string // "" for no file
		want    body
		found   bool
		wantErr error  // nil: success
		errText string // a part of the error message
	}{
		{name: "missing"},
		{name: "good", file: `{"version": 2, "items": [{"name": "a", "count": 1}]}`,
			want: body{Items: []item{{"a", 1}}}, found: true},
		{name: "good, empty", file: `{"version":2,"items":[]}`, want: body{Items: []item{}}, found: true},
		{name: "good, version last", file: `{"items":[{"name":"b"}],"version":2}`,
			want: body{Items: []item{{Name: "b"}}}, found: true},
		{name: "newer version", file: `{"version": 3, "items": []}`, wantErr: ErrNewerVersion, errText: "version 3, this build reads version 2"},
		{name: "much newer version with new fields", file: `{"version": 9, "items": [], "shards": 4}`, wantErr: ErrNewerVersion},
		{name: "older version without a reader", file: `{"version": 1, "items": []}`, wantErr: ErrDamaged, errText: "no reader"},
		{name: "version zero", file: `{"version": 0, "items": []}`, wantErr: ErrDamaged},
		{name: "negative version", file: `{"version": -2}`, wantErr: ErrDamaged},
		{name: "no version", file: `{"items": []}`, wantErr: ErrDamaged, errText: `no "version"`},
		{name: "version not a number", file: `{"version": "2", "items": []}`, wantErr: ErrDamaged, errText: "not a whole number"},
		{name: "fractional version", file: `{"version": 2.5}`, wantErr: ErrDamaged},
		{name: "unknown field", file: `{"version": 2, "items": [], "itemz": []}`, wantErr: ErrDamaged, errText: "itemz"},
		{name: "unknown nested field", file: `{"version": 2, "items": [{"name": "a", "colour": "red"}]}`, wantErr: ErrDamaged, errText: "colour"},
		{name: "wrong type", file: `{"version": 2, "items": {"name": "a"}}`, wantErr: ErrDamaged},
		{name: "truncated", file: `{"version": 2, "items": [{"na`, wantErr: ErrDamaged},
		{name: "trailing bytes", file: `{"version": 2, "items": []} {}`, wantErr: ErrDamaged},
		{name: "empty file", file: " ", wantErr: ErrDamaged},
		{name: "zeros", file: "\x00\x00\x00\x00", wantErr: ErrDamaged},
		{name: "null", file: "null", wantErr: ErrDamaged, errText: "null"},
		{name: "array", file: `[{"version": 2}]`, wantErr: ErrDamaged},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "items.json")
			if tc.file != "" {
				if err := os.WriteFile(path, []byte(tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			var got body
			found, err := format.Load(vfs.Default, path, &got, nil)
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) || !strings.Contains(err.Error(), tc.errText) || !strings.Contains(err.Error(), path) {
					t.Fatalf("Load: %v; want an error wrapping %q containing %q and the path", err, tc.wantErr, tc.errText)
				}
				if found {
					t.Fatal("found with an error")
				}
				// A refused file is left for whoever repairs it.
				if data, err := os.ReadFile(path); err != nil || string(data) != tc.file {
					t.Fatalf("refused file changed: %q, %v", data, err)
				}
				return
			}
			if err != nil || found != tc.found || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("Load = %v, %v, %+v; want %v, nil, %+v", found, err, got, tc.found, tc.want)
			}
		})
	}
}

func TestSaveLoadRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "items.json")
	in := body{Items: []item{{"a", 1}, {"b", 2}}}
	if err := format.Save(vfs.Default, path, in); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, %v; want 0600", st.Mode(), err)
	}
	data, _ := os.ReadFile(path)
	if !bytes.HasPrefix(data, []byte("{\n  \"version\": 2,\n")) {
		t.Fatalf("the version is not first:\n%s", data)
	}
	var out body
	if found, err := format.Load(vfs.Default, path, &out, nil); err != nil || !found || !reflect.DeepEqual(in, out) {
		t.Fatalf("Load = %v, %v, %+v; want %+v", found, err, out, in)
	}
	// A body that is not an object, or that has its own version, is not
	// written.
	if err := format.Save(vfs.Default, path, []item{}); err == nil {
		t.Fatal("an array was saved")
	}
	if err := format.Save(vfs.Default, path, map[string]int{"version": 1}); err == nil {
		t.Fatal("a body with a version field was saved")
	}
	var again body
	if _, err := format.Load(vfs.Default, path, &again, nil); err != nil || !reflect.DeepEqual(in, again) {
		t.Fatalf("refused saves changed the file: %+v, %v", again, err)
	}
}

// TestReadsFilesOfEarlierStores loads files as users.Store and acl.Store
// wrote them before this package (json.MarshalIndent of a struct with the
// version first, no trailing newline): they stay readable.
func TestReadsFilesOfEarlierStores(t *testing.T) {
	type acl struct {
		Principal    string `json:"principal"`
		Host         string `json:"host"`
		Operation    string `json:"operation"`
		Permission   string `json:"permission"`
		ResourceType string `json:"resource_type"`
		ResourceName string `json:"resource_name"`
		PatternType  string `json:"pattern_type"`
	}
	var acls struct {
		ACLs []acl `json:"acls"`
	}
	old := `{
  "version": 1,
  "acls": [
    {
      "principal": "User:sink",
      "host": "*",
      "operation": "READ",
      "permission": "ALLOW",
      "resource_type": "GROUP",
      "resource_name": "db-writer",
      "pattern_type": "LITERAL"
    }
  ]
}`
	path := filepath.Join(t.TempDir(), "acls.json")
	if err := os.WriteFile(path, []byte(old), 0o644); err != nil {
		t.Fatal(err)
	}
	f := Format{What: "ACLs", Version: 1, Perm: 0o644}
	if found, err := f.Load(vfs.Default, path, &acls, nil); err != nil || !found || len(acls.ACLs) != 1 || acls.ACLs[0].ResourceName != "db-writer" {
		t.Fatalf("Load = %v, %v, %+v", found, err, acls)
	}
}

func TestLoadRemovesLeftoverTemporaryFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "items.json")
	if err := format.Save(vfs.Default, path, body{Items: []item{{"kept", 1}}}); err != nil {
		t.Fatal(err)
	}
	// A crash between writing the temporary file and the rename.
	if err := os.WriteFile(path+vfs.TmpSuffix, []byte(`{"version": 2, "items": [{"name": "unacknowledged"`), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs testlog.Buffer
	var got body
	found, err := format.Load(vfs.Default, path, &got, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil || !found || len(got.Items) != 1 || got.Items[0].Name != "kept" {
		t.Fatalf("Load = %v, %v, %+v", found, err, got)
	}
	if _, err := os.Stat(path + vfs.TmpSuffix); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("leftover temporary file still there: %v", err)
	}
	if !strings.Contains(logs.String(), "unfinished replacement") || !strings.Contains(logs.String(), vfs.TmpSuffix) {
		t.Fatalf("removal not logged: %q", logs.String())
	}
}

func TestFailedSaveKeepsOldContents(t *testing.T) {
	mem := vfs.NewMem()
	if err := mem.MkdirAll("/meta", 0o755); err != nil {
		t.Fatal(err)
	}
	efs := vfs.NewErrorFS(mem)
	old := body{Items: []item{{"old", 1}}}
	if err := format.Save(efs, "/meta/items.json", old); err != nil {
		t.Fatal(err)
	}
	full := errors.New("no space left on device")
	for _, op := range []vfs.Op{vfs.OpCreate, vfs.OpWrite, vfs.OpSync} {
		efs.Inject(full, op)
		err := format.Save(efs, "/meta/items.json", body{Items: []item{{"new", 2}}})
		efs.Heal()
		if !errors.Is(err, full) || !errors.Is(err, vfs.ErrUnchanged) {
			t.Fatalf("op %v: Save = %v; want the injected error, unchanged", op, err)
		}
		var got body
		if found, err := format.Load(efs, "/meta/items.json", &got, nil); err != nil || !found || !reflect.DeepEqual(got, old) {
			t.Fatalf("op %v: after a failed save Load = %v, %v, %+v; want the old contents", op, found, err, got)
		}
	}
}

// FuzzDecode: Decode never panics, and what it accepts encodes to a file
// that decodes to the same body.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{
		`{"version": 2, "items": [{"name": "a", "count": 1}]}`,
		`{"version": 3}`, `{"items": []}`, `null`, `{"version": 2, "items": [], "x": 1}`,
		`{"version": 2e0, "items": null}`, `{"version":2,"version":2}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var b body
		if err := format.Decode(data, &b); err != nil {
			if !errors.Is(err, ErrDamaged) && !errors.Is(err, ErrNewerVersion) {
				t.Fatalf("error wraps neither ErrDamaged nor ErrNewerVersion: %v", err)
			}
			return
		}
		enc, err := format.Encode(b)
		if err != nil {
			t.Fatalf("decoded body does not encode: %v", err)
		}
		var again body
		if err := format.Decode(enc, &again); err != nil || !reflect.DeepEqual(b, again) {
			t.Fatalf("round trip: %+v -> %s -> %+v, %v", b, enc, again, err)
		}
	})
}
