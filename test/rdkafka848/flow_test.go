package rdkafka848

// flow_test.go is the seed's group flow with librdkafka's KIP-848
// consumer: share, wait, die, leave, and pub/sub across groups.

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	topic = "rides"
	group = "riders"
)

func TestConsumerProtocolFlow(t *testing.T) {
	addr := startBroker(t)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, 2, 1, nil, topic); err != nil {
		t.Fatal(err)
	}
	// A dead member is noticed after the session timeout; members learn of
	// changes at their next heartbeat. Courier is started with short ones
	// (startBroker); another broker is asked for them as group configs,
	// and one that refuses them (Kafka's bounds) only makes the test slower.
	if os.Getenv("RDKAFKA848_BROKER") != "" {
		if err := testclient.SetGroupConfigs(ctx, cl, group, map[string]string{"consumer.session.timeout.ms": "6000", "consumer.heartbeat.interval.ms": "500"}); err != nil {
			t.Logf("the test waits for the broker's timeouts: %v", err)
		}
	}

	// Two members share the two partitions; A runs in a process of its
	// own, to be killed.
	a := startMemberProcess(t, addr, group, topic, "A")
	b := startMember(t, addr, group, topic, "B")
	testwait.For(t, time.Minute, "A and B to own one partition each", func() string {
		return owns(map[*member][]int32{a: nil, b: nil}, 2)
	})
	for _, m := range []*member{a, b} {
		m.mu.Lock()
		t.Logf("member %s speaks: %s", m.name, m.heartbeat)
		if m.heartbeat == "" || m.joinGroup != "" {
			t.Errorf("member %s: ConsumerGroupHeartbeat seen: %q; JoinGroup seen: %q (want the KIP-848 protocol only)", m.name, m.heartbeat, m.joinGroup)
		}
		m.mu.Unlock()
	}

	// A third member joins and waits with nothing: the group is
	// reconciled with three members, C owning no partition.
	c := startMember(t, addr, group, topic, "C")
	testwait.For(t, time.Minute, "C in the reconciled group with no partition", func() string {
		return reconciledWith(ctx, adm, "C", 3)
	})
	if why := owns(map[*member][]int32{a: nil, b: nil, c: {}}, 2); why != "" {
		t.Fatalf("with three members: %s", why)
	}

	// Records go to the owner of their partition, none to C.
	round1 := produceRound(t, ctx, cl, "r1")
	testwait.For(t, time.Minute, "round 1 consumed", func() string { return consumedBy(round1, []*member{a, b}) })
	if _, rs := c.snapshot(); len(rs) != 0 {
		t.Errorf("C, owning nothing, consumed %d records", len(rs))
	}
	aOwned, _ := a.snapshot()

	// A dies without leaving (SIGKILL): after the session timeout its
	// partition goes to C, and nothing is lost.
	a.close()
	testwait.For(t, time.Minute, "B and C to own one partition each after A died", func() string {
		return owns(map[*member][]int32{b: nil, c: aOwned}, 2)
	})
	round2 := produceRound(t, ctx, cl, "r2")
	testwait.For(t, time.Minute, "round 2 consumed", func() string { return consumedBy(round2, []*member{b, c}) })
	exactlyOnce(t, round2, []*member{b, c})

	// B leaves: C takes both partitions.
	b.close()
	testwait.For(t, time.Minute, "C to own both partitions after B left", func() string {
		return owns(map[*member][]int32{c: {0, 1}}, 2)
	})
	round3 := produceRound(t, ctx, cl, "r3")
	testwait.For(t, time.Minute, "round 3 consumed", func() string { return consumedBy(round3, []*member{c}) })
	exactlyOnce(t, round3, []*member{c})

	// Pub/sub: another group reads every record, from the start.
	d := startMember(t, addr, "audit", topic, "D")
	all := append(append(slices.Clone(round1), round2...), round3...)
	testwait.For(t, time.Minute, "the audit group to read everything", func() string { return consumedBy(all, []*member{d}) })
	exactlyOnce(t, all, []*member{d})
	for _, m := range []*member{a, b, c, d} {
		m.mu.Lock()
		if len(m.errs) > 0 {
			t.Logf("member %s reported: %v", m.name, m.errs)
		}
		m.mu.Unlock()
	}
}

