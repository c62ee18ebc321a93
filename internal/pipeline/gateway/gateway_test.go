package gateway

// gateway_test.go drives the write routes against a real Courier broker:
// status codes, error bodies naming the field, and what reached the topic.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/rider"
	"github.com/courier-dev/courier/internal/testkit/testbroker"
)

// Points in each region of Bengaluru.
var (
	north = [2]float64{13.05, 77.6}
	south = [2]float64{12.88, 77.61}
	east  = [2]float64{12.97, 77.7}
	west  = [2]float64{12.96, 77.5}
)

// loc builds an expected update.
func loc(id string, p [2]float64, ts time.Time) rider.Location {
	return rider.Location{RiderID: id, Lat: p[0], Lon: p[1], TS: ts}
}

// obj is an update as a rider app sends it; ts is a JSON value or "" for none.
func obj(id string, p [2]float64, ts string) string {
	s := fmt.Sprintf(`{"rider_id":%q,"lat":%v,"lon":%v`, id, p[0], p[1])
	if ts != "" {
		s += `,"ts":` + ts
	}
	return s + "}"
}

func TestWrites(t *testing.T) {
	b := testbroker.Start(t)
	seeds := []string{b.Addr}
	const topic = "rider-updates"
	g, srv := startGateway(t, seeds, topic, func(c *Config) {
		c.MaxBodyBytes = 2048
		c.MaxBatch = 5
	})

	ts := time.Now().Add(-time.Minute).Truncate(time.Millisecond).UTC()
	rfc := `"` + ts.Format(time.RFC3339Nano) + `"`
	ms := fmt.Sprint(ts.UnixMilli())
	future := fmt.Sprint(time.Now().Add(time.Hour).UnixMilli())
	big := "[" + strings.Repeat(obj("r1", north, ms)+",", 60) + obj("r1", north, ms) + "]"

	cases := []struct {
		name, method, path, ctype, body string
		status                          int
		field, index                    string // "" when absent from the error
		errHas                          string
		want                            []rider.Location // on the topic after a 202
	}{
		{name: "array", method: "POST", path: "/v1/locations", ctype: "application/json",
			body:   "[" + obj("r1", north, rfc) + "," + obj("r2", south, ms) + "," + obj("r1", east, ms) + "]",
			status: 202, want: []rider.Location{loc("r1", north, ts), loc("r2", south, ts), loc("r1", east, ts)}},
		{name: "ndjson", method: "POST", path: "/v1/locations", ctype: "application/x-ndjson",
			body:   obj("r3", west, ms) + "\n\n" + obj("r3", north, "") + "\n",
			status: 202, want: []rider.Location{loc("r3", west, ts), loc("r3", north, time.Time{})}},
		{name: "json one object", method: "POST", path: "/v1/locations", ctype: "application/json",
			body: obj("r4", east, ms), status: 202, want: []rider.Location{loc("r4", east, ts)}},
		{name: "charset", method: "POST", path: "/v1/locations", ctype: "application/json; charset=utf-8",
			body: "[" + obj("r5", south, ms) + "]", status: 202, want: []rider.Location{loc("r5", south, ts)}},
		{name: "bad lat", method: "POST", path: "/v1/locations", ctype: "application/json",
			body:   "[" + obj("r1", north, ms) + `,{"rider_id":"r1","lat":91,"lon":77}]`,
			status: 400, field: "lat", index: "1", errHas: "locations[1].lat: must be between -90 and 90"},
		{name: "missing lon", method: "POST", path: "/v1/locations", ctype: "application/json",
			body: `{"rider_id":"r1","lat":12}`, status: 400, field: "lon", index: "0", errHas: "locations[0].lon: is required"},
		{name: "bad ts", method: "POST", path: "/v1/locations", ctype: "application/json",
			body: obj("r1", north, `"yesterday"`), status: 400, field: "ts", index: "0", errHas: "RFC 3339"},
		{name: "future ts", method: "POST", path: "/v1/locations", ctype: "application/json",
			body: obj("r1", north, future), status: 400, field: "ts", index: "0", errHas: "in the future"},
		{name: "bad rider id", method: "POST", path: "/v1/locations", ctype: "application/x-ndjson",
			body: obj("r1", north, ms) + "\n" + obj("r 2", north, ms), status: 400, field: "rider_id", index: "1"},
		{name: "lat type", method: "POST", path: "/v1/locations", ctype: "application/json",
			body: `[{"rider_id":"r1","lat":"12","lon":77}]`, status: 400, field: "lat", index: "0"},
		{name: "duplicate key", method: "POST", path: "/v1/locations", ctype: "application/json",
			body:   "[" + obj("r1", north, ms) + `,{"rider_id":"r1","lat":12,"lat":91,"lon":77}]`,
			status: 400, field: "lat", index: "1", errHas: "locations[1].lat: is given twice"},
		{name: "duplicate rider_id ndjson", method: "POST", path: "/v1/locations", ctype: "application/x-ndjson",
			body:   `{"rider_id":"r1","rider_id":"admin","lat":12,"lon":77}`,
			status: 400, field: "rider_id", index: "0", errHas: "given twice"},
		{name: "upper case key", method: "POST", path: "/v1/locations", ctype: "application/json",
			body:   `[{"RIDER_ID":"r1","lat":12,"lon":77}]`,
			status: 400, field: "RIDER_ID", index: "0", errHas: "is not a field"},
		{name: "unknown key", method: "POST", path: "/v1/locations", ctype: "application/json",
			body:   `{"rider_id":"r1","lat":12,"lon":77,"speed":3}`,
			status: 400, field: "speed", index: "0", errHas: "is not a field"},
		{name: "invalid JSON", method: "POST", path: "/v1/locations", ctype: "application/json", body: `[{"rider_id":`, status: 400, errHas: "invalid JSON"},
		{name: "empty body", method: "POST", path: "/v1/locations", ctype: "application/json", body: "", status: 400, errHas: "no locations"},
		{name: "empty array", method: "POST", path: "/v1/locations", ctype: "application/json", body: " [] ", status: 400, errHas: "no locations"},
		{name: "too many", method: "POST", path: "/v1/locations", ctype: "application/x-ndjson",
			body: strings.Repeat(obj("r1", north, ms)+"\n", 6), status: 400, errHas: "at most 5"},
		{name: "too large", method: "POST", path: "/v1/locations", ctype: "application/json", body: big, status: 413, errHas: "larger than 2048"},
		{name: "form type", method: "POST", path: "/v1/locations", ctype: "application/x-www-form-urlencoded",
			body: obj("r1", north, ms), status: 415, errHas: "Content-Type"},
		{name: "xml type", method: "POST", path: "/v1/locations", ctype: "application/xml",
			body: obj("r1", north, ms), status: 415, errHas: "application/xml"},
		{name: "put", method: "PUT", path: "/v1/riders/r6/location", ctype: "application/json",
			body: fmt.Sprintf(`{"lat":%v,"lon":%v,"ts":%s}`, west[0], west[1], rfc), status: 202,
			want: []rider.Location{loc("r6", west, ts)}},
		{name: "put same id", method: "PUT", path: "/v1/riders/r6/location", ctype: "application/json",
			body: obj("r6", east, ms), status: 202, want: []rider.Location{loc("r6", east, ts)}},
		{name: "put id mismatch", method: "PUT", path: "/v1/riders/r6/location", ctype: "application/json",
			body: obj("r7", east, ms), status: 400, field: "rider_id", errHas: `"r7" but the path says "r6"`},
		{name: "put bad path id", method: "PUT", path: "/v1/riders/r!6/location", ctype: "application/json",
			body: obj("r!6", east, ms), status: 400, field: "rider_id"},
		{name: "put bad lon", method: "PUT", path: "/v1/riders/r6/location", ctype: "application/json",
			body: `{"lat":12,"lon":-181}`, status: 400, field: "lon", errHas: "lon: must be between -180 and 180"},
		{name: "put empty", method: "PUT", path: "/v1/riders/r6/location", ctype: "application/json", status: 400, errHas: "no locations"},
		{name: "put array", method: "PUT", path: "/v1/riders/r6/location", ctype: "application/json", body: "[" + obj("r6", east, ms) + "]",
			status: 400, errHas: "one object"},
		{name: "put duplicate key", method: "PUT", path: "/v1/riders/r6/location", ctype: "application/json",
			body: `{"lat":12,"lon":77,"lon":78}`, status: 400, field: "lon", errHas: "lon: is given twice"},
		{name: "put upper case rider id", method: "PUT", path: "/v1/riders/r6/location", ctype: "application/json",
			body: `{"RIDER_ID":"r7","lat":12,"lon":77}`, status: 400, field: "RIDER_ID", errHas: "is not a field"},
		{name: "put ndjson type", method: "PUT", path: "/v1/riders/r6/location", ctype: "application/x-ndjson",
			body: obj("r6", north, ms) + "\n", status: 202, want: []rider.Location{loc("r6", north, ts)}},
		{name: "put too large", method: "PUT", path: "/v1/riders/r6/location", ctype: "application/json", body: big, status: 413},
		{name: "get locations", method: "GET", path: "/v1/locations", status: 405, errHas: "use POST"},
		{name: "post live", method: "POST", path: "/v1/riders/r1/live", ctype: "application/json", status: 405},
		{name: "unknown", method: "GET", path: "/v2/x", status: 404, errHas: "no route"},
	}
	var want []rider.Location
	var accepted, rejected, requests int64
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, tc.method, srv.URL+tc.path, tc.ctype, tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d; body %s", r.status, tc.status, r.body)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			var body map[string]any
			if err := json.Unmarshal([]byte(r.body), &body); err != nil {
				t.Fatalf("body %q: %v", r.body, err)
			}
			if tc.status == 202 {
				if body["accepted"] != float64(len(tc.want)) {
					t.Errorf("body %s, want accepted %d", r.body, len(tc.want))
				}
				return
			}
			msg, _ := body["error"].(string)
			if msg == "" || !strings.Contains(msg, tc.errHas) {
				t.Errorf("error %q, want it to contain %q", msg, tc.errHas)
			}
			if got, _ := body["field"].(string); got != tc.field {
				t.Errorf("field %q, want %q (body %s)", got, tc.field, r.body)
			}
			if got := body["index"]; (got == nil && tc.index != "") || (got != nil && fmt.Sprint(got) != tc.index) {
				t.Errorf("index %v, want %q (body %s)", got, tc.index, r.body)
			}
		})
		want = append(want, tc.want...)
		if tc.method == "POST" && tc.path == "/v1/locations" || tc.method == "PUT" {
			requests++
			if tc.status == 202 {
				accepted += int64(len(tc.want))
			} else {
				rejected++
			}
		}
	}
	if st := g.Stats(); st.Accepted != accepted || st.Rejected != rejected || st.Requests != requests {
		t.Errorf("stats %+v, want accepted %d rejected %d requests %d", st, accepted, rejected, requests)
	}
	checkRecords(t, consumeN(t, seeds, topic, len(want)), want)
}

