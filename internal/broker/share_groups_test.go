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
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// setGroupConfigs sets GROUP configs (name, value pairs) and fails the
// test on any error.
func setGroupConfigs(t testing.TB, cl *kgo.Client, group string, kvs ...string) {
	t.Helper()
	configs := map[string]string{}
	for i := 0; i+1 < len(kvs); i += 2 {
		configs[kvs[i]] = kvs[i+1]
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := testclient.SetGroupConfigs(ctx, cl, group, configs); err != nil {
		t.Fatal(err)
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

func shareClient(t testing.TB, addr, topic, group string, opts ...kgo.Opt) *kgo.Client {
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
	const topic, group, total = "jobs", "job-runners", int64(100)
	testclient.CreateTopic(t, b.Addr, topic, 1, nil)
	admin := testclient.New(t, b.Addr)
	setGroupConfigs(t, admin, group, "share.auto.offset.reset", "earliest", "share.delivery.count.limit", "3")
	produceKeys(t, b.Addr, topic, 0, int(total))

	// First member, speaking the protocol itself so that what it holds is
	// exact: it acquires all 100 records, rejects 0-9, releases 10-19,
	// accepts 20-79, and still holds 80-99 when the broker stops.
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	rawShareMember(t, ctx, admin, topic, group, total)
	b.Stop(t)
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

// rawShareMember joins group as member "m1", acquires records 0..total-1
// of topic's partition 0 with ShareFetch, and acknowledges 0-9 REJECT,
// 10-19 RELEASE and 20-79 ACCEPT with ShareAcknowledge, leaving the rest
// acquired.
func rawShareMember(t *testing.T, ctx context.Context, cl *kgo.Client, topic, group string, total int64) {
	t.Helper()
	hb := kmsg.NewPtrShareGroupHeartbeatRequest()
	hb.GroupID, hb.MemberID, hb.SubscribedTopicNames = group, "m1", []string{topic}
	if resp, err := hb.RequestWith(ctx, cl); err != nil || resp.ErrorCode != 0 {
		t.Fatalf("join: %v %v", err, resp)
	}
	md, err := kadm.NewClient(cl).Metadata(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	id := md.Topics[topic].ID
	epoch, next := int32(0), int64(0)
	for next < total && ctx.Err() == nil {
		req := kmsg.NewPtrShareFetchRequest()
		req.GroupID, req.MemberID, req.ShareSessionEpoch = kmsg.StringPtr(group), kmsg.StringPtr("m1"), epoch
		req.MaxWaitMillis, req.MinBytes, req.MaxBytes, req.MaxRecords = 1000, 1, 1<<20, 500
		if epoch == 0 {
			rt := kmsg.NewShareFetchRequestTopic()
			rt.TopicID = id
			rt.Partitions = []kmsg.ShareFetchRequestTopicPartition{kmsg.NewShareFetchRequestTopicPartition()}
			req.Topics = append(req.Topics, rt)
		}
		resp, err := req.RequestWith(ctx, cl)
		if err != nil || resp.ErrorCode != 0 {
			t.Fatalf("share fetch: %v %v", err, resp)
		}
		epoch++
		for _, rt := range resp.Topics {
			for _, rp := range rt.Partitions {
				for _, ar := range rp.AcquiredRecords {
					if ar.FirstOffset != next || ar.DeliveryCount != 1 {
						t.Fatalf("acquired %d-%d (delivery %d), want from %d, first delivery", ar.FirstOffset, ar.LastOffset, ar.DeliveryCount, next)
					}
					next = ar.LastOffset + 1
				}
			}
		}
	}
	ack := kmsg.NewPtrShareAcknowledgeRequest()
	ack.GroupID, ack.MemberID, ack.ShareSessionEpoch = kmsg.StringPtr(group), kmsg.StringPtr("m1"), epoch
	rt := kmsg.NewShareAcknowledgeRequestTopic()
	rt.TopicID = id
	rp := kmsg.NewShareAcknowledgeRequestTopicPartition()
	for _, b := range []struct {
		first, last int64
		typ         int8
	}{{0, 9, 3}, {10, 19, 2}, {20, 79, 1}} {
		rp.AcknowledgementBatches = append(rp.AcknowledgementBatches, kmsg.ShareAcknowledgeRequestTopicPartitionAcknowledgementBatch{
			FirstOffset: b.first, LastOffset: b.last, AcknowledgeTypes: []int8{b.typ}})
	}
	rt.Partitions = append(rt.Partitions, rp)
	ack.Topics = append(ack.Topics, rt)
	resp, err := ack.RequestWith(ctx, cl)
	if err != nil || resp.ErrorCode != 0 || resp.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("share acknowledge: %v %+v", err, resp)
	}
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

// TestGroupConfigs: the GROUP config resource takes Kafka's names with
// Kafka's bounds, describes a group's own values and the defaults, and
// keeps them across a restart.
func TestGroupConfigs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	b := testbroker.StartAt(t, dir)
	cl := testclient.New(t, b.Addr)
	alter := func(name, value string) int16 {
		req := kmsg.NewPtrIncrementalAlterConfigsRequest()
		res := kmsg.NewIncrementalAlterConfigsRequestResource()
		res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeGroupConfig, "g"
		c := kmsg.NewIncrementalAlterConfigsRequestResourceConfig()
		c.Name, c.Value = name, kmsg.StringPtr(value)
		res.Configs = append(res.Configs, c)
		req.Resources = append(req.Resources, res)
		resp, err := req.RequestWith(context.Background(), cl)
		if err != nil {
			t.Fatal(err)
		}
		return resp.Resources[0].ErrorCode
	}
	for _, tc := range []struct {
		name, value string
		want        *kerr.Error
	}{
		{"share.record.lock.duration.ms", "15000", nil},
		{"share.record.lock.duration.ms", "1000", kerr.InvalidConfig},
		{"share.record.lock.duration.ms", "soon", kerr.InvalidConfig},
		{"share.delivery.count.limit", "11", kerr.InvalidConfig},
		{"share.delivery.count.limit", "3", nil},
		{"share.auto.offset.reset", "by_duration:PT1H30M", nil},
		{"share.auto.offset.reset", "by_duration:-PT1H", kerr.InvalidConfig},
		{"share.auto.offset.reset", "sometime", kerr.InvalidConfig},
		{"share.isolation.level", "read_committed", nil},
		{"share.isolation.level", "hello", kerr.InvalidConfig},
		{"consumer.session.timeout.ms", "50000", nil},
		{"no.such.config", "1", kerr.InvalidConfig},
	} {
		code := alter(tc.name, tc.value)
		want := int16(0)
		if tc.want != nil {
			want = tc.want.Code
		}
		if code != want {
			t.Errorf("set %s=%s: %v, want %v", tc.name, tc.value, kerr.ErrorForCode(code), tc.want)
		}
	}
	describe := func(cl *kgo.Client) map[string]kmsg.DescribeConfigsResponseResourceConfig {
		req := kmsg.NewPtrDescribeConfigsRequest()
		res := kmsg.NewDescribeConfigsRequestResource()
		res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeGroupConfig, "g"
		req.Resources = append(req.Resources, res)
		resp, err := req.RequestWith(context.Background(), cl)
		if err != nil || resp.Resources[0].ErrorCode != 0 {
			t.Fatalf("describe: %v %v", err, resp)
		}
		out := map[string]kmsg.DescribeConfigsResponseResourceConfig{}
		for _, c := range resp.Resources[0].Configs {
			out[c.Name] = c
		}
		return out
	}
	check := func(cl *kgo.Client) {
		t.Helper()
		got := describe(cl)
		for name, want := range map[string]string{
			"share.record.lock.duration.ms": "15000", "share.delivery.count.limit": "3",
			"share.auto.offset.reset": "by_duration:PT1H30M", "share.isolation.level": "read_committed",
			"consumer.session.timeout.ms": "50000",
		} {
			if c := got[name]; c.Value == nil || *c.Value != want || c.Source != kmsg.ConfigSourceGroupConfig {
				t.Errorf("%s: %v (source %v), want %s set on the group", name, c.Value, c.Source, want)
			}
		}
		if c := got["share.session.timeout.ms"]; c.Value == nil || *c.Value != "45000" || c.Source != kmsg.ConfigSourceDefaultConfig {
			t.Errorf("share.session.timeout.ms: %v (source %v), want the default 45000", c.Value, c.Source)
		}
	}
	check(cl)
	b.Stop(t)
	b = testbroker.StartAt(t, dir)
	check(testclient.New(t, b.Addr))
}

// TestShareGroupReadCommitted: under share.isolation.level=read_committed
// a share group gets committed transactional records and plain ones,
// never aborted ones nor anything past an open transaction; under
// read_uncommitted it gets the aborted ones too.
func TestShareGroupReadCommitted(t *testing.T) {
	t.Parallel()
	b := testbroker.Start(t)
	const topic = "txns"
	testclient.CreateTopic(t, b.Addr, topic, 1, nil)
	admin := testclient.New(t, b.Addr)
	setGroupConfigs(t, admin, "committed", "share.auto.offset.reset", "earliest", "share.isolation.level", "read_committed")
	setGroupConfigs(t, admin, "everything", "share.auto.offset.reset", "earliest")
	testclient.WriteTxn(t, b.Addr, "t1", topic, 0, testclient.TxnCommit, "c1", "c2")
	testclient.WriteTxn(t, b.Addr, "t2", topic, 0, testclient.TxnAbort, "a1", "a2")
	testclient.WriteTxn(t, b.Addr, "t3", topic, 0, testclient.TxnCommit, "c3")
	testclient.WriteTxn(t, b.Addr, "t4", topic, 0, testclient.TxnOpen, "o1")
	p := testclient.New(t, b.Addr, kgo.DefaultProduceTopic(topic))
	if err := p.ProduceSync(context.Background(), kgo.StringRecord("p1")).FirstErr(); err != nil {
		t.Fatal(err)
	}
	consume := func(group string, want int) map[string]bool {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		cl := shareClient(t, b.Addr, topic, group)
		defer cl.Close()
		got := map[string]bool{}
		for len(got) < want && ctx.Err() == nil {
			cl.PollFetches(ctx).EachRecord(func(r *kgo.Record) { got[string(r.Value)] = true })
		}
		// Nothing else comes within a moment.
		short, cancel2 := context.WithTimeout(context.Background(), 700*time.Millisecond)
		defer cancel2()
		cl.PollFetches(short).EachRecord(func(r *kgo.Record) { got[string(r.Value)] = true })
		return got
	}
	got := consume("committed", 3)
	if len(got) != 3 || !got["c1"] || !got["c2"] || !got["c3"] {
		t.Errorf("read_committed got %v, want c1 c2 c3 (nothing aborted, nothing past the open transaction)", got)
	}
	got = consume("everything", 7)
	for _, v := range []string{"c1", "c2", "a1", "a2", "c3", "o1", "p1"} {
		if !got[v] {
			t.Errorf("read_uncommitted got %v, missing %s", got, v)
		}
	}
}
