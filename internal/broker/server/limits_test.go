package server

// limits_test.go tests the memory bounds: the frame cap before SASL
// authentication, the broker-wide queued-request budget and the response
// write timeout.

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// countingObserver records the server's events.
type countingObserver struct {
	mu       sync.Mutex
	rejected map[string]int
	panics   map[int16]int
}

func newCountingObserver() *countingObserver {
	return &countingObserver{rejected: map[string]int{}, panics: map[int16]int{}}
}

func (o *countingObserver) RequestDone(int16, time.Duration, int, int) {}
func (o *countingObserver) ConnOpened()                                {}
func (o *countingObserver) ConnClosed()                                {}
func (o *countingObserver) FrameRejected(reason string) {
	o.mu.Lock()
	o.rejected[reason]++
	o.mu.Unlock()
}
func (o *countingObserver) RequestPanicked(key int16) {
	o.mu.Lock()
	o.panics[key]++
	o.mu.Unlock()
}
func (o *countingObserver) rejects(reason string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.rejected[reason]
}
func (o *countingObserver) panicked(key int16) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.panics[key]
}

// declare sends a frame header declaring size bytes and then body, the
// start of the frame's body; the server may close the connection before
// taking it all.
func (cl *client) declare(size uint32, body []byte) {
	cl.t.Helper()
	if _, err := cl.c.Write(binary.BigEndian.AppendUint32(nil, size)); err != nil {
		cl.t.Fatal(err)
	}
	cl.c.Write(body)
}

func TestFrameCapBeforeSASLAuthentication(t *testing.T) {
	obs := newCountingObserver()
	_, addr := startListener(t, Config{SASL: fakeSASL{}, Observer: obs}, saslListener())

	// A frame over 512 KiB before authentication closes the connection at
	// once, from its size alone (the read timeout is 30s).
	cl := dial(t, addr)
	cl.declare(512<<10+1, make([]byte, 1024))
	start := time.Now()
	cl.expectClosed()
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("closed after %s", d)
	}
	if n := obs.rejects(RejectTooLargeBeforeAuth); n != 1 {
		t.Fatalf("%d frames counted as too large before authentication, want 1", n)
	}

	// Authenticated, the same connection may send large requests: a
	// Metadata request of about 600 KiB is answered.
	cl = dial(t, addr)
	if r := cl.authenticate("FAKE", "alice:good", 1); r.ErrorCode != 0 {
		t.Fatalf("authenticate: %+v", r)
	}
	req := &kmsg.MetadataRequest{Version: 12}
	name := strings.Repeat("t", 200)
	for i := range 3000 {
		req.Topics = append(req.Topics, kmsg.MetadataRequestTopic{Topic: kmsg.StringPtr(fmt.Sprint(name, i))})
	}
	if n := len((&kmsg.RequestFormatter{}).AppendRequest(nil, req, 1)); n <= 512<<10 {
		t.Fatalf("test request is only %d bytes", n)
	}
	if resp, err := cl.roundTrip(req); err != nil || *resp.(*kmsg.MetadataResponse).ClusterID != "User:alice" {
		t.Fatalf("large request after authentication: %v", err)
	}
}

// TestDeclaredSizeBeforeAuthCostsNothing: 20 unauthenticated connections
// that each declare a 99 MB frame (the case, scaled down in what
// they send: 4 MiB each) are closed at its size, and what the server
// allocates grows neither with the declared size nor with what was sent.
func TestDeclaredSizeBeforeAuthCostsNothing(t *testing.T) {
	obs := newCountingObserver()
	_, addr := startListener(t, Config{SASL: fakeSASL{}, Observer: obs}, saslListener())
	body := make([]byte, 4<<20)
	for _, declared := range []uint32{1 << 20, 99 << 20} {
		var before, after runtimeMem
		before.read()
		var wg sync.WaitGroup
		for range 20 {
			cl := dial(t, addr)
			wg.Add(1)
			go func() {
				defer wg.Done()
				cl.declare(declared, body)
			}()
			cl.expectClosed()
		}
		wg.Wait()
		after.read()
		if grew := after.total - before.total; grew > 8<<20 {
			t.Fatalf("20 connections declaring %d bytes and sending 4 MiB each: %d bytes allocated", declared, grew)
		}
		t.Logf("20 connections declaring %d bytes, sending 4 MiB each: %d KiB allocated", declared, (after.total-before.total)>>10)
	}
	if n := obs.rejects(RejectTooLargeBeforeAuth); n != 40 {
		t.Fatalf("%d rejected frames counted, want 40", n)
	}
}

