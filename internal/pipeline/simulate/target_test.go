package simulate

// target_test.go checks GatewayTarget against an httptest server and the
// broker path end to end against a real test broker.

import (
	"context"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/publish"
	"github.com/courier-dev/courier/internal/pipeline/region"
	"github.com/courier-dev/courier/internal/pipeline/rider"
	"github.com/courier-dev/courier/internal/pipeline/ridersdb"
	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestGatewayTarget(t *testing.T) {
	var got atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/v1/locations" {
			http.Error(w, `{"error":"wrong route"}`, http.StatusNotFound)
			return
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/x-ndjson" {
			http.Error(w, `{"error":"content type `+ct+`"}`, http.StatusUnsupportedMediaType)
			return
		}
		locs, err := rider.ParseBatch(r.Body, rider.NDJSON, 10000, time.Now(), rider.DefaultLimits)
		if err != nil {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":"` + err.Error() + `"}`))
			return
		}
		if locs[0].Lat > 13 && locs[0].Lat < 13.0001 {
			http.Error(w, "plain text trouble", http.StatusServiceUnavailable)
			return
		}
		got.Add(int64(len(locs)))
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	ctx := t.Context()
	tg := GatewayTarget(srv.URL+"/", nil)
	ts := time.Now()
	ok := []rider.Location{{RiderID: "rider-1", Lat: 12.9, Lon: 77.6, TS: ts}, {RiderID: "rider-2", Lat: 12.95, Lon: 77.5, TS: ts}}
	if err := tg.Publish(ctx, ok); err != nil {
		t.Fatalf("202: %v", err)
	}
	if got.Load() != 2 {
		t.Errorf("gateway got %d", got.Load())
	}
	bad := []rider.Location{{RiderID: "rider-1", Lat: 95, Lon: 77.6, TS: ts}}
	err := tg.Publish(ctx, bad)
	if err == nil || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), "locations[0].lat: must be between -90 and 90") {
		t.Errorf("400: %v", err)
	}
	plain := []rider.Location{{RiderID: "rider-1", Lat: 13.00005, Lon: 77.6, TS: ts}}
	if err := tg.Publish(ctx, plain); err == nil || !strings.Contains(err.Error(), "plain text trouble") {
		t.Errorf("503: %v", err)
	}

	// Through Run.
	var st Stats
	got.Store(0)
	if _, err := runFor(t, Config{Riders: 100, Rate: 50000, Count: 2000, BatchSize: 250}, GatewayTarget(srv.URL, srv.Client()), &st); err != nil {
		t.Fatal(err)
	}
	if st.Sent.Load() != 2000 || got.Load() != 2000 {
		t.Errorf("sent %d, gateway got %d, want 2000", st.Sent.Load(), got.Load())
	}
}

func TestErrorMessage(t *testing.T) {
	for body, want := range map[string]string{
		`{"error":"bad lat"}`:                  "bad lat",
		`{"error":{"message":"nested","x":1}}`: "nested",
		`{"message":"plain field"}`:            "plain field",
		"  text\n":                             "text",
		"":                                     "(empty body)",
	} {
		if got := errorMessage([]byte(body)); got != want {
			t.Errorf("errorMessage(%q) = %q, want %q", body, got, want)
		}
	}
}

func TestBrokerEndToEnd(t *testing.T) {
	b := testbroker.Start(t)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	pub, err := publish.New(ctx, publish.Config{
		ClientOpts:  []kgo.Opt{kgo.SeedBrokers(b.Addr)},
		City:        region.Bengaluru,
		CreateTopic: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	const count = 5000
	var st Stats
	if err := Run(ctx, Config{Riders: 700, Rate: 50000, Count: count, Seed: 5}, pub, &st); err != nil {
		t.Fatal(err)
	}
	if st.Sent.Load() != count || st.Failed.Load() != 0 {
		t.Fatalf("sent %d failed %d", st.Sent.Load(), st.Failed.Load())
	}

	cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.ConsumeTopics(publish.DefaultTopic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	n := 0
	riders := map[string]bool{}
	parts := map[int32]int{}
	for n < count && ctx.Err() == nil {
		fs := cl.PollFetches(ctx)
		if err := fs.Err0(); err != nil && ctx.Err() == nil {
			t.Fatal(err)
		}
		fs.EachRecord(func(r *kgo.Record) {
			n++
			l, err := rider.Decode(r.Value)
			if err != nil {
				t.Fatalf("record %d: %v", r.Offset, err)
			}
			if string(r.Key) != l.RiderID {
				t.Errorf("key %q, rider %q", r.Key, l.RiderID)
			}
			if want := region.Bengaluru.Of(l.Lat, l.Lon); r.Partition != want {
				t.Errorf("%+v on partition %d, want %d", l, r.Partition, want)
			}
			riders[l.RiderID] = true
			parts[r.Partition]++
		})
	}
	if n != count {
		t.Fatalf("consumed %d records, want %d", n, count)
	}
	if len(riders) != 700 {
		t.Errorf("%d riders, want 700", len(riders))
	}
	if len(parts) != region.Count {
		t.Errorf("records per partition %v, want every region", parts)
	}
}

func TestDirectSQLite(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()
	db, err := ridersdb.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "riders.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var st Stats
	if err := Run(ctx, Config{Riders: 50, Rate: 5000, Count: 300}, DirectTarget(db), &st); err != nil {
		t.Fatal(err)
	}
	history, riders, err := db.Counts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if st.Sent.Load() != 300 || st.Failed.Load() != 0 || history != 300 || riders != 50 {
		t.Errorf("sent %d failed %d, database has %d rows of %d riders; want 300 of 50", st.Sent.Load(), st.Failed.Load(), history, riders)
	}
}

// TestWaitForGateway waits for a gateway that answers 503 (its cluster
// not up yet) a few times, then 200; and gives up, naming the last answer,
// on one that never gets ready.
func TestWaitForGateway(t *testing.T) {
	var asked atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/healthz" {
			http.NotFound(w, r)
			return
		}
		if asked.Add(1) <= 12 { // 3 s at WaitForGateway's pace
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"error":"cluster unreachable: dial refused"}`))
			return
		}
		w.Write([]byte("ok\n"))
	}))
	defer srv.Close()
	var waits []error
	if err := WaitForGateway(context.Background(), srv.URL+"/", 30*time.Second, func(err error) { waits = append(waits, err) }); err != nil {
		t.Fatalf("WaitForGateway: %v", err)
	}
	if len(waits) != 1 || !strings.Contains(waits[0].Error(), "cluster unreachable") || asked.Load() != 13 {
		t.Errorf("reported %v after %d requests, want one report and 13 requests", waits, asked.Load())
	}

	asked.Store(-1 << 40) // never ready
	u := strings.Replace(srv.URL, "http://", "http://rider:s3cretpw@", 1)
	err := WaitForGateway(context.Background(), u, 600*time.Millisecond, nil)
	if err == nil || !strings.Contains(err.Error(), "not ready within 600ms") || !strings.Contains(err.Error(), "cluster unreachable") || strings.Contains(err.Error(), "s3cretpw") {
		t.Errorf("a gateway never ready: %v", err)
	}
}
