package broker_test

// share_hostile_test.go sends hostile and damaged share-group requests
// over TCP: malformed and misdirected acknowledgements, huge ranges,
// unknown topics and partitions, partitions named twice or by the ten
// thousand, wrong session epochs, ids that are not UTF-8, fetch limits at
// their extremes. Each is answered with Kafka's error code, and the
// broker goes on serving the member whose records were never touched.
// The group size and share session limits are broker configs.

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker"
	"github.com/courier-dev/courier/internal/broker/run"
	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// ackBatch is one acknowledgement batch of a raw request.
type ackBatch struct {
	first, last int64
	types       []int8
}

// rawAck is a ShareAcknowledge of member m1 in group at epoch: for each
// (topic id, partition), its batches.
func rawAck(group string, epoch int32, parts ...rawPart) *kmsg.ShareAcknowledgeRequest {
	req := kmsg.NewPtrShareAcknowledgeRequest()
	req.GroupID, req.MemberID, req.ShareSessionEpoch = kmsg.StringPtr(group), kmsg.StringPtr("m1"), epoch
	for _, p := range parts {
		rt := kmsg.NewShareAcknowledgeRequestTopic()
		rt.TopicID = p.id
		rp := kmsg.NewShareAcknowledgeRequestTopicPartition()
		rp.Partition = p.partition
		for _, b := range p.batches {
			rp.AcknowledgementBatches = append(rp.AcknowledgementBatches, kmsg.ShareAcknowledgeRequestTopicPartitionAcknowledgementBatch{
				FirstOffset: b.first, LastOffset: b.last, AcknowledgeTypes: b.types})
		}
		rt.Partitions = append(rt.Partitions, rp)
		req.Topics = append(req.Topics, rt)
	}
	return req
}

type rawPart struct {
	id        [16]byte
	partition int32
	batches   []ackBatch
}

