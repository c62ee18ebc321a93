package broker_test

// share_groups_test.go drives share groups (KIP-932) over TCP with
// franz-go's share consumer: eight members on a two-partition topic each
// get records and every record is accepted; acknowledgements of each type
// (reject, release, accept) and what a restart keeps of them (nothing
// accepted or rejected comes back, released and unacknowledged records
// do, with their delivery counts); the admin APIs; and the GROUP config
// resource.

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// setGroupConfigs sets GROUP configs and fails the test on any error.
func setGroupConfigs(t *testing.T, cl *kgo.Client, group string, kvs ...string) {
	t.Helper()
	req := kmsg.NewPtrIncrementalAlterConfigsRequest()
	res := kmsg.NewIncrementalAlterConfigsRequestResource()
	res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeGroupConfig, group
	for i := 0; i < len(kvs); i += 2 {
		c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
		c.Name, c.Value = kvs[i], kmsg.StringPtr(kvs[i+1])
		res.Configs = append(res.Configs, c)
	}
	req.Resources = append(req.Resources, res)
	resp, err := req.RequestWith(context.Background(), cl)
	if err == nil {
		err = kerr.ErrorForCode(resp.Resources[0].ErrorCode)
	}
	if err != nil {
		t.Fatalf("set group configs %v: %v", kvs, err)
	}
}

// produceKeys writes records keyed 0..n-1 round robin over partitions.
func produceKeys(t *testing.T, addr, topic string, from, n int) {
	t.Helper()
	cl := testclient.New(t, addr, kgo.RecordPartitioner(kgo.RoundRobinPartitioner()))
	defer cl.Close()
	var rs []*kgo.Record
	for i := from; i < from+n; i++ {
		rs = append(rs, &kgo.Record{Topic: topic, Key: []byte(strconv.Itoa(i)), Value: []byte("v")})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := cl.ProduceSync(ctx, rs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}
}

func shareClient(t *testing.T, addr, topic, group string, opts ...kgo.Opt) *kgo.Client {
	return testclient.New(t, addr, append([]kgo.Opt{kgo.ConsumeTopics(topic), kgo.ShareGroup(group), kgo.FetchMaxWait(500 * time.Millisecond)}, opts...)...)
}

// TestShareGroupEveryMemberGetsRecords: eight members share two
// partitions, so each gets records (a consumer group would leave six
// idle), and together they accept every record.
func TestShareGroupEveryMemberGetsRecords(t *testing.T) {
	t.Parallel()
	b := testbroker.Start(t)
	const topic, group, members, total = "queue", "workers", 8, 2000
	testclient.CreateTopic(t, b.Addr, topic, 2, nil)
	admin := testclient.New(t, b.Addr)
	setGroupConfigs(t, admin, group, "share.auto.offset.reset", "earliest")
	produceKeys(t, b.Addr, topic, 0, total)

	var (
		mu       sync.Mutex
		accepted = map[string]int{}
		perMem   = make([]int, members)
		wg       sync.WaitGroup
	)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for i := range members {
		cl := shareClient(t, b.Addr, topic, group, kgo.ShareMaxRecords(10))
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer cl.Close()
			for ctx.Err() == nil {
				fs := cl.PollFetches(ctx)
				got := 0
				fs.EachRecord(func(r *kgo.Record) {
					r.Ack(kgo.AckAccept)
					got++
					mu.Lock()
					accepted[string(r.Key)]++
					perMem[i]++
					mu.Unlock()
				})
				if got > 0 {
					if err := cl.FlushAcks(ctx); err != nil && ctx.Err() == nil {
						t.Errorf("member %d: flush acks: %v", i, err)
					}
					time.Sleep(20 * time.Millisecond) // work: lets the others take turns
				}
			}
		}()
	}
	testwait.For(t, 50*time.Second, "every record accepted and every member served", func() string {
		mu.Lock()
		defer mu.Unlock()
		if len(accepted) < total {
			return strconv.Itoa(len(accepted)) + " records accepted"
		}
		for i, n := range perMem {
			if n == 0 {
				return "member " + strconv.Itoa(i) + " got nothing"
			}
		}
		return ""
	})
	cancel()
	wg.Wait()
	t.Logf("records per member: %v", perMem)
}

