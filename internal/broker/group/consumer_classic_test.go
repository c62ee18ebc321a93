package group

// consumer_classic_test.go tests classic members in a consumer group, as
// Kafka 4 takes them: a cooperative classic client joins a consumer group
// beside a member of the consumer protocol, is told to rejoin until the
// other has given up the partitions it gets, commits with its generation,
// leaves with LeaveGroup, and is fenced when it does not sync in time; an
// empty consumer group becomes classic for a classic join.

import (
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// kclassic is a simulated cooperative classic consumer.
type kclassic struct {
	f        *cfix
	group    string
	id       string
	instance *string
	topics   []string
	gen      int32
	owned    map[string][]int32 // by topic name
	lastJoin *kmsg.JoinGroupResponse
	lastCode int16 // of its last cycle
	needJoin bool  // its last cycle failed: join again
}

func (c *kclassic) metadata() []byte {
	m := kmsg.NewConsumerMemberMetadata()
	m.Version, m.Topics, m.Generation = 3, c.topics, c.gen
	for t, ps := range c.owned {
		m.OwnedPartitions = append(m.OwnedPartitions, kmsg.ConsumerMemberMetadataOwnedPartition{Topic: t, Partitions: ps})
	}
	return m.AppendTo(nil)
}

// join sends JoinGroup (again with the id handed out, if asked for one).
func (c *kclassic) join() int16 {
	c.f.t.Helper()
	for range 2 {
		req := kmsg.NewPtrJoinGroupRequest()
		req.Version, req.Group, req.MemberID, req.InstanceID = 9, c.group, c.id, c.instance
		req.SessionTimeoutMillis, req.RebalanceTimeoutMillis = 10000, 20000
		req.ProtocolType = "consumer"
		req.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "cooperative-sticky", Metadata: c.metadata()}}
		resp := recv(c.f.t, c.f.c.Join(req, Client{ID: "classic"}))
		c.id = resp.MemberID
		if resp.ErrorCode == kerr.MemberIDRequired.Code {
			continue
		}
		if resp.ErrorCode == 0 {
			c.gen = resp.Generation
		}
		c.lastJoin = resp
		return resp.ErrorCode
	}
	return -1
}

// sync sends SyncGroup and adopts the assignment; it reports whether
// partitions were taken away (a cooperative client then joins again).
func (c *kclassic) sync() (code int16, lost bool) {
	c.f.t.Helper()
	req := kmsg.NewPtrSyncGroupRequest()
	req.Version, req.Group, req.MemberID, req.Generation = 5, c.group, c.id, c.gen
	pt, p := "consumer", "cooperative-sticky"
	req.ProtocolType, req.Protocol = &pt, &p
	resp := recv(c.f.t, c.f.c.Sync(req))
	if resp.ErrorCode != 0 {
		return resp.ErrorCode, false
	}
	var a kmsg.ConsumerMemberAssignment
	if len(resp.MemberAssignment) > 0 { // empty: a classic group's leader that assigned nothing
		if err := a.ReadFrom(resp.MemberAssignment); err != nil {
			c.f.t.Fatalf("assignment: %v", err)
		}
	}
	next := map[string][]int32{}
	for _, t := range a.Topics {
		next[t.Topic] = t.Partitions
	}
	for t, ps := range c.owned {
		if len(next[t]) < len(ps) {
			lost = true
		}
	}
	c.owned = next
	return 0, lost
}

// cycle is what a cooperative classic client does each heartbeat: join
// and sync when it has to (not a member yet, told to rebalance, or it
// lost partitions at a sync), else heartbeat. A member the group forgot
// starts over with no partitions. It returns the last code it got.
func (c *kclassic) cycle() int16 {
	code := int16(kerr.RebalanceInProgress.Code)
	if c.gen > 0 && !c.needJoin {
		code = c.heartbeat()
	}
	for round := 0; round < 3 && code == kerr.RebalanceInProgress.Code; round++ {
		if code = c.join(); code != 0 {
			break
		}
		var lost bool
		if code, lost = c.sync(); code == 0 && lost {
			code = kerr.RebalanceInProgress.Code
		}
	}
	// A join or sync that failed otherwise (NOT_COORDINATOR) is retried
	// from the join, as clients do.
	c.needJoin = code != 0
	switch code {
	case kerr.UnknownMemberID.Code, kerr.IllegalGeneration.Code, kerr.FencedInstanceID.Code:
		c.id, c.gen, c.owned = "", 0, map[string][]int32{}
	}
	c.lastCode = code
	return code
}

