package gateway

// helpers_test.go starts gateways against test clusters and reads back
// what they published.

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/publish"
	"github.com/courier-dev/courier/internal/pipeline/region"
	"github.com/courier-dev/courier/internal/pipeline/rider"
	"github.com/twmb/franz-go/pkg/kgo"
)

// startGateway runs a gateway publishing to topic on seeds, served by an
// httptest server; both end with the test.
func startGateway(t *testing.T, seeds []string, topic string, mutate func(*Config)) (*Gateway, *httptest.Server) {
	t.Helper()
	cfg := Config{Publish: publish.Config{
		ClientOpts:  []kgo.Opt{kgo.SeedBrokers(seeds...)},
		Topic:       topic,
		City:        region.Bengaluru,
		Mode:        region.ByRegion,
		CreateTopic: true,
	}}
	if mutate != nil {
		mutate(&cfg)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	g, err := New(ctx, cfg)
	if err != nil {
		t.Fatalf("gateway.New: %v", err)
	}
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(func() {
		g.CloseLive()
		srv.Close()
		g.Close()
	})
	return g, srv
}

// response is an answer's status, headers and body.
type response struct {
	status int
	header http.Header
	body   string
}

// do sends a request with a 30s bound and reads the whole answer.
func do(t *testing.T, method, url, ctype, body string) response {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: read body: %v", method, url, err)
	}
	return response{resp.StatusCode, resp.Header, string(b)}
}

// consumeN reads n records of topic from the start of every partition,
// failing the test if they do not arrive within 30s.
func consumeN(t *testing.T, seeds []string, topic string, n int) []*kgo.Record {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	var out []*kgo.Record
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("consumed %d of %d records of %s: %v", len(out), n, topic, ctx.Err())
		}
		fs.EachError(func(_ string, p int32, err error) { t.Logf("fetch partition %d: %v", p, err) })
		out = append(out, fs.Records()...)
	}
	// Anything more is a record that should not have been published.
	extra, cancel2 := context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel2()
	if more := cl.PollFetches(extra).Records(); len(more) > 0 || len(out) > n {
		t.Errorf("consumed %d records of %s, want %d", len(out)+len(more), topic, n)
	}
	return out
}

// checkRecords compares records published by region with the updates
// expected on them, in publishing order: key, partition (region.Bengaluru.Of)
// and value, and the order within each partition. A zero TS in want means
// "stamped by the gateway" and is only checked to be recent.
func checkRecords(t *testing.T, recs []*kgo.Record, want []rider.Location) {
	t.Helper()
	if len(recs) != len(want) {
		t.Fatalf("%d records, want %d", len(recs), len(want))
	}
	byPart := map[int32][]*kgo.Record{}
	for _, r := range recs {
		byPart[r.Partition] = append(byPart[r.Partition], r)
	}
	next := map[int32]int{}
	for i, w := range want {
		p := region.Bengaluru.Of(w.Lat, w.Lon)
		k := next[p]
		if k >= len(byPart[p]) {
			t.Fatalf("want[%d] %+v: partition %d has only %d records", i, w, p, len(byPart[p]))
		}
		r := byPart[p][k]
		next[p]++
		got, err := rider.Decode(r.Value)
		if err != nil {
			t.Fatalf("partition %d record %d: %v (%s)", p, k, err, r.Value)
		}
		if string(r.Key) != w.RiderID || got.RiderID != w.RiderID || got.Lat != w.Lat || got.Lon != w.Lon {
			t.Errorf("want[%d] on partition %d: got key %q value %s, want %+v", i, p, r.Key, r.Value, w)
		}
		if w.TS.IsZero() {
			if d := time.Since(got.TS); d < 0 || d > time.Minute {
				t.Errorf("want[%d]: gateway-stamped ts %v is not recent", i, got.TS)
			}
		} else if !got.TS.Equal(w.TS) {
			t.Errorf("want[%d]: ts %v, want %v", i, got.TS, w.TS)
		}
	}
}

// checkLatest compares the records of rider-latest with the locations
// expected there (one per rider, in any order): key, value, and the
// partition of the key's hash.
func checkLatest(t *testing.T, recs []*kgo.Record, want []rider.Location) {
	t.Helper()
	byRider := map[string]rider.Location{}
	for _, w := range want {
		byRider[w.RiderID] = w
	}
	if len(recs) != len(byRider) {
		t.Fatalf("%d records on rider-latest, want %d", len(recs), len(byRider))
	}
	for _, r := range recs {
		w, ok := byRider[string(r.Key)]
		if !ok {
			t.Errorf("rider-latest record for %q, not expected", r.Key)
			continue
		}
		delete(byRider, string(r.Key))
		if want := string(w.AppendJSON(nil)); string(r.Value) != want {
			t.Errorf("rider-latest %s: %s, want %s", r.Key, r.Value, want)
		}
		if p := region.KeyPartition(w.RiderID, 4); r.Partition != p {
			t.Errorf("rider-latest %s on partition %d, want %d (its key's hash)", r.Key, r.Partition, p)
		}
	}
}