// TestShareGroupAcksAcrossRestart: rejected records never come back,
// released ones are delivered again with a higher delivery count,
// accepted ones never again, and a restart of the broker keeps all of
// that; what a member held unacknowledged when the broker stopped is
// delivered again after it, counted.
func TestShareGroupAcksAcrossRestart(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	b := testbroker.StartAt(t, dir)
	const topic, group, total = "jobs", "job-runners", 100
	testclient.CreateTopic(t, b.Addr, topic, 1, nil)
	admin := testclient.New(t, b.Addr)
	setGroupConfigs(t, admin, group, "share.auto.offset.reset", "earliest", "share.delivery.count.limit", "3")
	produceKeys(t, b.Addr, topic, 0, total)

	// First member: reject 0-9, release 10-19, accept 20-79, leave 80-99
	// acquired without acknowledging them.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	// It gives up quickly once the broker is gone (see below).
	cl := shareClient(t, b.Addr, topic, group, kgo.ShareMaxRecords(100), kgo.RetryTimeout(time.Second), kgo.RequestRetries(1))
	seen := map[int]bool{}
	for len(seen) < total && ctx.Err() == nil {
		cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			k, _ := strconv.Atoi(string(r.Key))
			seen[k] = true
			switch {
			case k < 10:
				r.Ack(kgo.AckReject)
			case k < 20:
				r.Ack(kgo.AckRelease)
			case k < 80:
				r.Ack(kgo.AckAccept)
			}
		})
	}
	if err := cl.FlushAcks(ctx); err != nil {
		t.Fatalf("flush acks: %v", err)
	}
	// Stop the broker with 80-99 still acquired by the member (its
	// client is left running: its own close would release them).
	b.Stop(t)
	cl.Close()
	b = testbroker.StartAt(t, dir)

	// The offsets survived: the start offset is at 10 (10-19 released).
	admin = testclient.New(t, b.Addr)
	if start := shareStartOffset(t, admin, group, topic); start != 10 {
		t.Fatalf("start offset after restart = %d, want 10", start)
	}
	cl2 := shareClient(t, b.Addr, topic, group)
	again := map[int]int32{}
	for len(again) < 30 && ctx.Err() == nil {
		cl2.PollFetches(ctx).EachRecord(func(r *kgo.Record) {
			k, _ := strconv.Atoi(string(r.Key))
			again[k] = r.DeliveryCount()
			r.Ack(kgo.AckAccept)
		})
	}
	if err := cl2.FlushAcks(ctx); err != nil {
		t.Fatalf("flush acks: %v", err)
	}
	for k, dc := range again {
		switch {
		case k < 10 || (k >= 20 && k < 80):
			t.Errorf("record %d (rejected or accepted) delivered again", k)
		case dc != 2:
			t.Errorf("record %d delivered again with delivery count %d, want 2", k, dc)
		}
	}
	if len(again) != 30 {
		t.Errorf("after the restart got %d records, want 30 (10-19 released, 80-99 unacknowledged)", len(again))
	}
	testwait.For(t, 10*time.Second, "the start offset at the end", func() string {
		if s := shareStartOffset(t, admin, group, topic); s != total {
			return "start offset " + strconv.FormatInt(s, 10)
		}
		return ""
	})
}

// shareStartOffset is a group's SPSO of partition 0 of topic.
func shareStartOffset(t *testing.T, cl *kgo.Client, group, topic string) int64 {
	t.Helper()
	req := kmsg.NewPtrDescribeShareGroupOffsetsRequest()
	rg := kmsg.NewDescribeShareGroupOffsetsRequestGroup()
	rg.GroupID = group
	req.Groups = append(req.Groups, rg)
	resp, err := req.RequestWith(context.Background(), cl)
	if err != nil {
		t.Fatalf("describe share group offsets: %v", err)
	}
	if err := kerr.ErrorForCode(resp.Groups[0].ErrorCode); err != nil {
		t.Fatalf("describe share group offsets: %v", err)
	}
	for _, rt := range resp.Groups[0].Topics {
		for _, rp := range rt.Partitions {
			if rt.Topic == topic && rp.Partition == 0 {
				return rp.StartOffset
			}
		}
	}
	t.Fatalf("no share state for %s-0", topic)
	return 0
}
