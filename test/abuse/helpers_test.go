package abuse

// helpers_test.go: the well-behaved client, heap measurements and raw
// connections shared by the abuse tests.

import (
	"context"
	"fmt"
	"net"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// wellBehaved produces n records to a fresh topic and consumes them back,
// all within deadline, failing the test otherwise.
func wellBehaved(t *testing.T, addr, topic string, n int, deadline time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	start := time.Now()
	p, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ClientID("well-behaved"), kgo.AllowAutoTopicCreation())
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	recs := make([]*kgo.Record, n)
	for i := range recs {
		recs[i] = &kgo.Record{Topic: topic, Value: fmt.Appendf(nil, "record-%d", i)}
	}
	if err := p.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("well-behaved producer: %v", err)
	}
	c, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ClientID("well-behaved"), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := 0
	for got < n {
		fs := c.PollFetches(ctx)
		if err := fs.Err0(); err != nil {
			t.Fatalf("well-behaved consumer after %d/%d records: %v", got, n, err)
		}
		got += fs.NumRecords()
	}
	t.Logf("well-behaved client: %d records produced and consumed in %s", n, time.Since(start).Round(time.Millisecond))
}

// heapInuse is the heap in use after a collection.
func heapInuse() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapInuse
}

// checkHeap fails the test if the heap grew more than bound since before.
func checkHeap(t *testing.T, what string, before uint64, bound uint64) {
	t.Helper()
	after := heapInuse()
	grew := int64(after) - int64(before)
	t.Logf("%s: heap in use %d MiB -> %d MiB (%+.1f MiB, bound %d MiB)", what, before>>20, after>>20, float64(grew)/(1<<20), bound>>20)
	if grew > int64(bound) {
		t.Fatalf("%s: heap grew %d bytes, more than %d", what, grew, bound)
	}
}

// raiseFDLimit lifts the open-file soft limit to the hard limit, or fails
// the test if that leaves fewer than need descriptors.
func raiseFDLimit(t *testing.T, need uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skipf("getrlimit: %v", err)
	}
	if lim.Cur < need {
		lim.Cur = min(lim.Max, need)
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			t.Skipf("setrlimit: %v", err)
		}
	}
	if lim.Cur < need {
		t.Skipf("open-file limit %d, need %d", lim.Cur, need)
	}
}

// dial opens a raw connection with a deadline.
func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(20 * time.Second))
	return c
}

// apiVersions does one ApiVersions exchange on c.
func apiVersions(c net.Conn) error {
	req := &kmsg.ApiVersionsRequest{Version: 3, ClientSoftwareName: "abuse", ClientSoftwareVersion: "1"}
	if _, err := c.Write((&kmsg.RequestFormatter{}).AppendRequest(nil, req, 1)); err != nil {
		return err
	}
	var size [4]byte
	if _, err := readFull(c, size[:]); err != nil {
		return err
	}
	body := make([]byte, int(size[0])<<24|int(size[1])<<16|int(size[2])<<8|int(size[3]))
	_, err := readFull(c, body)
	return err
}

func readFull(c net.Conn, b []byte) (int, error) {
	n := 0
	for n < len(b) {
		m, err := c.Read(b[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// closedByPeer waits up to d for the server to close c.
func closedByPeer(c net.Conn, d time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(d))
	var b [512]byte
	for {
		if _, err := c.Read(b[:]); err != nil {
			ne, ok := err.(net.Error)
			return !ok || !ne.Timeout()
		}
	}
}
