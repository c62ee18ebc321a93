package gateway

// live_test.go checks the live streams: a subscriber gets exactly its
// rider's updates in order, streams end on disconnect and on CloseLive, the
// shared consumer starts and stops with its subscribers, and a slow
// subscriber loses updates without holding up the others.

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kgo"
)

// stream is an open live stream whose lines arrive on lines.
type stream struct {
	lines  chan string
	cancel context.CancelFunc
	resp   *http.Response
}

// openStream GETs url and waits for the stream's opening comment.
func openStream(t *testing.T, url string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	req, _ := http.NewRequestWithContext(ctx, "GET", url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		cancel()
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, resp.Header)
	}
	s := &stream{lines: make(chan string, 100), cancel: cancel, resp: resp}
	go func() {
		defer close(s.lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() { cancel(); resp.Body.Close() })
	if l := s.next(t); !strings.HasPrefix(l, ": subscribed to rider ") {
		t.Fatalf("first line %q", l)
	}
	return s
}

// next returns the next non-blank line, failing after 10s.
func (s *stream) next(t *testing.T) string {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case l, ok := <-s.lines:
			if !ok {
				t.Fatal("stream ended")
			}
			if l != "" {
				return l
			}
		case <-timeout:
			t.Fatal("no line within 10s")
		}
	}
}

// event returns the next line that is not a keepalive.
func (s *stream) event(t *testing.T) string {
	t.Helper()
	for range 100 {
		if l := s.next(t); l != ": keepalive" {
			return l
		}
	}
	t.Fatal("only keepalives")
	return ""
}

// ended waits up to 10s for the stream to end.
func (s *stream) ended(t *testing.T) {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case _, ok := <-s.lines:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatal("stream still open after 10s")
		}
	}
}

// subscribers waits for the gateway to count n live subscribers.
func subscribers(t *testing.T, g *Gateway, n int) {
	t.Helper()
	testwait.For(t, 10*time.Second, fmt.Sprintf("%d live subscribers", n), func() string {
		if got := g.Stats().LiveSubscribers; got != n {
			return fmt.Sprintf("%d subscribers", got)
		}
		return ""
	})
}

func TestLive(t *testing.T) {
	b := testbroker.Start(t)
	g, srv := startGateway(t, []string{b.Addr}, "rider-updates", func(c *Config) { c.KeepAlive = 200 * time.Millisecond })
	ts := time.Now().Add(-time.Minute).Truncate(time.Millisecond).UTC()
	ms := fmt.Sprint(ts.UnixMilli())

	// An update published before the stream opens is not sent.
	if r := do(t, "POST", srv.URL+"/v1/locations", "application/x-ndjson", obj("A", north, ms)); r.status != 202 {
		t.Fatalf("POST: %d %s", r.status, r.body)
	}
	a := openStream(t, srv.URL+"/v1/riders/A/live")
	a2 := openStream(t, srv.URL+"/v1/riders/A/live")
	subscribers(t, g, 2)

	// A's updates are all north so that they share a partition and an order.
	var body strings.Builder
	var want []string
	for i := range 5 {
		p := [2]float64{north[0] + float64(i)/1000, north[1]}
		fmt.Fprintln(&body, obj("A", p, ms))
		fmt.Fprintln(&body, obj("B", south, ms))
		l := loc("A", p, ts)
		want = append(want, "data: "+string(l.AppendJSON(nil)))
	}
	if r := do(t, "POST", srv.URL+"/v1/locations", "application/x-ndjson", body.String()); r.status != 202 {
		t.Fatalf("POST: %d %s", r.status, r.body)
	}
	last := loc("A", north, ts) // north too: order holds within a partition
	if r := do(t, "PUT", srv.URL+"/v1/riders/A/location", "application/json", fmt.Sprintf(`{"lat":%v,"lon":%v,"ts":%s}`, north[0], north[1], ms)); r.status != 202 {
		t.Fatalf("PUT: %d %s", r.status, r.body)
	}
	want = append(want, "data: "+string(last.AppendJSON(nil)))
	for _, s := range []*stream{a, a2} {
		for i, w := range want {
			if l := s.event(t); l != w {
				t.Fatalf("event %d: %q, want %q", i, l, w)
			}
		}
	}
	// Keepalives flow on an idle stream.
	if l := a.next(t); l != ": keepalive" {
		t.Errorf("idle stream: %q, want a keepalive", l)
	}

	// A client going away ends its subscription; the last one stops the
	// consumer, and a new subscriber starts another.
	a.cancel()
	subscribers(t, g, 1)
	a2.cancel()
	subscribers(t, g, 0)
	testwait.For(t, 10*time.Second, "the live consumer to stop", func() string {
		g.hub.mu.Lock()
		defer g.hub.mu.Unlock()
		if g.hub.stop != nil {
			return "still running"
		}
		return ""
	})
	bs := openStream(t, srv.URL+"/v1/riders/B/live")
	if r := do(t, "PUT", srv.URL+"/v1/riders/B/location", "application/json", fmt.Sprintf(`{"lat":%v,"lon":%v,"ts":%s}`, west[0], west[1], ms)); r.status != 202 {
		t.Fatalf("PUT: %d %s", r.status, r.body)
	}
	wantB := loc("B", west, ts)
	if l := bs.event(t); l != "data: "+string(wantB.AppendJSON(nil)) {
		t.Errorf("B's stream: %q", l)
	}

	// CloseLive ends the open streams and refuses new ones.
	g.CloseLive()
	bs.ended(t)
	subscribers(t, g, 0)
	if r := do(t, "GET", srv.URL+"/v1/riders/B/live", "", ""); r.status != 503 || !strings.Contains(r.body, `"error"`) {
		t.Errorf("GET after CloseLive: %d %s", r.status, r.body)
	}
	if r := do(t, "GET", srv.URL+"/v1/riders/b%20b/live", "", ""); r.status != 400 || !strings.Contains(r.body, `"field":"rider_id"`) {
		t.Errorf("GET with a bad id: %d %s", r.status, r.body)
	}
}

