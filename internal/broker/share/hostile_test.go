package share

// hostile_test.go sends damaged and hostile ShareFetch, ShareAcknowledge,
// ShareGroupHeartbeat and admin requests to the coordinator: malformed
// acknowledgement batches (reversed, overlapping, out of order, negative,
// huge, with types out of range), offsets the member does not hold,
// unknown topics and partitions, partitions named twice, wrong session
// epochs, the session limit, requests naming very many partitions, and
// the fetch limits at their extremes. Each must be answered with Kafka's
// error code, change nothing it refuses, and cost time and memory in
// proportion to the request, never to the offsets it names.

import (
	"context"
	"fmt"
	"math"
	"testing"

	"github.com/courier-dev/courier/internal/broker/group"
	"github.com/courier-dev/courier/internal/broker/vfs"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// logHarness is a harness whose only topic, "t" (id {7}, one partition),
// reads a fake log of batches of the given sizes; cfg is every group's
// settings and adjust, if not nil, changes the options.
func logHarness(t *testing.T, cfg GroupConfig, adjust func(*Options), sizes ...int) *harness {
	t.Helper()
	h := &harness{t: t, fs: vfs.NewMem(), clock: group.NewFakeClock(t0)}
	log := &fakeLog{notify: make(chan struct{})}
	for _, n := range sizes {
		log.add(n)
	}
	opts := h.options()
	opts.Topics = logTopics{log}
	opts.Config = func(string) GroupConfig { return cfg }
	if adjust != nil {
		adjust(&opts)
	}
	c, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	h.c = c
	t.Cleanup(func() { h.c.Close() })
	return h
}

// earliest is the default group settings but share.auto.offset.reset,
// earliest.
func earliest() GroupConfig {
	cfg := DefaultGroupConfig()
	cfg.Reset = ResetEarliest
	return cfg
}

var tpT = TopicPartition{TopicID: [16]byte{7}}

// shareFetch builds a ShareFetch of member in group "g" at epoch naming
// partitions, each with its acknowledgement batches (may be nil).
func shareFetch(member string, epoch int32, parts ...fetchPart) *kmsg.ShareFetchRequest {
	req := kmsg.NewPtrShareFetchRequest()
	req.Version = 2
	req.GroupID, req.MemberID, req.ShareSessionEpoch = kmsg.StringPtr("g"), kmsg.StringPtr(member), epoch
	at := map[[16]byte]int{}
	for _, p := range parts {
		i, ok := at[p.tp.TopicID]
		if !ok {
			rt := kmsg.NewShareFetchRequestTopic()
			rt.TopicID = p.tp.TopicID
			req.Topics = append(req.Topics, rt)
			i = len(req.Topics) - 1
			at[p.tp.TopicID] = i
		}
		rp := kmsg.NewShareFetchRequestTopicPartition()
		rp.Partition = p.tp.Partition
		for _, b := range p.acks {
			ab := kmsg.NewShareFetchRequestTopicPartitionAcknowledgementBatch()
			ab.FirstOffset, ab.LastOffset, ab.AcknowledgeTypes = b.First, b.Last, b.Types
			rp.AcknowledgementBatches = append(rp.AcknowledgementBatches, ab)
		}
		req.Topics[i].Partitions = append(req.Topics[i].Partitions, rp)
	}
	return req
}

// fetchPart is one partition of a request and its acknowledgements.
type fetchPart struct {
	tp   TopicPartition
	acks []AckBatch
}

// shareAck builds the ShareAcknowledge of the same partitions.
func shareAck(member string, epoch int32, parts ...fetchPart) *kmsg.ShareAcknowledgeRequest {
	f := shareFetch(member, epoch, parts...)
	req := kmsg.NewPtrShareAcknowledgeRequest()
	req.Version = 2
	req.GroupID, req.MemberID, req.ShareSessionEpoch = f.GroupID, f.MemberID, epoch
	for _, ft := range f.Topics {
		rt := kmsg.NewShareAcknowledgeRequestTopic()
		rt.TopicID = ft.TopicID
		for _, fp := range ft.Partitions {
			rp := kmsg.NewShareAcknowledgeRequestTopicPartition()
			rp.Partition = fp.Partition
			for _, b := range fp.AcknowledgementBatches {
				rp.AcknowledgementBatches = append(rp.AcknowledgementBatches, kmsg.ShareAcknowledgeRequestTopicPartitionAcknowledgementBatch(b))
			}
			rt.Partitions = append(rt.Partitions, rp)
		}
		req.Topics = append(req.Topics, rt)
	}
	return req
}

func allReadable(string) bool { return true }

// sessionEpochOf is member's session's epoch in group "g".
func (h *harness) sessionEpochOf(member string) int32 {
	h.c.mu.Lock()
	defer h.c.mu.Unlock()
	return h.c.groups["g"].sessionEpoch(member)
}

// holders renders who holds offsets [0, n) of t-0 in group "g".
func (h *harness) holders(n int64) string {
	h.c.mu.Lock()
	defer h.c.mu.Unlock()
	sp := h.c.groups["g"].parts[tpT]
	out := ""
	for o := range n {
		st, c := sp.p.StateAt(o)
		out += fmt.Sprintf("%d:%s/%d/%s ", o, st, c, sp.p.Owner(o))
	}
	return out
}

// TestHostileAcknowledgements: member a holds offsets 0-4 and b holds 5-9;
// every malformed or misdirected acknowledgement, through ShareAcknowledge
// and piggybacked on ShareFetch, is refused with Kafka's code and changes
// nothing, and a huge range costs no more than a small one.
func TestHostileAcknowledgements(t *testing.T) {
	h := logHarness(t, earliest(), nil, 4, 6)
	h.heartbeat("g", "a", 0, "t")
	h.heartbeat("g", "b", 0, "t")
	for _, m := range []string{"a", "b"} {
		req := shareFetch(m, 0, fetchPart{tp: tpT})
		req.MaxRecords = 5
		resp := fetchNow(context.Background(), h.c.ShareFetch(req, Conn{ID: 1}, allReadable))
		if resp.ErrorCode != 0 || len(resp.Topics) != 1 {
			t.Fatalf("%s's first fetch: %+v", m, resp)
		}
	}
	before := h.holders(10)

	accept := []int8{AckAccept}
	unknown := TopicPartition{TopicID: [16]byte{0xee}}
	for _, tc := range []struct {
		name  string
		parts []fetchPart
		want  map[TopicPartition]*kerr.Error
	}{
		{"reversed", []fetchPart{{tpT, []AckBatch{{3, 1, accept}}}}, nil},
		{"overlapping", []fetchPart{{tpT, []AckBatch{{0, 2, accept}, {2, 3, accept}}}}, nil},
		{"out of order", []fetchPart{{tpT, []AckBatch{{3, 4, accept}, {0, 1, accept}}}}, nil},
		{"negative", []fetchPart{{tpT, []AckBatch{{-3, -1, accept}}}}, nil},
		{"whole int64 range", []fetchPart{{tpT, []AckBatch{{math.MinInt64, math.MaxInt64, accept}}}}, nil},
		{"0 to MaxInt64, one type", []fetchPart{{tpT, []AckBatch{{0, math.MaxInt64, accept}}}}, map[TopicPartition]*kerr.Error{tpT: kerr.InvalidRecordState}},
		{"0 to MaxInt64, two types", []fetchPart{{tpT, []AckBatch{{0, math.MaxInt64, []int8{1, 1}}}}}, nil},
		{"MaxInt64 alone", []fetchPart{{tpT, []AckBatch{{math.MaxInt64, math.MaxInt64, accept}}}}, map[TopicPartition]*kerr.Error{tpT: kerr.InvalidRecordState}},
		{"type 5", []fetchPart{{tpT, []AckBatch{{0, 1, []int8{5}}}}}, nil},
		{"type -1", []fetchPart{{tpT, []AckBatch{{0, 1, []int8{-1}}}}}, nil},
		{"renew without IsRenewAck", []fetchPart{{tpT, []AckBatch{{0, 1, []int8{AckRenew}}}}}, nil},
		{"no types", []fetchPart{{tpT, []AckBatch{{0, 1, nil}}}}, nil},
		{"types not one per offset", []fetchPart{{tpT, []AckBatch{{0, 4, []int8{1, 1}}}}}, nil},
		{"a valid batch, then a bad one", []fetchPart{{tpT, []AckBatch{{0, 1, accept}, {4, 2, accept}}}}, nil},
		{"another member's offsets", []fetchPart{{tpT, []AckBatch{{5, 9, accept}}}}, map[TopicPartition]*kerr.Error{tpT: kerr.InvalidRecordState}},
		{"held and not held", []fetchPart{{tpT, []AckBatch{{3, 6, accept}}}}, map[TopicPartition]*kerr.Error{tpT: kerr.InvalidRecordState}},
		{"beyond the log end", []fetchPart{{tpT, []AckBatch{{100, 200, accept}}}}, map[TopicPartition]*kerr.Error{tpT: kerr.InvalidRecordState}},
		{"unknown topic id", []fetchPart{{unknown, []AckBatch{{0, 1, accept}}}}, map[TopicPartition]*kerr.Error{unknown: kerr.UnknownTopicID}},
		{"negative partition", []fetchPart{{TopicPartition{tpT.TopicID, -1}, []AckBatch{{0, 1, accept}}}}, map[TopicPartition]*kerr.Error{{tpT.TopicID, -1}: kerr.UnknownTopicOrPartition}},
		{"partition beyond the topic", []fetchPart{{TopicPartition{tpT.TopicID, 7}, []AckBatch{{0, 1, accept}}}}, map[TopicPartition]*kerr.Error{{tpT.TopicID, 7}: kerr.UnknownTopicOrPartition}},
		{"partition named twice", []fetchPart{{tpT, []AckBatch{{0, 1, accept}}}, {tpT, []AckBatch{{2, 3, accept}}}}, nil},
	} {
		want := tc.want
		if want == nil {
			want = map[TopicPartition]*kerr.Error{tpT: kerr.InvalidRequest}
		}
		t.Run("ShareAcknowledge/"+tc.name, func(t *testing.T) {
			resp := h.c.ShareAcknowledge(shareAck("a", h.sessionEpochOf("a"), tc.parts...), allReadable)(context.Background())
			got := map[TopicPartition]*kerr.Error{}
			for _, rt := range resp.Topics {
				for _, rp := range rt.Partitions {
					if got[TopicPartition{rt.TopicID, rp.Partition}] != nil {
						t.Errorf("partition %d answered twice", rp.Partition)
					}
					got[TopicPartition{rt.TopicID, rp.Partition}] = kerr.TypedErrorForCode(rp.ErrorCode)
				}
			}
			if resp.ErrorCode != 0 || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("answered %v / %v, want %v", kerr.ErrorForCode(resp.ErrorCode), got, want)
			}
			if after := h.holders(10); after != before {
				t.Fatalf("the state changed:\n%s\nto\n%s", before, after)
			}
		})
		t.Run("ShareFetch/"+tc.name, func(t *testing.T) {
			resp := fetchNow(context.Background(), h.c.ShareFetch(shareFetch("a", h.sessionEpochOf("a"), tc.parts...), Conn{ID: 1}, allReadable))
			got := map[TopicPartition]*kerr.Error{}
			for _, rt := range resp.Topics {
				for _, rp := range rt.Partitions {
					if rp.AcknowledgeErrorCode != 0 {
						got[TopicPartition{rt.TopicID, rp.Partition}] = kerr.TypedErrorForCode(rp.AcknowledgeErrorCode)
					}
				}
			}
			if resp.ErrorCode != 0 || fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("answered %v / %v, want %v", kerr.ErrorForCode(resp.ErrorCode), got, want)
			}
			if after := h.holders(10); after != before {
				t.Fatalf("the state changed:\n%s\nto\n%s", before, after)
			}
		})
	}
	// What a holds, it may still acknowledge.
	resp := h.c.ShareAcknowledge(shareAck("a", h.sessionEpochOf("a"), fetchPart{tpT, []AckBatch{{0, 4, accept}}}), allReadable)(context.Background())
	if resp.ErrorCode != 0 || resp.Topics[0].Partitions[0].ErrorCode != 0 {
		t.Fatalf("a valid acknowledgement after the hostile ones: %+v", resp)
	}
	if offs, _ := h.c.Offsets("g"); offs[0].StartOffset != 5 {
		t.Fatalf("start offset %d after accepting 0-4", offs[0].StartOffset)
	}
}

