package group

// group_test.go drives one Group's state machine by hand (harness_test.go):
// every event carries an explicit time and deadlines fire only through
// advance, so the tests are deterministic.

import (
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestJoinSyncHeartbeat(t *testing.T) {
	h := newHarness(t)
	p := h.joinNew("c")
	id := h.joined(p, 1)
	if p.resp.LeaderID != id || len(p.resp.Members) != 1 || *p.resp.Protocol != "range" {
		t.Fatalf("join answer %+v", p.resp)
	}
	h.expectState(CompletingRebalance)
	h.synced(h.sync(id, 1, map[string]string{id: "assignment"}), "assignment")
	h.expectState(Stable)
	if err := h.heartbeat(id, 1); err != nil {
		t.Fatal(err)
	}
	recs := h.takeRecords()
	if len(recs) != 1 || recs[0].kind != kindGroup || recs[0].meta.generation != 1 {
		t.Fatalf("records %+v", recs)
	}
}

func TestJoinBeforeV4NeedsNoMemberIDRound(t *testing.T) {
	h := newHarness(t)
	h.joined(h.join("c", "", withVersion(3)), 1)
}

func TestNewMemberRebalancesGroup(t *testing.T) {
	h := newHarness(t)
	m1 := h.stableOne("c1")
	p2 := h.joinNew("c2")
	if p2.done() {
		t.Fatal("second member's join answered before the first rejoined")
	}
	h.expectState(PreparingRebalance)
	if err := h.heartbeat(m1, 1); err != kerr.RebalanceInProgress {
		t.Fatalf("heartbeat during rebalance: %v", err)
	}
	p1 := h.join("c1", m1)
	h.joined(p1, 2)
	m2 := h.joined(p2, 2)
	if p1.resp.LeaderID != m1 || len(p1.resp.Members) != 2 || len(p2.resp.Members) != 0 {
		t.Fatalf("leader %s members %d/%d", p1.resp.LeaderID, len(p1.resp.Members), len(p2.resp.Members))
	}
	s2 := h.sync(m2, 2, nil)
	if s2.calls != 0 {
		t.Fatal("follower's sync answered before the leader's")
	}
	s1 := h.sync(m1, 2, map[string]string{m1: "p0", m2: "p1"})
	h.synced(s1, "p0")
	h.synced(s2, "p1")
	h.expectState(Stable)
}

func TestMembersThatDoNotRejoinAreRemoved(t *testing.T) {
	h := newHarness(t)
	m1 := h.stableOne("c1")
	p2 := h.joinNew("c2")
	h.join("c1", m1)
	m2 := h.joined(p2, 2)
	h.sync(m1, 2, map[string]string{m1: "x", m2: "y"})
	h.expectState(Stable)

	p3 := h.joinNew("c3")
	p1 := h.join("c1", m1) // c2 never rejoins, but keeps heartbeating
	for i := 0; i < 5; i++ {
		h.advance(rebalance/5 - time.Millisecond)
		if err := h.heartbeat(m2, 2); err != kerr.RebalanceInProgress {
			t.Fatal(err)
		}
	}
	if p1.done() || p3.done() {
		t.Fatal("join phase ended before the rebalance timeout")
	}
	h.advance(5 * time.Millisecond)
	h.joined(p1, 3)
	h.joined(p3, 3)
	if got := h.g.Members(); len(got) != 2 {
		t.Fatalf("members %v", got)
	}
	if err := h.heartbeat(m2, 2); err != kerr.UnknownMemberID {
		t.Fatalf("removed member's heartbeat: %v", err)
	}
}

func TestSessionExpiryEmptiesGroup(t *testing.T) {
	h := newHarness(t)
	m1 := h.stableOne("c1")
	h.takeRecords()
	h.advance(session / 2)
	if err := h.heartbeat(m1, 1); err != nil {
		t.Fatal(err)
	}
	h.advance(session - time.Millisecond)
	h.expectState(Stable)
	h.advance(time.Millisecond)
	h.expectState(Empty)
	if h.g.Generation() != 2 {
		t.Fatalf("generation %d after the group emptied, want 2", h.g.Generation())
	}
	recs := h.takeRecords()
	if len(recs) != 1 || recs[0].kind != kindGroup || len(recs[0].meta.members) != 0 {
		t.Fatalf("records %+v", recs)
	}
	if err := h.heartbeat(m1, 1); err != kerr.UnknownMemberID {
		t.Fatal(err)
	}
}

func TestLeaveRebalancesRest(t *testing.T) {
	h := newHarness(t)
	m1 := h.stableOne("c1")
	p2 := h.joinNew("c2")
	h.join("c1", m1)
	m2 := h.joined(p2, 2)
	h.sync(m1, 2, map[string]string{m1: "x", m2: "y"})
	codes := h.g.Leave(h.now, []kmsg.LeaveGroupRequestMember{{MemberID: m2}, {MemberID: "nobody"}})
	if codes[0] != 0 || codes[1] != kerr.UnknownMemberID.Code {
		t.Fatalf("leave codes %v", codes)
	}
	h.expectState(PreparingRebalance)
	h.joined(h.join("c1", m1), 3)
	if got := h.g.Members(); len(got) != 1 || got[0] != m1 {
		t.Fatalf("members %v", got)
	}
}

func TestGenerationFencing(t *testing.T) {
	h := newHarness(t)
	m1 := h.stableOne("c1")
	p2 := h.joinNew("c2")
	h.join("c1", m1)
	m2 := h.joined(p2, 2)
	h.expectState(CompletingRebalance)

	commit := func(member string, gen int32) (int16, []int16) {
		return h.commit(CommitRequest{Generation: gen, MemberID: member, Offsets: []Commit{{TopicPartition: TopicPartition{"t", 0}, Offset: 5}}})
	}
	if code, _ := commit(m1, 2); code != kerr.RebalanceInProgress.Code {
		t.Fatalf("commit while completing rebalance: %v", kerr.ErrorForCode(code))
	}
	h.syncError(h.sync(m1, 1, nil), kerr.IllegalGeneration)
	if err := h.heartbeat(m1, 1); err != kerr.IllegalGeneration {
		t.Fatal(err)
	}
	if err := h.heartbeat("ghost", 2); err != kerr.UnknownMemberID {
		t.Fatal(err)
	}
	h.sync(m1, 2, map[string]string{m1: "x", m2: "y"})
	if code, _ := commit(m1, 1); code != kerr.IllegalGeneration.Code {
		t.Fatalf("commit with old generation: %v", kerr.ErrorForCode(code))
	}
	if code, _ := commit("ghost", 2); code != kerr.UnknownMemberID.Code {
		t.Fatalf("commit by unknown member: %v", kerr.ErrorForCode(code))
	}
	if code, _ := commit("", -1); code != kerr.UnknownMemberID.Code {
		t.Fatalf("standalone commit to a live group: %v", kerr.ErrorForCode(code))
	}
	if code, codes := commit(m2, 2); code != 0 || codes[0] != 0 {
		t.Fatalf("valid commit: %v %v", code, codes)
	}
	if o := h.g.Offsets()[TopicPartition{"t", 0}]; o.Offset != 5 {
		t.Fatalf("offset %+v", o)
	}
	// A new rebalance does not stop the current generation committing
	// (eager clients commit while revoking).
	h.join("c1", m1, withMetadata("changed"))
	h.expectState(PreparingRebalance)
	if code, _ := commit(m2, 2); code != 0 {
		t.Fatalf("commit during PreparingRebalance: %v", kerr.ErrorForCode(code))
	}
}

func TestStaticMemberRejoinKeepsAssignment(t *testing.T) {
	h := newHarness(t)
	leader := h.joined(h.join("c1", "", withInstance("i1")), 1) // static: no MEMBER_ID_REQUIRED
	h.sync(leader, 1, map[string]string{leader: "L"})
	p2 := h.join("c2", "", withInstance("i2"))
	h.joined(h.join("c1", leader, withInstance("i1")), 2)
	old := h.joined(p2, 2)
	h.sync(leader, 2, map[string]string{leader: "L", old: "F"})
	h.expectState(Stable)

	// The follower restarts: same instance id, no member id.
	p := h.join("c2", "", withInstance("i2"))
	fresh := h.joined(p, 2)
	if fresh == old {
		t.Fatal("rejoined static member kept its old member id")
	}
	h.expectState(Stable) // no rebalance
	if p.resp.LeaderID != leader || len(p.resp.Members) != 0 {
		t.Fatalf("rejoin answer %+v", p.resp)
	}
	h.synced(h.sync(fresh, 2, nil), "F")

	// The old incarnation is fenced everywhere.
	req := kmsg.NewPtrHeartbeatRequest()
	inst := "i2"
	req.Group, req.MemberID, req.Generation, req.InstanceID = "g", old, 2, &inst
	if err := kerr.ErrorForCode(h.g.Heartbeat(h.now, req)); err != kerr.FencedInstanceID {
		t.Fatalf("old incarnation's heartbeat: %v", err)
	}
	code, _ := h.g.Commit(h.now, CommitRequest{Generation: 2, MemberID: old, InstanceID: &inst})
	if code != kerr.FencedInstanceID.Code {
		t.Fatalf("old incarnation's commit: %v", kerr.ErrorForCode(code))
	}
	codes := h.g.Leave(h.now, []kmsg.LeaveGroupRequestMember{{MemberID: old, InstanceID: &inst}})
	if codes[0] != kerr.FencedInstanceID.Code {
		t.Fatalf("old incarnation's leave: %v", kerr.ErrorForCode(codes[0]))
	}
	if p := h.join("c2", old, withInstance("i2")); kerr.ErrorForCode(p.resp.ErrorCode) != kerr.FencedInstanceID {
		t.Fatalf("old incarnation's join: %v", kerr.ErrorForCode(p.resp.ErrorCode))
	}
}

func TestStaticLeaderRejoinSkipsAssignment(t *testing.T) {
	h := newHarness(t)
	leader := h.joined(h.join("c1", "", withInstance("i1")), 1)
	h.sync(leader, 1, map[string]string{leader: "L"})
	p := h.join("c1", "", withInstance("i1"))
	fresh := h.joined(p, 1)
	if p.resp.LeaderID != fresh || !p.resp.SkipAssignment || len(p.resp.Members) != 1 {
		t.Fatalf("v9 static leader rejoin %+v", p.resp)
	}
	h.synced(h.sync(fresh, 1, nil), "L")
	// Before v9 the rejoined leader is told the old leader id.
	p = h.join("c1", "", withInstance("i1"), withVersion(8))
	h.joined(p, 1)
	if p.resp.LeaderID != fresh || p.resp.SkipAssignment || p.resp.MemberID == fresh {
		t.Fatalf("v8 static leader rejoin %+v", p.resp)
	}
}

func TestStaticMemberRemovedBySessionTimeoutOnly(t *testing.T) {
	h := newHarness(t)
	long := withTimeouts(30*time.Second, 5*time.Second)
	s := h.joined(h.join("c1", "", withInstance("i1"), long), 1)
	h.sync(s, 1, map[string]string{s: "S"})
	p2 := h.joinNew("c2", long)
	// The static member does not rejoin within the rebalance timeout: the
	// generation goes on with it (it may yet come back) ...
	h.advance(5 * time.Second)
	m2 := h.joined(p2, 2)
	if len(h.g.Members()) != 2 || p2.resp.LeaderID != m2 {
		t.Fatalf("members %v, leader %s", h.g.Members(), p2.resp.LeaderID)
	}
	h.sync(m2, 2, nil)
	// ... until its session ends.
	for h.g.State() == Stable {
		h.advance(5 * time.Second)
		h.heartbeat(m2, 2)
	}
	if got := h.g.Members(); len(got) != 1 || got[0] != m2 {
		t.Fatalf("members %v", got)
	}
	h.expectState(PreparingRebalance)
}

func TestInitialRebalanceDelay(t *testing.T) {
	h := newHarness(t, InitialRebalanceDelay(3*time.Second))
	p1 := h.joinNew("c1")
	h.advance(time.Second)
	p2 := h.joinNew("c2")
	h.advance(2*time.Second - time.Millisecond)
	if p1.done() {
		t.Fatal("join answered during the initial delay")
	}
	h.advance(time.Millisecond) // 3s: a member joined meanwhile, so wait another delay
	if p1.done() {
		t.Fatal("initial delay not extended for the second member")
	}
	h.advance(3 * time.Second)
	h.joined(p1, 1)
	h.joined(p2, 1)
	if len(p1.resp.Members)+len(p2.resp.Members) != 2 {
		t.Fatal("leader did not get both members")
	}
}

func TestProtocolSelection(t *testing.T) {
	h := newHarness(t)
	p1 := h.join("c1", "", withVersion(3), withProtocols("cooperative-sticky", "range"))
	h.advance(0)
	m1 := h.joined(p1, 1)
	h.sync(m1, 1, nil)
	p2 := h.join("c2", "", withVersion(3), withProtocols("range", "roundrobin"))
	p1 = h.join("c1", m1, withVersion(3), withProtocols("cooperative-sticky", "range"))
	h.joined(p1, 2)
	h.joined(p2, 2)
	if got := h.g.Protocol(); got != "range" {
		t.Fatalf("protocol %q, want the only common one, range", got)
	}
	h.expectJoinError(h.join("c3", "", withProtocols("roundrobin")), kerr.InconsistentGroupProtocol)
	h.expectJoinError(h.join("c3", "", withType("connect")), kerr.InconsistentGroupProtocol)
	h.expectJoinError(h.join("c3", "", withProtocols()), kerr.InconsistentGroupProtocol)

	// Votes: two members prefer roundrobin, one range; all support both.
	h2 := newHarness(t, InitialRebalanceDelay(time.Second))
	for i, prefs := range [][]string{{"range", "roundrobin"}, {"roundrobin", "range"}, {"roundrobin", "range"}} {
		h2.join(fmt.Sprint("c", i), "", withVersion(3), withProtocols(prefs...))
	}
	h2.advance(2 * time.Second) // the delay, extended once for the later joiners
	if got := h2.g.Protocol(); got != "roundrobin" || len(h2.g.Members()) != 3 {
		t.Fatalf("protocol %q (%d members), want roundrobin by two votes to one", got, len(h2.g.Members()))
	}
}

func TestBadJoins(t *testing.T) {
	h := newHarness(t)
	p := h.join("c", "", func(r *kmsg.JoinGroupRequest) { r.SessionTimeoutMillis = 10 })
	h.expectJoinError(p, kerr.InvalidSessionTimeout)
	h.expectJoinError(h.join("c", "nobody"), kerr.UnknownMemberID)
	h2 := newHarness(t, MaxGroupSize(1))
	h2.stableOne("c1")
	h2.expectJoinError(h2.join("c2", ""), kerr.GroupMaxSizeReached)
}

func TestPendingMemberIDLapses(t *testing.T) {
	h := newHarness(t)
	h.stableOne("c1")
	first := h.join("c2", "")
	h.expectJoinError(first, kerr.MemberIDRequired)
	h.expectState(Stable) // a handed-out id alone does not rebalance
	h.advance(session + time.Second)
	h.expectJoinError(h.join("c2", first.resp.MemberID), kerr.UnknownMemberID)
}

func TestFollowerThatNeverSyncsIsRemoved(t *testing.T) {
	h := newHarness(t)
	m1 := h.stableOne("c1")
	p2 := h.joinNew("c2")
	h.join("c1", m1)
	h.joined(p2, 2)
	s1 := h.sync(m1, 2, nil)
	h.synced(s1, "")
	// c2 neither syncs nor heartbeats: removed after the rebalance timeout
	// (its session would end first; keep it alive with heartbeats).
	for i := 0; i < 5; i++ {
		h.advance(rebalance / 5)
		h.heartbeat(m1, h.g.Generation())
		h.heartbeat(p2.resp.MemberID, 2)
	}
	if len(h.g.Members()) != 1 {
		t.Fatalf("members %v", h.g.Members())
	}
	h.expectState(PreparingRebalance)
}

func TestOffsetsOfEmptyGroup(t *testing.T) {
	h := newHarness(t, MaxOffsetMetadataBytes(4))
	long, short := "too long", "ok"
	code, codes := h.commit(CommitRequest{Generation: -1, Offsets: []Commit{
		{TopicPartition: TopicPartition{"t", 0}, Offset: 1, Metadata: &short},
		{TopicPartition: TopicPartition{"t", 1}, Offset: 2, Metadata: &long},
	}})
	if code != 0 || codes[0] != 0 || codes[1] != kerr.OffsetMetadataTooLarge.Code {
		t.Fatalf("codes %v %v", code, codes)
	}
	if len(h.takeRecords()) != 1 {
		t.Fatal("want one record")
	}
	h.now = h.now.Add(24 * time.Hour)
	if n, deleting := h.g.ExpireOffsets(h.now, 48*time.Hour); n != 0 || deleting {
		t.Fatalf("expired %d early", n)
	}
	h.now = h.now.Add(24 * time.Hour)
	n, deleting := h.g.ExpireOffsets(h.now, 48*time.Hour)
	h.settle()
	if n != 1 || !deleting || !h.g.IsDead() {
		t.Fatalf("expired %d, deleting %v, dead %v", n, deleting, h.g.IsDead())
	}
	recs := h.takeRecords()
	if len(recs) != 2 || recs[0].kind != kindOffsetDelete || recs[1].kind != kindGroupDelete {
		t.Fatalf("records %+v", recs)
	}
}

func TestOffsetsOfLiveGroupDoNotExpire(t *testing.T) {
	h := newHarness(t)
	m := h.stableOne("c")
	h.commit(CommitRequest{Generation: 1, MemberID: m, Offsets: []Commit{{TopicPartition: TopicPartition{"t", 0}, Offset: 1}}})
	h.now = h.now.Add(30 * 24 * time.Hour)
	if n, _ := h.g.ExpireOffsets(h.now, time.Hour); n != 0 {
		t.Fatalf("expired %d offsets of a live group", n)
	}
}

func TestDeleteGroupAndOffsets(t *testing.T) {
	h := newHarness(t)
	m := h.stableOne("c")
	if code := h.g.Delete(h.now); code != kerr.NonEmptyGroup.Code {
		t.Fatalf("delete live group: %v", kerr.ErrorForCode(code))
	}
	// The members' metadata is not a consumer subscription, so every
	// topic counts as subscribed: a per-partition error.
	code, codes := h.g.DeleteOffsets(h.now, []TopicPartition{{"t", 0}})
	if code != 0 || codes[0] != kerr.GroupSubscribedToTopic.Code {
		t.Fatalf("delete offsets: %v %v", kerr.ErrorForCode(code), codes)
	}
	h.g.Leave(h.now, []kmsg.LeaveGroupRequestMember{{MemberID: m}})
	h.settle()
	h.expectState(Empty)
	code = h.g.Delete(h.now)
	h.settle()
	if code != 0 || !h.g.IsDead() {
		t.Fatalf("delete empty group: %v", kerr.ErrorForCode(code))
	}
}

func TestDeleteOffsetsOfUnsubscribedTopic(t *testing.T) {
	h := newHarness(t)
	meta := (&kmsg.ConsumerMemberMetadata{Topics: []string{"subscribed"}}).AppendTo(nil)
	p := h.join("c", "", withVersion(3), func(r *kmsg.JoinGroupRequest) {
		r.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: meta}}
	})
	m := h.joined(p, 1)
	h.sync(m, 1, nil)
	for _, topic := range []string{"subscribed", "old"} {
		h.commit(CommitRequest{Generation: 1, MemberID: m, Offsets: []Commit{{TopicPartition: TopicPartition{topic, 0}, Offset: 3}}})
	}
	code, codes := h.g.DeleteOffsets(h.now, []TopicPartition{{"subscribed", 0}, {"old", 0}})
	h.settle()
	if code != 0 || codes[0] != kerr.GroupSubscribedToTopic.Code || codes[1] != 0 {
		t.Fatalf("codes %v %v", code, codes)
	}
	if _, ok := h.g.Offsets()[TopicPartition{"old", 0}]; ok {
		t.Fatal("offset of unsubscribed topic not deleted")
	}
}

