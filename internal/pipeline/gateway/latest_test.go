package gateway

// latest_test.go drives GET /v1/riders/{id}/location against a real
// Courier broker: read-your-writes after a 202, the newest location wins,
// 404 and 400, what reaches rider-latest, a restarted gateway answering
// from the topic, a second gateway's writes followed, tombstones and bad
// records, and the bounded map.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/latest"
	"github.com/courier-dev/courier/internal/pipeline/rider"
	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// waitLoaded waits up to 30s for g to have read rider-latest.
func waitLoaded(t *testing.T, g *Gateway) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	if err := g.WaitLoaded(ctx); err != nil {
		t.Fatal(err)
	}
}

// getLoc GETs a rider's location, expecting status; on 200 it returns
// the body.
func getLoc(t *testing.T, base, id string, status int) string {
	t.Helper()
	r := do(t, "GET", base+"/v1/riders/"+id+"/location", "", "")
	if r.status != status {
		t.Fatalf("GET %s: %d %s, want %d", id, r.status, r.body, status)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("GET %s: Content-Type %q", id, ct)
	}
	return r.body
}

// jsonOf is a location's record value as a GET answers it.
func jsonOf(l rider.Location) string { return string(l.AppendJSON(nil)) + "\n" }

func TestLocationReadYourWrites(t *testing.T) {
	b := testbroker.Start(t)
	seeds := []string{b.Addr}
	_, srv := startGateway(t, seeds, "rider-updates", nil)
	ts := time.Now().Add(-time.Minute).Truncate(time.Millisecond).UTC()
	ms := func(d time.Duration) string { return fmt.Sprint(ts.Add(d).UnixMilli()) }

	// r1's newest in the batch is the east one, although a west one
	// (older) comes after it.
	batch := "[" + obj("r1", north, ms(0)) + "," + obj("r2", south, ms(time.Second)) + "," +
		obj("r1", east, ms(2*time.Second)) + "," + obj("r1", west, ms(time.Second)) + "]"
	if r := do(t, "POST", srv.URL+"/v1/locations", "application/json", batch); r.status != 202 {
		t.Fatalf("POST: %d %s", r.status, r.body)
	}
	// No wait: the 202 means the map holds them.
	if got, want := getLoc(t, srv.URL, "r1", 200), jsonOf(loc("r1", east, ts.Add(2*time.Second))); got != want {
		t.Errorf("GET r1 after POST: %s, want %s", got, want)
	}
	if got, want := getLoc(t, srv.URL, "r2", 200), jsonOf(loc("r2", south, ts.Add(time.Second))); got != want {
		t.Errorf("GET r2 after POST: %s, want %s", got, want)
	}
	put := func(p [2]float64, d time.Duration) {
		t.Helper()
		if r := do(t, "PUT", srv.URL+"/v1/riders/r1/location", "application/json", fmt.Sprintf(`{"lat":%v,"lon":%v,"ts":%s}`, p[0], p[1], ms(d))); r.status != 202 {
			t.Fatalf("PUT: %d %s", r.status, r.body)
		}
	}
	put(west, 3*time.Second)
	if got, want := getLoc(t, srv.URL, "r1", 200), jsonOf(loc("r1", west, ts.Add(3*time.Second))); got != want {
		t.Errorf("GET r1 after PUT: %s, want %s", got, want)
	}
	// An older update is history, not the rider's latest.
	put(north, -time.Minute)
	if got, want := getLoc(t, srv.URL, "r1", 200), jsonOf(loc("r1", west, ts.Add(3*time.Second))); got != want {
		t.Errorf("GET r1 after an older PUT: %s, want %s", got, want)
	}

	var e errorBody
	if err := json.Unmarshal([]byte(getLoc(t, srv.URL, "nobody", 404)), &e); err != nil || !strings.Contains(e.Error, "rider nobody: no location known") {
		t.Errorf("404 body: %+v %v", e, err)
	}
	if err := json.Unmarshal([]byte(getLoc(t, srv.URL, "r!1", 400)), &e); err != nil || e.Field != "rider_id" {
		t.Errorf("400 body: %+v %v", e, err)
	}
	if r := do(t, "DELETE", srv.URL+"/v1/riders/r1/location", "", ""); r.status != 405 || r.header.Get("Allow") != "GET, HEAD, PUT" {
		t.Errorf("DELETE: %d Allow %q", r.status, r.header.Get("Allow"))
	}

	// rider-latest got r1 east and r2 from the batch, r1 west from the
	// first PUT, nothing of the older PUT; rider-updates got all 6.
	recs := consumeN(t, seeds, "rider-latest", 3)
	var got []string
	for _, r := range recs {
		got = append(got, string(r.Value))
	}
	want := []string{jsonOf(loc("r1", east, ts.Add(2*time.Second))), jsonOf(loc("r1", west, ts.Add(3*time.Second))), jsonOf(loc("r2", south, ts.Add(time.Second)))}
	for i := range want {
		want[i] = strings.TrimSuffix(want[i], "\n")
	}
	// r1's two records share a partition and so keep their order.
	if strings.Join(sortedByKey(recs), "\n") != strings.Join(want, "\n") {
		t.Errorf("rider-latest holds\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	consumeN(t, seeds, "rider-updates", 6)

	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	rcs, err := kadm.NewClient(cl).DescribeTopicConfigs(t.Context(), "rider-latest")
	if err != nil {
		t.Fatal(err)
	}
	rc, _ := rcs.On("rider-latest", nil)
	cfg := map[string]string{}
	for _, c := range rc.Configs {
		cfg[c.Key] = c.MaybeValue()
	}
	if cfg["cleanup.policy"] != "compact" || cfg["segment.ms"] != latest.SegmentMs {
		t.Errorf("rider-latest created with cleanup.policy=%q segment.ms=%q", cfg["cleanup.policy"], cfg["segment.ms"])
	}
}

// sortedByKey returns the records' values ordered by key, each key's in
// consumption order.
func sortedByKey(recs []*kgo.Record) []string {
	byKey := map[string][]string{}
	var keys []string
	for _, r := range recs {
		if _, ok := byKey[string(r.Key)]; !ok {
			keys = append(keys, string(r.Key))
		}
		byKey[string(r.Key)] = append(byKey[string(r.Key)], string(r.Value))
	}
	var out []string
	for _, k := range sortedWords(keys) {
		out = append(out, byKey[k]...)
	}
	return out
}

func sortedWords(w []string) []string {
	out := append([]string(nil), w...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
}

// TestLocationAfterRestart: a gateway started after another one closed
// answers the riders posted to it, read from rider-latest; one running
// beside another answers the other's writes once it has read them; a
// tombstone forgets a rider; a foreign record is skipped and counted.
func TestLocationAfterRestart(t *testing.T) {
	b := testbroker.Start(t)
	seeds := []string{b.Addr}
	ts := time.Now().Add(-time.Minute).Truncate(time.Millisecond).UTC()
	ms := fmt.Sprint(ts.UnixMilli())

	first, srv1 := startGateway(t, seeds, "rider-updates", nil)
	body := obj("a1", north, ms) + "\n" + obj("a2", south, ms) + "\n" + obj("a3", west, ms)
	if r := do(t, "POST", srv1.URL+"/v1/locations", "application/x-ndjson", body); r.status != 202 {
		t.Fatalf("POST: %d %s", r.status, r.body)
	}
	srv1.Close()
	first.Close()

	second, srv2 := startGateway(t, seeds, "rider-updates", nil)
	waitLoaded(t, second)
	for id, p := range map[string][2]float64{"a1": north, "a2": south, "a3": west} {
		if got, want := getLoc(t, srv2.URL, id, 200), jsonOf(loc(id, p, ts)); got != want {
			t.Errorf("restarted: GET %s: %s, want %s", id, got, want)
		}
	}
	if st := second.Stats(); st.LatestRiders != 3 || !st.LatestLoaded {
		t.Errorf("restarted: stats %+v", st)
	}

	// A third gateway beside the second: its writes reach the second
	// through the topic.
	_, srv3 := startGateway(t, seeds, "rider-updates", nil)
	if r := do(t, "PUT", srv3.URL+"/v1/riders/a4/location", "application/json", `{"lat":12.9,"lon":77.6}`); r.status != 202 {
		t.Fatalf("PUT to the third: %d %s", r.status, r.body)
	}
	testwait.For(t, 30*time.Second, "the second gateway to answer a4", func() string {
		if r := do(t, "GET", srv2.URL+"/v1/riders/a4/location", "", ""); r.status != 200 {
			return fmt.Sprintf("%d %s", r.status, r.body)
		}
		return ""
	})

	// A tombstone for a1 (erasing a rider), and a record of a1's that is
	// not a location.
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.DefaultProduceTopic("rider-latest"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.ProduceSync(t.Context(), &kgo.Record{Key: []byte("a2"), Value: []byte(`{"rider_id":"a3","lat":1,"lon":2,"ts":3}`)},
		&kgo.Record{Key: []byte("a1")}).FirstErr(); err != nil {
		t.Fatal(err)
	}
	testwait.For(t, 30*time.Second, "a1 forgotten", func() string {
		if r := do(t, "GET", srv2.URL+"/v1/riders/a1/location", "", ""); r.status != 404 {
			return fmt.Sprintf("%d %s", r.status, r.body)
		}
		return ""
	})
	if got, want := getLoc(t, srv2.URL, "a2", 200), jsonOf(loc("a2", south, ts)); got != want {
		t.Errorf("after a foreign record keyed a2: %s, want %s", got, want)
	}
	if st := second.Stats(); st.LatestInvalid != 1 {
		t.Errorf("stats %+v, want 1 invalid", st)
	}
}

// TestLocationMapFull: at MaxRiders, a new rider is published but not
// held, its GET says why it is 404, and held riders keep moving.
func TestLocationMapFull(t *testing.T) {
	b := testbroker.Start(t)
	g, srv := startGateway(t, []string{b.Addr}, "rider-updates", func(c *Config) { c.MaxRiders = 2 })
	waitLoaded(t, g)
	if r := do(t, "POST", srv.URL+"/v1/locations", "application/x-ndjson", obj("f1", north, "")+"\n"+obj("f2", north, "")+"\n"+obj("f3", north, "")); r.status != 202 {
		t.Fatalf("POST: %d %s", r.status, r.body)
	}
	// The acknowledgements come in any order: which two are held is not
	// known, only that one is not.
	var held []string
	for _, id := range []string{"f1", "f2", "f3"} {
		r := do(t, "GET", srv.URL+"/v1/riders/"+id+"/location", "", "")
		switch {
		case r.status == 200:
			held = append(held, id)
		case r.status != 404 || !strings.Contains(r.body, "at most 2 riders and is full"):
			t.Errorf("GET %s: %d %s", id, r.status, r.body)
		}
	}
	if len(held) != 2 {
		t.Fatalf("held %v, want two riders", held)
	}
	ts := time.Now().Truncate(time.Millisecond).UTC()
	if r := do(t, "PUT", srv.URL+"/v1/riders/"+held[0]+"/location", "application/json", obj(held[0], east, fmt.Sprint(ts.UnixMilli()))); r.status != 202 {
		t.Fatalf("PUT: %d %s", r.status, r.body)
	}
	if got, want := getLoc(t, srv.URL, held[0], 200), jsonOf(loc(held[0], east, ts)); got != want {
		t.Errorf("GET %s: %s, want %s", held[0], got, want)
	}
	if st := g.Stats(); st.LatestRiders != 2 || st.LatestUntracked < 1 {
		t.Errorf("stats %+v", st)
	}
}

// TestLocationWhileLoading: until rider-latest is read, GET answers 503
// with Retry-After rather than a 404 that may be wrong.
func TestLocationWhileLoading(t *testing.T) {
	g := &Gateway{riders: newRiders(10, nil), reader: &latest.Reader{}}
	g.cfg.Publish.LatestTopic = "rider-latest"
	w := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/v1/riders/r1/location", nil)
	req.SetPathValue("id", "r1")
	g.getLocation(w, req)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" || !strings.Contains(w.Body.String(), "not loaded yet") {
		t.Errorf("GET while loading: %d %v %s", w.Code, w.Header(), w.Body)
	}
}