// TestHostileSessionsAndIDs: share session epochs that are wrong, the
// session limit, and ids the coordinator must refuse.
func TestHostileSessionsAndIDs(t *testing.T) {
	h := logHarness(t, DefaultGroupConfig(), func(o *Options) { o.MaxSessions = 3 }, 3)
	h.heartbeat("g", "a", 0, "t")
	fetch := func(member string, epoch int32, parts ...fetchPart) int16 {
		return fetchNow(context.Background(), h.c.ShareFetch(shareFetch(member, epoch, parts...), Conn{ID: 1}, allReadable)).ErrorCode
	}
	ack := func(member string, epoch int32) int16 {
		return h.c.ShareAcknowledge(shareAck(member, epoch), allReadable)(context.Background()).ErrorCode
	}
	long := "0123456789012345678901234567890123456"
	for _, tc := range []struct {
		name string
		code func() int16
		want *kerr.Error
	}{
		{"fetch, no session", func() int16 { return fetch("a", 7) }, kerr.ShareSessionNotFound},
		{"acknowledge, no session", func() int16 { return ack("a", 7) }, kerr.ShareSessionNotFound},
		{"close, no session", func() int16 { return fetch("a", -1) }, kerr.ShareSessionNotFound},
		{"open with acknowledgements", func() int16 { return fetch("a", 0, fetchPart{tpT, []AckBatch{{0, 0, []int8{1}}}}) }, kerr.InvalidRequest},
		{"open", func() int16 { return fetch("a", 0, fetchPart{tp: tpT}) }, nil},
		{"acknowledge at epoch 0", func() int16 { return ack("a", 0) }, kerr.InvalidShareSessionEpoch},
		{"epoch ahead", func() int16 { return fetch("a", 5) }, kerr.InvalidShareSessionEpoch},
		{"epoch -7", func() int16 { return fetch("a", -7) }, kerr.InvalidShareSessionEpoch},
		{"epoch MaxInt32", func() int16 { return ack("a", math.MaxInt32) }, kerr.InvalidShareSessionEpoch},
		{"epoch MinInt32", func() int16 { return ack("a", math.MinInt32) }, kerr.InvalidShareSessionEpoch},
		{"the right epoch", func() int16 { return ack("a", 1) }, nil},
		{"no member id", func() int16 { return fetch("", 0) }, kerr.InvalidRequest},
		{"member id too long", func() int16 { return ack(long, 1) }, kerr.InvalidRequest},
		// Kafka opens sessions for ids it has not seen join (it checks
		// only their form); the limit bounds them.
		{"second session", func() int16 { return fetch("x", 0) }, nil},
		{"third session", func() int16 { return fetch("y", 0) }, nil},
		{"beyond the limit", func() int16 { return fetch("z", 0) }, kerr.ShareSessionLimitReached},
		{"reopening one's own", func() int16 { return fetch("y", 0) }, nil},
		{"closing one", func() int16 { return fetch("x", -1) }, nil},
		{"then another fits", func() int16 { return fetch("z", 0) }, nil},
		{"heartbeat, group id not UTF-8", func() int16 { return h.heartbeat("g\xff", "a", 0, "t").ErrorCode }, kerr.InvalidRequest},
		{"alter offsets, group id not UTF-8", func() int16 { c, _, _ := h.c.AlterOffsets("g\xff", nil); return c }, kerr.InvalidGroupID},
		{"fetch, group id not UTF-8", func() int16 {
			req := shareFetch("a", 0)
			req.GroupID = kmsg.StringPtr("g\xff")
			return fetchNow(context.Background(), h.c.ShareFetch(req, Conn{}, allReadable)).ErrorCode
		}, kerr.GroupIDNotFound},
	} {
		if got := tc.code(); got != codeOf(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, kerr.ErrorForCode(got), tc.want)
		}
		if n := h.c.SessionCount(); n > 3 {
			t.Fatalf("%s: %d sessions, limit 3", tc.name, n)
		}
	}
	if h.c.Exists("g\xff") || h.c.Exists("g\uFFFD") {
		t.Fatal("a group was created under an id that is not UTF-8")
	}
}