func TestLeaveByInstanceIDAndPendingMember(t *testing.T) {
	h := newHarness(t)
	s := h.joined(h.join("c1", "", withInstance("i1")), 1)
	h.sync(s, 1, nil)
	pending := h.join("c2", "")
	h.expectJoinError(pending, kerr.MemberIDRequired)
	inst, other := "i1", "i9"
	codes := h.g.Leave(h.now, []kmsg.LeaveGroupRequestMember{
		{InstanceID: &inst},               // an administrator removing a static member
		{InstanceID: &other},              // unknown instance
		{MemberID: pending.resp.MemberID}, // a handed-out id that never joined
	})
	if codes[0] != 0 || codes[1] != kerr.UnknownMemberID.Code || codes[2] != 0 {
		t.Fatalf("codes %v", codes)
	}
	h.expectState(Empty)
}

func TestRejoinWithSameProtocolsGetsSameGeneration(t *testing.T) {
	h := newHarness(t)
	m1 := h.stableOne("c1")
	p2 := h.joinNew("c2")
	h.join("c1", m1)
	m2 := h.joined(p2, 2)
	h.expectState(CompletingRebalance)
	// c2 lost its join answer and asks again: same generation, no new
	// rebalance.
	again := h.join("c2", m2)
	h.joined(again, 2)
	h.expectState(CompletingRebalance)
	// A sync naming another protocol is refused.
	req := kmsg.NewPtrSyncGroupRequest()
	req.Version = 5
	req.Group, req.MemberID, req.Generation = "g", m2, 2
	other := "roundrobin"
	req.Protocol = &other
	var got *kmsg.SyncGroupResponse
	h.g.Sync(h.now, req, func(r *kmsg.SyncGroupResponse) { got = r })
	if kerr.ErrorForCode(got.ErrorCode) != kerr.InconsistentGroupProtocol {
		t.Fatalf("sync with another protocol: %v", kerr.ErrorForCode(got.ErrorCode))
	}
	// A changed subscription does rebalance.
	h.join("c2", m2, withMetadata("new topics"))
	h.expectState(PreparingRebalance)
}

func TestRebalanceAnswersWaitingSyncs(t *testing.T) {
	h := newHarness(t)
	m1 := h.stableOne("c1")
	p2 := h.joinNew("c2")
	h.join("c1", m1)
	m2 := h.joined(p2, 2)
	s2 := h.sync(m2, 2, nil) // waits for the leader
	h.joinNew("c3")          // a new member restarts the rebalance
	h.syncError(s2, kerr.RebalanceInProgress)
	h.expectState(PreparingRebalance)
}
