package group

// consumer_test.go tests KIP-848 consumer groups step by step: the
// incremental handover (revoke before assign), the answers Kafka gives to
// bad requests, session and rebalance timeouts, static membership, and
// what a restart keeps.

import (
	"fmt"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestConsumerHandoverRevokesBeforeAssigning(t *testing.T) {
	f := newCFix(t)
	id := f.topic("t", 2, 1)
	a := f.client("g", "a", "t")
	a.mustBeat(true)
	if got := a.owns(id); len(got) != 2 || a.epoch != 1 {
		t.Fatalf("a alone: %v", a)
	}
	b := f.client("g", "b", "t")
	b.mustBeat(true)
	if b.epoch != 2 || b.owned.count() != 0 {
		t.Fatalf("b must wait for a to release a partition: %v", b)
	}
	if s := f.state("g"); s != "Reconciling" {
		t.Fatalf("state %s", s)
	}
	// a learns it must give one up, but holds on for two heartbeats.
	a.slow = 2
	a.mustBeat(true)
	if a.assigned.count() != 1 || a.owned.count() != 2 || a.epoch != 1 {
		t.Fatalf("a told to revoke one: %v (assigned %v)", a, a.assigned)
	}
	for range 2 {
		b.mustBeat(true)
		if b.owned.count() != 0 {
			t.Fatalf("b got a partition a still owns: b %v, a %v", b, a)
		}
		a.mustBeat(true)
	}
	// a has released; its next heartbeat moves it to epoch 2, then b gets
	// the partition.
	a.mustBeat(true)
	b.mustBeat(true)
	if a.epoch != 2 || b.owned.count() != 1 || a.owned.count() != 1 || a.owned.equal(b.owned) {
		t.Fatalf("after the handover: a %v, b %v", a, b)
	}
	if s := f.state("g"); s != "Stable" {
		t.Fatalf("state %s", s)
	}
}

func TestConsumerHeartbeatErrors(t *testing.T) {
	f := newCFix(t, ConsumerMaxGroupSize(2))
	f.topic("t", 1, 1)
	f.client("g", "a", "t").mustBeat(true)
	str := func(s string) *string { return &s }
	base := func(mod func(r *kmsg.ConsumerGroupHeartbeatRequest)) *kmsg.ConsumerGroupHeartbeatRequest {
		r := kmsg.NewPtrConsumerGroupHeartbeatRequest()
		r.Version, r.Group, r.MemberID, r.MemberEpoch = 1, "g", "new", 0
		r.RebalanceTimeoutMillis, r.SubscribedTopicNames, r.Topics = 1000, []string{"t"}, []kmsg.ConsumerGroupHeartbeatRequestTopic{}
		mod(r)
		return r
	}
	for _, tc := range []struct {
		name string
		mod  func(r *kmsg.ConsumerGroupHeartbeatRequest)
		code int16
		msg  string
	}{
		{"v1 without member id", func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.MemberID = "" }, kerr.InvalidRequest.Code, "MemberId can't be empty."},
		{"empty group", func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.Group = " " }, kerr.InvalidRequest.Code, "GroupId can't be empty."},
		{"empty instance", func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.InstanceID = str("") }, kerr.InvalidRequest.Code, "InstanceId can't be empty."},
		{"join without rebalance timeout", func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.RebalanceTimeoutMillis = -1 }, kerr.InvalidRequest.Code, "RebalanceTimeoutMs must be provided in first request."},
		{"join owning partitions", func(r *kmsg.ConsumerGroupHeartbeatRequest) {
			r.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{{Partitions: []int32{0}}}
		}, kerr.InvalidRequest.Code, "TopicPartitions must be empty when (re-)joining."},
		{"join without subscription", func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.SubscribedTopicNames = nil }, kerr.InvalidRequest.Code,
			"Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining."},
		{"epoch below -2", func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.MemberEpoch = -3 }, kerr.InvalidRequest.Code, "MemberEpoch is invalid."},
		{"static leave without instance", func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.MemberEpoch = -2 }, kerr.InvalidRequest.Code, "InstanceId can't be null."},
		{"unknown assignor", func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.ServerAssignor = str("sticky") }, kerr.UnsupportedAssignor.Code,
			"ServerAssignor sticky is not supported. Supported assignors: uniform, range."},
		{"bad regex", func(r *kmsg.ConsumerGroupHeartbeatRequest) {
			r.SubscribedTopicNames, r.SubscribedTopicRegex = nil, str("a(")
		},
			kerr.InvalidRegularExpression.Code, "SubscribedTopicRegex `a(` is not a valid regular expression: error parsing regexp: missing closing ): `a(`."},
		{"unknown member", func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.MemberEpoch = 3 }, kerr.UnknownMemberID.Code, "Member new is not a member of group g."},
		{"epoch ahead", func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.MemberID, r.MemberEpoch = "a", 7 }, kerr.FencedMemberEpoch.Code,
			"The consumer group member has a greater member epoch (7) than the one known by the group coordinator (1). The member must abandon all its partitions and rejoin."},
		{"unknown group", func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.Group, r.MemberEpoch = "nope", 1 }, kerr.GroupIDNotFound.Code, "Consumer group nope not found."},
		{"leave unknown group", func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.Group, r.MemberEpoch = "nope", -1 }, kerr.GroupIDNotFound.Code, "Group nope not found."},
		{"static heartbeat unknown instance", func(r *kmsg.ConsumerGroupHeartbeatRequest) { r.MemberEpoch, r.InstanceID = 1, str("i9") }, kerr.UnknownMemberID.Code, "Instance id i9 is unknown."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := f.heartbeat(base(tc.mod), nil)
			if resp.ErrorCode != tc.code || resp.ErrorMessage == nil || *resp.ErrorMessage != tc.msg {
				t.Fatalf("got %v %q, want %v %q", kerr.ErrorForCode(resp.ErrorCode), derefOr(resp.ErrorMessage, ""), kerr.ErrorForCode(tc.code), tc.msg)
			}
		})
	}
	if found := f.inspect("nope", func(*Group) {}); found {
		t.Fatal("a refused heartbeat left a group behind")
	}
	// The group is full at two members; a member already in may rejoin.
	f.client("g", "b", "t").mustBeat(true)
	if code := f.client("g", "c", "t").beat(true); code != kerr.GroupMaxSizeReached.Code {
		t.Fatalf("third member: %v", kerr.ErrorForCode(code))
	}
}

