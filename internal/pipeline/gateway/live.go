package gateway

// live.go streams a rider's updates to HTTP clients as Server-Sent Events
// (GET /v1/riders/{id}/live). All streams share one consumer (hub): a
// franz-go client without a group, reading every partition of the topic
// (with region partitioning a rider's updates may be on any of them) from
// its end. It starts when the first stream opens and stops when the last
// one closes. Records are dispatched by key (the rider id) to each stream's
// bounded channel; a stream that falls behind loses updates (counted), so
// it never holds up the others.
//
// A stream's updates come in their partition's order. By rider that is the
// order they were published in; by region, updates of a rider in two
// regions are on two partitions and may interleave out of order.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/publish"
	"github.com/courier-dev/courier/internal/pipeline/rider"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// errLiveClosed answers a subscriber after CloseLive.
var errLiveClosed = errors.New("live streams are closed: the gateway is shutting down")

// startTimeout bounds starting the consumer (listing the end offsets).
const startTimeout = 10 * time.Second

// writeTimeout bounds one write to a stream, so that a client that stops
// reading cannot hold its handler forever.
const writeTimeout = 30 * time.Second

// subscriber is one live stream.
type subscriber struct {
	id string
	ch chan []byte // record values, in consumption order
}

// hub is the shared consumer and its subscribers.
type hub struct {
	pub    *publish.Publisher
	opts   []kgo.Opt
	buffer int
	log    *slog.Logger

	mu      sync.Mutex
	subs    map[string]map[*subscriber]struct{} // by rider id
	n       int                                 // len of all sets in subs
	gen     uint64                              // generation of the running consumer; dispatch from others is dropped
	stop    context.CancelFunc                  // stops the running consumer; nil if none
	closed  bool
	closedC chan struct{} // closed by close: every stream ends

	runs    sync.WaitGroup // consumer goroutines
	dropped atomic.Int64
}

func newHub(pub *publish.Publisher, opts []kgo.Opt, buffer int, log *slog.Logger) *hub {
	return &hub{
		pub:     pub,
		opts:    opts,
		buffer:  buffer,
		log:     log,
		subs:    make(map[string]map[*subscriber]struct{}),
		closedC: make(chan struct{}),
	}
}

// subscribe registers a stream for rider id, starting the consumer if it is
// the first. Every update acknowledged after subscribe returns is delivered
// (unless the stream falls behind).
func (h *hub) subscribe(ctx context.Context, id string) (*subscriber, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return nil, errLiveClosed
	}
	if h.stop == nil {
		if err := h.start(ctx); err != nil {
			return nil, err
		}
	}
	s := &subscriber{id: id, ch: make(chan []byte, h.buffer)}
	set := h.subs[id]
	if set == nil {
		set = make(map[*subscriber]struct{})
		h.subs[id] = set
	}
	set[s] = struct{}{}
	h.n++
	return s, nil
}

// unsubscribe removes s, stopping the consumer if it was the last.
func (h *hub) unsubscribe(s *subscriber) {
	h.mu.Lock()
	defer h.mu.Unlock()
	set := h.subs[s.id]
	if _, ok := set[s]; !ok {
		return
	}
	delete(set, s)
	if len(set) == 0 {
		delete(h.subs, s.id)
	}
	h.n--
	if h.n == 0 {
		h.stopLocked()
	}
}

// start lists the topic's end offsets and starts a consumer there, so the
// start position is fixed before the first subscriber is told it is
// subscribed. Partitions added to the topic later are read from the next
// start. h.mu is held.
func (h *hub) start(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, startTimeout)
	defer cancel()
	topic := h.pub.Topic()
	ends, err := kadm.NewClient(h.pub.Client()).ListEndOffsets(ctx, topic)
	if err == nil {
		err = ends.Error()
	}
	if err != nil {
		return fmt.Errorf("list end offsets of %s: %w", topic, err)
	}
	offsets := ends.KOffsets()
	if len(offsets[topic]) == 0 {
		return fmt.Errorf("topic %s has no partitions", topic)
	}
	opts := append(slices.Clone(h.opts),
		kgo.ConsumePartitions(offsets),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtEnd()),
		kgo.FetchMaxWait(time.Second),
	)
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return fmt.Errorf("live consumer: %w", err)
	}
	runCtx, stop := context.WithCancel(context.Background())
	h.gen++
	h.stop = stop
	h.runs.Add(1)
	go h.run(runCtx, cl, h.gen)
	h.log.Debug("live consumer started", "topic", topic, "partitions", len(offsets[topic]))
	return nil
}

