package users

// store.go keeps the set of users and persists it to DIR/users.json
// (package metafile: versioned, replaced atomically, refused if damaged).

import (
	"fmt"
	"log/slog"
	"path/filepath"
	"sort"
	"sync"

	"github.com/courier-dev/courier/internal/broker/metafile"
	"github.com/courier-dev/courier/internal/broker/vfs"
)

// FileName is the store's file in its directory.
const FileName = "users.json"

// Store is the durable set of users. Safe for concurrent use.
type Store struct {
	path string

	mu    sync.RWMutex
	users map[string]map[Mechanism]Credential
}

// format is users.json's: owner-only, as it holds keys.
var format = metafile.Format{What: "users", Version: 1, Perm: 0o600}

// fileBody is users.json's body, beside its version.
type fileBody struct {
	Users []fileUser `json:"users"`
}

// fileUser is one user in users.json.
type fileUser struct {
	Name        string       `json:"name"`
	Credentials []Credential `json:"credentials"`
}

// Open loads (or creates) the store in dir: dir/users.json, created on
// the first change. A file that does not parse, or holds an invalid
// credential, is an error rather than an empty store, so that a damaged
// file never silently locks every user out (or lets anyone in). What Open
// repairs (a leftover temporary file) it logs on logger (nil:
// slog.Default()).
func Open(dir string, logger *slog.Logger) (*Store, error) {
	s := &Store{path: filepath.Join(dir, FileName), users: make(map[string]map[Mechanism]Credential)}
	if err := vfs.MkdirAllDurable(vfs.Default, dir, 0o755); err != nil {
		return nil, fmt.Errorf("create users dir %s: %w", dir, err)
	}
	var body fileBody
	if _, err := format.Load(vfs.Default, s.path, &body, logger); err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(body.Users))
	for _, u := range body.Users {
		if err := ValidateName(u.Name); err != nil {
			return nil, fmt.Errorf("users %s: %w", s.path, err)
		}
		if seen[u.Name] {
			return nil, fmt.Errorf("users %s: user %q listed twice", s.path, u.Name)
		}
		seen[u.Name] = true
		for _, c := range u.Credentials {
			if err := c.validate(); err != nil {
				return nil, fmt.Errorf("users %s: user %q: %w", s.path, u.Name, err)
			}
			if s.users[u.Name] == nil {
				s.users[u.Name] = make(map[Mechanism]Credential)
			}
			if _, dup := s.users[u.Name][c.Mechanism]; dup {
				return nil, fmt.Errorf("users %s: user %q has two %s credentials", s.path, u.Name, c.Mechanism)
			}
			s.users[u.Name][c.Mechanism] = c
		}
	}
	return s, nil
}

// Lookup returns a copy of user's credential for mech.
func (s *Store) Lookup(user string, mech Mechanism) (Credential, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.users[user][mech]
	if !ok {
		return Credential{}, false
	}
	return c.clone(), true
}

// List returns every user with its mechanisms and iteration counts (no
// secrets), sorted by name.
func (s *Store) List() []User {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]User, 0, len(s.users))
	for name, creds := range s.users {
		out = append(out, userInfo(name, creds))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Get returns one user's public information, false if it has no
// credential.
func (s *Store) Get(user string) (User, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	creds, ok := s.users[user]
	if !ok {
		return User{}, false
	}
	return userInfo(user, creds), true
}

// userInfo builds a User from its credentials.
func userInfo(name string, creds map[Mechanism]Credential) User {
	u := User{Name: name}
	for _, m := range Mechanisms {
		if c, ok := creds[m]; ok {
			u.Credentials = append(u.Credentials, CredentialInfo{Mechanism: m, Iterations: c.Iterations})
		}
	}
	return u
}

// Set creates or replaces user's credential for c.Mechanism, durably.
func (s *Store) Set(user string, c Credential) error {
	if err := ValidateName(user); err != nil {
		return err
	}
	if err := c.validate(); err != nil {
		return fmt.Errorf("user %q: %w", user, err)
	}
	c = c.clone()
	s.mu.Lock()
	defer s.mu.Unlock()
	creds := s.users[user]
	old, had := creds[c.Mechanism]
	if creds == nil {
		creds = make(map[Mechanism]Credential)
		s.users[user] = creds
	}
	creds[c.Mechanism] = c
	if err := s.persistLocked(); err != nil {
		if had {
			creds[c.Mechanism] = old
		} else {
			s.removeLocked(user, c.Mechanism)
		}
		return err
	}
	return nil
}

// Delete removes user's credential for mech, durably; ErrNotFound if it
// has none. The user disappears with its last credential.
func (s *Store) Delete(user string, mech Mechanism) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.users[user][mech]
	if !ok {
		return fmt.Errorf("%w: user %q, %s", ErrNotFound, user, mech)
	}
	s.removeLocked(user, mech)
	if err := s.persistLocked(); err != nil {
		if s.users[user] == nil {
			s.users[user] = make(map[Mechanism]Credential)
		}
		s.users[user][mech] = old
		return err
	}
	return nil
}

// removeLocked drops a credential from memory, and the user with its last.
func (s *Store) removeLocked(user string, mech Mechanism) {
	delete(s.users[user], mech)
	if len(s.users[user]) == 0 {
		delete(s.users, user)
	}
}

// VerifyPassword reports whether password is user's, for SASL PLAIN: true
// if it derives any of the user's SCRAM credentials (each computed with
// that credential's salt and iterations, compared in constant time). It
// costs a PBKDF2 per credential; an unknown user costs one too, so that
// timing does not tell which users exist.
func (s *Store) VerifyPassword(user, password string) bool {
	s.mu.RLock()
	creds := make([]Credential, 0, len(s.users[user]))
	for _, m := range Mechanisms {
		if c, ok := s.users[user][m]; ok {
			creds = append(creds, c.clone())
		}
	}
	s.mu.RUnlock()
	if len(creds) == 0 {
		decoy.matches(password)
		return false
	}
	ok := false
	for i := range creds {
		if creds[i].matches(password) {
			ok = true
		}
	}
	return ok
}

// decoy is the credential VerifyPassword checks unknown users against.
var decoy = Credential{
	Mechanism:  ScramSHA512,
	Iterations: MinIterations,
	Salt:       make([]byte, SaltBytes),
	StoredKey:  make([]byte, 64),
	ServerKey:  make([]byte, 64),
}

// persistLocked writes the whole store atomically.
func (s *Store) persistLocked() error {
	body := fileBody{Users: make([]fileUser, 0, len(s.users))}
	for name, creds := range s.users {
		u := fileUser{Name: name}
		for _, m := range Mechanisms {
			if c, ok := creds[m]; ok {
				u.Credentials = append(u.Credentials, c)
			}
		}
		body.Users = append(body.Users, u)
	}
	sort.Slice(body.Users, func(i, j int) bool { return body.Users[i].Name < body.Users[j].Name })
	return format.Save(vfs.Default, s.path, body)
}
