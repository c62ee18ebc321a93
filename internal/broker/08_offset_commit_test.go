package broker_test

// 08_offset_commit_test.go covers committed offsets end to end: they
// survive a broker restart, and the group APIs answer bad input (unknown
// groups, topics and partitions, empty group ids, oversized metadata,
// stale generations) with Kafka's error codes. Requests are sent at chosen
// versions over a raw connection.

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestCommittedOffsetsSurviveRestart(t *testing.T) {
	b := testbroker.Start(t)
	const topic = "orders"
	testclient.CreateTopic(t, b.Addr, topic, 2, nil)
	produceEach(t, b.Addr, topic, 2, 10)
	m := startMember(t, b.Addr, "sink", topic, "m", kgo.RangeBalancer())
	eventually(t, wait30, "the first member to consume everything", func() bool { return countAll(m) == 20 })
	m.stop()
	want := map[int32]int64{0: 10, 1: 10}
	checkCommitted(t, b.Addr, "sink", topic, want)

	b.Stop(t)
	b = testbroker.StartAt(t, b.DataDir)
	checkCommitted(t, b.Addr, "sink", topic, want)
	produceEach(t, b.Addr, topic, 2, 5)
	m = startMember(t, b.Addr, "sink", topic, "m2", kgo.RangeBalancer())
	eventually(t, wait30, "the new member to consume the new records", func() bool { return countAll(m) == 10 })
	for p, offs := range m.consumed() {
		if offs[0] != 10 {
			t.Fatalf("partition %d resumed at %d, want 10 (the committed offset)", p, offs[0])
		}
	}
	if err := m.failure(); err != nil {
		t.Fatal(err)
	}
}

const wait30 = 30 * time.Second

// checkCommitted compares a group's committed offsets with want.
func checkCommitted(t *testing.T, addr, group, topic string, want map[int32]int64) {
	t.Helper()
	adm := kadm.NewClient(testclient.New(t, addr))
	got, err := adm.FetchOffsets(testCtx(t), group)
	if err != nil {
		t.Fatal(err)
	}
	for p, o := range want {
		r, ok := got.Lookup(topic, p)
		if !ok || r.Err != nil || r.At != o {
			t.Fatalf("%s-%d committed %+v, want %d", topic, p, r, o)
		}
	}
}

// call sends req at its version and returns the response.
func call[R kmsg.Response](t *testing.T, c *rawConn, req kmsg.Request) R {
	t.Helper()
	resp, err := c.roundTrip(req)
	if err != nil {
		t.Fatalf("%T v%d: %v", req, req.GetVersion(), err)
	}
	return resp.(R)
}

func expectCode(t *testing.T, what string, code int16, want *kerr.Error) {
	t.Helper()
	got := kerr.ErrorForCode(code)
	if want == nil && got == nil {
		return
	}
	if got != want {
		t.Fatalf("%s: %v, want %v", what, got, want)
	}
}

func offsetCommit(version int16, group string, gen int32, topic string, partition int32, offset int64, meta string) *kmsg.OffsetCommitRequest {
	req := kmsg.NewPtrOffsetCommitRequest()
	req.Version = version
	req.Group = group
	req.Generation = gen
	rt := kmsg.NewOffsetCommitRequestTopic()
	rt.Topic = topic
	rp := kmsg.NewOffsetCommitRequestTopicPartition()
	rp.Partition, rp.Offset, rp.Metadata = partition, offset, &meta
	rt.Partitions = append(rt.Partitions, rp)
	req.Topics = append(req.Topics, rt)
	return req
}

