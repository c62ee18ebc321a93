package broker_test

// 11_join_group_test.go runs franz-go consumer groups against a real broker
// over TCP: members of one group split the partitions and hand them over
// when one leaves, continuing from the committed offsets; another group
// gets every record; a member beyond the partition count gets nothing.
// Both the eager (range) and cooperative-sticky balancers are exercised.

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

// groupMember is a kgo group consumer that records what it consumed and
// commits everything it processed before allowing a rebalance, so that a
// partition's next owner starts exactly where it stopped.
type groupMember struct {
	name   string
	cl     *kgo.Client
	cancel context.CancelFunc
	done   chan struct{}

	mu  sync.Mutex
	got map[int32][]int64 // offsets consumed, per partition
	err error
}

func startMember(t *testing.T, addr, group, topic, name string, balancer kgo.GroupBalancer, extra ...kgo.Opt) *groupMember {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{
		kgo.SeedBrokers(addr),
		kgo.ClientID(name),
		kgo.ConsumerGroup(group),
		kgo.ConsumeTopics(topic),
		kgo.Balancers(balancer),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
		kgo.DisableAutoCommit(),
		kgo.BlockRebalanceOnPoll(),
		kgo.HeartbeatInterval(100 * time.Millisecond),
		kgo.FetchMaxWait(200 * time.Millisecond),
	}, extra...)...)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m := &groupMember{name: name, cl: cl, cancel: cancel, done: make(chan struct{}), got: map[int32][]int64{}}
	go m.run(ctx)
	t.Cleanup(m.stop)
	return m
}

func (m *groupMember) run(ctx context.Context) {
	defer close(m.done)
	for {
		fs := m.cl.PollFetches(ctx)
		if ctx.Err() != nil || fs.IsClientClosed() {
			return
		}
		fs.EachError(func(topic string, p int32, err error) {
			if !errors.Is(err, context.Canceled) {
				m.setErr(fmt.Errorf("%s: fetch %s-%d: %w", m.name, topic, p, err))
			}
		})
		recs := fs.Records()
		m.mu.Lock()
		for _, r := range recs {
			m.got[r.Partition] = append(m.got[r.Partition], r.Offset)
		}
		m.mu.Unlock()
		if len(recs) > 0 {
			if err := m.cl.CommitRecords(ctx, recs...); err != nil && ctx.Err() == nil {
				m.setErr(fmt.Errorf("%s: commit: %w", m.name, err))
			}
		}
		m.cl.AllowRebalance()
	}
}

func (m *groupMember) setErr(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err == nil {
		m.err = err
	}
}

// stop ends the poll loop and closes the client, which leaves the group.
func (m *groupMember) stop() {
	if m.cancel == nil {
		return
	}
	m.cancel()
	m.cancel = nil
	<-m.done
	m.cl.AllowRebalance() // the last poll may have blocked rebalances
	m.cl.Close()
}

// consumed returns a copy of the offsets consumed per partition.
func (m *groupMember) consumed() map[int32][]int64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := map[int32][]int64{}
	for p, offs := range m.got {
		out[p] = slices.Clone(offs)
	}
	return out
}

func (m *groupMember) failure() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.err
}

// produceEach produces n records to every partition of a topic.
func produceEach(t *testing.T, addr, topic string, partitions int32, n int) {
	t.Helper()
	cl := testclient.New(t, addr, kgo.DefaultProduceTopic(topic), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	var recs []*kgo.Record
	for p := int32(0); p < partitions; p++ {
		for i := 0; i < n; i++ {
			recs = append(recs, &kgo.Record{Partition: p, Value: fmt.Appendf(nil, "%d-%d", p, i)})
		}
	}
	if err := cl.ProduceSync(testCtx(t), recs...).FirstErr(); err != nil {
		t.Fatal(err)
	}
}

// assignments returns, for a stable group, each member's (by client id)
// partitions of topic; nil while the group is not stable.
func assignments(t *testing.T, adm *kadm.Client, group, topic string) map[string][]int32 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	described, err := adm.DescribeGroups(ctx, group)
	if err != nil {
		return nil
	}
	d := described[group]
	if d.Err != nil || d.State != "Stable" {
		return nil
	}
	out := map[string][]int32{}
	for _, m := range d.Members {
		out[m.ClientID] = nil
		if a, ok := m.Assigned.AsConsumer(); ok {
			for _, at := range a.Topics {
				if at.Topic == topic {
					ps := slices.Clone(at.Partitions)
					slices.Sort(ps)
					out[m.ClientID] = ps
				}
			}
		}
	}
	return out
}

