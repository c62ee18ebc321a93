package abuse

// abuse_test.go: the abuse scenarios (see doc.go).

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/run"
	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestIdleConnections(t *testing.T) {
	const idle = 1000
	raiseFDLimit(t, 2*idle+512) // both ends live in this process
	b := testbroker.Start(t, func(c *run.Config) { c.Limits.MaxConnectionsPerIP = idle + 10 })
	wellBehaved(t, b.Addr, "warmup", 10, 10*time.Second)
	before := heapInuse()

	conns := make([]net.Conn, 0, idle)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range idle {
		conns = append(conns, dial(t, b.Addr))
	}
	// The limit: of 30 more, at most 10 minus the well-behaved client's
	// connections are served; the rest are closed at once.
	refused := 0
	for range 30 {
		c := dial(t, b.Addr)
		conns = append(conns, c)
		if apiVersions(c) != nil {
			refused++
		}
	}
	if refused < 20 {
		t.Fatalf("only %d of 30 connections over the per-IP limit were refused", refused)
	}
	checkHeap(t, "1,000 idle connections", before, 32<<20)
	// Free some of the IP's slots for the well-behaved client.
	for _, c := range conns[idle:] {
		c.Close()
	}
	for _, c := range conns[:20] {
		c.Close()
	}
	time.Sleep(200 * time.Millisecond)
	wellBehaved(t, b.Addr, "idle", 100, 15*time.Second)
}

func TestSlowLoris(t *testing.T) {
	const stallers = 200
	b := testbroker.Start(t, func(c *run.Config) { c.Limits.RequestReadTimeout = 500 * time.Millisecond })
	wellBehaved(t, b.Addr, "warmup", 10, 10*time.Second)
	before := heapInuse()

	var wg sync.WaitGroup
	var cut atomic.Int64
	for i := range stallers {
		c := dial(t, b.Addr)
		defer c.Close()
		// Half declare a 64 MiB frame and send 1 KiB of it; half send two
		// bytes of the size prefix.
		var frame []byte
		if i%2 == 0 {
			frame = binary.BigEndian.AppendUint32(nil, 64<<20)
			frame = append(frame, make([]byte, 1024)...)
		} else {
			frame = []byte{0, 0}
		}
		if _, err := c.Write(frame); err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if closedByPeer(c, 5*time.Second) {
				cut.Add(1)
			}
		}()
	}
	time.Sleep(200 * time.Millisecond) // all stalled, none cut off yet
	checkHeap(t, "200 stalled frames (100 declaring 64 MiB)", before, 64<<20)
	wellBehaved(t, b.Addr, "loris", 100, 10*time.Second)
	start := time.Now()
	wg.Wait()
	if cut.Load() != stallers {
		t.Fatalf("%d of %d stalled connections were cut off", cut.Load(), stallers)
	}
	t.Logf("all %d stalled connections cut off (read timeout 500ms; last within %s)", stallers, time.Since(start).Round(time.Millisecond))
}

func TestGarbageAfterHandshake(t *testing.T) {
	const clients = 100
	// A random size prefix may declare a frame the junk does not fill:
	// that connection is cut off after the read timeout.
	b := testbroker.Start(t, func(c *run.Config) { c.Limits.RequestReadTimeout = time.Second })
	wellBehaved(t, b.Addr, "warmup", 10, 10*time.Second)
	before := heapInuse()
	for i := range clients {
		c := dial(t, b.Addr)
		if err := apiVersions(c); err != nil {
			t.Fatalf("ApiVersions: %v", err)
		}
		junk := make([]byte, 64<<10)
		rand.Read(junk)
		if i%2 == 0 {
			// A plausible size prefix (so the frame is read) with a
			// random header and body.
			binary.BigEndian.PutUint32(junk, uint32(len(junk)-4))
		}
		c.Write(junk)
		if !closedByPeer(c, 5*time.Second) {
			t.Fatalf("client %d: connection still open after garbage", i)
		}
		c.Close()
	}
	checkHeap(t, "100 garbage clients", before, 16<<20)
	wellBehaved(t, b.Addr, "garbage", 100, 10*time.Second)
}

func TestProduceFloodUnderQuota(t *testing.T) {
	const quota = 1 << 20 // bytes/s per client id
	b := testbroker.Start(t, func(c *run.Config) {
		c.Quota.ProduceBytesPerSec = quota
		// An 11 × 250ms window: short enough for the test, long enough
		// that one batch's throttle is not capped by it.
		c.Quota.SampleWindow = 250 * time.Millisecond
	})
	wellBehaved(t, b.Addr, "warmup", 10, 10*time.Second)
	before := heapInuse()

	ctx, cancel := context.WithCancel(context.Background())
	var flooded atomic.Int64
	// Acknowledged bytes count from 2s in (after the window's initial
	// allowance) to 6s.
	measureFrom, measureTo := time.Now().Add(2*time.Second), time.Now().Add(6*time.Second)
	var throttled atomic.Int64
	var wg sync.WaitGroup
	const flooders = 4 // connections, all with one client id
	for range flooders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cl, err := kgo.NewClient(kgo.SeedBrokers(b.Addr), kgo.ClientID("flood"), kgo.AllowAutoTopicCreation(),
				kgo.ProducerLinger(0), kgo.ProducerBatchCompression(kgo.NoCompression()), kgo.MaxBufferedRecords(256),
				kgo.ProducerBatchMaxBytes(128<<10),
				kgo.WithHooks(hookFunc(func(d time.Duration) { throttled.Add(1) })))
			if err != nil {
				t.Error(err)
				return
			}
			defer cl.Close()
			value := make([]byte, 16<<10)
			rand.Read(value)
			for ctx.Err() == nil {
				cl.Produce(ctx, &kgo.Record{Topic: "flood", Value: value}, func(r *kgo.Record, err error) {
					if now := time.Now(); err == nil && now.After(measureFrom) && now.Before(measureTo) {
						flooded.Add(int64(len(r.Value)))
					}
				})
			}
		}()
	}
	time.Sleep(time.Second)
	wellBehaved(t, b.Addr, "flood", 200, 10*time.Second)
	time.Sleep(time.Until(measureTo))
	checkHeap(t, "produce flood", before, 64<<20)
	cancel()
	wg.Wait()
	rate := float64(flooded.Load()) / measureTo.Sub(measureFrom).Seconds()
	t.Logf("flood: %d connections of one client id, %.2f MiB/s acknowledged against a quota of 1 MiB/s, %d throttled responses", flooders, rate/(1<<20), throttled.Load())
	if throttled.Load() == 0 || rate > 1.5*quota {
		t.Fatalf("flood not held to its quota: %.0f B/s, %d throttles", rate, throttled.Load())
	}
}

// hookFunc reports franz-go's throttles.
type hookFunc func(time.Duration)

func (h hookFunc) OnBrokerThrottle(_ kgo.BrokerMetadata, d time.Duration, _ bool) {
	if d > 0 {
		h(d)
	}
}