// ownedIDs is what the client consumes, by topic id.
func (c *kclassic) ownedIDs() assignment {
	b := builder{}
	for name, ps := range c.owned {
		if t, ok := c.f.topics.Topic(name); ok {
			for _, p := range ps {
				b.add(t.ID, p)
			}
		}
	}
	return b.build()
}

func (c *kclassic) heartbeat() int16 {
	req := kmsg.NewPtrHeartbeatRequest()
	req.Version, req.Group, req.MemberID, req.Generation, req.InstanceID = 4, c.group, c.id, c.gen, c.instance
	return c.f.c.Heartbeat(req)
}

func (c *kclassic) count() int {
	n := 0
	for _, ps := range c.owned {
		n += len(ps)
	}
	return n
}

func recv[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		t.Fatal("no answer")
		panic("unreachable")
	}
}

// mixedGroup is consumer group g with one consumer-protocol member, a,
// owning topic t's partitions, and a classic client, b, yet to join.
func mixedGroup(t *testing.T, partitions int32, opts ...Opt) (*cfix, *cclient, *kclassic) {
	t.Helper()
	f := newCFix(t, opts...)
	f.topic("t", partitions, 1)
	a := f.client("g", "a", "t")
	f.settle("g", 3, a)
	return f, a, &kclassic{f: f, group: "g", topics: []string{"t"}, owned: map[string][]int32{}}
}