func TestHealthzAndBrokerDown(t *testing.T) {
	b := testbroker.Start(t)
	g, srv := startGateway(t, []string{b.Addr}, "rider-updates", func(c *Config) {
		c.PublishTimeout = time.Second
	})
	if r := do(t, "GET", srv.URL+"/v1/healthz", "", ""); r.status != 200 || r.body != "ok\n" {
		t.Fatalf("healthz: %d %q", r.status, r.body)
	}
	if r := do(t, "POST", srv.URL+"/v1/locations", "application/x-ndjson", obj("r1", north, "")); r.status != 202 {
		t.Fatalf("POST before stop: %d %s", r.status, r.body)
	}

	b.Stop(t)
	start := time.Now()
	r := do(t, "POST", srv.URL+"/v1/locations", "application/x-ndjson", obj("r1", south, "")+"\n"+obj("r2", east, ""))
	if r.status != http.StatusServiceUnavailable {
		t.Fatalf("POST with the broker down: %d %s, want 503", r.status, r.body)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("503 took %v, want about the 1s publish timeout", d)
	}
	if r.header.Get("Retry-After") == "" || !strings.Contains(r.body, `"error":"publish: `) {
		t.Errorf("503 without Retry-After or error: %v %s", r.header, r.body)
	}
	if r := do(t, "PUT", srv.URL+"/v1/riders/r1/location", "application/json", `{"lat":12.9,"lon":77.6}`); r.status != 503 {
		t.Errorf("PUT with the broker down: %d %s", r.status, r.body)
	}
	if r := do(t, "GET", srv.URL+"/v1/healthz", "", ""); r.status != 503 || !strings.Contains(r.body, "cluster unreachable") {
		t.Errorf("healthz with the broker down: %d %s", r.status, r.body)
	}
	if st := g.Stats(); st.Accepted != 1 || st.Rejected != 2 || st.Requests != 3 {
		t.Errorf("stats %+v", st)
	}
}
