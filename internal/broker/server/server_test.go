package server

import (
	"context"
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// slowHandler answers Metadata requests with the request's first topic as
// the cluster id, each reply waiting until its turn is released, so tests
// control completion order.
type slowHandler struct {
	handled chan string   // topic, in handling order
	release chan struct{} // one receive per reply
}

func (h *slowHandler) Versions(key int16) (int16, int16, bool) {
	return 0, 12, key == kmsg.Metadata.Int16()
}

func (h *slowHandler) Handle(_ context.Context, req *Request) Reply {
	r := req.Msg.(*kmsg.MetadataRequest)
	name := *r.Topics[0].Topic
	h.handled <- name
	return func(ctx context.Context) kmsg.Response {
		select {
		case <-h.release:
		case <-ctx.Done():
		}
		resp := r.ResponseKind().(*kmsg.MetadataResponse)
		resp.ClusterID = &name
		return resp
	}
}

func startServer(t *testing.T, h Handler) (*Server, string) {
	t.Helper()
	return serveWith(t, Config{}, h, ListenerConfig{})
}

func metadataFrame(topic string, corr int32) []byte {
	req := kmsg.NewPtrMetadataRequest()
	req.Version = 12
	req.Topics = []kmsg.MetadataRequestTopic{{Topic: kmsg.StringPtr(topic)}}
	return (&kmsg.RequestFormatter{}).AppendRequest(nil, req, corr)
}

// readClusterID reads one Metadata v12 response and returns its
// correlation id and cluster id.
func readClusterID(t *testing.T, c net.Conn) (int32, string) {
	t.Helper()
	var size [4]byte
	if _, err := io.ReadFull(c, size[:]); err != nil {
		t.Fatal(err)
	}
	body := make([]byte, binary.BigEndian.Uint32(size[:]))
	if _, err := io.ReadFull(c, body); err != nil {
		t.Fatal(err)
	}
	resp := kmsg.NewPtrMetadataResponse()
	resp.Version = 12
	if err := resp.ReadFrom(body[5:]); err != nil {
		t.Fatal(err)
	}
	return int32(binary.BigEndian.Uint32(body)), *resp.ClusterID
}

func TestPipelinedRequestsAnswerInOrder(t *testing.T) {
	h := &slowHandler{handled: make(chan string, 3), release: make(chan struct{})}
	_, addr := startServer(t, h)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	for i, topic := range []string{"a", "b", "c"} {
		if _, err := c.Write(metadataFrame(topic, int32(i+1))); err != nil {
			t.Fatal(err)
		}
	}
	// All three are handled (their ordered part) before any reply completes.
	for _, want := range []string{"a", "b", "c"} {
		select {
		case got := <-h.handled:
			if got != want {
				t.Fatalf("handled %s, want %s", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("requests were not handled while the first reply waited")
		}
	}
	for i, want := range []string{"a", "b", "c"} {
		h.release <- struct{}{}
		corr, got := readClusterID(t, c)
		if corr != int32(i+1) || got != want {
			t.Fatalf("response %d: correlation %d, %s", i, corr, got)
		}
	}
}

func TestShutdownAnswersInFlightRequests(t *testing.T) {
	h := &slowHandler{handled: make(chan string, 1), release: make(chan struct{})}
	s, addr := startServer(t, h)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := c.Write(metadataFrame("inflight", 7)); err != nil {
		t.Fatal(err)
	}
	<-h.handled
	done := make(chan error, 1)
	go func() { done <- s.Shutdown(context.Background()) }()
	// Shutdown cancels waits, so the in-flight reply completes and is sent.
	if corr, got := readClusterID(t, c); corr != 7 || got != "inflight" {
		t.Fatalf("in-flight response: %d %s", corr, got)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	var b [1]byte
	if _, err := c.Read(b[:]); err == nil {
		t.Fatal("connection still open after shutdown")
	}
}
