package broker

// producer_ids.go hands out idempotent producer ids that are never reused,
// even across crashes: ids are reserved in blocks whose upper bound is made
// durable before any id of the block is handed out.

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/courier-dev/courier/internal/broker/vfs"
)

// producerIDBlock is how many ids one durable write reserves.
const producerIDBlock = 1000

// producerIDs allocates producer ids.
type producerIDs struct {
	path string

	mu    sync.Mutex
	next  int64 // next id to hand out
	limit int64 // first id not yet reserved on disk
}

// openProducerIDs loads the reservation file; ids resume after the last
// reserved block, skipping whatever a crashed run had reserved but not used.
func openProducerIDs(path string) (*producerIDs, error) {
	p := &producerIDs{path: path}
	data, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("read %s: %w", path, err)
	default:
		n, err := strconv.ParseInt(strings.TrimSpace(string(data)), 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("parse %s: %q is not a producer id", path, data)
		}
		p.next, p.limit = n, n
	}
	return p, nil
}

// allocate returns a fresh producer id.
func (p *producerIDs) allocate() (int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.next >= p.limit {
		limit := p.next + producerIDBlock
		if err := vfs.WriteAtomic(vfs.Default, p.path, []byte(strconv.FormatInt(limit, 10)+"\n"), 0o644); err != nil {
			return 0, fmt.Errorf("reserve producer ids: %w", err)
		}
		p.limit = limit
	}
	id := p.next
	p.next++
	return id, nil
}

// loadClusterID returns the cluster id stored at path, creating one the
// first time.
func loadClusterID(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		if id := strings.TrimSpace(string(data)); id != "" {
			return id, nil
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	var raw [8]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("cluster id: %w", err)
	}
	id := "courier-" + hex.EncodeToString(raw[:])
	if err := vfs.WriteAtomic(vfs.Default, path, []byte(id+"\n"), 0o644); err != nil {
		return "", err
	}
	return id, nil
}
