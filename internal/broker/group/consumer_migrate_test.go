package group

// consumer_migrate_test.go tests group.consumer.migration.policy: a
// classic group with members upgraded by a consumer-protocol member's
// join (keeping its members and their assignments), a consumer group
// downgraded when its last consumer-protocol member leaves or is replaced
// by a classic static member, and the refusals when the policy forbids a
// conversion or a member's embedded protocol does not decode.

import (
	"testing"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// classicGroup forms a classic group of classic clients: they join, the
// first to be told it leads hands out assign (member index -> partitions
// of t), and everyone syncs.
func classicGroup(t *testing.T, f *cfix, group string, assign [][]int32) []*kclassic {
	t.Helper()
	cs := make([]*kclassic, len(assign))
	joins := make([]<-chan *kmsg.JoinGroupResponse, len(assign))
	join := func(c *kclassic) *kmsg.JoinGroupRequest {
		req := kmsg.NewPtrJoinGroupRequest()
		req.Version, req.Group, req.MemberID = 9, group, c.id
		req.SessionTimeoutMillis, req.RebalanceTimeoutMillis, req.ProtocolType = 10000, 20000, "consumer"
		req.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "cooperative-sticky", Metadata: c.metadata()}}
		return req
	}
	for i := range cs {
		cs[i] = &kclassic{f: f, group: group, topics: []string{"t"}, owned: map[string][]int32{}}
		resp := recv(t, f.c.Join(join(cs[i]), Client{ID: "classic"}))
		if resp.ErrorCode != kerr.MemberIDRequired.Code {
			t.Fatalf("first classic join: %v", kerr.ErrorForCode(resp.ErrorCode))
		}
		cs[i].id = resp.MemberID
	}
	for i, c := range cs { // parked until all are in
		joins[i] = f.c.Join(join(c), Client{ID: "classic"})
	}
	leader := ""
	for i, ch := range joins {
		resp := recv(t, ch)
		if resp.ErrorCode != 0 {
			t.Fatalf("classic join: %v", kerr.ErrorForCode(resp.ErrorCode))
		}
		cs[i].gen, leader = resp.Generation, resp.LeaderID
	}
	syncs := make([]<-chan *kmsg.SyncGroupResponse, len(cs))
	for i, c := range cs {
		req := kmsg.NewPtrSyncGroupRequest()
		req.Version, req.Group, req.MemberID, req.Generation = 5, group, c.id, c.gen
		if c.id == leader {
			for j, o := range cs {
				a := kmsg.NewConsumerMemberAssignment()
				a.Version = 3
				a.Topics = []kmsg.ConsumerMemberAssignmentTopic{{Topic: "t", Partitions: assign[j]}}
				req.GroupAssignment = append(req.GroupAssignment, kmsg.SyncGroupRequestGroupAssignment{MemberID: o.id, MemberAssignment: a.AppendTo(nil)})
			}
		}
		syncs[i] = f.c.Sync(req)
	}
	for i, ch := range syncs {
		resp := recv(t, ch)
		var a kmsg.ConsumerMemberAssignment
		if resp.ErrorCode != 0 || a.ReadFrom(resp.MemberAssignment) != nil {
			t.Fatalf("classic sync: %v", kerr.ErrorForCode(resp.ErrorCode))
		}
		cs[i].owned = map[string][]int32{"t": a.Topics[0].Partitions}
	}
	return cs
}

func groupType(f *cfix, group string) string {
	typ := ""
	f.inspect(group, func(g *Group) {
		typ = TypeClassic
		if g.cg != nil {
			typ = TypeConsumer
		}
	})
	return typ
}

