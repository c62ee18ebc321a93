package brokerproc

// options.go holds the functional options of Start.

import (
	"io"
	"time"
)

// config is what Start's options set.
type config struct {
	fsync        string
	args         []string
	output       io.Writer
	readyTimeout time.Duration
	stopTimeout  time.Duration
	listeners    []string // protocols of extra listeners (Listener)
	fileLimit    int      // RLIMIT_NOFILE for the process (FileLimit); 0 leaves it
}

func defaultConfig() config {
	return config{
		readyTimeout: 20 * time.Second,
		stopTimeout:  15 * time.Second,
	}
}

// Opt configures Start.
type Opt func(*config)

// Fsync passes --fsync mode ("always" or "interval") to the broker. Without
// it the broker's default applies.
func Fsync(mode string) Opt { return func(c *config) { c.fsync = mode } }

// Args appends extra command-line flags after the ones Start sets (--addr,
// --data, --http-addr, --fsync, and --console-addr "": no console unless
// Args gives an address), e.g. Args("--auto-create-topics=false").
func Args(args ...string) Opt {
	return func(c *config) { c.args = append(c.args, args...) }
}

// Output sends the broker's stdout and stderr (its log) to w, across
// restarts. Writes come from a copying goroutine, so a w the test also
// reads while the broker runs must be safe for concurrent use. Without it
// the output is dropped, except for a short tail quoted in errors and kept
// by Broker.OutputTail.
func Output(w io.Writer) Opt { return func(c *config) { c.output = w } }

// ReadyTimeout bounds how long Start and Restart wait for the broker to
// accept Kafka connections (default 20s); recovery of a large data
// directory happens before the listener opens.
func ReadyTimeout(d time.Duration) Opt { return func(c *config) { c.readyTimeout = d } }

// StopTimeout bounds how long Stop waits for a clean exit after SIGTERM
// before it kills the process (default 15s, more than the broker's own
// shutdown grace).
func StopTimeout(d time.Duration) Opt { return func(c *config) { c.stopTimeout = d } }

// FileLimit runs the broker with an open-file limit of n (soft and hard),
// as `ulimit -n n` would, through util-linux's prlimit.
func FileLimit(n int) Opt { return func(c *config) { c.fileLimit = n } }

// Listener adds a listener with protocol proto (SSL, SASL_PLAINTEXT,
// SASL_SSL) on a free loopback port, beside the PLAINTEXT one at Addr: the
// broker gets --listener flags for both. Broker.ListenerAddr tells its
// address. TLS listeners need Args("--tls-cert", ..., "--tls-key", ...).
func Listener(proto string) Opt {
	return func(c *config) { c.listeners = append(c.listeners, proto) }
}