// stopLocked stops the running consumer, if any. h.mu is held.
func (h *hub) stopLocked() {
	if h.stop == nil {
		return
	}
	h.stop()
	h.stop = nil
	h.gen++
	h.log.Debug("live consumer stopping")
}

// run polls until ctx is cancelled, then closes cl.
func (h *hub) run(ctx context.Context, cl *kgo.Client, gen uint64) {
	defer h.runs.Done()
	defer cl.Close()
	for {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil || fs.IsClientClosed() {
			return
		}
		failed := false
		fs.EachError(func(t string, p int32, err error) {
			failed = true
			h.log.Warn("live consumer fetch", "topic", t, "partition", p, "err", err)
		})
		h.dispatch(gen, fs)
		if failed && fs.NumRecords() == 0 {
			select { // do not spin on a persistent error
			case <-ctx.Done():
				return
			case <-time.After(time.Second):
			}
		}
	}
}

// dispatch hands each record's value to the subscribers of its key,
// dropping it for a subscriber whose channel is full.
func (h *hub) dispatch(gen uint64, fs kgo.Fetches) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if gen != h.gen {
		return
	}
	fs.EachRecord(func(r *kgo.Record) {
		for s := range h.subs[string(r.Key)] {
			select {
			case s.ch <- r.Value:
			default:
				h.dropped.Add(1)
			}
		}
	})
}

// close ends every stream, stops the consumer and waits for it. Later
// subscribers get errLiveClosed. It is safe to call more than once.
func (h *hub) close() {
	h.mu.Lock()
	if !h.closed {
		h.closed = true
		close(h.closedC)
		h.stopLocked()
	}
	h.mu.Unlock()
	h.runs.Wait()
}

// stats returns the number of subscribers and of dropped updates.
func (h *hub) stats() (int, int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.n, h.dropped.Load()
}

// live handles GET /v1/riders/{id}/live: an event per update of the rider
// (data: the record's JSON value), a comment every KeepAlive. The stream
// opens with a comment once the subscription is in place.
func (g *Gateway) live(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if err := rider.ValidID(id); err != nil {
		writeError(w, http.StatusBadRequest, &rider.FieldError{Index: -1, Field: "rider_id", Msg: err.Error()})
		return
	}
	if r.Method == http.MethodHead {
		w.Header().Set("Content-Type", "text/event-stream")
		return
	}
	sub, err := g.hub.subscribe(r.Context(), id)
	if err != nil {
		w.Header().Set("Retry-After", fmt.Sprint(retryAfter))
		writeError(w, http.StatusServiceUnavailable, err)
		return
	}
	defer g.hub.unsubscribe(sub)

	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	defer rc.SetWriteDeadline(time.Time{}) //nolint:errcheck // the connection may be reused
	send := func(b []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(writeTimeout)) // unsupported by some writers
		if _, err := w.Write(b); err != nil {
			return false
		}
		return rc.Flush() == nil
	}
	if !send([]byte(": subscribed to rider " + id + "\n\n")) {
		return
	}
	keepAlive := time.NewTicker(g.cfg.KeepAlive)
	defer keepAlive.Stop()
	var buf []byte
	for {
		select {
		case <-r.Context().Done():
			return
		case <-g.hub.closedC:
			return
		case <-keepAlive.C:
			if !send([]byte(": keepalive\n\n")) {
				return
			}
		case v := <-sub.ch:
			buf = appendEvent(buf[:0], v)
			if !send(buf) {
				return
			}
		}
	}
}

// appendEvent appends an SSE event whose data is v; each line of v is a
// data line, as the SSE format requires.
func appendEvent(b, v []byte) []byte {
	for line := range bytes.SplitSeq(v, []byte("\n")) {
		b = append(b, "data: "...)
		b = append(b, bytes.TrimSuffix(line, []byte("\r"))...)
		b = append(b, '\n')
	}
	return append(b, '\n')
}
