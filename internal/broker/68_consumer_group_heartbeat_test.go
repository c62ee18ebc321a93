package broker_test

// 68_consumer_group_heartbeat_test.go runs franz-go consumers with the
// KIP-848 protocol (kgo.ServerSideBalancer) against a real broker over
// TCP: the seed's flow (two members share a two-partition topic, a third
// waits, one leaves and another takes over from its commits, a second
// group gets every record) with the uniform and the range assignors; a
// regex subscription picking up a topic created later without a rejoin;
// and the group as the admin APIs show it (ListGroups types, DescribeGroups
// of a consumer group, DeleteGroups while it has members).

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/run"
	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// fastHeartbeats makes consumer group members heartbeat every 100ms, so
// that partitions move between them quickly.
func fastHeartbeats(c *run.Config) { c.Broker.ConsumerGroupHeartbeatInterval = 100 * time.Millisecond }

// start848 starts a broker whose consumer groups heartbeat fast, with a
// topic of the given partitions, and an admin client of it.
func start848(t *testing.T, topic string, partitions int32, opts ...testbroker.Option) (*testbroker.Broker, *kadm.Client) {
	t.Helper()
	b := testbroker.Start(t, append([]testbroker.Option{fastHeartbeats}, opts...)...)
	testclient.CreateTopic(t, b.Addr, topic, partitions, nil)
	return b, kadm.NewClient(testclient.New(t, b.Addr))
}

// consumerAssignments returns each member's (by client id) partitions of
// topic when the consumer group is Stable, with its state otherwise.
func consumerAssignments(t *testing.T, adm *kadm.Client, group, topic string) (map[string][]int32, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	described, err := adm.DescribeConsumerGroups(ctx, group)
	if err != nil {
		return nil, err.Error()
	}
	d := described[group]
	if d.Err != nil || d.State != "Stable" {
		return nil, "state " + d.State
	}
	out := map[string][]int32{}
	for _, m := range d.Members {
		out[m.ClientID] = partitionsOf(m.Assignment, topic)
	}
	return out, ""
}

