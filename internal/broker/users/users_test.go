package users

// users_test.go checks credential derivation, validation, and that the
// store's changes survive reopening.

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/courier-dev/courier/internal/broker/metafile"
)

func TestCredentialFromSaltedPasswordMatchesRFC7677(t *testing.T) {
	// RFC 7677 section 3: user "user", password "pencil".
	salt, _ := base64.StdEncoding.DecodeString("W22ZaJ0SNY7soEsUEjb6gQ==")
	sp, err := SaltedPassword(ScramSHA256, "pencil", salt, 4096)
	if err != nil {
		t.Fatal(err)
	}
	c, err := CredentialFromSaltedPassword(ScramSHA256, salt, sp, 4096)
	if err != nil {
		t.Fatal(err)
	}
	m := hmac.New(sha256.New, sp)
	m.Write([]byte("Client Key"))
	sum := sha256.Sum256(m.Sum(nil))
	if !bytes.Equal(c.StoredKey, sum[:]) {
		t.Error("StoredKey is not H(HMAC(SaltedPassword, \"Client Key\"))")
	}
	if !c.matches("pencil") || c.matches("pencil ") {
		t.Error("matches disagrees with the derivation")
	}
}

func TestNewCredentialValidates(t *testing.T) {
	for _, tc := range []struct {
		mech Mechanism
		pass string
		iter int
		want error
	}{
		{"SCRAM-SHA-1", "pw", 4096, ErrUnknownMechanism},
		{ScramSHA256, "pw", 4095, ErrInvalidIterations},
		{ScramSHA256, "pw", 16385, ErrInvalidIterations},
		{ScramSHA512, "", 4096, ErrInvalidCredential},
	} {
		if _, err := NewCredential(tc.mech, tc.pass, tc.iter); !errors.Is(err, tc.want) {
			t.Errorf("NewCredential(%s, %d): %v, want %v", tc.mech, tc.iter, err, tc.want)
		}
	}
	a, err := NewCredential(ScramSHA512, "pw", 4096)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := NewCredential(ScramSHA512, "pw", 4096)
	if len(a.Salt) != SaltBytes || bytes.Equal(a.Salt, b.Salt) || bytes.Equal(a.StoredKey, b.StoredKey) {
		t.Error("salts are not fresh and random")
	}
	if _, err := CredentialFromSaltedPassword(ScramSHA512, a.Salt, make([]byte, 32), 4096); !errors.Is(err, ErrInvalidCredential) {
		t.Errorf("short salted password: %v", err)
	}
	if _, err := CredentialFromSaltedPassword(ScramSHA256, nil, make([]byte, 32), 4096); !errors.Is(err, ErrInvalidCredential) {
		t.Errorf("no salt: %v", err)
	}
}

func TestValidateName(t *testing.T) {
	for _, ok := range []string{"alice", "a=b,c", "ünïcode", strings.Repeat("x", MaxNameBytes)} {
		if err := ValidateName(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a\nb", "a\x00b", "\xff", strings.Repeat("x", MaxNameBytes+1)} {
		if err := ValidateName(bad); !errors.Is(err, ErrInvalidName) {
			t.Errorf("%q: %v", bad, err)
		}
	}
	if m, err := ParseMechanism("scram-sha-512"); err != nil || m != ScramSHA512 {
		t.Errorf("ParseMechanism: %v %v", m, err)
	}
	if _, err := ParseMechanism("PLAIN"); !errors.Is(err, ErrUnknownMechanism) {
		t.Errorf("ParseMechanism(PLAIN): %v", err)
	}
}

func TestStorePersists(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.List()) != 0 {
		t.Fatal("new store not empty")
	}
	c256, _ := NewCredential(ScramSHA256, "alice-pw", 4096)
	c512, _ := NewCredential(ScramSHA512, "alice-pw2", 8192)
	cb, _ := NewCredential(ScramSHA512, "bob-pw", 4096)
	for _, set := range []struct {
		user string
		c    Credential
	}{{"bob", cb}, {"alice", c256}, {"alice", c512}} {
		if err := s.Set(set.user, set.c); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Set("", cb); !errors.Is(err, ErrInvalidName) {
		t.Errorf("Set empty name: %v", err)
	}
	bad := cb
	bad.Iterations = 1
	if err := s.Set("carol", bad); !errors.Is(err, ErrInvalidIterations) {
		t.Errorf("Set bad iterations: %v", err)
	}
	want := []User{
		{Name: "alice", Credentials: []CredentialInfo{{ScramSHA256, 4096}, {ScramSHA512, 8192}}},
		{Name: "bob", Credentials: []CredentialInfo{{ScramSHA512, 4096}}},
	}
	if got := s.List(); !reflect.DeepEqual(got, want) {
		t.Fatalf("List: %+v, want %+v", got, want)
	}
	fi, err := os.Stat(filepath.Join(dir, FileName))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("users.json mode %v, want 0600", fi.Mode().Perm())
	}
	data, _ := os.ReadFile(filepath.Join(dir, FileName))
	if bytes.Contains(data, []byte("alice-pw")) {
		t.Error("users.json holds a password")
	}

	// Reopen: the same users, and the passwords still verify.
	os.WriteFile(filepath.Join(dir, FileName+".tmp"), []byte("torn"), 0o600)
	s, err = Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.List(); !reflect.DeepEqual(got, want) {
		t.Fatalf("List after reopen: %+v", got)
	}
	if _, err := os.Stat(filepath.Join(dir, FileName+".tmp")); !os.IsNotExist(err) {
		t.Error("leftover temporary file not removed")
	}
	if got, ok := s.Lookup("alice", ScramSHA512); !ok || !reflect.DeepEqual(got, c512) {
		t.Errorf("Lookup: %+v %v", got, ok)
	}
	for _, tc := range []struct {
		user, pass string
		want       bool
	}{
		{"alice", "alice-pw", true}, {"alice", "alice-pw2", true}, {"alice", "bob-pw", false},
		{"bob", "bob-pw", true}, {"bob", "", false}, {"nobody", "bob-pw", false},
	} {
		if got := s.VerifyPassword(tc.user, tc.pass); got != tc.want {
			t.Errorf("VerifyPassword(%s, %s) = %v", tc.user, tc.pass, got)
		}
	}

	// Deleting the last credential removes the user, durably.
	if err := s.Delete("bob", ScramSHA256); !errors.Is(err, ErrNotFound) {
		t.Errorf("Delete missing mechanism: %v", err)
	}
	if err := s.Delete("bob", ScramSHA512); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete("alice", ScramSHA256); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	want = []User{{Name: "alice", Credentials: []CredentialInfo{{ScramSHA512, 8192}}}}
	if got := s.List(); !reflect.DeepEqual(got, want) {
		t.Fatalf("List after deletes: %+v", got)
	}
	if _, ok := s.Get("bob"); ok {
		t.Error("bob still exists")
	}
}