// TestQueuedBudgetBackpressure: once requests read but not answered fill
// the broker-wide budget, another connection's frame is not read until an
// answer gives bytes back.
func TestQueuedBudgetBackpressure(t *testing.T) {
	frameLen := len(metadataFrame("a", 1))
	h := &slowHandler{handled: make(chan string, 4), release: make(chan struct{})}
	ln, s := serveHandler(t, Config{MaxQueuedRequestBytes: int64(2*frameLen + frameLen/2)}, h)

	a := dial(t, ln)
	a.c.Write(append(metadataFrame("a", 1), metadataFrame("b", 2)...))
	for _, want := range []string{"a", "b"} {
		if got := <-h.handled; got != want {
			t.Fatalf("handled %s, want %s", got, want)
		}
	}
	b := dial(t, ln)
	b.c.Write(metadataFrame("c", 1))
	waitQueuedWait(t, s)
	if held := s.QueuedRequestBytes(); held != int64(2*(frameLen-4)) {
		t.Fatalf("budget holds %d bytes, want the two unanswered frames' %d", held, 2*(frameLen-4))
	}
	select {
	case got := <-h.handled:
		t.Fatalf("%s handled while the budget was full", got)
	default:
	}
	h.release <- struct{}{} // answers a
	if got := <-h.handled; got != "c" {
		t.Fatalf("handled %s, want c", got)
	}
	if corr, id := readClusterID(t, a.c); corr != 1 || id != "a" {
		t.Fatalf("response %d %s", corr, id)
	}
	h.release <- struct{}{}
	h.release <- struct{}{}
	readClusterID(t, a.c)
	if _, id := readClusterID(t, b.c); id != "c" {
		t.Fatalf("response %s, want c", id)
	}
	waitQueuedEmpty(t, s)
}

// TestFrameLargerThanBudgetProceedsAlone: a frame larger than the whole
// budget is read once nothing else holds any of it; it never deadlocks.
func TestFrameLargerThanBudgetProceedsAlone(t *testing.T) {
	big := strings.Repeat("x", 4096)
	h := &slowHandler{handled: make(chan string, 2), release: make(chan struct{})}
	ln, s := serveHandler(t, Config{MaxQueuedRequestBytes: 1024}, h)
	a := dial(t, ln)
	a.c.Write(metadataFrame(big, 1))
	if got := <-h.handled; got != big {
		t.Fatal("oversize frame not handled")
	}
	if held := s.QueuedRequestBytes(); held != 1024 {
		t.Fatalf("oversize frame holds %d bytes, want the whole budget", held)
	}
	b := dial(t, ln)
	b.c.Write(metadataFrame("small", 1))
	waitQueuedWait(t, s)
	h.release <- struct{}{}
	readClusterID(t, a.c)
	if got := <-h.handled; got != "small" {
		t.Fatalf("handled %q", got)
	}
	h.release <- struct{}{}
	readClusterID(t, b.c)
}

// TestStalledFramesDoNotPinBudget: clients that declare frames larger
// than the whole budget and stall hold only what they sent (plus a chunk),
// so other clients are still served at once, not after the read timeout.
func TestStalledFramesDoNotPinBudget(t *testing.T) {
	const budget = 4 << 20
	s, addr := startListener(t, Config{MaxQueuedRequestBytes: budget}, ListenerConfig{Name: Plaintext})
	for range 16 {
		cl := dial(t, addr)
		cl.declare(64<<20, make([]byte, 1024))
	}
	// Each holds the one chunk it started: 2 MiB in all, not the budget.
	testwait.For(t, 5*time.Second, "every stalled frame to start", func() string {
		if held := s.QueuedRequestBytes(); held != 16*readChunk {
			return fmt.Sprintf("%d bytes held", held)
		}
		return ""
	})
	start := time.Now()
	if _, err := dial(t, addr).whoami(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("a small request waited %s behind stalled frames", d)
	}
}

