package server

// panic_test.go: a panic while serving a request (in the handler's ordered
// part, its reply, the response's encoding or an OnDone function) closes
// that connection only, is counted, and the server keeps serving.

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// panicHandler answers Metadata with the first topic's name as the cluster
// id, except that the topic names where to panic: "handle", "reply",
// "encode" or "done". Every request registers an OnDone that counts.
type panicHandler struct{ handled, done atomic.Int64 }

func (h *panicHandler) Versions(key int16) (int16, int16, bool) {
	return 0, 12, key == kmsg.Metadata.Int16()
}

func (h *panicHandler) Handle(_ context.Context, req *Request) Reply {
	h.handled.Add(1)
	req.OnDone(func() { h.done.Add(1) })
	r := req.Msg.(*kmsg.MetadataRequest)
	name := *r.Topics[0].Topic
	switch name {
	case "handle":
		var m map[string]int
		//lint:ignore SA5000 the nil map write is the point: a real runtime panic
		m["boom"]++
	case "done":
		req.OnDone(func() { panic("done") })
	}
	return func(context.Context) kmsg.Response {
		if name == "reply" {
			var s []int
			_ = s[len(name)] // index out of range
		}
		resp := r.ResponseKind().(*kmsg.MetadataResponse)
		resp.ClusterID = &name
		if name == "encode" {
			return panickyResponse{resp}
		}
		return resp
	}
}

// panickyResponse panics when encoded.
type panickyResponse struct{ *kmsg.MetadataResponse }

func (panickyResponse) AppendTo([]byte) []byte { panic("encode") }

func TestPanicClosesOnlyItsConnection(t *testing.T) {
	for _, where := range []string{"handle", "reply", "encode", "done"} {
		t.Run(where, func(t *testing.T) {
			h := &panicHandler{}
			obs := newCountingObserver()
			ln, _ := serveHandler(t, Config{Observer: obs}, h)
			bad := dial(t, ln)
			// A request before the panicking one is still answered.
			bad.c.Write(append(metadataFrame("first", 1), metadataFrame(where, 2)...))
			if corr, id := readClusterID(t, bad.c); corr != 1 || id != "first" {
				t.Fatalf("response before the panic: %d %q", corr, id)
			}
			if where == "done" {
				// The response went out before its OnDone panicked.
				if _, id := readClusterID(t, bad.c); id != "done" {
					t.Fatalf("response %q", id)
				}
			}
			bad.expectClosed()
			// Every request's OnDone runs, panic or not (after the
			// connection is closed).
			testwait.For(t, 5*time.Second, "both requests to finish", func() string {
				if n := h.done.Load(); n != 2 {
					return fmt.Sprintf("%d OnDone calls", n)
				}
				return ""
			})
			if n := obs.panicked(kmsg.Metadata.Int16()); n != 1 {
				t.Fatalf("%d panics counted, want 1", n)
			}
			good := dial(t, ln)
			good.c.Write(metadataFrame("after", 1))
			if _, id := readClusterID(t, good.c); id != "after" {
				t.Fatalf("another connection after the panic: %q", id)
			}
		})
	}
}

// TestPanicWithQueuedRequests: after a panic in a reply, the requests
// queued behind it are given up, each releasing what it held.
func TestPanicWithQueuedRequests(t *testing.T) {
	h := &panicHandler{}
	ln, s := serveHandler(t, Config{}, h)
	cl := dial(t, ln)
	var frames []byte
	frames = append(frames, metadataFrame("reply", 1)...)
	for i := range 5 {
		frames = append(frames, metadataFrame("queued", int32(i+2))...)
	}
	cl.c.Write(frames)
	cl.expectClosed()
	testwait.For(t, 5*time.Second, "the connection to give everything back", func() string {
		if s.Conns() != 0 || s.QueuedRequestBytes() != 0 || h.done.Load() != h.handled.Load() {
			return fmt.Sprintf("%d connections, %d queued bytes, %d of %d requests done",
				s.Conns(), s.QueuedRequestBytes(), h.done.Load(), h.handled.Load())
		}
		return ""
	})
}
