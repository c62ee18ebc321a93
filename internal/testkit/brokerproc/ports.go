package brokerproc

// ports.go finds free loopback ports.

import (
	"fmt"
	"net"
	"testing"
	"time"
)

// FreeAddr returns "127.0.0.1:PORT" for a port the kernel reported free: it
// listens on 127.0.0.1:0 and closes the listener. Another process may take
// the port before it is used again; Start retries with fresh ports when the
// broker cannot bind.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	return addr, nil
}

// ClosedAddr returns an address from FreeAddr, failing t if there is none:
// a loopback address nothing listens on, the unreachable broker of tests
// (until something binds it, as a test may do to bring the broker up).
func ClosedAddr(t testing.TB) string {
	t.Helper()
	addr, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

// WaitListening dials addr every few milliseconds until a TCP connection
// succeeds (and closes it), or until timeout passes, or until stop is closed
// (a nil stop never is). It reports whether a connection succeeded.
func WaitListening(addr string, timeout time.Duration, stop <-chan struct{}) bool {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return true
		}
		select {
		case <-stop:
			return false
		case <-time.After(20 * time.Millisecond):
		}
	}
	return false
}