func TestOffsetCommitAndFetchErrors(t *testing.T) {
	b := testbroker.Start(t)
	testclient.CreateTopic(t, b.Addr, "t", 2, nil)
	c := dialRaw(t, b.Addr)
	commitCode := func(req *kmsg.OffsetCommitRequest) int16 {
		resp := call[*kmsg.OffsetCommitResponse](t, c, req)
		return resp.Topics[0].Partitions[0].ErrorCode
	}

	expectCode(t, "commit", commitCode(offsetCommit(8, "solo", -1, "t", 1, 42, "hello")), nil)
	expectCode(t, "unknown topic", commitCode(offsetCommit(8, "solo", -1, "nope", 0, 1, "")), kerr.UnknownTopicOrPartition)
	expectCode(t, "unknown partition", commitCode(offsetCommit(8, "solo", -1, "t", 7, 1, "")), kerr.UnknownTopicOrPartition)
	expectCode(t, "empty group id", commitCode(offsetCommit(8, "", -1, "t", 0, 1, "")), kerr.InvalidGroupID)
	expectCode(t, "oversized metadata", commitCode(offsetCommit(8, "solo", -1, "t", 0, 1, strings.Repeat("x", 4097))), kerr.OffsetMetadataTooLarge)
	expectCode(t, "generation of unknown group (v9)", commitCode(offsetCommit(9, "ghost", 3, "t", 0, 1, "")), kerr.GroupIDNotFound)
	expectCode(t, "generation of unknown group (v8)", commitCode(offsetCommit(8, "ghost", 3, "t", 0, 1, "")), kerr.IllegalGeneration)
	expectCode(t, "member of empty group", commitCode(offsetCommit(8, "solo", 3, "t", 0, 1, "")), kerr.UnknownMemberID)

	// v10 names topics by id.
	meta := call[*kmsg.MetadataResponse](t, c, &kmsg.MetadataRequest{Version: 12, Topics: []kmsg.MetadataRequestTopic{{Topic: kmsg.StringPtr("t")}}})
	id := meta.Topics[0].TopicID
	byID := offsetCommit(10, "solo", -1, "", 0, 7, "")
	byID.Topics[0].TopicID = id
	expectCode(t, "commit by topic id", commitCode(byID), nil)
	byID.Topics[0].TopicID = [16]byte{1}
	expectCode(t, "unknown topic id", commitCode(byID), kerr.UnknownTopicID)

	// v7: one group, named partitions; a partition never committed is -1.
	f7 := kmsg.NewPtrOffsetFetchRequest()
	f7.Version = 7
	f7.Group = "solo"
	f7.Topics = []kmsg.OffsetFetchRequestTopic{{Topic: "t", Partitions: []int32{0, 1}}}
	r7 := call[*kmsg.OffsetFetchResponse](t, c, f7)
	if p := r7.Topics[0].Partitions; r7.ErrorCode != 0 || p[0].Offset != 7 || p[1].Offset != 42 || *p[1].Metadata != "hello" {
		t.Fatalf("fetch v7 %+v", r7)
	}
	// v8: several groups, one unknown; null topics means all.
	f8 := kmsg.NewPtrOffsetFetchRequest()
	f8.Version = 8
	f8.Groups = []kmsg.OffsetFetchRequestGroup{
		{Group: "solo"},
		{Group: "unknown", Topics: []kmsg.OffsetFetchRequestGroupTopic{{Topic: "t", Partitions: []int32{0}}}},
		{Group: ""},
	}
	r8 := call[*kmsg.OffsetFetchResponse](t, c, f8)
	if g := r8.Groups[0]; len(g.Topics) != 1 || len(g.Topics[0].Partitions) != 2 || g.Topics[0].Partitions[1].Offset != 42 {
		t.Fatalf("fetch v8 all offsets %+v", g)
	}
	if g := r8.Groups[1]; g.ErrorCode != 0 || g.Topics[0].Partitions[0].Offset != -1 {
		t.Fatalf("fetch v8 unknown group %+v", g)
	}
	expectCode(t, "fetch empty group id", r8.Groups[2].ErrorCode, kerr.InvalidGroupID)
	// v10: by topic id, all offsets answer with ids.
	f10 := kmsg.NewPtrOffsetFetchRequest()
	f10.Version = 10
	f10.Groups = []kmsg.OffsetFetchRequestGroup{{Group: "solo"}}
	r10 := call[*kmsg.OffsetFetchResponse](t, c, f10)
	if g := r10.Groups[0]; len(g.Topics) != 1 || g.Topics[0].TopicID != id || g.Topics[0].Partitions[0].Offset != 7 {
		t.Fatalf("fetch v10 %+v", g)
	}

	// OffsetDelete and DeleteGroups.
	od := kmsg.NewPtrOffsetDeleteRequest()
	od.Group = "solo"
	od.Topics = []kmsg.OffsetDeleteRequestTopic{{Topic: "t", Partitions: []kmsg.OffsetDeleteRequestTopicPartition{{Partition: 0}, {Partition: 9}}}}
	odr := call[*kmsg.OffsetDeleteResponse](t, c, od)
	expectCode(t, "offset delete", odr.ErrorCode, nil)
	expectCode(t, "offset delete partition", odr.Topics[0].Partitions[0].ErrorCode, nil)
	expectCode(t, "offset delete unknown partition", odr.Topics[0].Partitions[1].ErrorCode, kerr.UnknownTopicOrPartition)
	od.Group = "ghost"
	expectCode(t, "offset delete unknown group", call[*kmsg.OffsetDeleteResponse](t, c, od).ErrorCode, kerr.GroupIDNotFound)
	r7 = call[*kmsg.OffsetFetchResponse](t, c, f7)
	if p := r7.Topics[0].Partitions; p[0].Offset != -1 || p[1].Offset != 42 {
		t.Fatalf("after offset delete %+v", p)
	}
	dg := kmsg.NewPtrDeleteGroupsRequest()
	dg.Version = 3
	dg.Groups = []string{"solo", "ghost", ""}
	dgr := call[*kmsg.DeleteGroupsResponse](t, c, dg)
	expectCode(t, "delete group", dgr.Groups[0].ErrorCode, nil)
	expectCode(t, "delete unknown group", dgr.Groups[1].ErrorCode, kerr.GroupIDNotFound)
	expectCode(t, "delete empty group id", dgr.Groups[2].ErrorCode, kerr.InvalidGroupID)
	r7 = call[*kmsg.OffsetFetchResponse](t, c, f7)
	if p := r7.Topics[0].Partitions; p[1].Offset != -1 {
		t.Fatalf("offsets of deleted group %+v", p)
	}
}

