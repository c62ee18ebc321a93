package sinkcrash

// helpers_test.go: the sink process, producing known updates, and reading
// the topic back.

import (
	"context"
	"fmt"
	"os/exec"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/publish"
	"github.com/courier-dev/courier/internal/pipeline/region"
	"github.com/courier-dev/courier/internal/pipeline/rider"
	"github.com/courier-dev/courier/internal/pipeline/ridersdb"
	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kgo"
)

// sinkProc is one `courier sink` process.
type sinkProc struct {
	cmd  *exec.Cmd
	done chan struct{}
	out  *syncBuffer
}

// startSink runs `courier sink` against the broker and database.
func startSink(t *testing.T, addr, dsn string, out *syncBuffer) *sinkProc {
	t.Helper()
	return startSinkArgs(t, out, "--brokers", addr, "--db", dsn,
		"--instance-id", "crash-sink", "--batch-rows", "5000", "--batch-delay", "100ms", "--log-level", "warn")
}

// startSinkArgs runs `courier sink` with args.
func startSinkArgs(t *testing.T, out *syncBuffer, args ...string) *sinkProc {
	t.Helper()
	cmd := exec.Command(courierBin, append([]string{"sink"}, args...)...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &sinkProc{cmd: cmd, done: make(chan struct{}), out: out}
	go func() { cmd.Wait(); close(p.done) }()
	return p
}

// kill SIGKILLs the process and waits for it.
func (p *sinkProc) kill(t *testing.T) {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		t.Fatal("sink not reaped 10s after SIGKILL")
	}
}

// exited reports whether the process ended by itself.
func (p *sinkProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// waitWrites waits up to 20s until the database has more history rows than
// now, failing the test if one of the sinks exits by itself meanwhile.
func waitWrites(t *testing.T, what string, history func() int64, sinks ...*sinkProc) {
	t.Helper()
	before := history()
	testwait.For(t, 20*time.Second, what, func() string {
		for _, p := range sinks {
			if p.exited() {
				t.Fatalf("a sink exited by itself")
			}
		}
		if h := history(); h <= before {
			return fmt.Sprintf("%d history rows", h)
		}
		return ""
	})
}

// syncBuffer keeps the last bytes written by the processes.
type syncBuffer struct {
	mu sync.Mutex
	b  []byte
}

// Write implements io.Writer, keeping the last 64 KiB.
func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.b = append(s.b, p...)
	if len(s.b) > 64<<10 {
		s.b = s.b[len(s.b)-64<<10:]
	}
	return len(p), nil
}

// String returns what was kept.
func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return string(s.b)
}

var t0 = time.Now().Add(-time.Hour).Truncate(time.Millisecond).UTC()

// updates returns n known updates over riders riders, spread over the
// city, each with its own ts.
func updates(n, riders int) []rider.Location {
	box := region.Bengaluru.Box
	out := make([]rider.Location, n)
	for k := range out {
		out[k] = rider.Location{
			RiderID: fmt.Sprintf("r%05d", k%riders),
			Lat:     box.MinLat + (box.MaxLat-box.MinLat)*float64((k*7919)%10007)/10007,
			Lon:     box.MinLon + (box.MaxLon-box.MinLon)*float64((k*104729)%10009)/10009,
			TS:      t0.Add(time.Duration(k) * time.Millisecond),
		}
	}
	return out
}

// produce publishes locs to the broker, creating the topic.
func produce(ctx context.Context, addr string, locs []rider.Location) error {
	p, err := publish.New(ctx, publish.Config{ClientOpts: []kgo.Opt{kgo.SeedBrokers(addr)}, City: region.Bengaluru, CreateTopic: true})
	if err != nil {
		return err
	}
	defer p.Close()
	for i := 0; i < len(locs); i += 2000 {
		if err := p.Publish(ctx, locs[i:min(i+2000, len(locs))]); err != nil {
			return err
		}
	}
	return nil
}

// pos is a record's place in the topic.
type pos struct {
	p int32
	o int64
}

// readTopic returns every record of the pipeline's topic by position,
// decoded.
func readTopic(t *testing.T, addr string, n int) map[pos]rider.Location {
	t.Helper()
	return readTopicOf(t, addr, publish.DefaultTopic, n)
}

// readTopicOf returns every record of topic by position, decoded.
func readTopicOf(t *testing.T, addr, topic string, n int) map[pos]rider.Location {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumeTopics(topic),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(200*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out := make(map[pos]rider.Location, n)
	for len(out) < n {
		fs := cl.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("read back %d of %d records in 20s", len(out), n)
		}
		fs.EachRecord(func(r *kgo.Record) {
			l, err := rider.Decode(r.Value)
			if err != nil {
				t.Fatalf("record %d/%d: %v", r.Partition, r.Offset, err)
			}
			out[pos{r.Partition, r.Offset}] = l
		})
	}
	return out
}

// openDB opens the sink's database, closed with the test, and a function
// counting its history rows.
func openDB(t *testing.T, ctx context.Context, dsn string) (ridersdb.DB, func() int64) {
	t.Helper()
	db, err := ridersdb.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db, func() int64 {
		h, _, err := db.Counts(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return h
	}
}
