package main

// acl_test.go drives `courier acl add|list|remove` against a real Courier
// broker with the authorizer on, for the wiring: flags to ctl.ACLSpec and
// the tables printed (ctl's tests cover the ACL logic). Every connection
// here is User:ANONYMOUS, so that principal is the broker's super user.

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
	if !strings.HasPrefix(out, "created:\n") || !containsLine(out, "TOPIC", "orders", "LITERAL", "User:alice", "ALLOW", "READ", "*") ||
		!containsLine(out, "TOPIC", "orders", "LITERAL", "User:alice", "ALLOW", "DESCRIBE_CONFIGS", "*") {
		t.Errorf("add:\n%s", out)
	}
	mustExec(t, "", "acl", "add", "--deny-principal", "bob", "--deny-host", "10.0.0.1", "--operation", "all",
		"--group", "db-", "--resource-pattern-type", "prefixed", brokers)

	out, _ = mustExec(t, "", "acl", "list", brokers)
	if !containsLine(out, "GROUP", "db-", "PREFIXED", "User:bob", "DENY", "ALL", "10.0.0.1") || strings.Count(out, "\n") != 4 { // header + 3 ACLs
		t.Errorf("list:\n%s", out)
	}
	out, _ = mustExec(t, "", "acl", "list", "--principal", "alice", brokers)
	if strings.Count(out, "User:alice") != 2 || strings.Contains(out, "bob") {
		t.Errorf("list --principal alice:\n%s", out)
	}

	out, _ = mustExec(t, "", "acl", "remove", "--allow-principal", "alice", "--operation", "read", "--topic", "orders", brokers)
	if !strings.HasPrefix(out, "removed:\n") || !containsLine(out, "TOPIC", "orders", "LITERAL", "User:alice", "ALLOW", "READ", "*") || strings.Contains(out, "DESCRIBE_CONFIGS") {
		t.Errorf("remove read:\n%s", out)
	}
	mustExec(t, "", "acl", "remove", "--topic", "orders", brokers)
	if out, _ = mustExec(t, "", "acl", "remove", "--topic", "orders", brokers); out != "no matching ACL\n" {
		t.Errorf("remove again: %q", out)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"acl", "add", "--allow-principal", "User:a", "--topic", "t"}, "add ACLs: --operation is required"},
		{[]string{"acl", "add", "--allow-principal", "a", "--operation", "read", "--topic", "t", "--group", "g"}, "acl add: if any flags in the group [topic group transactional-id cluster] are set none of the others can be"},
		{[]string{"acl", "remove", "--allow-principal", "User:a"}, "remove ACLs: name the resource"},
	} {
		if _, _, err := execCourier(t, "", append(tc.args, brokers)...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("courier %s: %v, want %q", strings.Join(tc.args, " "), err, tc.want)
		}
	}
}

func TestACLCommandsAuthorizerOff(t *testing.T) {
	b := testbroker.Start(t)
	_, _, err := execCourier(t, "", "acl", "list", "--brokers="+b.Addr)
	if err == nil || err.Error() != "list ACLs: SECURITY_DISABLED: Security features are disabled." {
		t.Errorf("list without authorizer: %v", err)
	}
}