func TestLookupReturnsCopies(t *testing.T) {
	s, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := NewCredential(ScramSHA256, "pw", 4096)
	if err := s.Set("u", c); err != nil {
		t.Fatal(err)
	}
	c.StoredKey[0] ^= 1 // the caller's copy
	got, _ := s.Lookup("u", ScramSHA256)
	got.StoredKey[0] ^= 1
	if !s.VerifyPassword("u", "pw") {
		t.Error("the store shares memory with its callers")
	}
}

func TestOpenRefusesDamagedFile(t *testing.T) {
	cases := []struct {
		name, content string
		want          error // nil: refused by the store's own validation
	}{
		{"not json", "{", metafile.ErrDamaged},
		{"newer version", `{"version": 9, "users": []}`, metafile.ErrNewerVersion},
		{"no version", `{"users": []}`, metafile.ErrDamaged},
		{"misspelt field", `{"version": 1, "user": []}`, metafile.ErrDamaged},
		{"bad credential", `{"version": 1, "users": [{"name": "a", "credentials": [{"mechanism": "SCRAM-SHA-256", "iterations": 4096}]}]}`, nil},
		{"bad name", `{"version": 1, "users": [{"name": "", "credentials": []}]}`, nil},
		{"user twice", `{"version": 1, "users": [{"name": "a", "credentials": []}, {"name": "a", "credentials": []}]}`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, FileName)
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Open(dir, nil)
			if err == nil || (tc.want != nil && !errors.Is(err, tc.want)) || !strings.Contains(err.Error(), path) {
				t.Fatalf("Open = %v; want an error naming %s (wrapping %v)", err, path, tc.want)
			}
			if data, _ := os.ReadFile(path); string(data) != tc.content {
				t.Fatal("a refused users.json was changed")
			}
		})
	}
}

// TestOpenReadsEarlierFile opens users.json as the store wrote it before
// package metafile (json.MarshalIndent of the version and the users).
func TestOpenReadsEarlierFile(t *testing.T) {
	cred, err := NewCredential(ScramSHA512, "pw", MinIterations)
	if err != nil {
		t.Fatal(err)
	}
	earlier := struct {
		Version int        `json:"version"`
		Users   []fileUser `json:"users"`
	}{1, []fileUser{{Name: "admin", Credentials: []Credential{cred}}}}
	data, err := json.MarshalIndent(earlier, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, FileName), data, 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !s.VerifyPassword("admin", "pw") || s.VerifyPassword("admin", "other") {
		t.Fatal("the earlier file's credential does not verify")
	}
}

// FuzzOpen: Open never panics on any users.json, and a file it accepts is
// written back (by the next change) in a form it accepts again, with the
// same users.
func FuzzOpen(f *testing.F) {
	cred, err := NewCredential(ScramSHA256, "pw", MinIterations)
	if err != nil {
		f.Fatal(err)
	}
	good, _ := json.Marshal(struct {
		Version int        `json:"version"`
		Users   []fileUser `json:"users"`
	}{1, []fileUser{{Name: "a", Credentials: []Credential{cred}}}})
	for _, s := range []string{string(good), `{"version":1,"users":[]}`, `{"version":2}`, `{`, `{"version":1,"users":[{"name":"a","credentials":[]}]}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, FileName), data, 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := Open(dir, nil)
		if err != nil {
			return
		}
		if _, ok := s.Get("fuzz-added"); ok {
			return // the round trip below would change it
		}
		before := s.List()
		if err := s.Set("fuzz-added", cred); err != nil {
			t.Fatalf("Set after an accepted file: %v", err)
		}
		if err := s.Delete("fuzz-added", ScramSHA256); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		again, err := Open(dir, nil)
		if err != nil {
			t.Fatalf("the store's own file is refused: %v", err)
		}
		if after := again.List(); !reflect.DeepEqual(before, after) {
			t.Fatalf("users changed by a write and reopen: %+v -> %+v", before, after)
		}
	})
}