// owns returns "" if every member owns exactly the partitions given (any
// one partition of the topic's n if nil) and no two own the same one.
func owns(want map[*member][]int32, n int32) string {
	seen := map[int32]string{}
	for m, ps := range want {
		got, _ := m.snapshot()
		switch {
		case ps == nil && len(got) != 1:
			return fmt.Sprintf("%s owns %v, want one partition", m.name, got)
		case ps != nil && !slices.Equal(got, ps) && !(len(ps) == 0 && len(got) == 0):
			return fmt.Sprintf("%s owns %v, want %v", m.name, got, ps)
		}
		for _, p := range got {
			if p < 0 || p >= n {
				return fmt.Sprintf("%s owns partition %d of %d", m.name, p, n)
			}
			if o, ok := seen[p]; ok {
				return fmt.Sprintf("partition %d owned by %s and %s", p, o, m.name)
			}
			seen[p] = m.name
		}
	}
	return ""
}

// reconciledWith returns "" once the group has n members, all at the
// group's epoch with their target assignment, and client id name's member
// assigned nothing.
func reconciledWith(ctx context.Context, adm *kadm.Client, name string, n int) string {
	ds, err := adm.DescribeConsumerGroups(ctx, group)
	if err != nil {
		return err.Error()
	}
	g := ds[group]
	if g.Err != nil {
		return g.Err.Error()
	}
	if len(g.Members) != n {
		return fmt.Sprintf("%d members", len(g.Members))
	}
	found := false
	for _, m := range g.Members {
		if m.MemberEpoch != g.Epoch || !equalSets(m.Assignment, m.TargetAssignment) {
			return fmt.Sprintf("member %s at epoch %d of %d, assigned %v, target %v", m.ClientID, m.MemberEpoch, g.Epoch, m.Assignment, m.TargetAssignment)
		}
		if m.ClientID == name {
			found = true
			if len(m.Assignment.Sorted()) != 0 {
				return fmt.Sprintf("%s assigned %v", name, m.Assignment)
			}
		}
	}
	if !found {
		return name + " is not a member"
	}
	return ""
}

// equalSets reports whether two topic sets hold the same partitions.
func equalSets(a, b kadm.TopicsSet) bool {
	x, y := a.Sorted(), b.Sorted()
	if len(x) != len(y) {
		return false
	}
	for i := range x {
		if x[i].Topic != y[i].Topic || !slices.Equal(x[i].Partitions, y[i].Partitions) {
			return false
		}
	}
	return true
}

// produceRound writes ten records to each partition, valued
// "PREFIX-pP-I", and returns the values.
func produceRound(t *testing.T, ctx context.Context, cl *kgo.Client, prefix string) []string {
	t.Helper()
	var (
		recs   []*kgo.Record
		values []string
	)
	for p := range int32(2) {
		for i := range 10 {
			v := fmt.Sprintf("%s-p%d-%d", prefix, p, i)
			recs = append(recs, &kgo.Record{Topic: topic, Partition: p, Value: []byte(v)})
			values = append(values, v)
		}
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
	return values
}

// consumedBy returns "" once the members together consumed every value,
// each by the member owning its partition.
func consumedBy(values []string, ms []*member) string {
	got := map[string]bool{}
	for _, m := range ms {
		_, rs := m.snapshot()
		for _, r := range rs {
			got[r.value] = true
		}
	}
	var missing []string
	for _, v := range values {
		if !got[v] {
			missing = append(missing, v)
		}
	}
	if len(missing) > 0 {
		return fmt.Sprintf("%d of %d not consumed, e.g. %s", len(missing), len(values), strings.Join(missing[:min(3, len(missing))], " "))
	}
	return ""
}

// exactlyOnce fails the test if the members consumed one of values more
// than once in all.
func exactlyOnce(t *testing.T, values []string, ms []*member) {
	t.Helper()
	n := map[string]int{}
	for _, m := range ms {
		_, rs := m.snapshot()
		for _, r := range rs {
			n[r.value]++
		}
	}
	for _, v := range values {
		if n[v] != 1 {
			t.Errorf("%s consumed %d times", v, n[v])
		}
	}
}
