package compat

// groups_helpers_test.go: what the consumer-group compatibility tests
// share: a broker with a short initial rebalance delay, long-running client
// processes whose output is read line by line as it comes, waiting on a
// condition, and the checks every group test makes of what its members
// consumed.

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/brokerproc"
	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// childLife bounds a long-running client process; each group test file
// finishes well within it.
const childLife = 90 * time.Second

// startGroupBroker starts the binary as startBroker does, with a 200ms
// initial rebalance delay instead of Kafka's 3s.
func startGroupBroker(t *testing.T) *brokerproc.Broker {
	t.Helper()
	return brokerproc.StartT(t, courierBin, t.TempDir(), brokerproc.Fsync("always"),
		brokerproc.Args("--group-initial-rebalance-delay=200ms"))
}

// child is a client process that runs until the test stops it: its stdout
// and stderr lines go to callbacks as they are printed, and the last 32 KiB
// of its stderr is kept for failure messages.
type child struct {
	name   string
	cmd    *exec.Cmd
	cancel context.CancelFunc
	done   chan struct{} // closed once it has exited and its output is read
	err    error         // cmd.Wait's result, set before done is closed
	stderr *tail
}

// startChild runs bin args...; onStdout and onStderr (either may be nil)
// get each complete line. The process is killed if it outlives childLife
// or the test.
func startChild(t *testing.T, name string, onStdout, onStderr func(string), bin string, args ...string) *child {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), childLife)
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.WaitDelay = 5 * time.Second
	c := &child{name: name, cmd: cmd, cancel: cancel, done: make(chan struct{}), stderr: &tail{max: 32 << 10}}
	cmd.Stdout = &lineSplitter{fn: onStdout}
	cmd.Stderr = &lineSplitter{fn: func(line string) {
		c.stderr.write(line + "\n")
		if onStderr != nil {
			onStderr(line)
		}
	}}
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		c.err = cmd.Wait()
		cancel()
		close(c.done)
	}()
	t.Cleanup(func() {
		c.kill()
		if t.Failed() {
			if s := c.stderr.String(); s != "" {
				t.Logf("%s stderr (tail):\n%s", name, s)
			}
		}
	})
	return c
}

// exited reports whether the process has exited.
func (c *child) exited() bool {
	select {
	case <-c.done:
		return true
	default:
		return false
	}
}

// stop sends sig and waits up to timeout for the process to exit; it
// fails the test if it does not, or if it exits with an error after a
// SIGTERM (a graceful stop).
func (c *child) stop(t *testing.T, sig os.Signal, timeout time.Duration) {
	t.Helper()
	if err := c.cmd.Process.Signal(sig); err != nil && !c.exited() {
		t.Fatalf("signal %s: %v", c.name, err)
	}
	select {
	case <-c.done:
	case <-time.After(timeout):
		c.kill()
		t.Fatalf("%s did not exit within %v of %v", c.name, timeout, sig)
	}
	if sig != os.Kill && c.err != nil {
		t.Fatalf("%s exited with %v after %v", c.name, c.err, sig)
	}
}

// kill ends the process at once and waits for it.
func (c *child) kill() {
	if !c.exited() {
		c.cancel() // CommandContext kills it
	}
	<-c.done
}

// lineSplitter calls fn with each complete line written to it. exec
// writes a process's output from one goroutine, so it needs no lock.
type lineSplitter struct {
	fn      func(string)
	partial []byte
}

func (w *lineSplitter) Write(p []byte) (int, error) {
	w.partial = append(w.partial, p...)
	for {
		i := bytes.IndexByte(w.partial, '\n')
		if i < 0 {
			break
		}
		line := string(w.partial[:i])
		w.partial = w.partial[i+1:]
		if w.fn != nil {
			w.fn(line)
		}
	}
	return len(p), nil
}

// tail keeps the last max bytes written, for concurrent use.
type tail struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tail) write(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, s...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = b.buf[over:]
	}
}

func (b *tail) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}

// waitFor is testwait.For, named for this package's tests.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() string) {
	t.Helper()
	testwait.For(t, timeout, what, cond)
}

// committed returns a group's committed offsets of topic, by partition.
func committed(t *testing.T, addr, group, topic string) map[int32]int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	got, err := kadm.NewClient(cl).FetchOffsets(ctx, group)
	if err == nil {
		err = got.Error()
	}
	if err != nil {
		t.Fatalf("fetch offsets of %s: %v", group, err)
	}
	out := map[int32]int64{}
	for p, o := range got[topic] {
		out[p] = o.At
	}
	return out
}

// riderUpdate is the value of the n-th location update of phase on
// partition p: riders of the north region go to partition 0, of the south
// to partition 1, as in the seed notes.
func riderUpdate(phase string, p int32, n int) (key, value string) {
	region := [...]string{"north", "south"}[p]
	rider := fmt.Sprintf("rider-%s-%d", region, n%5)
	return rider, fmt.Sprintf(`{"phase":%q,"region":%q,"rider":%q,"seq":%d,"lat":%d.%04d,"lon":%d.%04d}`,
		phase, region, rider, n, 51+int(p), n*37%10000, -int(p), n*91%10000)
}

// consumption is what one group's members read of one partition.
type consumption struct {
	partition int32
	byMember  map[string][]int64 // offsets each member read, in order
}

// checkNoGaps fails the test unless the group's members together read
// every offset of the partition below end, and reports each offset read
// more than once with how often.
func (c consumption) checkNoGaps(t *testing.T, end int64) map[int64]int {
	t.Helper()
	seen := map[int64]int{}
	for _, offs := range c.byMember {
		for _, o := range offs {
			seen[o]++
		}
	}
	var missing []int64
	for o := int64(0); o < end; o++ {
		if seen[o] == 0 {
			missing = append(missing, o)
		}
	}
	if len(missing) > 0 {
		t.Fatalf("partition %d: offsets %v of [0,%d) were consumed by no member (%v)", c.partition, missing, end, c.byMember)
	}
	dups := map[int64]int{}
	for o, n := range seen {
		if o >= end {
			t.Fatalf("partition %d: offset %d consumed, beyond the end %d", c.partition, o, end)
		}
		if n > 1 {
			dups[o] = n
		}
	}
	return dups
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[int64]V) []int64 {
	var out []int64
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// describe renders partition lists of members for messages.
func describe(m map[string][]int32) string {
	var names []string
	for n := range m {
		names = append(names, n)
	}
	slices.Sort(names)
	var s strings.Builder
	for _, n := range names {
		fmt.Fprintf(&s, "%s=%v ", n, m[n])
	}
	return strings.TrimSpace(s.String())
}

// offsetReader is a group member (kafkajs or kcat) whose reads are known.
type offsetReader interface {
	offsets(p int32) []int64
}

// upTo reports "" once the members together read p through end-1.
func upTo[M offsetReader](p int32, end int64, ms ...M) string {
	high := int64(-1)
	for _, m := range ms {
		for _, o := range m.offsets(p) {
			high = max(high, o)
		}
	}
	if high < end-1 {
		return fmt.Sprintf("partition %d read up to %d, want %d", p, high, end-1)
	}
	return ""
}
