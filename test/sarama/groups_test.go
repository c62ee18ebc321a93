package sarama_test

// groups_test.go plays the seed's consumer-group flow with sarama's
// ConsumerGroup, one sarama client per member, once per balance strategy
// (range, roundrobin and sticky on the eager protocol, cooperative-sticky
// on the cooperative one), each on a broker of its own:
//
//  1. rider-updates has two partitions, north (0) and south (1). Members A
//     and B of user-1 each claim one partition and read exactly its
//     updates; C, alone in user-2, claims and reads both.
//  2. A is closed (sarama commits what A marked, then sends LeaveGroup).
//     Within the session timeout B claims both partitions, and reads A's
//     partition from A's last commit: nothing skipped, nothing read twice.
//  3. D joins (B and D split the partitions), then E: with three members
//     and two partitions, one member claims nothing, and its ConsumeClaim
//     is never called while the other two read new updates.
//  4. The owner of a partition reads updates without marking them and is
//     closed. Its successor reads from the last commit: at least once, the
//     only records read twice being those the closed member never marked.
//  5. sarama's ClusterAdmin sees both groups as the broker holds them:
//     ListConsumerGroups, and DescribeConsumerGroups (Stable, the strategy,
//     the live members with their decoded subscriptions and assignments).
//
// Every membership change waits until the group has committed everything
// it read, so before step 4 no record may be read twice. C must read every
// record exactly once, in order, and every record read must be the one
// produced at its offset.

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/IBM/sarama"
	"github.com/courier-dev/courier/internal/testkit/testbroker"
)

const (
	topic = "rider-updates"
	// sessionTimeout is the broker's minimum (group.min.session.timeout.ms),
	// so a member that stops heartbeating is noticed quickly.
	sessionTimeout = 6 * time.Second
	// wait bounds each wait for the group to settle or records to arrive.
	wait = 10 * time.Second
)

// strategies are the balance strategies the flow runs with; each call of
// new returns a fresh strategy, as cooperative-sticky keeps state.
var strategies = []struct {
	name string
	new  func() sarama.BalanceStrategy
}{
	{"range", sarama.NewBalanceStrategyRange},
	{"roundrobin", sarama.NewBalanceStrategyRoundRobin},
	{"sticky", sarama.NewBalanceStrategySticky},
	{"cooperative-sticky", sarama.NewBalanceStrategyCooperativeSticky},
}

func TestSaramaConsumerGroups(t *testing.T) {
	for _, s := range strategies {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			groupFlow(t, s.name, s.new)
		})
	}
}