func TestConsumerPreviousEpochAccepted(t *testing.T) {
	f := newCFix(t)
	id := f.topic("t", 2, 1)
	a := f.client("g", "a", "t")
	a.mustBeat(true)
	b := f.client("g", "b", "t")
	b.mustBeat(true)
	a.mustBeat(true) // revokes one
	a.mustBeat(true) // reports it released: epoch 2
	if a.epoch != 2 {
		t.Fatalf("a %v", a)
	}
	// The answer with epoch 2 was lost: a comes back with epoch 1 and a
	// subset of its assignment, and is accepted.
	req := a.request(true)
	req.MemberEpoch = 1
	if resp := f.heartbeat(req, nil); resp.ErrorCode != 0 || resp.MemberEpoch != 2 {
		t.Fatalf("previous epoch with owned partitions a subset: %v", kerr.ErrorForCode(resp.ErrorCode))
	}
	// With a partition it does not own it is fenced.
	req = a.request(true)
	req.MemberEpoch = 1
	req.Topics = []kmsg.ConsumerGroupHeartbeatRequestTopic{{TopicID: id, Partitions: []int32{0, 1}}}
	if resp := f.heartbeat(req, nil); resp.ErrorCode != kerr.FencedMemberEpoch.Code {
		t.Fatalf("previous epoch owning too much: %v", kerr.ErrorForCode(resp.ErrorCode))
	}
}

func TestConsumerSessionAndRebalanceTimeouts(t *testing.T) {
	f := newCFix(t, ConsumerSessionTimeout(10*time.Second))
	id := f.topic("t", 2, 1)
	a, b := f.client("g", "a", "t"), f.client("g", "b", "t")
	a.mustBeat(true)
	b.mustBeat(true)
	f.settle("g", 5, a, b)
	// b stops heartbeating: after the session timeout it is fenced and a
	// gets both partitions.
	for range 3 {
		f.clock.Advance(4 * time.Second)
		a.mustBeat(true)
	}
	f.settle("g", 3, a)
	if len(a.owns(id)) != 2 {
		t.Fatalf("a after b's session expired: %v", a)
	}
	if s := f.c.ConsumerStats(); s.Fenced[FenceSession] != 1 {
		t.Fatalf("fenced by session: %+v", s.Fenced)
	}
	// c joins; a must revoke one but never does: it is fenced after its
	// rebalance timeout (30s) and c gets everything.
	c := f.client("g", "c", "t")
	c.mustBeat(true)
	a.slow = 1000
	a.mustBeat(true)
	for range 8 {
		f.clock.Advance(4 * time.Second)
		c.mustBeat(true)
		a.beat(true)
	}
	if s := f.c.ConsumerStats(); s.Fenced[FenceRebalance] != 1 {
		t.Fatalf("fenced by rebalance timeout: %+v", s.Fenced)
	}
	f.settle("g", 3, c)
	if len(c.owns(id)) != 2 {
		t.Fatalf("c after a was fenced: %v", c)
	}
}

