package webconsole

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// sseEvent is one Server-Sent Event.
type sseEvent struct {
	name string
	data string
}

// openTail opens a live tail and returns its events; the stream closes
// when the test ends.
func openTail(t *testing.T, tc *testConsole, topic, query string) <-chan sseEvent {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "GET", tc.http.URL+"/api/topics/"+topic+"/tail?"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := tc.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("tail: status %d, content type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	events := make(chan sseEvent, 1<<16)
	go func() {
		defer close(events)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(nil, 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				ev.name = line[len("event: "):]
			case strings.HasPrefix(line, "data: "):
				ev.data = line[len("data: "):]
			case line == "" && ev.name != "":
				events <- ev
				ev = sseEvent{}
			}
		}
	}()
	return events
}

// nextEvent waits for the next event (not a record's, unless name is
// "record") named name.
func nextEvent(t *testing.T, events <-chan sseEvent, name string) sseEvent {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("stream ended waiting for %q", name)
			}
			if ev.name == name {
				return ev
			}
		case <-timeout:
			t.Fatalf("no %q event within 20 s", name)
		}
	}
}

// TestTail: the tail sends records written after it opened, filtered; it
// ends when the session ends.
func TestTail(t *testing.T) {
	tc := startConsole(t, Config{})
	seeds := []string{tc.broker.Addr}
	createTopic(t, seeds, "live", 2)
	produceTimed(t, seeds, "live", 0, 3) // before the tail: not sent
	id := clusterIDOf(t, tc)
	events := openTail(t, tc, "live", "key=wanted")
	ready := nextEvent(t, events, "ready")
	if !strings.Contains(ready.data, `"0":3`) {
		t.Fatalf("ready: %s", ready.data)
	}
	for _, key := range []string{"other", "wanted-1"} {
		produceREST(t, tc, id, "live", map[string]any{"partition_id": 1, "key": map[string]any{"type": "STRING", "data": key},
			"value": map[string]any{"type": "STRING", "data": "<img src=x onerror=alert(1)>"}}, http.StatusOK)
	}
	var m message
	if err := json.Unmarshal([]byte(nextEvent(t, events, "record").data), &m); err != nil {
		t.Fatal(err)
	}
	if m.Key.Data != "wanted-1" || m.Partition != 1 || m.Offset != 1 || m.Value.Data != "<img src=x onerror=alert(1)>" {
		t.Fatalf("tailed record: %+v", m)
	}
	// The session ends: so does the stream.
	tc.srv.ses.closeAll()
	if ev := nextEvent(t, events, "end"); !strings.Contains(ev.data, "session ended") {
		t.Fatalf("end: %s", ev.data)
	}
	tc.refreshSession()
	tc.mustJSON("GET", "/api/topics/missing/tail", nil, http.StatusNotFound, nil)
	tc.mustJSON("GET", "/api/topics/live/tail?partition=5", nil, http.StatusBadRequest, nil)
	tc.mustJSON("GET", "/api/topics/live/tail?key=(&key_regex=1", nil, http.StatusBadRequest, nil)
}

// TestTailSlowReader: a page that does not read keeps at most tailBuffer
// records waiting; the rest are dropped, and the stream says how many:
// every record is either sent or counted.
func TestTailSlowReader(t *testing.T) {
	tc := startConsole(t, Config{})
	seeds := []string{tc.broker.Addr}
	createTopic(t, seeds, "flood", 1)
	events := openTail(t, tc, "flood", "")
	nextEvent(t, events, "ready")
	// 40 MB of records: more than the connection's buffers hold while
	// the reader below is not reading.
	const n = 40_000
	cl, err := kgo.NewClient(kgo.SeedBrokers(seeds...), kgo.DefaultProduceTopic("flood"))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	val := []byte(strings.Repeat("x", 1000))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for range n {
		cl.Produce(ctx, &kgo.Record{Value: val}, nil)
	}
	if err := cl.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	var sent, dropped int64
	timeout := time.After(60 * time.Second)
	for sent+dropped < n {
		select {
		case ev := <-events:
			switch ev.name {
			case "record":
				sent++
			case "dropped":
				var d struct{ Count int64 }
				if err := json.Unmarshal([]byte(ev.data), &d); err != nil {
					t.Fatal(err)
				}
				dropped += d.Count
			}
		case <-timeout:
			t.Fatalf("after 60 s: %d sent, %d dropped of %d", sent, dropped, n)
		}
	}
	if dropped == 0 || sent+dropped != n {
		t.Fatalf("%d sent, %d dropped of %d: want some dropped, all accounted for", sent, dropped, n)
	}
	t.Logf("%d sent, %d dropped", sent, dropped)
}