func TestUpgradeClassicGroupWithMembers(t *testing.T) {
	f := newCFix(t)
	id := f.topic("t", 6, 1)
	commit(t, f.c, "g", -1, "", map[TopicPartition]int64{{"t", 0}: 3})
	// (An admin commit to the empty group first: the offsets stay through
	// both conversions of the group.)
	cs := classicGroup(t, f, "g", [][]int32{{0, 1, 2}, {3, 4, 5}})

	c := f.client("g", "c", "t")
	c.mustBeat(true)
	if typ := groupType(f, "g"); typ != TypeConsumer {
		t.Fatalf("group type %s after a consumer-protocol join", typ)
	}
	if s := f.c.ConsumerStats(); s.Migrations != 1 {
		t.Fatalf("migrations %d", s.Migrations)
	}
	// The classic members are told to rejoin and give up a partition
	// each; then everyone has two.
	for round := 0; round < 8; round++ {
		for _, k := range cs {
			k.cycle()
		}
		c.mustBeat(true)
	}
	if f.state("g") != "Stable" || len(c.owns(id)) != 2 || cs[0].count() != 2 || cs[1].count() != 2 {
		t.Fatalf("after the upgrade: %s, c %v, classic %v %v", f.state("g"), c, cs[0].owned, cs[1].owned)
	}
	if offs, _ := f.c.FetchOffsets("g"); offs[TopicPartition{"t", 0}].Offset != 3 {
		t.Fatalf("offsets after the upgrade: %v", offs)
	}

	// The consumer-protocol member leaves: the group is classic again,
	// its members keeping their assignments, and rebalances.
	c.leave(false)
	if typ := groupType(f, "g"); typ != TypeClassic {
		t.Fatalf("group type %s after the last consumer-protocol member left", typ)
	}
	f.inspect("g", func(g *Group) {
		if g.state != PreparingRebalance || len(g.members) != 2 {
			t.Fatalf("downgraded group: %s with %d members", g.state, len(g.members))
		}
	})
	f.restart()
	if typ := groupType(f, "g"); typ != TypeClassic {
		t.Fatalf("group type %s after a restart", typ)
	}
	if offs, _ := f.c.FetchOffsets("g"); offs[TopicPartition{"t", 0}].Offset != 3 {
		t.Fatalf("offsets after the downgrade: %v", offs)
	}
}

func TestMigrationRefused(t *testing.T) {
	for _, tc := range []struct {
		policy string
		synced bool
		msg    string
	}{
		{MigrationDisabled, true, "Group g is not a consumer group."},
		{MigrationDowngrade, true, "Group g is not a consumer group."},
		{MigrationBidirectional, false, "Cannot upgrade the classic group g to consumer group because the embedded consumer protocol is malformed."},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			f := newCFix(t, MigrationPolicy(tc.policy))
			f.topic("t", 2, 1)
			if tc.synced {
				classicGroup(t, f, "g", [][]int32{{0, 1}})
			} else {
				// Joined but never synced: no assignment to convert.
				k := &kclassic{f: f, group: "g", topics: []string{"t"}, owned: map[string][]int32{}}
				k.join()
				k.join()
			}
			resp := f.heartbeat(f.client("g", "c", "t").request(true), nil)
			if resp.ErrorCode != kerr.GroupIDNotFound.Code || derefOr(resp.ErrorMessage, "") != tc.msg {
				t.Fatalf("consumer join of a classic group with members: %v %q", kerr.ErrorForCode(resp.ErrorCode), derefOr(resp.ErrorMessage, ""))
			}
			if typ := groupType(f, "g"); typ != TypeClassic {
				t.Fatalf("group type %s", typ)
			}
		})
	}
	// Without downgrades a consumer group stays one when only classic
	// members remain.
	f, a, k := mixedGroup(t, 2, MigrationPolicy(MigrationUpgrade))
	k.cycle()
	a.leave(false)
	if typ := groupType(f, "g"); typ != TypeConsumer {
		t.Fatalf("group type %s with downgrades disabled", typ)
	}
}

func TestDowngradeByStaticReplacement(t *testing.T) {
	f := newCFix(t)
	id := f.topic("t", 2, 1)
	inst := "i1"
	a := f.client("g", "a", "t")
	a.instance = &inst
	f.settle("g", 3, a)
	k := &kclassic{f: f, group: "g", topics: []string{"t"}, owned: map[string][]int32{}}
	for range 4 {
		k.cycle()
		a.mustBeat(true)
	}
	aOwns := a.owns(id)
	if len(aOwns) != 1 || k.count() != 1 {
		t.Fatalf("before: a %v, classic %v", a, k.owned)
	}
	// a's process restarts as a classic client with the same instance
	// id: it takes a's place, the group becomes classic without a
	// rebalance, and it gets a's partition.
	a2 := &kclassic{f: f, group: "g", instance: &inst, topics: []string{"t"}, owned: map[string][]int32{}}
	if code := a2.join(); code != 0 {
		t.Fatal(kerr.ErrorForCode(code))
	}
	if typ := groupType(f, "g"); typ != TypeClassic {
		t.Fatalf("group type %s after the replacement", typ)
	}
	if code, _ := a2.sync(); code != 0 || len(a2.owned["t"]) != 1 || a2.owned["t"][0] != aOwns[0] {
		t.Fatalf("replacement's assignment %v (%v), a had %v", a2.owned, kerr.ErrorForCode(code), aOwns)
	}
	f.inspect("g", func(g *Group) {
		if g.state != Stable {
			t.Fatalf("state %s: a replacement needs no rebalance", g.state)
		}
	})
}
