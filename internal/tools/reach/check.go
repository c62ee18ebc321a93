package reach

// check.go dials the seed brokers before a command builds its client:
// Check once, Wait until one accepts.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// DefaultTimeout is how long Check gives the seed brokers to accept a
// connection: franz-go's own dial timeout.
const DefaultTimeout = 10 * time.Second

// DefaultPort is the port of a seed address that names none, as in
// franz-go: Kafka's.
const DefaultPort = "9092"

// Attempt is one seed address and why dialing it failed.
type Attempt struct {
	Addr string // Addr is the address dialed, host:port.
	Err  error  // Err is the dial error.
}

// Error is a cluster none of whose seed addresses accepted a connection.
// Its message is one line naming every address and its dial error.
type Error struct {
	Attempts []Attempt     // Attempts has one entry per seed address, in the order given.
	Timeout  time.Duration // Timeout is the deadline the dials had.
}

// Error renders the failure, e.g. "cannot reach the cluster at
// 127.0.0.1:9092: dial tcp 127.0.0.1:9092: connect: connection refused".
func (e *Error) Error() string {
	addrs := make([]string, len(e.Attempts))
	for i, a := range e.Attempts {
		addrs[i] = a.Addr
	}
	var b strings.Builder
	fmt.Fprintf(&b, "cannot reach the cluster at %s: ", strings.Join(addrs, ","))
	for i, a := range e.Attempts {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(oneLine(a.Err.Error()))
		var ne net.Error
		if errors.As(a.Err, &ne) && ne.Timeout() {
			fmt.Fprintf(&b, " (no answer within %s)", e.Timeout)
		}
	}
	return b.String()
}

// Unwrap returns the dial errors, for errors.Is (e.g. syscall.ECONNREFUSED).
func (e *Error) Unwrap() []error {
	out := make([]error, len(e.Attempts))
	for i, a := range e.Attempts {
		out[i] = a.Err
	}
	return out
}

// oneLine keeps an error message on one line.
func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Address returns a seed broker address with a port, adding DefaultPort
// where it names none, the way franz-go reads its seeds ("kafka-1",
// "[::1]", "::1" and "kafka-1:9093" are all accepted).
func Address(seed string) string {
	seed = strings.TrimSpace(seed)
	if _, _, err := net.SplitHostPort(seed); err == nil {
		return seed
	}
	if strings.HasPrefix(seed, "[") && strings.HasSuffix(seed, "]") {
		return seed + ":" + DefaultPort
	}
	return net.JoinHostPort(seed, DefaultPort) // a host, or an IPv6 literal
}

// Check dials every seed address at once, each within timeout (and ctx),
// and returns nil as soon as one accepts a TCP connection, which it closes
// at once. If none does it returns an *Error; if ctx ends first, ctx's
// error. It sends nothing: a broker that accepts connections but answers
// slowly is reachable. Every dial has ended when Check returns.
func Check(ctx context.Context, seeds []string, timeout time.Duration) error {
	if len(seeds) == 0 {
		return errors.New("no seed broker address given")
	}
	if timeout <= 0 {
		return fmt.Errorf("connect timeout must be positive, got %s", timeout)
	}
	dctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	type result struct {
		i   int
		err error
	}
	results := make(chan result, len(seeds))
	attempts := make([]Attempt, len(seeds))
	for i, s := range seeds {
		attempts[i].Addr = Address(s)
		go func(i int, addr string) {
			var d net.Dialer
			c, err := d.DialContext(dctx, "tcp", addr)
			if err == nil {
				c.Close()
			}
			results <- result{i, err}
		}(i, attempts[i].Addr)
	}
	reached := false
	for range seeds {
		r := <-results
		if r.err == nil && !reached {
			reached = true
			cancel() // the other dials are moot
		}
		attempts[r.i].Err = r.err
	}
	switch {
	case reached:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return &Error{Attempts: attempts, Timeout: timeout}
}

// Wait calls Check until a seed broker accepts a connection or ctx ends,
// pausing interval between checks. It calls report with each failed
// check's *Error whose message differs from the previous one (so a cluster
// that stays down is reported once, and again when the reason changes).
// It returns nil once the cluster is reachable, else ctx's error or
// Check's error for bad arguments.
func Wait(ctx context.Context, seeds []string, timeout, interval time.Duration, report func(error)) error {
	var last string
	for {
		err := Check(ctx, seeds, timeout)
		var re *Error
		if !errors.As(err, &re) {
			return err // nil, or not a reachability failure
		}
		if msg := re.Error(); msg != last {
			last = msg
			report(re)
		}
		t := time.NewTimer(interval)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