func TestConsumerGroups848(t *testing.T) {
	for _, tc := range []struct {
		name     string
		balancer func() kgo.GroupBalancer
		assignor string
	}{
		{"uniform", kgo.StickyBalancer, "uniform"},
		{"range", kgo.RangeBalancer, "range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const topic, perPart = "locations", 50
			b, adm := start848(t, topic, 2)
			const wait = 30 * time.Second
			member := func(group, name string) *groupMember {
				return startMember(t, b.Addr, group, topic, name, tc.balancer(), kgo.ServerSideBalancer())
			}
			expect := func(what string, want func(a map[string][]int32) bool) {
				testwait.For(t, wait, what, func() string {
					a, why := consumerAssignments(t, adm, "user-1", topic)
					if a == nil {
						return why
					}
					if !want(a) {
						return "assignment " + describeAssignment(a)
					}
					return ""
				})
			}

			c1, c2 := member("user-1", "c1"), member("user-1", "c2")
			expect("c1 and c2 to hold one partition each", func(a map[string][]int32) bool {
				return len(a) == 2 && len(a["c1"]) == 1 && len(a["c2"]) == 1
			})
			produceEach(t, b.Addr, topic, 2, perPart)
			u2 := member("user-2", "u2")
			testwait.For(t, wait, "user-2 to consume everything", func() string { return countIs(countAll(u2), 2*perPart) })
			testwait.For(t, wait, "user-1 to consume everything", func() string { return countIs(countAll(c1, c2), 2*perPart) })
			g1, g2 := c1.consumed(), c2.consumed()
			if len(g1) != 1 || len(g2) != 1 || keys(g1)[0] == keys(g2)[0] {
				t.Fatalf("each member should read its own partition: c1 %v, c2 %v", keys(g1), keys(g2))
			}
			c1Part := keys(g1)[0]
			waitCommitted(t, adm, "user-1", topic, 2, perPart)

			// A third member waits: two partitions, three members.
			c3 := member("user-1", "c3")
			expect("three members, one idle", func(a map[string][]int32) bool {
				return len(a) == 3 && slices.Equal(sizes(a), []int{0, 1, 1})
			})

			// c1 leaves: another member takes its partition over and
			// continues from c1's commits.
			c1.stop()
			expect("c2 and c3 to hold one partition each", func(a map[string][]int32) bool {
				return len(a) == 2 && len(a["c2"]) == 1 && len(a["c3"]) == 1
			})
			produceEach(t, b.Addr, topic, 2, perPart)
			testwait.For(t, wait, "user-1 to consume the second batch", func() string { return countIs(countAll(c1, c2, c3), 4*perPart) })
			for p := int32(0); p < 2; p++ {
				var all []int64
				for _, m := range []*groupMember{c1, c2, c3} {
					all = append(all, m.consumed()[p]...)
				}
				sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
				for i, o := range all {
					if o != int64(i) {
						t.Fatalf("partition %d: offsets consumed by user-1 %v: gap or duplicate at %d", p, all, i)
					}
				}
			}
			if next := c3.consumed()[c1Part]; len(next) == 0 && len(c2.consumed()[c1Part]) == 0 {
				t.Fatalf("nobody took partition %d over", c1Part)
			}

			// The admin APIs see a consumer group.
			ctx := testCtx(t)
			described, err := adm.DescribeConsumerGroups(ctx, "user-1")
			if err != nil || described["user-1"].AssignorName != tc.assignor || described["user-1"].Epoch < 1 {
				t.Fatalf("describe: %+v, %v", described["user-1"], err)
			}
			listed, err := adm.ListGroupsByType(ctx, []string{"consumer"})
			if err != nil || !slices.Contains(listed.Groups(), "user-1") || !slices.Contains(listed.Groups(), "user-2") {
				t.Fatalf("consumer groups listed: %v, %v", listed.Groups(), err)
			}
			if classic, _ := adm.ListGroupsByType(ctx, []string{"classic"}); slices.Contains(classic.Groups(), "user-1") {
				t.Fatal("user-1 listed as a classic group")
			}
			old, err := adm.DescribeGroups(ctx, "user-1")
			if err != nil || old["user-1"].State != "Dead" {
				t.Fatalf("DescribeGroups of a consumer group: %+v, %v", old["user-1"], err)
			}
			deleted, err := adm.DeleteGroups(ctx, "user-2")
			if err != nil || !errorIs(deleted["user-2"].Err, kerr.NonEmptyGroup) {
				t.Fatalf("delete a group with members: %+v, %v", deleted, err)
			}
			u2.stop()
			testwait.For(t, wait, "user-2 to be deleted once empty", func() string {
				deleted, err := adm.DeleteGroups(ctx, "user-2")
				if err != nil {
					return err.Error()
				}
				if err := deleted["user-2"].Err; err != nil {
					return err.Error()
				}
				return ""
			})
			for _, m := range []*groupMember{c1, c2, c3, u2} {
				if err := m.failure(); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func TestConsumerGroup848RegexPicksUpNewTopics(t *testing.T) {
	t.Parallel()
	b := testbroker.Start(t, fastHeartbeats)
	testclient.CreateTopic(t, b.Addr, "orders-a", 1, nil)
	testclient.CreateTopic(t, b.Addr, "other", 1, nil)
	m := startMember(t, b.Addr, "regex", "orders-.*", "r1", kgo.StickyBalancer(), kgo.ServerSideBalancer(), kgo.ConsumeRegex())
	adm := kadm.NewClient(testclient.New(t, b.Addr))
	produceEach(t, b.Addr, "orders-a", 1, 5)
	produceEach(t, b.Addr, "other", 1, 5)
	testwait.For(t, 30*time.Second, "orders-a consumed", func() string { return countIs(countAll(m), 5) })

	testclient.CreateTopic(t, b.Addr, "orders-b", 2, nil)
	testwait.For(t, 30*time.Second, "orders-b assigned without a rejoin", func() string {
		d, err := adm.DescribeConsumerGroups(testCtx(t), "regex")
		if err != nil {
			return err.Error()
		}
		g := d["regex"]
		if len(g.Members) != 1 {
			return "members " + g.State
		}
		if got := partitionsOf(g.Members[0].Assignment, "orders-b"); len(got) != 2 {
			return "orders-b not assigned yet"
		}
		if re := g.Members[0].SubscribedTopicRegex; re == nil || *re == "" {
			return "no regex described"
		}
		return ""
	})
	produceEach(t, b.Addr, "orders-b", 2, 5)
	testwait.For(t, 30*time.Second, "orders-b consumed", func() string { return countIs(countAll(m), 15) })
	if err := m.failure(); err != nil {
		t.Fatal(err)
	}
}

// waitCommitted waits until group has committed offset want on each of
// topic's partitions: a member stopped before its last commit finished
// would leave records for the next owner to consume again.
func waitCommitted(t *testing.T, adm *kadm.Client, group, topic string, partitions int32, want int64) {
	t.Helper()
	testwait.For(t, 30*time.Second, "commits of "+group, func() string {
		offs, err := adm.FetchOffsets(testCtx(t), group)
		if err != nil {
			return err.Error()
		}
		for p := int32(0); p < partitions; p++ {
			if o, _ := offs.Lookup(topic, p); o.At != want {
				return fmt.Sprintf("partition %d committed at %d", p, o.At)
			}
		}
		return ""
	})
}

func countIs(got, want int) string {
	if got != want {
		return fmt.Sprintf("consumed %d of %d", got, want)
	}
	return ""
}

// partitionsOf returns a topic's partitions in a set, sorted.
func partitionsOf(s kadm.TopicsSet, topic string) []int32 {
	ps := []int32{}
	for p := range s[topic] {
		ps = append(ps, p)
	}
	slices.Sort(ps)
	return ps
}

func sizes(a map[string][]int32) []int {
	var out []int
	for _, ps := range a {
		out = append(out, len(ps))
	}
	slices.Sort(out)
	return out
}

func describeAssignment(a map[string][]int32) string { return fmt.Sprint(a) }

func errorIs(err error, target *kerr.Error) bool { return errors.Is(err, target) }

// TestConsumerGroup848ClassicMembers: classic clients (cooperative and
// eager) join a consumer group beside a member of the consumer protocol,
// as Kafka 4 lets them whatever its migration policy: the broker assigns
// them partitions, every record is consumed once, and when the
// consumer-protocol member leaves the classic one takes its partitions
// over (the policy here is disabled, so the group stays a consumer
// group).
func TestConsumerGroup848ClassicMembers(t *testing.T) {
	for _, tc := range []struct {
		name     string
		balancer func() kgo.GroupBalancer
	}{
		{"cooperative-sticky", kgo.CooperativeStickyBalancer},
		{"eager-range", kgo.RangeBalancer},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			const topic, perPart = "mixed", 20
			b, adm := start848(t, topic, 4, func(c *run.Config) { c.Broker.ConsumerGroupMigrationPolicy = "disabled" })
			const wait = 30 * time.Second
			modern := startMember(t, b.Addr, "mixed", topic, "modern", kgo.StickyBalancer(), kgo.ServerSideBalancer())
			testwait.For(t, wait, "the consumer-protocol member to own everything", func() string {
				a, why := consumerAssignments(t, adm, "mixed", topic)
				if len(a["modern"]) != 4 {
					return why + fmt.Sprint(a)
				}
				return ""
			})
			classic := startMember(t, b.Addr, "mixed", topic, "classic", tc.balancer())
			testwait.For(t, wait, "the classic member to get half", func() string {
				a, why := consumerAssignments(t, adm, "mixed", topic)
				if len(a["modern"]) != 2 || len(a["classic"]) != 2 {
					return why + fmt.Sprint(a)
				}
				return ""
			})
			d, err := adm.DescribeConsumerGroups(testCtx(t), "mixed")
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range d["mixed"].Members {
				if want := map[string]int8{"modern": 1, "classic": 0}[m.ClientID]; m.MemberType != want {
					t.Fatalf("member %s type %d, want %d", m.ClientID, m.MemberType, want)
				}
			}
			produceEach(t, b.Addr, topic, 4, perPart)
			testwait.For(t, wait, "everything consumed", func() string { return countIs(countAll(modern, classic), 4*perPart) })
			waitCommitted(t, adm, "mixed", topic, 4, perPart)
			modern.stop()
			testwait.For(t, wait, "the classic member to own everything", func() string {
				a, why := consumerAssignments(t, adm, "mixed", topic)
				if len(a["classic"]) != 4 {
					return why + fmt.Sprint(a)
				}
				return ""
			})
			produceEach(t, b.Addr, topic, 4, perPart)
			testwait.For(t, wait, "the second batch consumed", func() string { return countIs(countAll(modern, classic), 8*perPart) })
			for p := int32(0); p < 4; p++ {
				all := append(modern.consumed()[p], classic.consumed()[p]...)
				slices.Sort(all)
				for i, o := range all {
					if o != int64(i) {
						t.Fatalf("partition %d: offsets %v: gap or duplicate at %d", p, all, i)
					}
				}
			}
			for _, m := range []*groupMember{modern, classic} {
				if err := m.failure(); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

// TestConsumerGroup848Migration: a classic group of franz-go clients is
// upgraded to a consumer group when a client of the consumer protocol
// joins it, and downgraded back when that client leaves (Kafka's default
// migration policy, bidirectional); every record is consumed once
// throughout.
func TestConsumerGroup848Migration(t *testing.T) {
	t.Parallel()
	const topic, perPart = "migrate", 20
	b, adm := start848(t, topic, 3)
	const wait = 30 * time.Second
	groupType := func() string {
		for _, typ := range []string{"classic", "consumer"} {
			listed, err := adm.ListGroupsByType(testCtx(t), []string{typ})
			if err != nil {
				return err.Error()
			}
			if _, ok := listed["migrate"]; ok {
				return typ
			}
		}
		return "none"
	}
	c1 := startMember(t, b.Addr, "migrate", topic, "c1", kgo.CooperativeStickyBalancer())
	c2 := startMember(t, b.Addr, "migrate", topic, "c2", kgo.CooperativeStickyBalancer())
	testwait.For(t, wait, "a stable classic group", func() string {
		if a := assignments(t, adm, "migrate", topic); len(a) != 2 || len(a["c1"])+len(a["c2"]) != 3 {
			return fmt.Sprint(a)
		}
		return ""
	})
	produceEach(t, b.Addr, topic, 3, perPart)
	testwait.For(t, wait, "the first batch consumed", func() string { return countIs(countAll(c1, c2), 3*perPart) })

	modern := startMember(t, b.Addr, "migrate", topic, "modern", kgo.StickyBalancer(), kgo.ServerSideBalancer())
	testwait.For(t, wait, "the group upgraded, one partition each", func() string {
		if typ := groupType(); typ != "consumer" {
			return "type " + typ
		}
		a, why := consumerAssignments(t, adm, "migrate", topic)
		if len(a["c1"]) != 1 || len(a["c2"]) != 1 || len(a["modern"]) != 1 {
			return why + fmt.Sprint(a)
		}
		return ""
	})
	produceEach(t, b.Addr, topic, 3, perPart)
	testwait.For(t, wait, "the second batch consumed", func() string { return countIs(countAll(c1, c2, modern), 6*perPart) })
	waitCommitted(t, adm, "migrate", topic, 3, 2*perPart)

	modern.stop()
	testwait.For(t, wait, "the group downgraded and stable", func() string {
		if typ := groupType(); typ != "classic" {
			return "type " + typ
		}
		if a := assignments(t, adm, "migrate", topic); len(a) != 2 || len(a["c1"])+len(a["c2"]) != 3 {
			return fmt.Sprint(a)
		}
		return ""
	})
	produceEach(t, b.Addr, topic, 3, perPart)
	testwait.For(t, wait, "the third batch consumed", func() string { return countIs(countAll(c1, c2, modern), 9*perPart) })
	for p := int32(0); p < 3; p++ {
		var all []int64
		for _, m := range []*groupMember{c1, c2, modern} {
			all = append(all, m.consumed()[p]...)
		}
		slices.Sort(all)
		for i, o := range all {
			if o != int64(i) {
				t.Fatalf("partition %d: offsets %v: gap or duplicate at %d", p, all, i)
			}
		}
	}
	for _, m := range []*groupMember{c1, c2, modern} {
		if err := m.failure(); err != nil {
			t.Error(err)
		}
	}
}
