package users

// credential.go derives SCRAM credentials from passwords (RFC 5802 section
// 3): SaltedPassword = PBKDF2(HMAC-H, password, salt, i), ClientKey =
// HMAC(SaltedPassword, "Client Key"), StoredKey = H(ClientKey), ServerKey =
// HMAC(SaltedPassword, "Server Key"). Only salt, i, StoredKey and ServerKey
// are kept.

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/subtle"
	"fmt"
	"hash"
)

// SaltBytes is the size of the salts NewCredential draws.
const SaltBytes = 32

// maxSaltBytes bounds the salts accepted from clients (AlterUserScram
// credentials carries the client's salt).
const maxSaltBytes = 1024

// Credential is one user's SCRAM credential for one mechanism.
type Credential struct {
	Mechanism  Mechanism `json:"mechanism"`
	Iterations int       `json:"iterations"`
	Salt       []byte    `json:"salt"`
	StoredKey  []byte    `json:"stored_key"`
	ServerKey  []byte    `json:"server_key"`
}

// Hash returns the mechanism's hash function, nil for an unknown mechanism.
func (m Mechanism) Hash() func() hash.Hash {
	switch m {
	case ScramSHA256:
		return sha256.New
	case ScramSHA512:
		return sha512.New
	}
	return nil
}

// hashSize is the size of the mechanism's digests (0 if unknown).
func (m Mechanism) hashSize() int {
	switch m {
	case ScramSHA256:
		return sha256.Size
	case ScramSHA512:
		return sha512.Size
	}
	return 0
}

// SaltedPassword computes RFC 5802's SaltedPassword, Hi(password, salt, i):
// what a Kafka client sends in AlterUserScramCredentials. It costs
// iterations HMACs.
func SaltedPassword(mech Mechanism, password string, salt []byte, iterations int) ([]byte, error) {
	h := mech.Hash()
	if h == nil {
		return nil, fmt.Errorf("%w %q", ErrUnknownMechanism, mech)
	}
	if err := ValidateIterations(iterations); err != nil {
		return nil, err
	}
	sp, err := pbkdf2.Key(h, password, salt, iterations, mech.hashSize())
	if err != nil {
		return nil, fmt.Errorf("%s salted password: %w", mech, err)
	}
	return sp, nil
}

// NewCredential derives a credential for password with a fresh random salt
// of SaltBytes bytes. The password itself is not kept.
func NewCredential(mech Mechanism, password string, iterations int) (Credential, error) {
	if password == "" {
		return Credential{}, fmt.Errorf("%w: empty password", ErrInvalidCredential)
	}
	salt := make([]byte, SaltBytes)
	if _, err := rand.Read(salt); err != nil {
		return Credential{}, fmt.Errorf("draw salt: %w", err)
	}
	sp, err := SaltedPassword(mech, password, salt, iterations)
	if err != nil {
		return Credential{}, err
	}
	return CredentialFromSaltedPassword(mech, salt, sp, iterations)
}

// CredentialFromSaltedPassword derives a credential from a salted password
// a client computed (KIP-554's upsertion: salt, SaltedPassword, iterations).
func CredentialFromSaltedPassword(mech Mechanism, salt, saltedPassword []byte, iterations int) (Credential, error) {
	h := mech.Hash()
	if h == nil {
		return Credential{}, fmt.Errorf("%w %q", ErrUnknownMechanism, mech)
	}
	if err := ValidateIterations(iterations); err != nil {
		return Credential{}, err
	}
	if len(salt) == 0 || len(salt) > maxSaltBytes {
		return Credential{}, fmt.Errorf("%w: salt of %d bytes (want 1..%d)", ErrInvalidCredential, len(salt), maxSaltBytes)
	}
	if len(saltedPassword) != mech.hashSize() {
		return Credential{}, fmt.Errorf("%w: %s salted password of %d bytes, want %d", ErrInvalidCredential, mech, len(saltedPassword), mech.hashSize())
	}
	clientKey := hmacSum(h, saltedPassword, "Client Key")
	d := h()
	d.Write(clientKey)
	return Credential{
		Mechanism:  mech,
		Iterations: iterations,
		Salt:       append([]byte(nil), salt...),
		StoredKey:  d.Sum(nil),
		ServerKey:  hmacSum(h, saltedPassword, "Server Key"),
	}, nil
}

// hmacSum returns HMAC-H(key, msg).
func hmacSum(h func() hash.Hash, key []byte, msg string) []byte {
	m := hmac.New(h, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// validate checks a credential's fields (as loaded or as given to Set).
func (c *Credential) validate() error {
	n := c.Mechanism.hashSize()
	if n == 0 {
		return fmt.Errorf("%w %q", ErrUnknownMechanism, c.Mechanism)
	}
	if err := ValidateIterations(c.Iterations); err != nil {
		return err
	}
	if len(c.Salt) == 0 || len(c.Salt) > maxSaltBytes {
		return fmt.Errorf("%w: salt of %d bytes (want 1..%d)", ErrInvalidCredential, len(c.Salt), maxSaltBytes)
	}
	if len(c.StoredKey) != n || len(c.ServerKey) != n {
		return fmt.Errorf("%w: %s keys must be %d bytes", ErrInvalidCredential, c.Mechanism, n)
	}
	return nil
}

// clone returns a deep copy.
func (c Credential) clone() Credential {
	c.Salt = append([]byte(nil), c.Salt...)
	c.StoredKey = append([]byte(nil), c.StoredKey...)
	c.ServerKey = append([]byte(nil), c.ServerKey...)
	return c
}

// matches reports, in constant time for a given credential, whether
// password derives c's StoredKey. It costs c.Iterations HMACs.
func (c *Credential) matches(password string) bool {
	h := c.Mechanism.Hash()
	if h == nil {
		return false
	}
	sp, err := pbkdf2.Key(h, password, c.Salt, c.Iterations, c.Mechanism.hashSize())
	if err != nil {
		return false
	}
	d := h()
	d.Write(hmacSum(h, sp, "Client Key"))
	return subtle.ConstantTimeCompare(d.Sum(nil), c.StoredKey) == 1
}