// TestShareHostileRequestsOverTCP: see the file comment.
func TestShareHostileRequestsOverTCP(t *testing.T) {
	t.Parallel()
	b := testbroker.Start(t)
	const topic, group = "hostile", "hostile-group"
	testclient.CreateTopic(t, b.Addr, topic, 1, nil)
	cl := testclient.New(t, b.Addr)
	setGroupConfigs(t, cl, group, "share.auto.offset.reset", "earliest")
	produceKeys(t, b.Addr, topic, 0, 20)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	md, err := kadm.NewClient(cl).Metadata(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	id := md.Topics[topic].ID

	hb := kmsg.NewPtrShareGroupHeartbeatRequest()
	hb.GroupID, hb.MemberID, hb.SubscribedTopicNames = group, "m1", []string{topic}
	if resp, err := hb.RequestWith(ctx, cl); err != nil || resp.ErrorCode != 0 {
		t.Fatalf("join: %v %v", err, resp)
	}
	fetch := kmsg.NewPtrShareFetchRequest()
	fetch.GroupID, fetch.MemberID = kmsg.StringPtr(group), kmsg.StringPtr("m1")
	fetch.MaxWaitMillis, fetch.MaxBytes, fetch.MaxRecords = 5000, 1<<20, 500
	rt := kmsg.NewShareFetchRequestTopic()
	rt.TopicID = id
	rt.Partitions = []kmsg.ShareFetchRequestTopicPartition{kmsg.NewShareFetchRequestTopicPartition()}
	fetch.Topics = append(fetch.Topics, rt)
	fr, err := fetch.RequestWith(ctx, cl)
	if err != nil || fr.ErrorCode != 0 || len(fr.Topics) != 1 {
		t.Fatalf("first fetch: %v %+v", err, fr)
	}
	held := fr.Topics[0].Partitions[0].AcquiredRecords
	if len(held) != 1 || held[0].FirstOffset != 0 || held[0].LastOffset != 19 {
		t.Fatalf("acquired %+v, want 0-19", held)
	}
	epoch := int32(1)

	accept := []int8{1}
	unknown := [16]byte{0xde, 0xad}
	for _, tc := range []struct {
		name  string
		parts []rawPart
		want  []*kerr.Error // per partition, in order
	}{
		{"reversed", []rawPart{{id, 0, []ackBatch{{9, 2, accept}}}}, []*kerr.Error{kerr.InvalidRequest}},
		{"overlapping", []rawPart{{id, 0, []ackBatch{{0, 5, accept}, {5, 6, accept}}}}, []*kerr.Error{kerr.InvalidRequest}},
		{"0 to MaxInt64", []rawPart{{id, 0, []ackBatch{{0, math.MaxInt64, accept}}}}, []*kerr.Error{kerr.InvalidRecordState}},
		{"beyond the log end", []rawPart{{id, 0, []ackBatch{{20, 30, accept}}}}, []*kerr.Error{kerr.InvalidRecordState}},
		{"type 9", []rawPart{{id, 0, []ackBatch{{0, 1, []int8{9}}}}}, []*kerr.Error{kerr.InvalidRequest}},
		{"negative", []rawPart{{id, 0, []ackBatch{{-2, 1, accept}}}}, []*kerr.Error{kerr.InvalidRequest}},
		{"unknown topic id", []rawPart{{unknown, 0, []ackBatch{{0, 1, accept}}}}, []*kerr.Error{kerr.UnknownTopicID}},
		{"partition 99", []rawPart{{id, 99, []ackBatch{{0, 1, accept}}}}, []*kerr.Error{kerr.UnknownTopicOrPartition}},
		{"named twice", []rawPart{{id, 0, []ackBatch{{0, 1, accept}}}, {id, 0, []ackBatch{{2, 3, accept}}}}, []*kerr.Error{kerr.InvalidRequest, kerr.InvalidRequest}},
	} {
		resp, err := rawAck(group, epoch, tc.parts...).RequestWith(ctx, cl)
		if err != nil || resp.ErrorCode != 0 {
			t.Fatalf("%s: %v %+v", tc.name, err, resp)
		}
		epoch++
		var got []*kerr.Error
		for _, rt := range resp.Topics {
			for _, rp := range rt.Partitions {
				got = append(got, kerr.TypedErrorForCode(rp.ErrorCode))
			}
		}
		// A partition named twice is answered once per naming or once:
		// either way, refused.
		if tc.name == "named twice" && len(got) == 1 {
			got = append(got, got[0])
		}
		if fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}

	// Wrong epochs, bad ids, extreme limits.
	fetchAt := func(e int32, adjust func(*kmsg.ShareFetchRequest)) *kmsg.ShareFetchResponse {
		t.Helper()
		req := kmsg.NewPtrShareFetchRequest()
		req.GroupID, req.MemberID, req.ShareSessionEpoch = kmsg.StringPtr(group), kmsg.StringPtr("m1"), e
		if adjust != nil {
			adjust(req)
		}
		resp, err := req.RequestWith(ctx, cl)
		if err != nil {
			t.Fatalf("share fetch: %v", err)
		}
		return resp
	}
	for _, tc := range []struct {
		name string
		code int16
		want *kerr.Error
	}{
		{"epoch ahead", fetchAt(epoch+5, nil).ErrorCode, kerr.InvalidShareSessionEpoch},
		{"epoch -9", fetchAt(-9, nil).ErrorCode, kerr.InvalidShareSessionEpoch},
		{"acknowledge at epoch 0", func() int16 {
			r, err := rawAck(group, 0).RequestWith(ctx, cl)
			if err != nil {
				t.Fatal(err)
			}
			return r.ErrorCode
		}(), kerr.InvalidShareSessionEpoch},
		{"heartbeat, group id not UTF-8", joinShare(t, ctx, cl, "bad\xff", "m1", topic), kerr.InvalidRequest},
		{"heartbeat, member id of 40 characters", joinShare(t, ctx, cl, group, strings.Repeat("m", 40), topic), kerr.InvalidRequest},
	} {
		if tc.code != codeOf(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, kerr.ErrorForCode(tc.code), tc.want)
		}
	}

	// Ten thousand partitions of a topic that does not exist and as many
	// beyond the real topic's one, with extreme limits: one answer each.
	r := fetchAt(epoch, func(req *kmsg.ShareFetchRequest) {
		req.MaxRecords, req.BatchSize, req.MaxBytes, req.MaxWaitMillis = -1, math.MaxInt32, -1, -1
		for _, tid := range [][16]byte{unknown, id} {
			rt := kmsg.NewShareFetchRequestTopic()
			rt.TopicID = tid
			for p := range int32(10_000) {
				rp := kmsg.NewShareFetchRequestTopicPartition()
				rp.Partition = p + 1
				rt.Partitions = append(rt.Partitions, rp)
			}
			req.Topics = append(req.Topics, rt)
		}
	})
	epoch++
	codes := map[int16]int{}
	for _, rt := range r.Topics {
		for _, rp := range rt.Partitions {
			codes[rp.ErrorCode]++
		}
	}
	if want := fmt.Sprint(map[int16]int{kerr.UnknownTopicID.Code: 10_000, kerr.UnknownTopicOrPartition.Code: 10_000}); r.ErrorCode != 0 || fmt.Sprint(codes) != want {
		t.Fatalf("many partitions: %v, answers by code %v, want %s", kerr.ErrorForCode(r.ErrorCode), codes, want)
	}

	// None of it touched what m1 holds: it accepts all twenty.
	resp, err := rawAck(group, epoch, rawPart{id, 0, []ackBatch{{0, 19, accept}}}).RequestWith(ctx, cl)
	if err != nil || resp.ErrorCode != 0 || resp.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("accept 0-19: %v %+v", err, resp)
	}
	if got := shareStartOffset(t, cl, group, topic); got != 20 {
		t.Fatalf("start offset %d after accepting 0-19, want 20", got)
	}
	// And a real share consumer of another group is served.
	other := "hostile-other"
	setGroupConfigs(t, cl, other, "share.auto.offset.reset", "earliest")
	sc := shareClient(t, b.Addr, topic, other)
	for n := 0; n < 20; {
		fs := sc.PollFetches(ctx)
		if ctx.Err() != nil {
			t.Fatalf("the share consumer got %d records", n)
		}
		fs.EachRecord(func(r *kgo.Record) { r.Ack(kgo.AckAccept); n++ })
	}
}

