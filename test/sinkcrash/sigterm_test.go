package sinkcrash

// sigterm_test.go: SIGTERM, how systemd and container runtimes stop a
// process, is an orderly stop: the sink writes and commits what it holds.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/publish"
	"github.com/courier-dev/courier/internal/pipeline/region"
	"github.com/courier-dev/courier/internal/pipeline/sink"
	"github.com/courier-dev/courier/internal/testkit/brokerproc"
	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// TestSigtermSink stops the real sink with SIGTERM while updates keep
// arriving, three times: each stop exits 0 without a warning, and the
// group's committed offsets count exactly the rows in the database (the
// batch in hand at the stop is written and committed, not left to be
// written again).
func TestSigtermSink(t *testing.T) {
	b := brokerproc.StartT(t, courierBin, t.TempDir(), brokerproc.Args("--group-initial-rebalance-delay", "100ms"))
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	pctx, stopProducing := context.WithCancel(ctx)
	produced := make(chan error, 1)
	go func() { produced <- producePaced(pctx, b.Addr()) }()
	defer func() {
		stopProducing()
		if err := <-produced; err != nil {
			t.Errorf("producer: %v", err)
		}
	}()

	dsn := "sqlite:" + filepath.Join(t.TempDir(), "riders.db")
	_, history := openDB(t, ctx, dsn)
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 2))
	for i := range 3 {
		out := &syncBuffer{}
		p := startSink(t, b.Addr(), dsn, out)
		before := history()
		testwait.For(t, 20*time.Second, fmt.Sprintf("sink %d to write", i), func() string {
			if p.exited() {
				t.Fatalf("sink exited by itself:\n%s", out.String())
			}
			if h := history(); h <= before {
				return fmt.Sprintf("%d history rows", h)
			}
			return ""
		})
		time.Sleep(time.Duration(rng.IntN(300)) * time.Millisecond) // somewhere in a batch
		if err := p.stop(syscall.SIGTERM, 30*time.Second); err != nil {
			t.Fatalf("stop %d: %v\n%s", i+1, err, out.String())
		}
		if strings.Contains(out.String(), "level=WARN") || strings.Contains(out.String(), "level=ERROR") {
			t.Errorf("stop %d: the sink complained:\n%s", i+1, out.String())
		}
		rows, committed := history(), committedSum(t, ctx, b.Addr())
		t.Logf("stop %d: %d rows, %d offsets committed", i+1, rows, committed)
		if rows != committed {
			t.Fatalf("stop %d: %d rows in the database but %d offsets committed", i+1, rows, committed)
		}
	}
}

// stop sends sig and waits up to timeout for the process to exit; it
// returns an error unless the exit was clean (status 0).
func (p *sinkProc) stop(sig syscall.Signal, timeout time.Duration) error {
	if err := p.cmd.Process.Signal(sig); err != nil {
		return err
	}
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("no exit within %v of %v", timeout, sig)
	}
	if !p.cmd.ProcessState.Success() {
		return fmt.Errorf("exit after %v: %v", sig, p.cmd.ProcessState)
	}
	return nil
}

// producePaced publishes updates at about 40,000/s until ctx ends, so that
// a sink always has a batch in hand.
func producePaced(ctx context.Context, addr string) error {
	p, err := publish.New(ctx, publish.Config{ClientOpts: []kgo.Opt{kgo.SeedBrokers(addr)}, City: region.Bengaluru, CreateTopic: true})
	if err != nil {
		return err
	}
	defer p.Close()
	locs := updates(2000, riders)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
		now := time.Now()
		for i := range locs {
			locs[i].TS = now
		}
		if err := p.Publish(ctx, locs); err != nil && ctx.Err() == nil {
			return err
		}
	}
}

// committedSum returns the sum of the sink group's committed offsets: the
// number of records it consumed from the fresh topic.
func committedSum(t *testing.T, ctx context.Context, addr string) int64 {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	offs, err := kadm.NewClient(cl).FetchOffsets(ctx, sink.DefaultGroup)
	if err != nil {
		t.Fatal(err)
	}
	var sum int64
	offs.Each(func(o kadm.OffsetResponse) {
		if o.Err != nil {
			t.Fatalf("committed offset of %s/%d: %v", o.Topic, o.Partition, o.Err)
		}
		sum += o.At
	})
	return sum
}