func TestConsumerStaticMemberKeepsAssignment(t *testing.T) {
	f := newCFix(t)
	id := f.topic("t", 4, 1)
	inst := "i1"
	a, b := f.client("g", "a", "t"), f.client("g", "b", "t")
	a.instance = &inst
	f.settle("g", 6, a, b)
	before := a.owns(id)
	var epoch int32
	f.inspect("g", func(g *Group) { epoch = g.cg.epoch })

	if code := a.leave(true); code != 0 {
		t.Fatalf("static leave: %v", kerr.ErrorForCode(code))
	}
	// Another process with the instance id cannot join while a's is
	// still in use... but a left for now, so a new member takes its place.
	a2 := f.client("g", "a2", "t")
	a2.instance = &inst
	a2.mustBeat(true)
	if got := a2.owns(id); len(got) != len(before) || got[0] != before[0] {
		t.Fatalf("a2 got %v, a had %v", got, before)
	}
	f.inspect("g", func(g *Group) {
		if g.cg.epoch != epoch {
			t.Fatalf("static rejoin bumped the group epoch %d -> %d", epoch, g.cg.epoch)
		}
	})
	// A third process with the same instance id: UNRELEASED_INSTANCE_ID.
	a3 := f.client("g", "a3", "t")
	a3.instance = &inst
	if code := a3.beat(true); code != kerr.UnreleasedInstanceID.Code {
		t.Fatalf("instance in use: %v", kerr.ErrorForCode(code))
	}
	// The replaced member id is fenced.
	a.joined, a.epoch = true, 1
	if code := a.beat(true); code != kerr.FencedInstanceID.Code {
		t.Fatalf("old member of the instance: %v", kerr.ErrorForCode(code))
	}
}

func TestConsumerGroupSurvivesRestart(t *testing.T) {
	f := newCFix(t)
	id := f.topic("t", 3, 1)
	a, b := f.client("g", "a", "t"), f.client("g", "b", "t")
	f.settle("g", 6, a, b)
	var before kmsg.ConsumerGroupDescribeResponseGroup
	f.inspect("g", func(g *Group) { before = g.ConsumerDescribe() })
	f.restart()
	var after kmsg.ConsumerGroupDescribeResponseGroup
	f.inspect("g", func(g *Group) { after = g.ConsumerDescribe() })
	if before.Epoch != after.Epoch || before.AssignmentEpoch != after.AssignmentEpoch || len(after.Members) != 2 || after.State != "Stable" {
		t.Fatalf("after restart %+v, before %+v", after, before)
	}
	for i := range before.Members {
		if before.Members[i].MemberEpoch != after.Members[i].MemberEpoch ||
			before.Members[i].Assignment.TopicPartitions[0].Partitions[0] != after.Members[i].Assignment.TopicPartitions[0].Partitions[0] {
			t.Fatalf("member %d after restart %+v, before %+v", i, after.Members[i], before.Members[i])
		}
	}
	// The members go on heartbeating without noticing.
	a.mustBeat(true)
	b.mustBeat(false)
	if a.owned.count()+b.owned.count() != 3 || len(a.owns(id))+len(b.owns(id)) != 3 {
		t.Fatalf("after restart: a %v, b %v", a, b)
	}
}

func TestConsumerTopicChangesReachTheAssignment(t *testing.T) {
	f := newCFix(t)
	id := f.topic("t", 1, 1)
	a, b := f.client("g", "a", "t", "u"), f.client("g", "b", "t", "u")
	f.settle("g", 6, a, b)
	// t grows to 4 partitions and u is created: no rejoin needed.
	f.topic("t", 4, 1)
	uid := f.topic("u", 2, 1)
	f.settle("g", 6, a, b)
	if n := len(a.owns(id)) + len(b.owns(id)); n != 4 {
		t.Fatalf("t's partitions owned: a %v, b %v", a, b)
	}
	if n := len(a.owns(uid)) + len(b.owns(uid)); n != 2 {
		t.Fatalf("u's partitions owned: a %v, b %v", a, b)
	}
	// u is deleted: its partitions are revoked.
	f.topics.Delete("u")
	f.settle("g", 6, a, b)
	if len(a.owns(uid))+len(b.owns(uid)) != 0 {
		t.Fatalf("u still owned: a %v, b %v", a, b)
	}
}