func TestConsumerGroupClassicMember(t *testing.T) {
	f, a, b := mixedGroup(t, 4)
	if code := b.join(); code != 0 {
		t.Fatalf("classic join: %v", kerr.ErrorForCode(code))
	}
	// Nobody leads: the broker assigns (the member syncs as a follower).
	if j := b.lastJoin; j.LeaderID != "" || len(j.Members) != 0 || *j.ProtocolType != "consumer" || *j.Protocol != "cooperative-sticky" {
		t.Fatalf("join answer %+v", j)
	}
	if code, _ := b.sync(); code != 0 || b.count() != 0 {
		t.Fatalf("classic sync while a still owns everything: %v, %v", kerr.ErrorForCode(code), b.owned)
	}
	// a gives up two partitions; b is told to rejoin and gets them.
	a.mustBeat(true)
	a.mustBeat(true)
	if a.owned.count() != 2 {
		t.Fatalf("a after revoking: %v", a)
	}
	if code := b.heartbeat(); code != kerr.RebalanceInProgress.Code {
		t.Fatalf("classic heartbeat with partitions free: %v", kerr.ErrorForCode(code))
	}
	if code := b.join(); code != 0 {
		t.Fatal(kerr.ErrorForCode(code))
	}
	if code, _ := b.sync(); code != 0 || b.count() != 2 {
		t.Fatalf("classic member's second sync: %v, %v", kerr.ErrorForCode(code), b.owned)
	}
	if code := b.heartbeat(); code != 0 {
		t.Fatalf("stable classic heartbeat: %v", kerr.ErrorForCode(code))
	}
	if s := f.state("g"); s != "Stable" {
		t.Fatalf("state %s", s)
	}
	d := f.c.ConsumerDescribe("g")
	types := map[string]int8{}
	for _, m := range d.Members {
		types[m.MemberID] = m.MemberType
	}
	if types["a"] != 1 || types[b.id] != 0 {
		t.Fatalf("member types %v", types)
	}

	// Commits: a classic member commits with its generation, on any
	// OffsetCommit version; a wrong one is ILLEGAL_GENERATION.
	tp := TopicPartition{"t", 0}
	for _, tc := range []struct {
		version int16
		gen     int32
		want    int16
	}{{8, b.gen, 0}, {9, b.gen, 0}, {9, b.gen - 1, kerr.IllegalGeneration.Code}} {
		code, _, wait := f.c.CommitOffsets(tc.version, "g", CommitRequest{Generation: tc.gen, MemberID: b.id, Offsets: []Commit{{TopicPartition: tp, Offset: 1}}})
		if code == 0 && wait != nil {
			if err := wait(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		if code != tc.want {
			t.Errorf("classic commit v%d gen %d: %v, want %v", tc.version, tc.gen, kerr.ErrorForCode(code), kerr.ErrorForCode(tc.want))
		}
	}

	// LeaveGroup cannot remove a member of the consumer protocol; b
	// leaves, and a gets its partitions back.
	_, codes, wait := f.c.Leave("g", []kmsg.LeaveGroupRequestMember{{MemberID: "a"}, {MemberID: b.id}})
	if codes[0] != kerr.UnknownMemberID.Code || codes[1] != 0 {
		t.Fatalf("leave codes %v", codes)
	}
	if wait != nil {
		if err := wait(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	f.settle("g", 4, a)
	if a.owned.count() != 4 {
		t.Fatalf("a after b left: %v", a)
	}
}

func TestConsumerGroupClassicMemberMustSync(t *testing.T) {
	f, a, b := mixedGroup(t, 2)
	if code := b.join(); code != 0 {
		t.Fatal(kerr.ErrorForCode(code))
	}
	// b never syncs: after its rebalance timeout (20s) it is removed,
	// while a keeps heartbeating.
	for range 6 {
		f.clock.Advance(5 * time.Second)
		a.mustBeat(true)
	}
	if code := b.heartbeat(); code != kerr.UnknownMemberID.Code {
		t.Fatalf("classic member that never synced: %v", kerr.ErrorForCode(code))
	}
	f.settle("g", 3, a)
	if a.owned.count() != 2 {
		t.Fatalf("a: %v", a)
	}
}

func TestConsumerGroupClassicMemberSurvivesRestart(t *testing.T) {
	f, a, b := mixedGroup(t, 2)
	b.join()
	b.sync()
	a.mustBeat(true)
	a.mustBeat(true)
	b.heartbeat()
	b.join()
	b.sync()
	f.restart()
	if code := b.heartbeat(); code != 0 {
		t.Fatalf("classic member after a restart: %v", kerr.ErrorForCode(code))
	}
	if code, _ := b.sync(); code != 0 || b.count() != 1 {
		t.Fatalf("classic member's assignment after a restart: %v %v", kerr.ErrorForCode(code), b.owned)
	}
}

func TestEmptyGroupsChangeProtocol(t *testing.T) {
	f := newCFix(t, MigrationPolicy(MigrationDisabled))
	f.topic("t", 1, 1)
	commit(t, f.c, "g", -1, "", map[TopicPartition]int64{{"t", 0}: 7})
	// A consumer-protocol member turns the empty classic group into a
	// consumer group, keeping its offsets.
	a := f.client("g", "a", "t")
	a.mustBeat(true)
	if offs, ok := f.c.FetchOffsets("g"); !ok || offs[TopicPartition{"t", 0}].Offset != 7 {
		t.Fatalf("offsets after becoming a consumer group: %v", offs)
	}
	// A classic group with members refuses the consumer protocol.
	join := kmsg.NewPtrJoinGroupRequest()
	join.Version, join.Group, join.SessionTimeoutMillis, join.RebalanceTimeoutMillis, join.ProtocolType = 9, "h", 10000, 10000, "consumer"
	join.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: (&kclassic{topics: []string{"t"}}).metadata()}}
	join.MemberID = "x"
	recv(t, f.c.Join(join, Client{ID: "c"}))
	if got := f.client("h", "b", "t").beat(true); got != 0 {
		// h had no members yet (the join above was for an unknown id)
		t.Fatalf("consumer join of an empty classic group: %v", kerr.ErrorForCode(got))
	}
	a.leave(false)
	// The consumer group is empty again: a classic join turns it back,
	// its offsets kept.
	classic := &kclassic{f: f, group: "g", topics: []string{"t"}}
	if code := classic.join(); code != 0 {
		t.Fatal(kerr.ErrorForCode(code))
	}
	if code, _ := classic.sync(); code != 0 { // as the classic group's leader, it assigns nothing
		t.Fatal(kerr.ErrorForCode(code))
	}
	var typ string
	f.inspect("g", func(g *Group) {
		typ = TypeClassic
		if g.cg != nil {
			typ = TypeConsumer
		}
	})
	if offs, _ := f.c.FetchOffsets("g"); typ != TypeClassic || offs[TopicPartition{"t", 0}].Offset != 7 {
		t.Fatalf("after a classic join: type %s, offsets %v", typ, offs)
	}
	f.restart()
	f.inspect("g", func(g *Group) {
		if g.cg != nil {
			t.Fatal("the group is a consumer group again after a restart")
		}
	})
	// Now it has a classic member: a consumer heartbeat is refused.
	resp := f.heartbeat(f.client("g", "c", "t").request(true), nil)
	if resp.ErrorCode != kerr.GroupIDNotFound.Code || derefOr(resp.ErrorMessage, "") != "Group g is not a consumer group." {
		t.Fatalf("consumer join of a classic group with members: %v %q", kerr.ErrorForCode(resp.ErrorCode), derefOr(resp.ErrorMessage, ""))
	}
}