func TestGroupMembershipErrors(t *testing.T) {
	b := testbroker.Start(t)
	c := dialRaw(t, b.Addr)

	hb := kmsg.NewPtrHeartbeatRequest()
	hb.Version = 4
	hb.Group, hb.MemberID, hb.Generation = "nobody", "m", 1
	expectCode(t, "heartbeat unknown group", call[*kmsg.HeartbeatResponse](t, c, hb).ErrorCode, kerr.UnknownMemberID)
	hb.Group = ""
	expectCode(t, "heartbeat empty group id", call[*kmsg.HeartbeatResponse](t, c, hb).ErrorCode, kerr.InvalidGroupID)

	sg := kmsg.NewPtrSyncGroupRequest()
	sg.Version = 5
	sg.Group, sg.MemberID, sg.Generation = "nobody", "m", 1
	expectCode(t, "sync unknown group", call[*kmsg.SyncGroupResponse](t, c, sg).ErrorCode, kerr.UnknownMemberID)

	lg := kmsg.NewPtrLeaveGroupRequest()
	lg.Version = 5
	lg.Group = "nobody"
	lg.Members = []kmsg.LeaveGroupRequestMember{{MemberID: "m"}}
	lr := call[*kmsg.LeaveGroupResponse](t, c, lg)
	if lr.ErrorCode != 0 || len(lr.Members) != 1 || lr.Members[0].ErrorCode != kerr.UnknownMemberID.Code {
		t.Fatalf("leave unknown group %+v", lr)
	}

	join := kmsg.NewPtrJoinGroupRequest()
	join.Version = 9
	join.Group = "g"
	join.SessionTimeoutMillis = 10000
	join.RebalanceTimeoutMillis = 10000
	join.ProtocolType = "consumer"
	join.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: (&kmsg.ConsumerMemberMetadata{Topics: []string{"t"}}).AppendTo(nil)}}
	jr := call[*kmsg.JoinGroupResponse](t, c, join)
	expectCode(t, "first join", jr.ErrorCode, kerr.MemberIDRequired)
	join.MemberID = jr.MemberID
	jr = call[*kmsg.JoinGroupResponse](t, c, join)
	expectCode(t, "second join", jr.ErrorCode, nil)
	if jr.LeaderID != jr.MemberID || jr.Generation != 1 || len(jr.Members) != 1 || *jr.Protocol != "range" {
		t.Fatalf("join %+v", jr)
	}
	sg.Group, sg.MemberID, sg.Generation = "g", jr.MemberID, 1
	sg.GroupAssignment = []kmsg.SyncGroupRequestGroupAssignment{{MemberID: jr.MemberID, MemberAssignment: []byte("opaque bytes")}}
	sr := call[*kmsg.SyncGroupResponse](t, c, sg)
	if sr.ErrorCode != 0 || string(sr.MemberAssignment) != "opaque bytes" {
		t.Fatalf("sync %+v", sr)
	}
	sg.Generation = 0
	expectCode(t, "sync old generation", call[*kmsg.SyncGroupResponse](t, c, sg).ErrorCode, kerr.IllegalGeneration)
	hb.Group, hb.MemberID, hb.Generation = "g", jr.MemberID, 1
	expectCode(t, "heartbeat", call[*kmsg.HeartbeatResponse](t, c, hb).ErrorCode, nil)
	hb.Generation = 7
	expectCode(t, "heartbeat wrong generation", call[*kmsg.HeartbeatResponse](t, c, hb).ErrorCode, kerr.IllegalGeneration)
	other := *join
	other.MemberID = ""
	other.ProtocolType = "connect"
	expectCode(t, "join with another protocol type", call[*kmsg.JoinGroupResponse](t, c, &other).ErrorCode, kerr.InconsistentGroupProtocol)
	join.Group = ""
	expectCode(t, "join empty group id", call[*kmsg.JoinGroupResponse](t, c, join).ErrorCode, kerr.InvalidGroupID)

	// Describe and list.
	dg := kmsg.NewPtrDescribeGroupsRequest()
	dg.Version = 5
	dg.Groups = []string{"g", "nobody"}
	dg.IncludeAuthorizedOperations = true
	dr := call[*kmsg.DescribeGroupsResponse](t, c, dg)
	if g := dr.Groups[0]; g.State != "Stable" || g.Protocol != "range" || len(g.Members) != 1 || string(g.Members[0].MemberAssignment) != "opaque bytes" || !strings.HasPrefix(g.Members[0].ClientHost, "/") {
		t.Fatalf("describe %+v", g)
	}
	if g := dr.Groups[1]; g.ErrorCode != 0 || g.State != "Dead" {
		t.Fatalf("describe unknown v5 %+v", g)
	}
	dg.Version = 6
	expectCode(t, "describe unknown v6", call[*kmsg.DescribeGroupsResponse](t, c, dg).Groups[1].ErrorCode, kerr.GroupIDNotFound)

	list := func(states ...string) []string {
		req := kmsg.NewPtrListGroupsRequest()
		req.Version = 5
		req.StatesFilter = states
		var out []string
		for _, g := range call[*kmsg.ListGroupsResponse](t, c, req).Groups {
			out = append(out, g.Group+"/"+g.GroupState+"/"+g.GroupType)
		}
		return out
	}
	if got := list(); len(got) != 1 || got[0] != "g/Stable/classic" {
		t.Fatalf("list %v", got)
	}
	if got := list("empty"); len(got) != 0 {
		t.Fatalf("list empty groups %v", got)
	}

	// A group with members cannot be deleted; its subscribed offsets
	// cannot be deleted either.
	del := kmsg.NewPtrDeleteGroupsRequest()
	del.Groups = []string{"g"}
	expectCode(t, "delete live group", call[*kmsg.DeleteGroupsResponse](t, c, del).Groups[0].ErrorCode, kerr.NonEmptyGroup)

	lg.Group = "g"
	lg.Members = []kmsg.LeaveGroupRequestMember{{MemberID: jr.MemberID}}
	lr = call[*kmsg.LeaveGroupResponse](t, c, lg)
	expectCode(t, "leave", lr.Members[0].ErrorCode, nil)
	if got := list("Empty"); len(got) != 1 {
		t.Fatalf("list empty groups after leave %v", got)
	}
}