// eventually polls cond until it holds or d passes.
func eventually(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// countAll sums the records consumed by members.
func countAll(ms ...*groupMember) int {
	n := 0
	for _, m := range ms {
		for _, offs := range m.consumed() {
			n += len(offs)
		}
	}
	return n
}

func TestConsumerGroups(t *testing.T) {
	for _, tc := range []struct {
		name     string
		balancer func() kgo.GroupBalancer
	}{
		{"eager-range", func() kgo.GroupBalancer { return kgo.RangeBalancer() }},
		{"cooperative-sticky", func() kgo.GroupBalancer { return kgo.CooperativeStickyBalancer() }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := testbroker.Start(t)
			const topic, perPart = "locations", 50
			testclient.CreateTopic(t, b.Addr, topic, 2, nil)
			adm := kadm.NewClient(testclient.New(t, b.Addr))
			const wait = 30 * time.Second

			// Two members of user-1 split the two partitions.
			c1 := startMember(t, b.Addr, "user-1", topic, "c1", tc.balancer())
			c2 := startMember(t, b.Addr, "user-1", topic, "c2", tc.balancer())
			eventually(t, wait, "c1 and c2 to hold one partition each", func() bool {
				a := assignments(t, adm, "user-1", topic)
				return len(a) == 2 && len(a["c1"]) == 1 && len(a["c2"]) == 1
			})
			produceEach(t, b.Addr, topic, 2, perPart)

			// A member of user-2 gets every record.
			u2 := startMember(t, b.Addr, "user-2", topic, "u2", tc.balancer())
			eventually(t, wait, "user-2 to consume everything", func() bool { return countAll(u2) == 2*perPart })
			eventually(t, wait, "user-1 to consume everything", func() bool { return countAll(c1, c2) == 2*perPart })
			g1, g2 := c1.consumed(), c2.consumed()
			if len(g1) != 1 || len(g2) != 1 {
				t.Fatalf("each member should read one partition: c1 %v, c2 %v", keys(g1), keys(g2))
			}
			c1Part := keys(g1)[0]
			if c1Part == keys(g2)[0] {
				t.Fatalf("both members read partition %d", c1Part)
			}

			// c1 leaves; c2 takes its partition over from its commits.
			c1.stop()
			eventually(t, wait, "c2 to hold both partitions", func() bool {
				a := assignments(t, adm, "user-1", topic)
				return len(a) == 1 && len(a["c2"]) == 2
			})
			produceEach(t, b.Addr, topic, 2, perPart)
			eventually(t, wait, "user-1 to consume the second batch", func() bool { return countAll(c1, c2) == 4*perPart })
			g1, g2 = c1.consumed(), c2.consumed()
			for p := int32(0); p < 2; p++ {
				all := append(slices.Clone(g1[p]), g2[p]...)
				sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
				for i, o := range all {
					if o != int64(i) {
						t.Fatalf("partition %d: offsets consumed by user-1 %v: gap or duplicate at %d", p, all, i)
					}
				}
			}
			if first, last := g2[c1Part][0], g1[c1Part][len(g1[c1Part])-1]; first != last+1 {
				t.Fatalf("c2 resumed partition %d at %d; c1 had committed through %d", c1Part, first, last)
			}

			// With three members and two partitions, one gets nothing.
			startMember(t, b.Addr, "user-1", topic, "c3", tc.balancer())
			startMember(t, b.Addr, "user-1", topic, "c4", tc.balancer())
			eventually(t, wait, "three members, one idle", func() bool {
				a := assignments(t, adm, "user-1", topic)
				if len(a) != 3 {
					return false
				}
				var sizes []int
				for _, ps := range a {
					sizes = append(sizes, len(ps))
				}
				slices.Sort(sizes)
				return slices.Equal(sizes, []int{0, 1, 1})
			})
			for _, m := range []*groupMember{c1, c2, u2} {
				if err := m.failure(); err != nil {
					t.Error(err)
				}
			}
		})
	}
}

func keys(m map[int32][]int64) []int32 {
	var out []int32
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}
