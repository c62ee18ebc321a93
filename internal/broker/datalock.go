package broker

// datalock.go makes a data directory one broker's alone: two brokers
// appending to the same segments would interleave their writes and corrupt
// both logs, so the second one refuses to start.

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// dataLock is an exclusive advisory lock (flock) on DATA/.lock, held for
// the broker's life and released by the kernel if the process dies.
type dataLock struct{ f *os.File }

// lockDataDir takes the lock or explains who holds it.
func lockDataDir(dir string) (*dataLock, error) {
	path := filepath.Join(dir, ".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("data directory %s is in use by another broker (lock %s held)", dir, path)
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	return &dataLock{f: f}, nil
}

// release drops the lock.
func (l *dataLock) release() error {
	if l == nil || l.f == nil {
		return nil
	}
	err := l.f.Close() // closing the last descriptor releases the flock
	l.f = nil
	return err
}
