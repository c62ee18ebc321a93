package main

// acl_test.go drives `courier acl add|list|remove` against a real Courier
// broker with the authorizer on. Until SASL is used here every connection
// is User:ANONYMOUS, so that principal is the broker's super user.

import (
	"strings"
	"testing"

	"github.com/courier-dev/courier/internal/broker/run"
	"github.com/courier-dev/courier/internal/testkit/testbroker"
)

func TestACLCommands(t *testing.T) {
	b := testbroker.Start(t, func(c *run.Config) {
		c.Broker.AuthorizerEnabled = true
		c.Broker.SuperUsers = []string{"User:ANONYMOUS"}
	})
	brokers := "--brokers=" + b.Addr

	out, _ := mustExec(t, "", "acl", "add", "--allow-principal", "User:alice", "--operation", "read", "--operation", "describe-configs",
		"--topic", "orders", brokers)
	if !containsLine(out, "TOPIC", "orders", "LITERAL", "User:alice", "ALLOW", "READ", "*") ||
		!containsLine(out, "TOPIC", "orders", "LITERAL", "User:alice", "ALLOW", "DESCRIBE_CONFIGS", "*") {
		t.Errorf("add:\n%s", out)
	}
	mustExec(t, "", "acl", "add", "--deny-principal", "bob", "--deny-host", "10.0.0.1", "--operation", "all",
		"--group", "db-", "--resource-pattern-type", "prefixed", brokers)
	mustExec(t, "", "acl", "add", "--allow-principal", "User:admin", "--operation", "alter", "--cluster", brokers)

	out, _ = mustExec(t, "", "acl", "list", brokers)
	for _, want := range [][]string{
		{"TOPIC", "orders", "LITERAL", "User:alice", "ALLOW", "READ", "*"},
		{"GROUP", "db-", "PREFIXED", "User:bob", "DENY", "ALL", "10.0.0.1"},
		{"CLUSTER", "kafka-cluster", "LITERAL", "User:admin", "ALLOW", "ALTER", "*"},
	} {
		if !containsLine(out, want...) {
			t.Errorf("list: no %v in\n%s", want, out)
		}
	}
	if n := strings.Count(out, "\n"); n != 5 { // header + 4 ACLs
		t.Errorf("list: %d lines:\n%s", n, out)
	}
	out, _ = mustExec(t, "", "acl", "list", "--group", "db-1", "--resource-pattern-type", "match", brokers)
	if hasRow(out, "GROUP", "db-", "PREFIXED") < 0 || strings.Contains(out, "orders") {
		t.Errorf("list match db-1:\n%s", out)
	}
	out, _ = mustExec(t, "", "acl", "list", "--principal", "User:alice", brokers)
	if strings.Count(out, "User:alice") != 2 || strings.Contains(out, "bob") {
		t.Errorf("list --principal alice:\n%s", out)
	}

	out, _ = mustExec(t, "", "acl", "remove", "--allow-principal", "alice", "--operation", "read", "--topic", "orders", brokers)
	if !containsLine(out, "TOPIC", "orders", "LITERAL", "User:alice", "ALLOW", "READ", "*") || strings.Contains(out, "DESCRIBE_CONFIGS") {
		t.Errorf("remove read:\n%s", out)
	}
	out, _ = mustExec(t, "", "acl", "remove", "--topic", "orders", brokers)
	if !containsLine(out, "TOPIC", "orders", "LITERAL", "User:alice", "ALLOW", "DESCRIBE_CONFIGS", "*") {
		t.Errorf("remove every ACL of orders:\n%s", out)
	}
	out, _ = mustExec(t, "", "acl", "list", "--topic", "orders", brokers)
	if strings.Contains(out, "orders") {
		t.Errorf("orders' ACLs left:\n%s", out)
	}

	for _, args := range [][]string{
		{"acl", "add", "--allow-principal", "User:a", "--topic", "t"},                       // no operation
		{"acl", "add", "--operation", "read", "--topic", "t"},                               // no principal
		{"acl", "add", "--allow-principal", "User:a", "--operation", "read"},                // no resource
		{"acl", "add", "--allow-principal", "User:a", "--operation", "fly", "--topic", "t"}, // bad operation
		{"acl", "add", "--allow-principal", "a", "--operation", "read", "--topic", "t", "--group", "g"},
		{"acl", "add", "--allow-principal", "a", "--operation", "read", "--topic", "t", "--resource-pattern-type", "match"},
		{"acl", "remove", "--allow-principal", "User:a"}, // no resource
	} {
		if _, _, err := execCourier(t, "", append(args, brokers)...); err == nil {
			t.Errorf("courier %s: no error", strings.Join(args, " "))
		}
	}
}

func TestACLCommandsAuthorizerOff(t *testing.T) {
	b := testbroker.Start(t)
	_, _, err := execCourier(t, "", "acl", "list", "--brokers="+b.Addr)
	if err == nil || !strings.Contains(err.Error(), "SECURITY_DISABLED") {
		t.Errorf("list without authorizer: %v", err)
	}
}
