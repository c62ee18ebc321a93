package webconsole

// api_tail.go answers GET /api/topics/{topic}/tail: a live tail of a topic
// (or one partition, ?partition=N) as Server-Sent Events, with the
// filters of msgfilter.go. Events:
//   - "ready": the tail reads from the end offsets it names; every record
//     written after them is sent (or counted as dropped);
//   - "record": a record, in the shape of the browse endpoint;
//   - "dropped": {"count": N}: N records were left out because the page
//     read slower than the topic was written (the buffer between the
//     consumer and the page is bounded: tailBuffer records);
//   - "end": {"reason": ...}: the session ended; the stream closes.
//
// The stream ends when the client goes away, the session ends (sign-out,
// expiry) or the console shuts down; its consumer is closed then.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	// tailBuffer bounds the records waiting for a slow page.
	tailBuffer = 256
	// maxTails bounds the live tails of a console.
	maxTails = 64
	// tailPing is how often an idle stream gets a comment (keeps
	// proxies from closing it); tailCheck how often the session is
	// checked.
	tailPing  = 15 * time.Second
	tailCheck = time.Second
	// tailWriteTimeout drops a client that takes longer to accept a write.
	tailWriteTimeout = 10 * time.Second
)

// tailState counts the live tails.
type tailState struct{ live atomic.Int64 }

// tail answers GET /api/topics/{topic}/tail.
func (st *topicState) tail(c *call) error {
	topic := c.r.PathValue("topic")
	filter, err := parseFilter(c.r.URL.Query())
	if err != nil {
		return err
	}
	if st.tails.live.Add(1) > maxTails {
		st.tails.live.Add(-1)
		return &apiError{Status: http.StatusTooManyRequests, Code: 42900, Message: fmt.Sprintf("%d live tails already: close one first", maxTails)}
	}
	defer st.tails.live.Add(-1)
	ctx, cancel := c.timeout()
	defer cancel()
	_, bounds, err := c.topicBounds(ctx, topic)
	if err != nil {
		return err
	}
	offsets := map[int32]kgo.Offset{}
	ends := map[string]int64{}
	for p, b := range bounds {
		if ps := c.r.URL.Query().Get("partition"); ps != "" && ps != "all" && ps != strconv.Itoa(int(p)) {
			continue
		}
		offsets[p] = kgo.NewOffset().At(b.end)
		ends[strconv.Itoa(int(p))] = b.end
	}
	if len(offsets) == 0 {
		return badRequest("partition=%q: topic %s has partitions 0 to %d", c.r.URL.Query().Get("partition"), topic, len(bounds)-1)
	}
	cl, err := c.Kafka().NewClient(
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: offsets}),
		kgo.FetchMaxBytes(scanFetchMaxBytes), kgo.FetchMaxPartitionBytes(scanFetchMaxPartBytes),
		kgo.MaxConcurrentFetches(2),
	)
	if err != nil {
		return kafkaError("create a consumer", err)
	}
	defer cl.Close()

	sctx, stop := context.WithCancel(c.r.Context())
	defer stop()
	recs := make(chan *kgo.Record, tailBuffer)
	var dropped atomic.Int64
	done := make(chan error, 1)
	go func() { done <- tailConsume(sctx, cl, filter, recs, &dropped) }()

	w := &sseWriter{w: c.w, rc: http.NewResponseController(c.w)}
	c.w.Header().Set("Content-Type", "text/event-stream")
	c.w.Header().Set("Cache-Control", "no-store")
	c.w.Header().Set("X-Accel-Buffering", "no")
	c.w.WriteHeader(http.StatusOK)
	if err := w.event("ready", map[string]any{"topic": topic, "end_offsets": ends}); err != nil {
		return nil
	}
	ping := time.NewTicker(tailPing)
	defer ping.Stop()
	check := time.NewTicker(tailCheck)
	defer check.Stop()
	for {
		var err error
		select {
		case <-sctx.Done():
			return nil
		case cerr := <-done:
			if cerr != nil {
				_ = w.event("end", map[string]string{"reason": kafkaError("tail topic "+topic, cerr).Error()})
			}
			return nil
		case r := <-recs:
			err = w.event("record", messageOf(r))
		case <-ping.C:
			err = w.comment("ping")
		case <-check.C:
			// A script's request (HTTP Basic auth, or no cookie on a
			// console without sign-in) has no stored session to end.
			if !c.ses.basic && c.s.ses.get(c.ses.id, c.s.now()) == nil {
				_ = w.event("end", map[string]string{"reason": "the session ended: sign in again"})
				return nil
			}
		}
		if n := dropped.Swap(0); n > 0 && err == nil {
			err = w.event("dropped", map[string]int64{"count": n})
		}
		if err != nil {
			return nil // the client is gone or too slow: its stream ends
		}
	}
}

// tailConsume reads records until ctx ends, passing matches to recs and
// counting those recs had no room for. It returns a non-retriable error
// from the cluster (e.g. the user lost the right to read).
func tailConsume(ctx context.Context, cl *kgo.Client, filter *msgFilter, recs chan<- *kgo.Record, dropped *atomic.Int64) error {
	for {
		fetches := cl.PollRecords(ctx, 1000)
		if ctx.Err() != nil {
			return nil
		}
		for _, fe := range fetches.Errors() {
			if err := fatalFetchError(fe); err != nil {
				return err
			}
		}
		fetches.EachRecord(func(r *kgo.Record) {
			if !filter.match(r) {
				return
			}
			select {
			case recs <- r:
			default:
				dropped.Add(1)
			}
		})
	}
}

// sseWriter writes Server-Sent Events, each flushed at once and bounded in
// time.
type sseWriter struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

// event writes one event with v as its JSON data.
func (s *sseWriter) event(name string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.write("event: " + name + "\ndata: " + string(data) + "\n\n")
}

// comment writes a comment line (a keep-alive).
func (s *sseWriter) comment(text string) error { return s.write(": " + text + "\n\n") }

// write writes and flushes within tailWriteTimeout.
func (s *sseWriter) write(text string) error {
	_ = s.rc.SetWriteDeadline(time.Now().Add(tailWriteTimeout))
	if _, err := s.w.Write([]byte(text)); err != nil {
		return err
	}
	return s.rc.Flush()
}
