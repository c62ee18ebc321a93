package reach

// check_test.go dials real loopback sockets: a closed port is an
// unreachable broker, a listener that never answers a slow one.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/brokerproc"
)

// silentListener accepts connections and never writes to them: a broker
// that is up but slow to answer.
func silentListener(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	})
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	return ln.Addr().String()
}

func TestCheckUnreachable(t *testing.T) {
	a, b := brokerproc.ClosedAddr(t), brokerproc.ClosedAddr(t)
	start := time.Now()
	err := Check(t.Context(), []string{a, b}, 5*time.Second)
	if el := time.Since(start); el > 3*time.Second {
		t.Errorf("refused connections took %s to report", el)
	}
	var re *Error
	if !errors.As(err, &re) || len(re.Attempts) != 2 {
		t.Fatalf("got %v, want an *Error with two attempts", err)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("%v does not unwrap to ECONNREFUSED", err)
	}
	msg := err.Error()
	want := fmt.Sprintf("cannot reach the cluster at %s,%s: dial tcp %s: connect: connection refused; dial tcp %s: connect: connection refused", a, b, a, b)
	if msg != want {
		t.Errorf("message\n got %q\nwant %q", msg, want)
	}
}

func TestCheckReachable(t *testing.T) {
	slow := silentListener(t)
	for _, seeds := range [][]string{
		{slow},
		{brokerproc.ClosedAddr(t), slow}, // one seed answering is enough
	} {
		// The listener never answers: reachable all the same, and at
		// once, not after the timeout.
		start := time.Now()
		if err := Check(t.Context(), seeds, 30*time.Second); err != nil {
			t.Errorf("%v: %v", seeds, err)
		}
		if el := time.Since(start); el > 10*time.Second {
			t.Errorf("%v: took %s", seeds, el)
		}
	}
}

func TestCheckArguments(t *testing.T) {
	if err := Check(t.Context(), nil, time.Second); err == nil || !strings.Contains(err.Error(), "no seed broker") {
		t.Errorf("no seeds: %v", err)
	}
	if err := Check(t.Context(), []string{"127.0.0.1:1"}, 0); err == nil || !strings.Contains(err.Error(), "timeout must be positive") {
		t.Errorf("zero timeout: %v", err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := Check(ctx, []string{brokerproc.ClosedAddr(t)}, time.Second); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled context: %v", err)
	}
}

// timeoutErr is a net.Error that timed out, as a dial to an address that
// drops packets ends.
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "dial tcp 10.0.0.1:9092: i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

func TestErrorMessage(t *testing.T) {
	e := &Error{Timeout: 10 * time.Second, Attempts: []Attempt{
		{Addr: "10.0.0.1:9092", Err: timeoutErr{}},
		{Addr: "nohost:9092", Err: errors.New("dial tcp: lookup nohost\non 127.0.0.53:53: no such host")},
	}}
	want := "cannot reach the cluster at 10.0.0.1:9092,nohost:9092: dial tcp 10.0.0.1:9092: i/o timeout (no answer within 10s); " +
		"dial tcp: lookup nohost on 127.0.0.53:53: no such host"
	if got := e.Error(); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestAddress(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"kafka-1:9093", "kafka-1:9093"},
		{"kafka-1", "kafka-1:9092"},
		{" 127.0.0.1 ", "127.0.0.1:9092"},
		{"[::1]:19092", "[::1]:19092"},
		{"[::1]", "[::1]:9092"},
		{"::1", "[::1]:9092"},
	} {
		if got := Address(tc.in); got != tc.want {
			t.Errorf("Address(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzAddress: any seed string becomes an address with a port, without
// panicking.
func FuzzAddress(f *testing.F) {
	for _, s := range []string{"kafka-1", "kafka-1:9093", "[::1]", "::1", "", "[", "]:", "a:b:c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, seed string) {
		addr := Address(seed)
		if _, _, err := net.SplitHostPort(addr); err != nil && !strings.ContainsAny(seed, "[]") {
			t.Errorf("Address(%q) = %q: %v", seed, addr, err)
		}
	})
}

func TestWait(t *testing.T) {
	addr := brokerproc.ClosedAddr(t)
	reports := make(chan error, 10)
	done := make(chan error, 1)
	go func() {
		done <- Wait(t.Context(), []string{addr}, time.Second, 20*time.Millisecond, func(err error) { reports <- err })
	}()
	// The first failed check is reported; the same failure again is not.
	select {
	case err := <-reports:
		if !strings.Contains(err.Error(), "cannot reach the cluster at "+addr) {
			t.Errorf("report: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no report within 10s")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("the port was taken meanwhile: %v", err)
	}
	defer ln.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Wait: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Wait did not return within 10s of the listener starting")
	}
	if len(reports) != 0 {
		t.Errorf("%d more reports of the same failure", len(reports))
	}

	ctx, cancel := context.WithCancel(t.Context())
	time.AfterFunc(100*time.Millisecond, cancel)
	if err := Wait(ctx, []string{brokerproc.ClosedAddr(t)}, time.Second, 20*time.Millisecond, func(error) {}); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait after cancel: %v", err)
	}
}
