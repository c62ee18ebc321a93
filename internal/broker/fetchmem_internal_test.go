package broker

// fetchmem_internal_test.go checks the fetch limits: the broker's
// fetch.max.bytes cap on responses and partitions (with KIP-74's
// first-batch exception), and the fetch memory budget, served over TCP by
// the real network server so that memory is given back only once a
// response has been written.

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/server"
	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// batchValue is the value size of the test batches: each batch is a
// little over 100 KiB.
const batchValue = 100 << 10

// openFetchBroker opens a broker with cfg's fetch settings and a topic
// "t" of two partitions holding n ~100 KiB batches each, and serves it
// on a loopback port. It returns the broker, a client and one batch's
// size.
func openFetchBroker(t *testing.T, cfg Config, n int) (*Broker, *kgo.Client, int) {
	t.Helper()
	cfg.DataDir = t.TempDir()
	b, err := Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	if _, err := b.createTopic("t", 2, nil); err != nil {
		t.Fatal(err)
	}
	batch := recordBatch(make([]byte, batchValue))
	for p := range int32(2) {
		for range n {
			if _, err := b.lookup("t", p).log.Append(bytes.Clone(batch)); err != nil { // Append stamps it
				t.Fatal(err)
			}
		}
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := server.New(server.Config{}, b)
	go srv.Serve(ln)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	cl, err := kgo.NewClient(kgo.SeedBrokers(ln.Addr().String()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return b, cl, len(batch)
}

// fetchReq asks for partitions 0 and 1 of "t" from offset 0 (or those
// given), with MaxBytes maxBytes and PartitionMaxBytes partMax. The client
// picks the version, so the topic is named both ways.
func fetchReq(b *Broker, maxBytes, partMax int32, offsets ...int64) *kmsg.FetchRequest {
	req := kmsg.NewPtrFetchRequest()
	req.MaxBytes = maxBytes
	req.MaxWaitMillis = 0
	rt := kmsg.NewFetchRequestTopic()
	rt.Topic = "t"
	tp, _ := b.topics.Get("t")
	rt.TopicID = tp.ID
	for p := range int32(2) {
		rp := kmsg.NewFetchRequestTopicPartition()
		rp.Partition = p
		rp.PartitionMaxBytes = partMax
		if int(p) < len(offsets) {
			rp.FetchOffset = offsets[p]
		}
		rt.Partitions = append(rt.Partitions, rp)
	}
	req.Topics = append(req.Topics, rt)
	return req
}

// fetchSizes sends req and returns the record bytes per partition.
func fetchSizes(t *testing.T, cl *kgo.Client, req *kmsg.FetchRequest) [2]int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	resp, err := req.RequestWith(ctx, cl)
	if err != nil {
		t.Fatal(err)
	}
	var got [2]int
	for _, sp := range resp.Topics[0].Partitions {
		if sp.ErrorCode != 0 {
			t.Fatalf("partition %d: error %d", sp.Partition, sp.ErrorCode)
		}
		got[sp.Partition] = len(sp.RecordBatches)
	}
	return got
}

// waitReleased waits until no fetch holds memory.
func waitReleased(t *testing.T, b *Broker) {
	t.Helper()
	testwait.For(t, 5*time.Second, "fetch memory to be given back", func() string {
		if n := b.fetchMem.InUse(); n != 0 {
			return fmt.Sprintf("%d bytes held", n)
		}
		return ""
	})
}

func TestFetchMaxBytesCapsResponses(t *testing.T) {
	const unlimited = 1<<31 - 1
	tests := []struct {
		name             string
		fetchMax         int32  // broker's
		maxBytes, partMx int32  // client's
		want             [2]int // batches per partition
	}{
		{"broker cap below the client's", 350 << 10, unlimited, unlimited, [2]int{3, 0}},
		{"cap shared across partitions", 350 << 10, unlimited, 250 << 10, [2]int{2, 1}},
		{"client's MaxBytes below the cap", 350 << 10, 200 << 10, unlimited, [2]int{1, 0}},
		{"first batch whole even above the cap", 50 << 10, unlimited, unlimited, [2]int{1, 0}},
		{"default cap (55 MiB) above the data", 0, unlimited, unlimited, [2]int{10, 10}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, cl, batchLen := openFetchBroker(t, Config{FetchMaxBytes: tc.fetchMax}, 10)
			got := fetchSizes(t, cl, fetchReq(b, tc.maxBytes, tc.partMx))
			if want := [2]int{tc.want[0] * batchLen, tc.want[1] * batchLen}; got != want {
				t.Fatalf("record bytes %v, want %v (%v batches of %d)", got, want, tc.want, batchLen)
			}
			waitReleased(t, b)
		})
	}
}

// TestFetchMemoryBudget: a fetch reads only what the budget allows
// (at least one batch), waits when the budget is taken, holds nothing
// while long-polling, and gives everything back once answered.
func TestFetchMemoryBudget(t *testing.T) {
	const budget = 250 << 10
	b, cl, batchLen := openFetchBroker(t, Config{FetchMemoryBytes: budget}, 10)

	// Two batches fit the budget; the second partition gets none.
	if got := fetchSizes(t, cl, fetchReq(b, 1<<30, 1<<30)); got != [2]int{2 * batchLen, 0} {
		t.Fatalf("record bytes %v, want 2 batches of %d and none", got, batchLen)
	}
	waitReleased(t, b)

	// With the budget taken, a fetch waits, then reads.
	b.fetchMem.Force(budget)
	done := make(chan [2]int, 1)
	go func() { done <- fetchSizes(t, cl, fetchReq(b, 1<<30, 1<<30)) }()
	testwait.For(t, 5*time.Second, "the fetch to wait for memory", func() string {
		if b.fetchMem.Waits() == 0 {
			return "not waiting"
		}
		return ""
	})
	select {
	case got := <-done:
		t.Fatalf("fetch answered %v while the budget was taken", got)
	default:
	}
	b.fetchMem.Release(budget)
	if got := <-done; got[0] != 2*batchLen {
		t.Fatalf("after release: %v", got)
	}
	waitReleased(t, b)

	// A batch larger than the whole budget still goes out, alone.
	small, smallCl, batchLen := openFetchBroker(t, Config{FetchMemoryBytes: 50 << 10}, 3)
	if got := fetchSizes(t, smallCl, fetchReq(small, 1<<30, 1<<30)); got != [2]int{batchLen, 0} {
		t.Fatalf("budget below one batch: %v", got)
	}
	waitReleased(t, small)

	// A long poll at the end of the log holds nothing while it waits.
	req := fetchReq(b, 1<<30, 1<<30, 10, 10)
	req.MinBytes, req.MaxWaitMillis = 1, 5000
	polled := make(chan [2]int, 1)
	go func() { polled <- fetchSizes(t, cl, req) }()
	time.Sleep(100 * time.Millisecond) // let it start waiting
	if n := b.fetchMem.InUse(); n != 0 {
		t.Fatalf("long poll holds %d bytes", n)
	}
	if _, err := b.lookup("t", 1).log.Append(recordBatch([]byte("wake"))); err != nil {
		t.Fatal(err)
	}
	if got := <-polled; got[0] != 0 || got[1] == 0 {
		t.Fatalf("long poll answered %v", got)
	}
	waitReleased(t, b)
}

// TestShareFetchMemoryBudget: ShareFetch draws from the same budget as
// Fetch: it reads what the budget allows (at least one batch), waits when
// the budget is taken, and gives everything back once its response has
// been written.
func TestShareFetchMemoryBudget(t *testing.T) {
	const budget = 250 << 10
	b, cl, _ := openFetchBroker(t, Config{FetchMemoryBytes: budget}, 10)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cfg := kmsg.NewPtrIncrementalAlterConfigsRequest()
	res := kmsg.NewIncrementalAlterConfigsRequestResource()
	res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeGroupConfig, "sg"
	c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
	c.Name, c.Value = "share.auto.offset.reset", kmsg.StringPtr("earliest")
	res.Configs = append(res.Configs, c)
	cfg.Resources = append(cfg.Resources, res)
	if resp, err := cfg.RequestWith(ctx, cl); err != nil || resp.Resources[0].ErrorCode != 0 {
		t.Fatalf("group config: %v %+v", err, resp)
	}
	hb := kmsg.NewPtrShareGroupHeartbeatRequest()
	hb.GroupID, hb.MemberID, hb.SubscribedTopicNames = "sg", "m1", []string{"t"}
	if resp, err := hb.RequestWith(ctx, cl); err != nil || resp.ErrorCode != 0 {
		t.Fatalf("join: %v %+v", err, resp)
	}
	tp, _ := b.topics.Get("t")
	epoch := int32(0)
	shareFetch := func() [2]int {
		req := kmsg.NewPtrShareFetchRequest()
		req.GroupID, req.MemberID, req.ShareSessionEpoch = kmsg.StringPtr("sg"), kmsg.StringPtr("m1"), epoch
		req.MaxWaitMillis, req.MaxRecords = 0, 1000
		if epoch == 0 {
			rt := kmsg.NewShareFetchRequestTopic()
			rt.TopicID = tp.ID
			for p := range int32(2) {
				rp := kmsg.NewShareFetchRequestTopicPartition()
				rp.Partition = p
				rt.Partitions = append(rt.Partitions, rp)
			}
			req.Topics = append(req.Topics, rt)
		}
		epoch++
		resp, err := req.RequestWith(ctx, cl)
		if err != nil || resp.ErrorCode != 0 {
			t.Errorf("share fetch: %v %+v", err, resp)
			return [2]int{}
		}
		var got [2]int
		for _, rt := range resp.Topics {
			for _, rp := range rt.Partitions {
				for _, ar := range rp.AcquiredRecords {
					got[rp.Partition] += int(ar.LastOffset - ar.FirstOffset + 1)
				}
			}
		}
		return got
	}
	// Two ~100 KiB batches (of one record each) fit the budget; the second
	// partition gets none this time.
	if got := shareFetch(); got != [2]int{2, 0} {
		t.Fatalf("acquired %v records, want two of partition 0 only", got)
	}
	waitReleased(t, b)

	// With the budget taken, a share fetch waits, then reads.
	b.fetchMem.Force(budget)
	waits := b.fetchMem.Waits()
	done := make(chan [2]int, 1)
	go func() { done <- shareFetch() }()
	testwait.For(t, 5*time.Second, "the share fetch to wait for memory", func() string {
		if b.fetchMem.Waits() == waits {
			return "not waiting"
		}
		return ""
	})
	select {
	case got := <-done:
		t.Fatalf("share fetch answered %v while the budget was taken", got)
	default:
	}
	b.fetchMem.Release(budget)
	if got := <-done; got[0]+got[1] != 2 {
		t.Fatalf("after release: acquired %v", got)
	}
	waitReleased(t, b)
}