func TestConsumerRegexResolvesOnTheBroker(t *testing.T) {
	f := newCFix(t, RegexRefreshInterval(0))
	f.topics.Set(TopicInfo{Name: "__consumer_offsets", ID: TopicID{9}, Partitions: 2, Internal: true})
	oid := f.topic("orders", 1, 1)
	f.topic("secret-orders", 1, 1)
	re := "orders|__consumer_offsets|secret-orders"
	a := f.client("g", "a")
	a.regex = &re
	// The principal may not DESCRIBE secret-orders: it is not subscribed.
	allow := func(topic string) bool { return topic != "secret-orders" }
	for range 3 {
		if resp := f.heartbeat(a.request(true), allow); resp.ErrorCode != 0 {
			t.Fatal(kerr.ErrorForCode(resp.ErrorCode))
		} else {
			a.joined, a.epoch = true, resp.MemberEpoch
			if resp.Assignment != nil {
				b := builder{}
				for _, t := range resp.Assignment.Topics {
					for _, p := range t.Partitions {
						b.add(t.TopicID, p)
					}
				}
				a.owned = b.build()
			}
		}
	}
	if len(a.owns(oid)) != 1 || len(a.owns(TopicID{9})) != 2 || a.owned.count() != 3 {
		t.Fatalf("regex resolved to %v: want orders and the internal __consumer_offsets, not secret-orders", a.owned)
	}
	// A topic created later that matches joins the assignment.
	f.topic("orders", 3, 1)
	for range 3 {
		a.mustBeat(true)
	}
	if len(a.owns(oid)) != 3 {
		t.Fatalf("orders grown: %v", a.owned)
	}
}

func TestConsumerOffsetChecks(t *testing.T) {
	f := newCFix(t)
	f.topic("t", 1, 1)
	tp := TopicPartition{"t", 0}
	commitAs := func(version int16, member string, epoch int32) int16 {
		code, _, wait := f.c.CommitOffsets(version, "g", CommitRequest{Generation: epoch, MemberID: member, Offsets: []Commit{{TopicPartition: tp, Offset: 5}}})
		if code == 0 && wait != nil {
			if err := wait(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		return code
	}
	a := f.client("g", "a", "t")
	a.mustBeat(true)
	for _, tc := range []struct {
		name    string
		version int16
		member  string
		epoch   int32
		want    int16
	}{
		{"member at its epoch", 9, "a", 1, 0},
		{"stale epoch", 9, "a", 0, kerr.StaleMemberEpoch.Code},
		{"unknown member", 9, "z", 1, kerr.UnknownMemberID.Code},
		{"admin commit to a group with members", 9, "", -1, kerr.UnknownMemberID.Code},
		{"member on OffsetCommit v8", 8, "a", 1, kerr.UnsupportedVersion.Code},
	} {
		if got := commitAs(tc.version, tc.member, tc.epoch); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, kerr.ErrorForCode(got), kerr.ErrorForCode(tc.want))
		}
	}
	if code, _, _ := f.c.TxnCommitOffsets("g", TxnCommitRequest{ProducerID: 1, Generation: 0, MemberID: "a", Offsets: []Commit{{TopicPartition: tp, Offset: 6}}}); code != kerr.IllegalGeneration.Code {
		t.Errorf("transactional commit at a stale epoch: %v", kerr.ErrorForCode(code))
	}
	m := "a"
	for _, tc := range []struct {
		member *string
		epoch  int32
		want   int16
	}{{nil, -1, 0}, {&m, 1, 0}, {&m, 0, kerr.StaleMemberEpoch.Code}, {new(string), 1, kerr.UnknownMemberID.Code}} {
		if _, _, code, _ := f.c.FetchOffsetsFor("g", tc.member, tc.epoch); code != tc.want {
			t.Errorf("fetch as %v@%d: %v, want %v", tc.member, tc.epoch, kerr.ErrorForCode(code), kerr.ErrorForCode(tc.want))
		}
	}
	a.leave(false)
	if got := commitAs(9, "", -1); got != 0 {
		t.Errorf("admin commit to the empty group: %v", kerr.ErrorForCode(got))
	}
}