func codeOf(err *kerr.Error) int16 {
	if err == nil {
		return 0
	}
	return err.Code
}

// TestManyPartitionsInOneRequest: a ShareFetch naming a hundred thousand
// partitions that do not exist, and one that does several times, is
// answered once per partition, and the session keeps only the real one.
func TestManyPartitionsInOneRequest(t *testing.T) {
	h := logHarness(t, earliest(), nil, 3)
	h.heartbeat("g", "a", 0, "t")
	const n = 50_000
	var parts, bad []fetchPart
	for i := range n {
		bad = append(bad, fetchPart{tp: TopicPartition{TopicID: [16]byte{0xee}, Partition: int32(i)}})
		bad = append(bad, fetchPart{tp: TopicPartition{TopicID: tpT.TopicID, Partition: int32(i%2*2-1) * int32(i+1)}})
		parts = append(parts, bad[len(bad)-2:]...)
		if i%10_000 == 0 {
			parts = append(parts, fetchPart{tp: tpT})
		}
	}
	req := shareFetch("a", 0, parts...)
	for i := range n {
		f := kmsg.NewShareFetchRequestForgottenTopicsData()
		f.TopicID, f.Partitions = [16]byte{0xef}, []int32{int32(i)}
		req.ForgottenTopicsData = append(req.ForgottenTopicsData, f)
	}
	resp := fetchNow(context.Background(), h.c.ShareFetch(req, Conn{ID: 1}, allReadable))
	if resp.ErrorCode != 0 {
		t.Fatalf("fetch: %v", kerr.ErrorForCode(resp.ErrorCode))
	}
	codes := map[int16]int{}
	seen := map[TopicPartition]bool{}
	for _, rt := range resp.Topics {
		for _, rp := range rt.Partitions {
			tp := TopicPartition{rt.TopicID, rp.Partition}
			if seen[tp] {
				t.Fatalf("partition %v answered twice", tp)
			}
			seen[tp] = true
			codes[rp.ErrorCode]++
		}
	}
	want := map[int16]int{kerr.UnknownTopicID.Code: n, kerr.UnknownTopicOrPartition.Code: n, 0: 1}
	if fmt.Sprint(codes) != fmt.Sprint(want) {
		t.Fatalf("answers by code %v, want %v", codes, want)
	}
	h.c.mu.Lock()
	s := h.c.groups["g"].sessions["a"]
	got := fmt.Sprint(s.parts, len(s.in))
	h.c.mu.Unlock()
	if want := fmt.Sprint([]TopicPartition{tpT}, 1); got != want {
		t.Fatalf("the session holds %s, want %s", got, want)
	}

	// The same partitions acknowledged: one answer each.
	for i := range bad {
		bad[i].acks = []AckBatch{{0, 0, []int8{AckAccept}}}
	}
	ar := h.c.ShareAcknowledge(shareAck("a", 1, bad...), allReadable)(context.Background())
	total := 0
	for _, rt := range ar.Topics {
		total += len(rt.Partitions)
	}
	if ar.ErrorCode != 0 || total != 2*n {
		t.Fatalf("acknowledge: %v, %d partitions answered, want %d", kerr.ErrorForCode(ar.ErrorCode), total, 2*n)
	}
}

