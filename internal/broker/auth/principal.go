// Package auth holds the identity types shared by the network layer (which
// authenticates connections: TLS client certificates, SASL) and the broker
// (which authorizes requests against ACLs): principals as Kafka writes
// them, "User:alice".
package auth

import (
	"fmt"
	"strings"
)

// Principal is an authenticated identity, Kafka's KafkaPrincipal.
type Principal struct {
	// Type is "User" for every principal Courier authenticates.
	Type string
	// Name is the SASL user name, or a TLS client certificate's subject
	// distinguished name, or ANONYMOUS.
	Name string
}

// Anonymous is the principal of an unauthenticated connection (a PLAINTEXT
// or SSL listener without client certificates).
var Anonymous = Principal{Type: "User", Name: "ANONYMOUS"}

// User returns the principal User:name.
func User(name string) Principal { return Principal{Type: "User", Name: name} }

// String returns "Type:Name", the form ACLs and logs use.
func (p Principal) String() string { return p.Type + ":" + p.Name }

// ParsePrincipal parses "Type:Name" (e.g. "User:alice"; "User:*" is the
// wildcard ACLs accept).
func ParsePrincipal(s string) (Principal, error) {
	typ, name, ok := strings.Cut(s, ":")
	if !ok || typ == "" || name == "" {
		return Principal{}, fmt.Errorf("principal %q: want Type:Name, e.g. User:alice", s)
	}
	return Principal{Type: typ, Name: name}, nil
}