func TestLiveSlowSubscriber(t *testing.T) {
	h := newHub(nil, nil, 2, slog.New(slog.DiscardHandler))
	slow := &subscriber{id: "a", ch: make(chan []byte, 2)}
	fast := &subscriber{id: "a", ch: make(chan []byte, 10)}
	other := &subscriber{id: "b", ch: make(chan []byte, 10)}
	h.subs["a"] = map[*subscriber]struct{}{slow: {}, fast: {}}
	h.subs["b"] = map[*subscriber]struct{}{other: {}}
	h.n = 3
	var recs []*kgo.Record
	for i := range 5 {
		recs = append(recs, &kgo.Record{Key: []byte("a"), Value: []byte{byte(i)}})
	}
	recs = append(recs, &kgo.Record{Key: []byte("b"), Value: []byte("b")}, &kgo.Record{Key: []byte("c")})
	fs := kgo.Fetches{{Topics: []kgo.FetchTopic{{Topic: "t", Partitions: []kgo.FetchPartition{{Records: recs}}}}}}

	done := make(chan struct{})
	go func() { h.dispatch(h.gen, fs); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("dispatch blocked on a full subscriber")
	}
	if len(slow.ch) != 2 || len(fast.ch) != 5 || len(other.ch) != 1 {
		t.Errorf("delivered slow %d fast %d other %d, want 2 5 1", len(slow.ch), len(fast.ch), len(other.ch))
	}
	for i := range 5 {
		if v := <-fast.ch; v[0] != byte(i) {
			t.Errorf("fast subscriber's update %d is %d", i, v[0])
		}
	}
	if n, dropped := h.stats(); n != 3 || dropped != 3 {
		t.Errorf("stats: %d subscribers, %d dropped; want 3, 3", n, dropped)
	}
	// A stopped consumer's late fetch is not dispatched.
	h.dispatch(h.gen-1, fs)
	if len(fast.ch) != 0 {
		t.Errorf("stale generation dispatched %d updates", len(fast.ch))
	}
}

func TestAppendEvent(t *testing.T) {
	for in, want := range map[string]string{
		`{"a":1}`:         "data: {\"a\":1}\n\n",
		"{\r\n\"a\":1\n}": "data: {\ndata: \"a\":1\ndata: }\n\n",
		"":                "data: \n\n",
	} {
		if got := string(appendEvent(nil, []byte(in))); got != want {
			t.Errorf("appendEvent(%q) = %q, want %q", in, got, want)
		}
	}
}