// TestFetchLimitsExtremes: MaxRecords, BatchSize, MaxBytes, MaxWait and
// PartitionMaxBytes at their extremes fetch within what they allow and
// never fail.
func TestFetchLimitsExtremes(t *testing.T) {
	for _, tc := range []struct {
		name                     string
		maxRecords, batch, bytes int32
		wait, partBytes          int32
		wantRecords, maxRange    int
	}{
		{"defaults", 0, 0, 0, 0, 0, 15, 15},
		{"MaxRecords MaxInt32", math.MaxInt32, 0, 0, 0, 0, 15, 15},
		{"MaxRecords negative", -5, 0, 0, 0, 0, 15, 15},
		{"MaxRecords 1", 1, 0, 0, 0, 0, 1, 1},
		{"BatchSize 1", 0, 1, 0, 0, 0, 15, 1},
		{"BatchSize negative", 0, -3, 0, 0, 0, 15, 15},
		{"BatchSize MaxInt32", 0, math.MaxInt32, 0, 0, 0, 15, 15},
		{"MaxBytes 1: the first batch", 0, 0, 1, 0, 0, 4, 4},
		{"MaxBytes negative", 0, 0, -1, 0, 0, 15, 15},
		{"MaxBytes MaxInt32", 0, 0, math.MaxInt32, 0, 0, 15, 15},
		{"MaxWait negative", 0, 0, 0, -1, 0, 15, 15},
		{"MaxWait MaxInt32, records there", 0, 0, 0, math.MaxInt32, 0, 15, 15},
		{"PartitionMaxBytes negative", 0, 0, 0, 0, -9, 15, 15},
		{"PartitionMaxBytes 1: the first batch", 0, 0, 0, 0, 1, 4, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := logHarness(t, earliest(), nil, 4, 6, 5)
			h.heartbeat("g", "a", 0, "t")
			req := shareFetch("a", 0, fetchPart{tp: tpT})
			req.MaxRecords, req.BatchSize, req.MaxBytes, req.MaxWaitMillis = tc.maxRecords, tc.batch, tc.bytes, tc.wait
			req.Topics[0].Partitions[0].PartitionMaxBytes = tc.partBytes
			resp := fetchNow(context.Background(), h.c.ShareFetch(req, Conn{ID: 1}, allReadable))
			if resp.ErrorCode != 0 || len(resp.Topics) != 1 || resp.Topics[0].Partitions[0].ErrorCode != 0 {
				t.Fatalf("fetch: %+v", resp)
			}
			n, next := 0, int64(0)
			for _, r := range resp.Topics[0].Partitions[0].AcquiredRecords {
				size := int(r.LastOffset - r.FirstOffset + 1)
				if r.FirstOffset != next || size < 1 || size > tc.maxRange {
					t.Fatalf("acquired ranges %+v", resp.Topics[0].Partitions[0].AcquiredRecords)
				}
				n += size
				next = r.LastOffset + 1
			}
			if n != tc.wantRecords {
				t.Fatalf("acquired %d records, want %d", n, tc.wantRecords)
			}
		})
	}
}

