package webconsole

// rest_acls_test.go tests the REST Proxy v3 ACL endpoints against a
// secured broker: an admin lists, creates and deletes ACLs in REST Proxy's
// shapes; a user the ACLs do not allow to is refused with the cluster's
// error name; every change is audited; bad filters are 400.

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// aclList is REST Proxy's KafkaAclList.
type aclList struct {
	Kind string    `json:"kind"`
	Data []aclData `json:"data"`
}

// clusterID returns the cluster's id through the console.
func (tc *testConsole) clusterID() string {
	tc.t.Helper()
	var list struct {
		Data []struct {
			ClusterID string `json:"cluster_id"`
		} `json:"data"`
	}
	tc.mustJSON("GET", "/v3/clusters", nil, http.StatusOK, &list)
	if len(list.Data) != 1 {
		tc.t.Fatalf("clusters: %+v", list)
	}
	return list.Data[0].ClusterID
}

func TestACLsREST(t *testing.T) {
	tc, _ := startSASLConsole(t, Config{})
	tc.mustLogin(adminUser, adminPass)
	id := tc.clusterID()
	base := "/v3/clusters/" + id + "/acls"

	create := aclCreateRequest{ResourceType: "TOPIC", ResourceName: "orders", PatternType: "LITERAL",
		Principal: "User:bob", Host: "*", Operation: "READ", Permission: "ALLOW"}
	tc.mustJSON("POST", base, create, http.StatusCreated, nil)
	create.Operation = "DESCRIBE"
	tc.mustJSON("POST", base, create, http.StatusCreated, nil)

	var list aclList
	tc.mustJSON("GET", base+"?principal=User:bob&resource_type=TOPIC", nil, http.StatusOK, &list)
	if list.Kind != "KafkaAclList" || len(list.Data) != 2 {
		t.Fatalf("bob's ACLs: %+v", list)
	}
	a := list.Data[0]
	if a.Kind != "KafkaAcl" || a.ClusterID != id || a.ResourceType != "TOPIC" || a.ResourceName != "orders" ||
		a.PatternType != "LITERAL" || a.Principal != "User:bob" || a.Host != "*" || a.Permission != "ALLOW" ||
		!strings.Contains(a.Metadata.Self, base+"?") {
		t.Fatalf("an ACL in REST Proxy's shape: %+v", a)
	}
	// Every ACL, alice's included.
	tc.mustJSON("GET", base, nil, http.StatusOK, &list)
	if len(list.Data) < 4 {
		t.Fatalf("all ACLs: %d", len(list.Data))
	}

	var deleted struct {
		Data []aclData `json:"data"`
	}
	tc.mustJSON("DELETE", base+"?resource_type=TOPIC&resource_name=orders&pattern_type=LITERAL&principal=User:bob&operation=READ", nil, http.StatusOK, &deleted)
	if len(deleted.Data) != 1 || deleted.Data[0].Operation != "READ" {
		t.Fatalf("deleted: %+v", deleted)
	}
	tc.mustJSON("GET", base+"?principal=User:bob", nil, http.StatusOK, &list)
	if len(list.Data) != 1 || list.Data[0].Operation != "DESCRIBE" {
		t.Fatalf("after the delete: %+v", list.Data)
	}
	log := tc.log.String()
	for _, want := range []string{"action=acl.create", "action=acl.delete", "deleted=1", "user=admin"} {
		if !strings.Contains(log, want) {
			t.Errorf("the audit log lacks %q", want)
		}
	}
}

// TestACLsRefused: alice, who may not describe or alter the cluster, gets
// the cluster's CLUSTER_AUTHORIZATION_FAILED; the refused change is
// audited and changed nothing.
func TestACLsRefused(t *testing.T) {
	tc, _ := startSASLConsole(t, Config{})
	tc.mustLogin(aliceUser, alicePass)
	base := "/v3/clusters/" + tc.clusterID() + "/acls"
	for _, r := range []struct {
		method string
		body   any
	}{
		{"GET", nil},
		{"POST", aclCreateRequest{ResourceType: "TOPIC", ResourceName: "other-topic", PatternType: "LITERAL", Principal: "User:alice", Operation: "ALL", Permission: "ALLOW"}},
		{"DELETE", nil},
	} {
		path := base
		if r.method == "DELETE" {
			path += "?resource_type=ANY"
		}
		st, body := tc.do(r.method, path, r.body)
		if st != http.StatusForbidden || !strings.Contains(string(body), "CLUSTER_AUTHORIZATION_FAILED") || !strings.Contains(string(body), `"error_code":40301`) {
			t.Errorf("%s as alice: %d %s", r.method, st, body)
		}
	}
	if !strings.Contains(tc.log.String(), "action=acl.create") || !strings.Contains(tc.log.String(), "ok=false") {
		t.Fatal("the refused change is not in the audit log")
	}
	// Nothing changed: alice still may not touch other-topic.
	topics := sessionTopics(t, tc.current().kafka)
	if len(topics) != 1 || topics[0] != aliceTopic {
		t.Fatalf("alice sees %v after the refused ACL", topics)
	}
}

