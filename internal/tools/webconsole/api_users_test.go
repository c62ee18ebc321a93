package webconsole

// api_users_test.go tests the SCRAM users endpoints against a secured
// broker, including that the users they make can sign in to the console,
// and the admin-only audit log.

import (
	"net/http"
	"strings"
	"testing"
)

func TestUsersAPI(t *testing.T) {
	tc, _ := startSASLConsole(t, Config{})
	tc.mustLogin(adminUser, adminPass)

	tc.mustJSON("POST", "/api/users", userRequest{Name: "carol", Password: "carol-first-pw"}, http.StatusCreated, nil)
	var list struct {
		Users []scramUser `json:"users"`
	}
	tc.mustJSON("GET", "/api/users", nil, http.StatusOK, &list)
	found := false
	for _, u := range list.Users {
		if u.Name == "carol" {
			found = len(u.Credentials) == 1 && u.Credentials[0].Mechanism == "SCRAM-SHA-512" && u.Credentials[0].Iterations == defaultIterations
		}
	}
	if !found {
		t.Fatalf("carol not listed with one SCRAM-SHA-512 credential: %+v", list)
	}
	if st, body := tc.do("POST", "/api/users", userRequest{Name: "carol", Password: "again"}); st != http.StatusConflict {
		t.Fatalf("creating carol twice: %d %s", st, body)
	}
	// The new user signs in to the console.
	carol := tc.browserFrom("127.0.0.2")
	carol.mustLogin("carol", "carol-first-pw")

	tc.mustJSON("PUT", "/api/users/carol/password", userRequest{Password: "carol-second-pw"}, http.StatusOK, nil)
	if st, _, _ := tc.browserFrom("127.0.0.3").login("carol", "carol-first-pw"); st != http.StatusUnauthorized {
		t.Fatalf("the old password after the change: %d", st)
	}
	tc.browserFrom("127.0.0.3").mustLogin("carol", "carol-second-pw")

	var del struct {
		Deleted []string `json:"deleted"`
	}
	tc.mustJSON("DELETE", "/api/users/carol", nil, http.StatusOK, &del)
	if len(del.Deleted) != 1 || del.Deleted[0] != "SCRAM-SHA-512" {
		t.Fatalf("deleted: %+v", del)
	}
	if st, _, _ := tc.browserFrom("127.0.0.4").login("carol", "carol-second-pw"); st != http.StatusUnauthorized {
		t.Fatalf("carol signs in after her deletion: %d", st)
	}
	if st, body := tc.do("DELETE", "/api/users/carol", nil); st != http.StatusNotFound {
		t.Fatalf("deleting carol twice: %d %s", st, body)
	}
	for name, r := range map[string]userRequest{
		"no password":   {Name: "dan"},
		"bad mechanism": {Name: "dan", Password: "x", Mechanism: "MD5"},
		"few rounds":    {Name: "dan", Password: "x", Iterations: 10},
		"no name":       {Password: "x"},
	} {
		if st, body := tc.do("POST", "/api/users", r); st != http.StatusBadRequest {
			t.Errorf("%s: %d %s", name, st, body)
		}
	}
	log := tc.log.String()
	for _, want := range []string{"action=user.create", "action=user.password", "action=user.delete"} {
		if !strings.Contains(log, want) {
			t.Errorf("the audit log lacks %s", want)
		}
	}
	for _, secret := range []string{"carol-first-pw", "carol-second-pw"} {
		if strings.Contains(log, secret) {
			t.Errorf("a password is in the log")
		}
	}
}

// TestUsersRefused: alice may not list or change users: the cluster's
// CLUSTER_AUTHORIZATION_FAILED, and nothing changes.
func TestUsersRefused(t *testing.T) {
	tc, _ := startSASLConsole(t, Config{})
	tc.mustLogin(aliceUser, alicePass)
	for _, r := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/users", nil},
		{"POST", "/api/users", userRequest{Name: "eve", Password: "eve-pw"}},
		{"PUT", "/api/users/admin/password", userRequest{Password: "taken-over"}},
		{"DELETE", "/api/users/admin", nil},
	} {
		st, body := tc.do(r.method, r.path, r.body)
		if st != http.StatusForbidden || !strings.Contains(string(body), "CLUSTER_AUTHORIZATION_FAILED") {
			t.Errorf("%s %s as alice: %d %s", r.method, r.path, st, body)
		}
	}
	tc.browserFrom("127.0.0.2").mustLogin(adminUser, adminPass)
}

// TestAuditAdminsOnly: the audit page is for users the cluster lets
// describe ACLs; on a cluster without an authorizer everyone is one.
func TestAuditAdminsOnly(t *testing.T) {
	tc, _ := startSASLConsole(t, Config{})
	tc.mustLogin(aliceUser, alicePass)
	st, body := tc.do("GET", "/api/audit", nil)
	if st != http.StatusForbidden || !strings.Contains(string(body), "for admins only") {
		t.Fatalf("audit as alice: %d %s", st, body)
	}
	admin := tc.browserFrom("127.0.0.2")
	admin.mustLogin(adminUser, adminPass)
	admin.mustJSON("POST", "/api/users", userRequest{Name: "frank", Password: "frank-pw"}, http.StatusCreated, nil)
	var audit struct {
		Entries []AuditEntry `json:"entries"`
	}
	admin.mustJSON("GET", "/api/audit", nil, http.StatusOK, &audit)
	if len(audit.Entries) == 0 || audit.Entries[0].Action != "user.create" || audit.Entries[0].User != adminUser ||
		audit.Entries[0].Target != "frank" || !audit.Entries[0].OK {
		t.Fatalf("newest audit entry: %+v", audit.Entries)
	}
	// No authorizer: SECURITY_DISABLED, everyone is an admin.
	open := startConsole(t, Config{})
	open.mustJSON("GET", "/api/audit", nil, http.StatusOK, nil)
}
