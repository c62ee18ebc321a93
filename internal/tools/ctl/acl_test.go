package ctl

// acl_test.go adds, lists and removes ACLs on a real Courier broker with
// the authorizer on (every connection here is User:ANONYMOUS, made a super
// user), and checks what specs are refused before anything is sent.

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/courier-dev/courier/internal/broker/run"
	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// aclStrings renders ACLs sorted, one string each.
func aclStrings(acls []ACL) []string {
	out := make([]string, len(acls))
	for i, a := range acls {
		out[i] = a.String()
	}
	slices.Sort(out)
	return out
}

// checkACLs compares ACLs with the wanted strings.
func checkACLs(t *testing.T, what string, got []ACL, err error, want ...string) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	want = slices.Sorted(slices.Values(want)) // a copy: callers reuse their slices
	if g := aclStrings(got); !slices.Equal(g, want) {
		t.Errorf("%s:\n got %q\nwant %q", what, g, want)
	}
}

func TestACLs(t *testing.T) {
	b := testbroker.Start(t, func(c *run.Config) {
		c.Broker.AuthorizerEnabled = true
		c.Broker.SuperUsers = []string{"User:ANONYMOUS"}
	})
	a, err := New(kgo.SeedBrokers(b.Addr))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ctx := testCtx(t)

	got, err := a.AddACLs(ctx, ACLSpec{AllowPrincipals: []string{"User:alice"}, AllowHosts: []string{"*"}, Operations: []string{"read", "describe-configs"}, Topic: "orders"})
	checkACLs(t, "add", got, err, "User:alice ALLOW READ from * on TOPIC LITERAL orders", "User:alice ALLOW DESCRIBE_CONFIGS from * on TOPIC LITERAL orders")
	got, err = a.AddACLs(ctx, ACLSpec{DenyPrincipals: []string{"bob"}, DenyHosts: []string{"10.0.0.1"}, Operations: []string{"all"}, Group: "db-", Pattern: "prefixed"})
	checkACLs(t, "add deny", got, err, "User:bob DENY ALL from 10.0.0.1 on GROUP PREFIXED db-")
	got, err = a.AddACLs(ctx, ACLSpec{AllowPrincipals: []string{"User:admin"}, Operations: []string{"alter"}, Cluster: true})
	checkACLs(t, "add cluster", got, err, "User:admin ALLOW ALTER from * on CLUSTER LITERAL kafka-cluster")

	all := []string{
		"User:alice ALLOW READ from * on TOPIC LITERAL orders", "User:alice ALLOW DESCRIBE_CONFIGS from * on TOPIC LITERAL orders",
		"User:bob DENY ALL from 10.0.0.1 on GROUP PREFIXED db-", "User:admin ALLOW ALTER from * on CLUSTER LITERAL kafka-cluster",
	}
	got, err = a.ListACLs(ctx, ACLSpec{})
	checkACLs(t, "list", got, err, all...)
	got, err = a.ListACLs(ctx, ACLSpec{Group: "db-1", Pattern: "match"})
	checkACLs(t, "list match db-1", got, err, "User:bob DENY ALL from 10.0.0.1 on GROUP PREFIXED db-")
	got, err = a.ListACLs(ctx, ACLSpec{Principals: []string{"alice"}})
	checkACLs(t, "list alice", got, err, all[:2]...)

	got, err = a.RemoveACLs(ctx, ACLSpec{AllowPrincipals: []string{"alice"}, AllowHosts: []string{"*"}, Operations: []string{"read"}, Topic: "orders"})
	checkACLs(t, "remove read", got, err, all[0])
	got, err = a.RemoveACLs(ctx, ACLSpec{Topic: "orders", AllowHosts: []string{"*"}, DenyHosts: []string{"*"}})
	checkACLs(t, "remove every ACL of orders", got, err, all[1])
	got, err = a.RemoveACLs(ctx, ACLSpec{Topic: "orders"})
	checkACLs(t, "remove again", got, err)
	got, err = a.ListACLs(ctx, ACLSpec{})
	checkACLs(t, "list after removes", got, err, all[2:]...)

	var out bytes.Buffer
	if err := WriteACLs(&out, got); err != nil {
		t.Fatal(err)
	}
	want := "RESOURCE  NAME           PATTERN   PRINCIPAL   PERMISSION  OPERATION  HOST\n" +
		"GROUP     db-            PREFIXED  User:bob    DENY        ALL        10.0.0.1\n" +
		"CLUSTER   kafka-cluster  LITERAL   User:admin  ALLOW       ALTER      *\n"
	if out.String() != want {
		t.Errorf("table:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestACLsAuthorizerOff(t *testing.T) {
	b := testbroker.Start(t)
	a, err := New(kgo.SeedBrokers(b.Addr))
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	_, err = a.ListACLs(testCtx(t), ACLSpec{})
	if !errors.Is(err, kerr.SecurityDisabled) {
		t.Fatalf("list without authorizer: %v", err)
	}
	// The broker's message repeats the code's description: said once.
	if strings.Count(err.Error(), "Security features are disabled") != 1 {
		t.Errorf("message: %q", err)
	}
}

func TestACLSpecRefused(t *testing.T) {
	alice := []string{"User:a"}
	for _, tc := range []struct {
		spec ACLSpec
		add  bool
		want string
	}{
		{ACLSpec{AllowPrincipals: alice, Topic: "t"}, true, "--operation is required"},
		{ACLSpec{Operations: []string{"read"}, Topic: "t"}, true, "--allow-principal or --deny-principal"},
		{ACLSpec{AllowPrincipals: alice, Operations: []string{"read"}}, true, "name the resource"},
		{ACLSpec{AllowPrincipals: alice, Operations: []string{"fly"}, Topic: "t"}, true, `--operation "fly"`},
		{ACLSpec{AllowPrincipals: alice, Operations: []string{"any"}, Topic: "t"}, true, `--operation "any"`},
		{ACLSpec{AllowPrincipals: alice, Operations: []string{"read"}, Topic: "t", Group: "g"}, true, "not several"},
		{ACLSpec{AllowPrincipals: alice, Operations: []string{"read"}, Topic: "t", Pattern: "match"}, true, "literal or prefixed"},
		{ACLSpec{AllowPrincipals: alice, Operations: []string{"read"}, Topic: "t", Pattern: "fuzzy"}, true, "--resource-pattern-type"},
		{ACLSpec{AllowPrincipals: alice}, false, "name the resource"},
	} {
		err := CheckACLSpec(tc.spec, tc.add)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%+v: %v, want %q", tc.spec, err, tc.want)
		}
	}
	if err := CheckACLSpec(ACLSpec{AllowPrincipals: alice, Operations: []string{"read"}, Topic: "t", Pattern: "prefixed"}, true); err != nil {
		t.Errorf("a good spec: %v", err)
	}
}
