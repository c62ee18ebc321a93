package reach

// monitor_test.go drives a Monitor with connection outcomes on a fake
// clock, and once through a real franz-go client.

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/brokerproc"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestMonitor(t *testing.T) {
	refused := errors.New("dial tcp 127.0.0.1:9092: connect: connection refused")
	b1 := kgo.BrokerMetadata{Host: "127.0.0.1", Port: 9092}
	b2 := kgo.BrokerMetadata{NodeID: 2, Host: "kafka-2", Port: 9093}
	type step struct {
		at     time.Duration // since the start
		broker kgo.BrokerMetadata
		err    error
	}
	for _, tc := range []struct {
		name         string
		every, grace time.Duration
		steps        []step
		want         []string // "DOWN addr at" or "UP addr at since"
	}{
		{
			name: "reported at once, repeated every 30s, recovery reported", every: 30 * time.Second,
			steps: []step{{0, b1, refused}, {time.Second, b1, refused}, {29 * time.Second, b1, refused}, {31 * time.Second, b1, refused}, {40 * time.Second, b1, nil}},
			want:  []string{"DOWN 127.0.0.1:9092 0s", "DOWN 127.0.0.1:9092 31s", "UP 127.0.0.1:9092 40s since 0s"},
		},
		{
			name: "an outage shorter than the grace is not reported", every: 30 * time.Second, grace: 5 * time.Second,
			steps: []step{{0, b1, refused}, {4 * time.Second, b1, refused}, {4500 * time.Millisecond, b1, nil}, {6 * time.Second, b1, refused}, {12 * time.Second, b1, refused}},
			want:  []string{"DOWN 127.0.0.1:9092 12s"},
		},
		{
			name: "brokers are tracked apart", every: time.Minute,
			steps: []step{{0, b2, refused}, {time.Second, b1, nil}, {2 * time.Second, b2, refused}, {3 * time.Second, b2, nil}},
			want:  []string{"DOWN kafka-2:9093 0s", "UP kafka-2:9093 3s since 0s"},
		},
		{
			name: "a client closing is no outage", every: time.Minute,
			steps: []step{{0, b1, fmt.Errorf("unable to dial: %w", context.Canceled)}, {time.Second, b1, kgo.ErrClientClosed}, {2 * time.Second, b1, errors.New("dial tcp: operation was canceled")}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got []string
			start := time.Unix(1_700_000_000, 0)
			m := NewMonitor(tc.every, tc.grace, func(e Event) {
				if e.Reachable {
					got = append(got, fmt.Sprintf("UP %s %s since %s", e.Addr, e.At.Sub(start), e.Since.Sub(start)))
				} else {
					got = append(got, fmt.Sprintf("DOWN %s %s", e.Addr, e.At.Sub(start)))
				}
			})
			for _, s := range tc.steps {
				m.now = func() time.Time { return start.Add(s.at) }
				m.OnBrokerConnect(s.broker, 0, nil, s.err)
			}
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("events:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

// TestMonitorHook checks the hook is what franz-go calls: a client on a
// closed port reports the broker unreachable, with the dial error.
func TestMonitorHook(t *testing.T) {
	addr := brokerproc.ClosedAddr(t)
	var (
		mu     sync.Mutex
		events []Event
	)
	m := NewMonitor(time.Hour, 0, func(e Event) {
		mu.Lock()
		events = append(events, e)
		mu.Unlock()
	})
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.WithHooks(m))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if err := cl.Ping(ctx); err == nil {
		t.Fatal("ping of a closed port succeeded")
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 1 || events[0].Reachable || events[0].Addr != addr || !strings.Contains(events[0].Err.Error(), "connection refused") {
		t.Errorf("events: %+v", events)
	}
}