func TestConsumerGroupOffsetDeletionAndExpiry(t *testing.T) {
	f := newCFix(t, OffsetsRetention(2*time.Minute), RetentionCheckInterval(0))
	f.topic("t", 1, 1)
	f.topic("u", 1, 1)
	a := f.client("g", "a", "t")
	a.mustBeat(true)
	for _, topic := range []string{"t", "u"} {
		code, _, wait := f.c.CommitOffsets(9, "g", CommitRequest{Generation: a.epoch, MemberID: "a", Offsets: []Commit{{TopicPartition: TopicPartition{topic, 0}, Offset: 1}}})
		if code != 0 || wait(t.Context()) != nil {
			t.Fatalf("commit %s: %v", topic, kerr.ErrorForCode(code))
		}
	}
	// OffsetDelete: not while a member subscribes to the topic.
	_, codes, _ := f.c.DeleteOffsets("g", []TopicPartition{{"t", 0}})
	if codes[0] != kerr.GroupSubscribedToTopic.Code {
		t.Fatalf("delete a subscribed topic's offset: %v", kerr.ErrorForCode(codes[0]))
	}
	if code, _ := f.c.DeleteGroup("g"); code != kerr.NonEmptyGroup.Code {
		t.Fatalf("delete a group with members: %v", kerr.ErrorForCode(code))
	}
	// Expiry: u's offset, which nobody subscribes to, goes after the
	// retention even while the group has members; t's stays.
	for range 4 {
		f.clock.Advance(40 * time.Second)
		a.mustBeat(true)
	}
	f.c.ExpireOffsets()
	testwait.For(t, 10*time.Second, "u's offset to expire", func() string {
		offs, _ := f.c.FetchOffsets("g")
		if _, ok := offs[TopicPartition{"t", 0}]; !ok || len(offs) != 1 {
			return fmt.Sprint(offs)
		}
		return ""
	})
	// Once empty for the retention, the group goes with its offsets.
	a.leave(false)
	f.clock.Advance(3 * time.Minute)
	f.c.ExpireOffsets()
	testwait.For(t, 10*time.Second, "the empty group to expire", func() string {
		if f.inspect("g", func(*Group) {}) {
			return "still there"
		}
		return ""
	})
}

// TestConsumerGroupKeptWhenItsTopicIsDeleted: deleting the topic of a
// consumer group's only offsets deletes the offsets, not the group with
// members (a regression: the classic rule "an empty group left without
// offsets goes" read the classic state, Empty, of every consumer group).
func TestConsumerGroupKeptWhenItsTopicIsDeleted(t *testing.T) {
	f := newCFix(t)
	f.topic("t", 1, 1)
	f.topic("u", 1, 1)
	a := f.client("g", "a", "t")
	a.mustBeat(true)
	code, _, wait := f.c.CommitOffsets(9, "g", CommitRequest{Generation: a.epoch, MemberID: "a", Offsets: []Commit{{TopicPartition: TopicPartition{"u", 0}, Offset: 1}}})
	if code != 0 || wait(t.Context()) != nil {
		t.Fatal(kerr.ErrorForCode(code))
	}
	f.topics.Delete("u")
	if err := f.c.DeleteTopicOffsets("u")(t.Context()); err != nil {
		t.Fatal(err)
	}
	f.restart()
	a.mustBeat(true)
	if s := f.state("g"); s != "Stable" || a.owned.count() != 1 {
		t.Fatalf("group after its offsets' topic was deleted: %s, a %v", s, a)
	}
}

func TestConsumerHeartbeatV0NamesTheMember(t *testing.T) {
	f := newCFix(t)
	f.topic("t", 1, 1)
	req := f.client("g", "", "t").request(true)
	req.Version = 0
	resp := f.heartbeat(req, nil)
	if resp.ErrorCode != 0 || resp.MemberID == nil || len(*resp.MemberID) != 22 || resp.MemberEpoch != 1 {
		t.Fatalf("v0 join without a member id: %v %v", kerr.ErrorForCode(resp.ErrorCode), resp)
	}
	req = f.client("g", "", "t").request(true) // v1 requires one
	if resp := f.heartbeat(req, nil); resp.ErrorCode != kerr.InvalidRequest.Code {
		t.Fatalf("v1 join without a member id: %v", kerr.ErrorForCode(resp.ErrorCode))
	}
}
