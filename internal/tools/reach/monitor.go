package reach

// monitor.go watches the connections a running client opens, so that a
// service that keeps retrying says so instead of retrying in silence.

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Event is a change in whether a broker can be connected to.
type Event struct {
	// Reachable is false when connecting to Addr failed, true when it
	// succeeded again after a failure that was reported.
	Reachable bool
	// Addr is the broker's address, host:port.
	Addr string
	// Err is the connection error (Reachable false): the dial's, or the
	// connection setup's (TLS, SASL, ApiVersions).
	Err error
	// Since is when the outage began: the first failure after the last
	// success.
	Since time.Time
	// At is when the event happened.
	At time.Time
}

// Monitor is a franz-go hook (pass it to kgo.WithHooks) that watches every
// connection attempt of a client and calls report:
//   - with an unreachable Event when connecting to a broker has failed
//     for at least grace since its last success, and again at most every
//     `every` while it keeps failing (franz-go keeps retrying);
//   - with a reachable Event once a connection to that broker succeeds
//     after an unreachable Event was reported.
//
// Brokers are tracked one by one, so one dead broker of a cluster whose
// other brokers answer is reported as that broker. Dials abandoned because
// the client is closing are not failures. report is called with Monitor's
// lock held, so events arrive in order; it must not block for long.
type Monitor struct {
	every, grace time.Duration
	report       func(Event)
	now          func() time.Time

	mu    sync.Mutex
	state map[string]*brokerState // by address
}

// brokerState is one broker's outage, if any.
type brokerState struct {
	down       bool      // a connection failed and none succeeded since
	since      time.Time // when the outage began
	reported   bool      // an unreachable Event was reported for this outage
	lastReport time.Time // when it was last reported
}

// NewMonitor returns a Monitor that reports through report; see Monitor.
// every must be positive; grace may be zero (report the first failure).
func NewMonitor(every, grace time.Duration, report func(Event)) *Monitor {
	return &Monitor{every: every, grace: grace, report: report, now: time.Now, state: make(map[string]*brokerState)}
}

// OnBrokerConnect implements kgo.HookBrokerConnect.
func (m *Monitor) OnBrokerConnect(meta kgo.BrokerMetadata, _ time.Duration, _ net.Conn, err error) {
	if err != nil && abandoned(err) {
		return
	}
	addr := net.JoinHostPort(meta.Host, strconv.Itoa(int(meta.Port)))
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	st := m.state[addr]
	if st == nil {
		st = &brokerState{}
		m.state[addr] = st
	}
	if err == nil {
		if st.down && st.reported {
			m.report(Event{Reachable: true, Addr: addr, Since: st.since, At: now})
		}
		*st = brokerState{}
		return
	}
	if !st.down {
		st.down, st.since = true, now
	}
	due := !st.reported || now.Sub(st.lastReport) >= m.every
	if due && now.Sub(st.since) >= m.grace {
		st.reported, st.lastReport = true, now
		m.report(Event{Addr: addr, Err: err, Since: st.since, At: now})
	}
}

// abandoned reports whether a connection error only means the client (or
// the request that dialed) gave up: no news about the broker.
func abandoned(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, kgo.ErrClientClosed) ||
		strings.Contains(err.Error(), "operation was canceled")
}
