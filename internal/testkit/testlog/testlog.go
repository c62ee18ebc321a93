// Package testlog is a log destination for tests: a buffer that the code
// under test (its goroutines, a child process's output copiers) writes to
// while the test reads it.
package testlog

import (
	"bytes"
	"sync"
)

// Buffer collects writes; it is safe for concurrent use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (l *Buffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns everything written so far.
func (l *Buffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