// TestFramesLargerThanBudgetComplete: concurrent frames each three times
// the budget are all read and answered: frames half read never wait on
// one another forever.
func TestFramesLargerThanBudgetComplete(t *testing.T) {
	const budget = 1 << 20
	s, addr := startListener(t, Config{MaxQueuedRequestBytes: budget}, ListenerConfig{Name: Plaintext})
	req := &kmsg.MetadataRequest{Version: 12, Topics: []kmsg.MetadataRequestTopic{{Topic: kmsg.StringPtr(strings.Repeat("x", 3<<20))}}}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		cl := dial(t, addr)
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := cl.roundTrip(req); err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	waitQueuedEmpty(t, s)
}

// waitQueuedWait waits until a reader has waited for the queued-request
// budget.
func waitQueuedWait(t *testing.T, s *Server) {
	t.Helper()
	testwait.For(t, 5*time.Second, "a reader to wait for the budget", func() string {
		if s.QueuedRequestWaits() == 0 {
			return "no wait yet"
		}
		return ""
	})
}

// waitQueuedEmpty waits until no request holds any of the budget.
func waitQueuedEmpty(t *testing.T, s *Server) {
	t.Helper()
	testwait.For(t, 5*time.Second, "the budget to empty", func() string {
		if n := s.QueuedRequestBytes(); n != 0 {
			return fmt.Sprintf("%d bytes held", n)
		}
		return ""
	})
}

// bigReplyHandler answers Metadata with a cluster id of n bytes and
// signals done once the server has finished with the response.
type bigReplyHandler struct {
	n    int
	done chan struct{}
}

func (h *bigReplyHandler) Versions(key int16) (int16, int16, bool) {
	return 0, 12, key == kmsg.Metadata.Int16()
}

func (h *bigReplyHandler) Handle(_ context.Context, req *Request) Reply {
	req.OnDone(func() { close(h.done) })
	resp := req.Msg.ResponseKind().(*kmsg.MetadataResponse)
	resp.ClusterID = kmsg.StringPtr(strings.Repeat("z", h.n))
	return Immediate(resp)
}

// TestStalledReaderCutOff: a client that stops reading its responses is
// disconnected after the write timeout, and the response's OnDone runs
// (releasing what it held).
func TestStalledReaderCutOff(t *testing.T) {
	h := &bigReplyHandler{n: 32 << 20, done: make(chan struct{})}
	ln, _ := serveHandler(t, Config{WriteTimeout: 300 * time.Millisecond}, h)
	cl := dial(t, ln)
	cl.c.Write(metadataFrame("x", 1))
	select {
	case <-h.done:
	case <-time.After(10 * time.Second):
		t.Fatal("response to a client that stopped reading still held after 10s")
	}
	cl.expectClosedAfterDraining()
}

// expectClosedAfterDraining reads and discards until the server closes.
func (cl *client) expectClosedAfterDraining() {
	cl.t.Helper()
	cl.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 1<<20)
	for {
		if _, err := cl.c.Read(buf); err != nil {
			if strings.Contains(err.Error(), "timeout") {
				cl.t.Fatal("connection not closed")
			}
			return
		}
	}
}

// serveHandler serves h with cfg on a loopback PLAINTEXT listener.
func serveHandler(t *testing.T, cfg Config, h Handler) (string, *Server) {
	t.Helper()
	s, addr := serveWith(t, cfg, h, ListenerConfig{Name: Plaintext})
	return addr, s
}

// serveWith serves h with cfg on a loopback listener configured as l,
// until the test ends.
func serveWith(t *testing.T, cfg Config, h Handler, l ListenerConfig) (*Server, string) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := New(cfg, h)
	go s.ServeListener(ln, l)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return s, ln.Addr().String()
}
