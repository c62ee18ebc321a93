package gateway

// content_type_test.go checks the one content-type rule of both write
// routes: application/json and application/x-ndjson (charset utf-8 or
// none) are accepted, anything else, a missing type included, is refused
// with 415 naming the accepted types, and the type decides how the body is
// read.

import (
	"strings"
	"testing"

	"github.com/courier-dev/courier/internal/testkit/testbroker"
)

func TestContentTypes(t *testing.T) {
	b := testbroker.Start(t)
	g, srv := startGateway(t, []string{b.Addr}, "rider-updates", nil)
	routes := []struct{ method, path, body string }{
		{"POST", "/v1/locations", obj("r1", north, "")},
		{"PUT", "/v1/riders/r1/location", `{"lat":12.9,"lon":77.6}`},
	}
	types := []struct {
		ctype  string
		status int
		errHas string
	}{
		{"application/json", 202, ""},
		{"application/json; charset=utf-8", 202, ""},
		{"application/json;charset=UTF-8", 202, ""},
		{"Application/JSON", 202, ""},
		{"application/x-ndjson", 202, ""},
		{"application/x-ndjson; charset=utf-8", 202, ""},
		{"", 415, "Content-Type missing"},
		{"text/plain", 415, "text/plain is not accepted"},
		{"text/plain; charset=utf-8", 415, "text/plain is not accepted"},
		{"application/jsonl", 415, "application/jsonl is not accepted"},
		{"application/x-www-form-urlencoded", 415, "curl -H 'Content-Type: application/json'"},
		{"application/json; charset=iso-8859-1", 415, "charset iso-8859-1 is not accepted"},
		{"application/json; =", 415, "malformed"},
	}
	var accepted int64
	for _, rt := range routes {
		for _, tc := range types {
			t.Run(rt.method+" "+tc.ctype, func(t *testing.T) {
				r := do(t, rt.method, srv.URL+rt.path, tc.ctype, rt.body)
				if r.status != tc.status {
					t.Fatalf("status %d, want %d; body %s", r.status, tc.status, r.body)
				}
				if tc.status == 202 {
					accepted++
					return
				}
				if !strings.Contains(r.body, tc.errHas) {
					t.Errorf("error %s, want it to contain %q", r.body, tc.errHas)
				}
				if !strings.Contains(tc.errHas, "charset") && !(strings.Contains(r.body, "application/json") && strings.Contains(r.body, "application/x-ndjson")) {
					t.Errorf("error %s does not name the accepted types", r.body)
				}
			})
		}
	}
	// The type, not the body's first byte, decides how a body is read.
	two := obj("r2", south, "") + "\n" + obj("r3", east, "")
	for _, tc := range []struct {
		name, method, path, ctype, body string
		status                          int
		errHas                          string
	}{
		{"json holding ndjson", "POST", "/v1/locations", "application/json", two, 400, "application/x-ndjson"},
		{"ndjson holding an array", "POST", "/v1/locations", "application/x-ndjson", "[" + obj("r2", south, "") + "]", 400, "one object"},
		{"ndjson of two", "POST", "/v1/locations", "application/x-ndjson", two, 202, ""},
		{"put ndjson of two", "PUT", "/v1/riders/r2/location", "application/x-ndjson", `{"lat":1,"lon":2}` + "\n" + `{"lat":1,"lon":2}`, 400, "invalid JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, tc.method, srv.URL+tc.path, tc.ctype, tc.body)
			if r.status != tc.status || !strings.Contains(r.body, tc.errHas) {
				t.Fatalf("%d %s, want %d with %q", r.status, r.body, tc.status, tc.errHas)
			}
			if r.status == 202 {
				accepted += 2
			}
		})
	}
	if st := g.Stats(); st.Accepted != accepted {
		t.Errorf("accepted %d updates, want %d", st.Accepted, accepted)
	}
}
