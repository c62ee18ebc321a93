package users

// users_test.go checks credential derivation, validation, and that the
// store's changes survive reopening.

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
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
	s, err := Open(dir)
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
	s, err = Open(dir)
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
	s, err = Open(dir)
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
	s, err := Open(t.TempDir())
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
	for name, content := range map[string]string{
		"not json":        "{",
		"unknown version": `{"version": 9, "users": []}`,
		"bad credential":  `{"version": 1, "users": [{"name": "a", "credentials": [{"mechanism": "SCRAM-SHA-256", "iterations": 4096}]}]}`,
		"bad name":        `{"version": 1, "users": [{"name": "", "credentials": []}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, FileName), []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := Open(dir); err == nil {
				t.Error("Open accepted a damaged users.json")
			}
		})
	}
}