func groupFlow(t *testing.T, strategyName string, strategy func() sarama.BalanceStrategy) {
	b := testbroker.Start(t)
	admin := newAdmin(t, b.Addr)
	if err := admin.CreateTopic(topic, &sarama.TopicDetail{NumPartitions: 2, ReplicationFactor: 1}, false); err != nil {
		t.Fatalf("CreateTopic %s: %v", topic, err)
	}
	md, err := admin.DescribeTopics([]string{topic})
	if err != nil || len(md) != 1 || md[0].Err != sarama.ErrNoError || len(md[0].Partitions) != 2 {
		t.Fatalf("DescribeTopics %s after creating it: %+v, %v; want 2 partitions", topic, md, err)
	}
	prod := newSyncProducer(t, b.Addr, topic, nil)
	recs := prod.recs
	// settled waits until group has committed the end of both partitions.
	settled := func(group string) {
		t.Helper()
		waitFor(t, wait, group+" to commit everything it read", func() string {
			got := committed(t, admin, group, topic, 2)
			if got[0] != recs.end(0) || got[1] != recs.end(1) {
				return fmt.Sprintf("committed %v, ends %d and %d", got, recs.end(0), recs.end(1))
			}
			return ""
		})
	}

	// 1. Two members of user-1 split the partitions; user-2 gets both.
	a := startMember(t, b.Addr, "user-1", "A", strategy)
	bm := startMember(t, b.Addr, "user-1", "B", strategy)
	c := startMember(t, b.Addr, "user-2", "C", strategy)
	var gen int32
	waitFor(t, wait, "A and B to split the partitions, C to claim both", func() string {
		why, g := stable(0, a, bm)
		if why != "" {
			return why
		}
		pa, _, _ := a.assignment()
		pb, _, _ := bm.assignment()
		pc, _, _ := c.assignment()
		if len(pa) != 1 || len(pb) != 1 || pa[0] == pb[0] || !slices.Equal(pc, []int32{0, 1}) {
			return describe(a, bm, c)
		}
		gen = g
		return ""
	})
	pa, _, _ := a.assignment()
	partA, partB := pa[0], 1-pa[0]
	prod.produce(t, "first", 20, 0, 1)
	waitFor(t, wait, "the first updates to be read", func() string {
		for _, p := range []int32{0, 1} {
			if why := readUpTo(p, recs.end(p), a, bm); why != "" {
				return "user-1: " + why
			}
			if why := readUpTo(p, recs.end(p), c); why != "" {
				return "user-2: " + why
			}
		}
		return ""
	})
	for _, x := range []struct {
		m *member
		p int32
	}{{a, partA}, {bm, partB}} {
		if got := x.m.partitionsRead(); !slices.Equal(got, []int32{x.p}) {
			t.Fatalf("%s read partitions %v, want only its claim %d", x.m.name, got, x.p)
		}
		if got := x.m.offsets(x.p, -1); !slices.Equal(got, seq(0, recs.end(x.p))) {
			t.Fatalf("%s read offsets %v of partition %d, want 0..%d once each", x.m.name, got, x.p, recs.end(x.p)-1)
		}
	}

	// 2. A is closed; B takes its partition over from A's last commit.
	settled("user-1")
	closeAt := time.Now()
	a.close(t)
	commitA := committed(t, admin, "user-1", topic, 2)[partA]
	if commitA != recs.end(partA) {
		t.Fatalf("after A closed, the broker has offset %d committed for partition %d, want %d: A read and marked everything", commitA, partA, recs.end(partA))
	}
	waitFor(t, wait, "B to claim both partitions", func() string {
		why, g := stable(gen, bm)
		if pb, _, _ := bm.assignment(); why == "" && !slices.Equal(pb, []int32{0, 1}) {
			why = describe(bm)
		}
		if why == "" {
			gen = g
		}
		return why
	})
	if took := time.Since(closeAt); took >= sessionTimeout {
		t.Fatalf("B took %v to take over after A was closed, more than the session timeout %v", took, sessionTimeout)
	} else {
		t.Logf("B claimed both partitions %v after A was closed", took.Round(time.Millisecond))
	}
	prod.produce(t, "second", 10, 0, 1)
	waitFor(t, wait, "the second updates to be read", func() string {
		for _, p := range []int32{0, 1} {
			if why := readUpTo(p, recs.end(p), bm); why != "" {
				return "B: " + why
			}
			if why := readUpTo(p, recs.end(p), c); why != "" {
				return "C: " + why
			}
		}
		return ""
	})
	if got := bm.offsets(partA, -1); !slices.Equal(got, seq(commitA, recs.end(partA))) {
		t.Fatalf("after the takeover B read offsets %v of A's partition %d, want %d..%d: from A's last commit, once each", got, partA, commitA, recs.end(partA)-1)
	}
	for _, p := range []int32{0, 1} {
		checkOnce(t, p, recs.end(p), nil, a, bm)
	}

	// 3. D joins, then E: three members for two partitions, one idle.
	settled("user-1")
	d := startMember(t, b.Addr, "user-1", "D", strategy)
	waitFor(t, wait, "B and D to split the partitions", func() string {
		why, g := stable(gen, bm, d)
		if why != "" {
			return why
		}
		pb, _, _ := bm.assignment()
		pd, _, _ := d.assignment()
		if len(pb) != 1 || len(pd) != 1 || pb[0] == pd[0] {
			return describe(bm, d)
		}
		gen = g
		return ""
	})
	settled("user-1")
	e := startMember(t, b.Addr, "user-1", "E", strategy)
	var idle *member
	var holders []*member
	waitFor(t, wait, "three members, one of them claiming nothing", func() string {
		why, g := stable(gen, bm, d, e)
		if why != "" {
			return why
		}
		idle, holders = nil, nil
		var all []int32
		for _, m := range []*member{bm, d, e} {
			ps, _, _ := m.assignment()
			switch len(ps) {
			case 0:
				if idle != nil {
					return describe(bm, d, e)
				}
				idle = m
			case 1:
				holders = append(holders, m)
			default:
				return describe(bm, d, e)
			}
			all = append(all, ps...)
		}
		slices.Sort(all)
		if idle == nil || !slices.Equal(all, []int32{0, 1}) {
			return describe(bm, d, e)
		}
		gen = g
		return ""
	})
	t.Logf("with three members: %s", describe(bm, d, e))
	prod.produce(t, "third", 5, 0, 1)
	waitFor(t, wait, "the third updates to be read", func() string {
		for _, p := range []int32{0, 1} {
			if why := readUpTo(p, recs.end(p), holders...); why != "" {
				return "user-1: " + why
			}
		}
		return ""
	})
	if got := idle.claimsIn(gen - 1); len(got) > 0 {
		t.Fatalf("%s claims nothing in generation %d, yet ConsumeClaim was called for partitions %v", idle.name, gen, got)
	}
	for _, p := range []int32{0, 1} {
		if got := idle.offsets(p, gen-1); len(got) > 0 {
			t.Fatalf("%s claims nothing in generation %d, yet read offsets %v of partition %d", idle.name, gen, got, p)
		}
		checkOnce(t, p, recs.end(p), nil, a, bm, d, e)
	}

	// 4. A partition's owner reads without marking, then is closed.
	settled("user-1")
	victim := holders[0]
	others := []*member{holders[1], idle}
	vp, _, _ := victim.assignment()
	p := vp[0]
	base := recs.end(p)
	victim.setNoMark()
	prod.produce(t, "fourth", 10, p)
	waitFor(t, wait, victim.name+" to read the updates it will not mark", func() string {
		return readUpTo(p, recs.end(p), victim)
	})
	victim.close(t)
	if got := committed(t, admin, "user-1", topic, 2)[p]; got != base {
		t.Fatalf("after %s closed, the broker has offset %d committed for partition %d, want %d: the last offset it marked", victim.name, got, p, base)
	}
	var successor *member
	genBefore := gen
	waitFor(t, wait, "another member to claim partition "+fmt.Sprint(p), func() string {
		why, g := stable(gen, others...)
		if why != "" {
			return why
		}
		for _, m := range others {
			if ps, _, _ := m.assignment(); slices.Contains(ps, p) {
				successor, gen = m, g
				return ""
			}
		}
		return describe(others...)
	})
	waitFor(t, wait, successor.name+" to read the unmarked updates again", func() string {
		return readUpTo(p, recs.end(p), successor)
	})
	if got := successor.offsets(p, genBefore); !slices.Equal(got, seq(base, recs.end(p))) {
		t.Fatalf("%s read offsets %v of partition %d after taking it over, want %d..%d: from %s's last commit, once each", successor.name, got, p, base, recs.end(p)-1, victim.name)
	}
	checkOnce(t, p, recs.end(p), seq(base, recs.end(p)), a, bm, d, e)
	checkOnce(t, 1-p, recs.end(1-p), nil, a, bm, d, e)
	t.Logf("partition %d: %s read %d..%d without marking them and was closed; %s read them again", p, victim.name, base, recs.end(p)-1, successor.name)

	// C (user-2) read everything once, in order; nobody read a wrong record.
	waitFor(t, wait, "C to read the fourth updates", func() string { return readUpTo(p, recs.end(p), c) })
	for _, part := range []int32{0, 1} {
		if got := c.offsets(part, -1); !slices.Equal(got, seq(0, recs.end(part))) {
			t.Errorf("C (user-2) read offsets %v of partition %d, want 0..%d once each", got, part, recs.end(part)-1)
		}
	}
	settled("user-2")
	for _, m := range []*member{a, bm, c, d, e} {
		m.check(t, recs)
	}

	// 5. sarama's ClusterAdmin sees both groups as the broker holds them.
	checkDescribed(t, admin, strategyName, map[string][]*member{"user-1": others, "user-2": {c}})
}