// TestACLsBadRequests: unknown enumerations, a creation missing fields or
// naming a filter value, a DELETE without filters.
func TestACLsBadRequests(t *testing.T) {
	tc, _ := startSASLConsole(t, Config{})
	tc.mustLogin(adminUser, adminPass)
	base := "/v3/clusters/" + tc.clusterID() + "/acls"
	for _, q := range []string{"resource_type=BOGUS", "pattern_type=SOME", "operation=FLY", "permission=MAYBE"} {
		if st, body := tc.do("GET", base+"?"+q, nil); st != http.StatusBadRequest {
			t.Errorf("GET ?%s: %d %s", q, st, body)
		}
	}
	if st, body := tc.do("DELETE", base, nil); st != http.StatusBadRequest || !strings.Contains(string(body), "at least one filter") {
		t.Errorf("DELETE without filters: %d %s", st, body)
	}
	good := aclCreateRequest{ResourceType: "TOPIC", ResourceName: "x", PatternType: "LITERAL", Principal: "User:a", Operation: "READ", Permission: "ALLOW"}
	for name, mod := range map[string]func(*aclCreateRequest){
		"no resource type": func(r *aclCreateRequest) { r.ResourceType = "" },
		"ANY resource":     func(r *aclCreateRequest) { r.ResourceType = "ANY" },
		"MATCH pattern":    func(r *aclCreateRequest) { r.PatternType = "MATCH" },
		"ANY operation":    func(r *aclCreateRequest) { r.Operation = "ANY" },
		"ANY permission":   func(r *aclCreateRequest) { r.Permission = "ANY" },
		"bare principal":   func(r *aclCreateRequest) { r.Principal = "alice" },
		"no name":          func(r *aclCreateRequest) { r.ResourceName = "" },
	} {
		r := good
		mod(&r)
		if st, body := tc.do("POST", base, r); st != http.StatusBadRequest {
			t.Errorf("%s: %d %s", name, st, body)
		}
	}
	if st, _ := tc.do("GET", "/v3/clusters/other/acls", nil); st != http.StatusNotFound {
		t.Errorf("another cluster's ACLs: %d", st)
	}
}

// TestACLsKfake: against a cluster without an authorizer, the listing is
// the cluster's own answer (kfake keeps ACLs, or says SECURITY_DISABLED),
// never a console failure.
func TestACLsKfake(t *testing.T) {
	tc, _ := startConsoleKfake(t, Config{})
	base := "/v3/clusters/" + tc.clusterID() + "/acls"
	st, body := tc.do("GET", base, nil)
	if st != http.StatusOK && !(st == http.StatusForbidden && strings.Contains(string(body), "SECURITY_DISABLED")) {
		t.Fatalf("GET ACLs on kfake: %d %s", st, body)
	}
}

// FuzzACLRequest: no query string or creation body panics the ACL
// parsers; what they accept is a filter of known values, and an accepted
// creation names one resource, one operation and a permission.
func FuzzACLRequest(f *testing.F) {
	f.Add("resource_type=TOPIC&resource_name=orders&pattern_type=LITERAL&principal=User:bob&operation=READ&permission=ALLOW", "TOPIC", "orders", "LITERAL", "User:bob", "*", "READ", "ALLOW")
	f.Add("resource_type=any&operation=all", "cluster", "kafka-cluster", "prefixed", "User:a", "", "ALTER_CONFIGS", "deny")
	f.Add("pattern_type=MATCH&host=%2A", "ANY", "", "MATCH", "bob", "*", "ANY", "ANY")
	f.Fuzz(func(t *testing.T, query, rt, name, pt, principal, host, op, perm string) {
		q, err := url.ParseQuery(query)
		if err == nil {
			if fl, err := aclFilterOf(q); err == nil {
				if fl.ResourceType == kmsg.ACLResourceTypeUnknown || fl.PatternType == kmsg.ACLResourcePatternTypeUnknown ||
					fl.Operation == kmsg.ACLOperationUnknown || fl.Permission == kmsg.ACLPermissionTypeUnknown {
					t.Fatalf("filter %q accepted with an UNKNOWN value: %+v", query, fl)
				}
			}
		}
		req := aclCreateRequest{ResourceType: rt, ResourceName: name, PatternType: pt, Principal: principal, Host: host, Operation: op, Permission: perm}
		acl, err := req.acl()
		if err != nil {
			return
		}
		if acl.ResourceType == kmsg.ACLResourceTypeAny || acl.ResourceType == kmsg.ACLResourceTypeUnknown ||
			(acl.PatternType != kmsg.ACLResourcePatternTypeLiteral && acl.PatternType != kmsg.ACLResourcePatternTypePrefixed) ||
			acl.Operation == kmsg.ACLOperationAny || acl.Operation == kmsg.ACLOperationUnknown ||
			(acl.Permission != kmsg.ACLPermissionTypeAllow && acl.Permission != kmsg.ACLPermissionTypeDeny) ||
			acl.ResourceName == nil || *acl.ResourceName == "" || acl.Principal == nil || acl.Host == nil || *acl.Host == "" {
			t.Fatalf("creation %+v accepted as %+v", req, acl)
		}
	})
}