// joinShare sends a first ShareGroupHeartbeat of member, subscribed to
// topic, and returns its error code.
func joinShare(t *testing.T, ctx context.Context, cl *kgo.Client, group, member, topic string) int16 {
	t.Helper()
	hb := kmsg.NewPtrShareGroupHeartbeatRequest()
	hb.GroupID, hb.MemberID, hb.SubscribedTopicNames = group, member, []string{topic}
	r, err := hb.RequestWith(ctx, cl)
	if err != nil {
		t.Fatalf("heartbeat: %v", err)
	}
	return r.ErrorCode
}

func codeOf(err *kerr.Error) int16 {
	if err == nil {
		return 0
	}
	return err.Code
}

// TestShareLimitsAsBrokerConfigs: group.share.max.size and
// group.share.max.share.sessions come from the broker's configuration,
// are described as Kafka's broker configs, and bound the members of a
// group (GROUP_MAX_SIZE_REACHED) and the share sessions open at once
// (SHARE_SESSION_LIMIT_REACHED, until one closes); values outside
// Kafka's ranges are refused at start.
func TestShareLimitsAsBrokerConfigs(t *testing.T) {
	t.Parallel()
	for _, bad := range []broker.Config{{ShareMaxGroupSize: 9}, {ShareMaxGroupSize: 1001}, {ShareMaxSessions: -1}} {
		bad.DataDir = t.TempDir()
		if b, err := broker.Open(bad); err == nil {
			b.Close()
			t.Errorf("a broker opened with %+v", bad)
		}
	}
	b := testbroker.Start(t, func(c *run.Config) { c.Broker.ShareMaxGroupSize, c.Broker.ShareMaxSessions = 10, 2 })
	const topic, group = "limits", "limits-group"
	testclient.CreateTopic(t, b.Addr, topic, 1, nil)
	cl := testclient.New(t, b.Addr)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	req := kmsg.NewPtrDescribeConfigsRequest()
	res := kmsg.NewDescribeConfigsRequestResource()
	res.ResourceType, res.ResourceName = kmsg.ConfigResourceTypeBroker, "1"
	res.ConfigNames = []string{"group.share.max.size", "group.share.max.share.sessions"}
	req.Resources = append(req.Resources, res)
	dresp, err := req.RequestWith(ctx, cl)
	if err != nil || len(dresp.Resources) != 1 || dresp.Resources[0].ErrorCode != 0 {
		t.Fatalf("describe broker configs: %v %+v", err, dresp)
	}
	got := map[string]string{}
	for _, c := range dresp.Resources[0].Configs {
		if c.Value != nil {
			got[c.Name] = *c.Value
		}
	}
	if want := map[string]string{"group.share.max.size": "10", "group.share.max.share.sessions": "2"}; fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("broker configs %v, want %v", got, want)
	}

	for i := range 10 {
		if c := joinShare(t, ctx, cl, group, fmt.Sprint("m", i), topic); c != 0 {
			t.Fatalf("member %d: %v", i, kerr.ErrorForCode(c))
		}
	}
	if c := joinShare(t, ctx, cl, group, "m10", topic); c != kerr.GroupMaxSizeReached.Code {
		t.Fatalf("an eleventh member: %v, want GROUP_MAX_SIZE_REACHED", kerr.ErrorForCode(c))
	}
	open := func(member string, epoch int32) int16 {
		t.Helper()
		f := kmsg.NewPtrShareFetchRequest()
		f.GroupID, f.MemberID, f.ShareSessionEpoch = kmsg.StringPtr(group), kmsg.StringPtr(member), epoch
		r, err := f.RequestWith(ctx, cl)
		if err != nil {
			t.Fatalf("share fetch: %v", err)
		}
		return r.ErrorCode
	}
	for _, step := range []struct {
		member string
		epoch  int32
		want   *kerr.Error
	}{
		{"m0", 0, nil}, {"m1", 0, nil}, {"m2", 0, kerr.ShareSessionLimitReached},
		{"m1", -1, nil}, {"m2", 0, nil},
	} {
		if c := open(step.member, step.epoch); c != codeOf(step.want) {
			t.Fatalf("%s at epoch %d: %v, want %v", step.member, step.epoch, kerr.ErrorForCode(c), step.want)
		}
	}
}
