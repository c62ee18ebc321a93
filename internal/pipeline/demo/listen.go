package demo

// listen.go checks the demo's addresses before anything is created, so
// that a demo refused for a busy port leaves no database or data directory
// behind.

import (
	"errors"
	"fmt"
	"net"
	"syscall"
)

// Roles of the addresses the demo listens on, as a ListenError names them.
const (
	// RoleWeb is Config.WebAddr: the page and the gateway's /v1 routes.
	RoleWeb = "web page"
	// RoleKafka is Config.BrokerAddr: the embedded broker's Kafka listener.
	RoleKafka = "Kafka listener"
)

// ListenError is returned by Run, before anything is created, when the
// demo cannot listen on one of its addresses.
type ListenError struct {
	// Addr is the address, Role what it was for (RoleWeb, RoleKafka).
	Addr, Role string
	// Err is the listener's error.
	Err error
}

// Error says which address could not be used and why, in one line.
func (e *ListenError) Error() string {
	if e.Busy() {
		return fmt.Sprintf("%s (the demo's %s) is already in use", e.Addr, e.Role)
	}
	return fmt.Sprintf("cannot listen on %s (the demo's %s): %v", e.Addr, e.Role, e.Err)
}

// Unwrap returns the listener's error.
func (e *ListenError) Unwrap() error { return e.Err }

// Busy reports whether another process holds the address.
func (e *ListenError) Busy() bool { return errors.Is(e.Err, syscall.EADDRINUSE) }

// listen listens on addr for role.
func listen(addr, role string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, &ListenError{Addr: addr, Role: role, Err: err}
	}
	return ln, nil
}

// probe checks that addr can be listened on for role and frees it again:
// the embedded broker listens itself, but only after it created its data
// directory. Another process could take the port in between; the broker
// then fails with its own error, which is rare enough.
func probe(addr, role string) error {
	ln, err := listen(addr, role)
	if err != nil {
		return err
	}
	return ln.Close()
}