func TestFindCoordinator(t *testing.T) {
	b := testbroker.Start(t)
	c := dialRaw(t, b.Addr)
	host, port, _ := strings.Cut(b.Addr, ":")
	for _, v := range []int16{0, 3} {
		req := kmsg.NewPtrFindCoordinatorRequest()
		req.Version = v
		req.CoordinatorKey = "g"
		resp := call[*kmsg.FindCoordinatorResponse](t, c, req)
		if resp.ErrorCode != 0 || resp.NodeID != 1 || resp.Host != host || strconv.Itoa(int(resp.Port)) != port {
			t.Fatalf("v%d: %+v", v, resp)
		}
	}
	req := kmsg.NewPtrFindCoordinatorRequest()
	req.Version = 6
	req.CoordinatorKeys = []string{"a", "b"}
	resp := call[*kmsg.FindCoordinatorResponse](t, c, req)
	if len(resp.Coordinators) != 2 || resp.Coordinators[1].Key != "b" || resp.Coordinators[1].Host != host {
		t.Fatalf("batched: %+v", resp)
	}
	req.CoordinatorType = 1
	resp = call[*kmsg.FindCoordinatorResponse](t, c, req)
	if tc := resp.Coordinators[0]; tc.ErrorCode != 0 || tc.NodeID != 1 || tc.Host != host {
		t.Fatalf("transaction coordinator: %+v", tc)
	}
	req.CoordinatorType = 2
	resp = call[*kmsg.FindCoordinatorResponse](t, c, req)
	expectCode(t, "share coordinator", resp.Coordinators[0].ErrorCode, kerr.InvalidRequest)

	// The first group and transactional lookups created the internal
	// topics.
	for _, name := range []string{"__consumer_offsets", "__transaction_state"} {
		meta := call[*kmsg.MetadataResponse](t, c, &kmsg.MetadataRequest{Version: 12, Topics: []kmsg.MetadataRequestTopic{{Topic: kmsg.StringPtr(name)}}})
		if mt := meta.Topics[0]; mt.ErrorCode != 0 || !mt.IsInternal {
			t.Fatalf("%s %+v", name, mt)
		}
	}
}