// checkDescribed fails the test unless ListConsumerGroups lists exactly
// the groups of want, as consumer groups, and DescribeConsumerGroups
// describes each as Stable, using strategy, with want's members (by client
// ID) connected from 127.0.0.1, subscribed to topic and assigned the
// partitions they claim, which together are both partitions.
func checkDescribed(t *testing.T, admin sarama.ClusterAdmin, strategy string, want map[string][]*member) {
	t.Helper()
	listed, err := admin.ListConsumerGroups()
	if err != nil {
		t.Fatalf("ListConsumerGroups: %v", err)
	}
	var ids []string
	for g := range want {
		ids = append(ids, g)
		if listed[g] != "consumer" {
			t.Errorf("ListConsumerGroups: %v; want %s as a consumer group", listed, g)
		}
	}
	if len(listed) != len(want) {
		t.Errorf("ListConsumerGroups: %v; want only %v", listed, ids)
	}
	descs, err := admin.DescribeConsumerGroups(ids)
	if err != nil {
		t.Fatalf("DescribeConsumerGroups: %v", err)
	}
	if len(descs) != len(want) {
		t.Fatalf("DescribeConsumerGroups %v: %d descriptions", ids, len(descs))
	}
	for _, g := range descs {
		if g.Err != sarama.ErrNoError || g.State != "Stable" || g.ProtocolType != "consumer" || g.Protocol != strategy {
			t.Errorf("DescribeConsumerGroups %s: error %v, state %q, protocol type %q, protocol %q; want Stable, consumer, %s",
				g.GroupId, g.Err, g.State, g.ProtocolType, g.Protocol, strategy)
		}
		claims := map[string][]int32{}
		for _, m := range want[g.GroupId] {
			claims[m.name], _, _ = m.assignment()
		}
		var all []int32
		for id, gm := range g.Members {
			meta, err := gm.GetMemberMetadata()
			if err != nil {
				t.Errorf("DescribeConsumerGroups %s: member %s (%s): undecodable metadata: %v", g.GroupId, gm.ClientId, id, err)
				continue
			}
			asg, err := gm.GetMemberAssignment()
			if err != nil {
				t.Errorf("DescribeConsumerGroups %s: member %s (%s): undecodable assignment: %v", g.GroupId, gm.ClientId, id, err)
				continue
			}
			parts := slices.Clone(asg.Topics[topic])
			slices.Sort(parts)
			mine, ok := claims[gm.ClientId]
			if !ok || gm.ClientHost != "/127.0.0.1" || !slices.Equal(meta.Topics, []string{topic}) || !slices.Equal(parts, mine) || len(asg.Topics) > 1 {
				t.Errorf("DescribeConsumerGroups %s: member %s (%s) from %q subscribed to %v, assigned %v; want a live member, from /127.0.0.1, subscribed to [%s], assigned what it claims (%v)",
					g.GroupId, gm.ClientId, id, gm.ClientHost, meta.Topics, asg.Topics, topic, mine)
			}
			delete(claims, gm.ClientId)
			all = append(all, parts...)
		}
		slices.Sort(all)
		if len(claims) > 0 || !slices.Equal(all, []int32{0, 1}) {
			t.Errorf("DescribeConsumerGroups %s: members missing: %v; partitions assigned: %v, want 0 and 1 once", g.GroupId, claims, all)
		}
	}
}
