package broker

// users.go gives the SASL layer and the tools the broker's user store
// (DATA/meta/users.json), and maps between Kafka's SCRAM mechanism codes
// (KIP-554) and package users' names.

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/courier-dev/courier/internal/broker/users"
)

// Users returns the broker's SCRAM credential store, which the network
// layer's SASL server authenticates against.
func (b *Broker) Users() *users.Store { return b.users }

// OpenUsers opens the user store of a broker's data directory while no
// broker runs on it, for offline administration (creating the first admin
// user before the first start, as kafka-storage --add-scram does). It takes
// the data directory's lock, so it fails while a broker holds dataDir, and
// keeps it until release is called; the directory is created if missing.
func OpenUsers(dataDir string) (st *users.Store, release func() error, err error) {
	if err := os.MkdirAll(dataDir, 0o755); err != nil {
		return nil, nil, fmt.Errorf("create data dir: %w", err)
	}
	lock, err := lockDataDir(dataDir)
	if err != nil {
		return nil, nil, err
	}
	st, err = users.Open(filepath.Join(dataDir, "meta"), nil)
	if err != nil {
		lock.release()
		return nil, nil, err
	}
	return st, lock.release, nil
}

// Kafka's SCRAM mechanism codes (KIP-554).
const (
	scramUnknown int8 = 0
	scramSHA256  int8 = 1
	scramSHA512  int8 = 2
)

// scramMechanism maps a Kafka SCRAM mechanism code to its name.
func scramMechanism(code int8) (users.Mechanism, bool) {
	switch code {
	case scramSHA256:
		return users.ScramSHA256, true
	case scramSHA512:
		return users.ScramSHA512, true
	}
	return "", false
}

// scramCode maps a SCRAM mechanism name to its Kafka code.
func scramCode(m users.Mechanism) int8 {
	switch m {
	case users.ScramSHA256:
		return scramSHA256
	case users.ScramSHA512:
		return scramSHA512
	}
	return scramUnknown
}