// TestHostileAdmin: the offsets admin APIs with values out of range, and
// a start offset at the end of int64, which fetches then live with.
func TestHostileAdmin(t *testing.T) {
	h := logHarness(t, DefaultGroupConfig(), nil, 3)
	code, codes, wait := h.c.AlterOffsets("g", []AlterPartition{
		{"t", 0, math.MaxInt64}, {"t", -1, 0}, {"t", math.MaxInt32, 0}, {"t", 0, -1}, {"t", 0, math.MinInt64}, {"", 0, 0},
	})
	want := []int16{0, kerr.UnknownTopicOrPartition.Code, kerr.UnknownTopicOrPartition.Code, kerr.InvalidRequest.Code, kerr.InvalidRequest.Code, kerr.UnknownTopicOrPartition.Code}
	if code != 0 || fmt.Sprint(codes) != fmt.Sprint(want) || wait(context.Background()) != nil {
		t.Fatalf("alter: %d %v, want %v", code, codes, want)
	}
	h.heartbeat("g", "a", 0, "t")
	resp := fetchNow(context.Background(), h.c.ShareFetch(shareFetch("a", 0, fetchPart{tp: tpT}), Conn{ID: 1}, allReadable))
	if resp.ErrorCode != 0 || len(resp.Topics) != 0 {
		t.Fatalf("fetch past the end of int64: %+v", resp)
	}
	if offs, _ := h.c.Offsets("g"); len(offs) != 1 || offs[0].StartOffset != math.MaxInt64 || offs[0].Lag != 0 {
		t.Fatalf("offsets: %+v", offs)
	}
	h.heartbeat("g", "a", -1)
	names := make([]string, 100_000)
	for i := range names {
		names[i] = []string{"t", "none"}[i%2]
	}
	code, codes, wait = h.c.DeleteOffsets("g", names)
	if code != 0 || len(codes) != len(names) || codes[0] != 0 || codes[1] != kerr.UnknownTopicOrPartition.Code || wait(context.Background()) != nil {
		t.Fatalf("delete offsets: %d, %d codes", code, len(codes))
	}
	if offs, _ := h.c.Offsets("g"); len(offs) != 0 {
		t.Fatalf("offsets after the deletion: %+v", offs)
	}
}
