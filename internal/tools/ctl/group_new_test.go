package ctl

// group_new_test.go lists and describes groups of the new protocols with
// real franz-go members: a KIP-848 consumer group (epochs, subscriptions,
// current and target assignments, committed offsets and lag) and a
// KIP-932 share group (members, share-partition start offsets and lag).

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// consumerProtocolAdmin starts a Courier broker, which serves KIP-848
// consumer groups, and returns its address and an Admin for it.
func consumerProtocolAdmin(t *testing.T) (string, *Admin) {
	t.Helper()
	return groupAdmin(t)
}

// produceValues writes values to topic partition p.
func produceValues(t *testing.T, addr, topic string, p int32, values ...string) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for _, v := range values {
		if err := cl.ProduceSync(testCtx(t), &kgo.Record{Topic: topic, Partition: p, Value: []byte(v)}).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}

// newMember starts a group member of topic with extra options (the
// protocol), closed at the test's end.
func newMember(t *testing.T, addr, clientID string, opts ...kgo.Opt) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(append([]kgo.Opt{kgo.SeedBrokers(addr), kgo.ClientID(clientID), kgo.FetchMaxWait(100 * time.Millisecond)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

func TestDescribeConsumerGroup(t *testing.T) {
	addr, a := consumerProtocolAdmin(t)
	ctx := testCtx(t)
	if _, err := a.CreateTopic(ctx, CreateSpec{Name: "rides", Partitions: 4, ReplicationFactor: 1}); err != nil {
		t.Fatal(err)
	}
	produceValues(t, addr, "rides", 0, "a", "b", "c", "d", "e")
	members := map[string]*kgo.Client{}
	for _, id := range []string{"app-1", "app-2"} {
		cl := newMember(t, addr, id, kgo.ConsumerGroup("g848"), kgo.ConsumeTopics("rides"), kgo.ServerSideBalancer(),
			kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
		testclient.PollInBackground(t, cl)
		members[id] = cl
	}
	// Both members own two partitions each, reconciled (current equals
	// target, member epochs equal the group's).
	var d GroupDescription
	testwait.For(t, 20*time.Second, "two reconciled members", func() string {
		var err error
		d, err = a.DescribeGroup(ctx, "g848")
		if err != nil {
			return err.Error()
		}
		if len(d.Members) != 2 || d.State != "Stable" {
			return fmt.Sprintf("%d members, state %s", len(d.Members), d.State)
		}
		for _, m := range d.Members {
			if m.Epoch != d.Epoch || len(m.Assigned["rides"]) != 2 || !slices.Equal(m.Assigned["rides"], m.Target["rides"]) {
				return fmt.Sprintf("member %+v in group epoch %d", m, d.Epoch)
			}
		}
		return ""
	})
	if d.Type != "consumer" || d.ProtocolType != "consumer" || d.Protocol == "" || d.Epoch < 1 || d.AssignmentEpoch != d.Epoch {
		t.Errorf("description = %+v", d)
	}
	owned, ownerClient := map[int32]string{}, map[int32]string{}
	for _, m := range d.Members {
		if !slices.Equal(m.Subscribed, []string{"rides"}) || m.Regex != "" || m.Classic || m.MemberID == "" || !strings.HasPrefix(m.ClientID, "app-") {
			t.Errorf("member = %+v", m)
		}
		for _, p := range m.Assigned["rides"] {
			if other, ok := owned[p]; ok {
				t.Errorf("partition %d owned by %s and %s", p, other, m.MemberID)
			}
			owned[p], ownerClient[p] = m.MemberID, m.ClientID
		}
	}
	// The owner of partition 0 commits offset 3 (with its member epoch);
	// the others have no commit and lag by all their records.
	var commitErr error
	members[ownerClient[0]].CommitOffsetsSync(ctx, map[string]map[int32]kgo.EpochOffset{"rides": {0: {Epoch: -1, Offset: 3}}},
		func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, err error) {
			if commitErr = err; err == nil {
				commitErr = kerr.ErrorForCode(resp.Topics[0].Partitions[0].ErrorCode)
			}
		})
	if commitErr != nil {
		t.Fatalf("commit: %v", commitErr)
	}
	d, err := a.DescribeGroup(ctx, "g848")
	if err != nil || len(d.Offsets) != 4 || d.OffsetsErr != nil {
		t.Fatalf("offsets = %+v, %v, %v", d.Offsets, d.OffsetsErr, err)
	}
	for _, o := range d.Offsets {
		committed, end, lag := int64(-1), int64(0), int64(0)
		if o.Partition == 0 {
			committed, end, lag = 3, 5, 2
		}
		if o.Topic != "rides" || o.Committed != committed || o.End != end || o.Lag != lag || o.MemberID != owned[o.Partition] || o.Err != nil {
			t.Errorf("offset = %+v", o)
		}
	}
	var out strings.Builder
	if err := WriteGroupDescription(&out, d); err != nil {
		t.Fatal(err)
	}
	t.Logf("describe:\n%s", out.String())

	for _, tc := range []struct {
		types []string
		want  int
	}{{nil, 1}, {[]string{"consumer"}, 1}, {[]string{"Consumer", "share"}, 1}, {[]string{"classic"}, 0}, {[]string{"share"}, 0}} {
		gs, err := a.ListGroups(ctx, GroupFilter{Types: tc.types})
		if err != nil || len(gs) != tc.want || (tc.want == 1 && (gs[0].Group != "g848" || gs[0].Type != "consumer")) {
			t.Errorf("list --type %v = %+v, %v", tc.types, gs, err)
		}
	}
	if _, err := a.ListGroups(ctx, GroupFilter{Types: []string{"next"}}); err == nil ||
		err.Error() != `list groups: unknown group type "next": want one of classic, consumer, share, streams` {
		t.Errorf("list with an unknown type: %v", err)
	}
}

func TestDescribeShareGroup(t *testing.T) {
	addr, a := groupAdmin(t) // Courier
	ctx := testCtx(t)
	if _, err := a.CreateTopic(ctx, CreateSpec{Name: "jobs", Partitions: 2, ReplicationFactor: 1}); err != nil {
		t.Fatal(err)
	}
	if err := ShareStartEarliest(ctx, a.cl, "queue"); err != nil {
		t.Fatal(err)
	}
	produceValues(t, addr, "jobs", 0, "0a", "0b", "0c", "0d", "0e", "0f")
	produceValues(t, addr, "jobs", 1, "1a", "1b", "1c", "1d")

	// One member accepts every record of partition 1 and the first three
	// of partition 0, and releases the rest: partition 1 is done, partition
	// 0 still has three records to deliver.
	cl := newMember(t, addr, "worker-1", kgo.ShareGroup("queue"), kgo.ConsumeTopics("jobs"))
	got := 0
	deadline := time.Now().Add(20 * time.Second)
	for got < 10 {
		if time.Now().After(deadline) {
			t.Fatalf("polled %d of 10 records within 20s", got)
		}
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		fs := cl.PollRecords(pctx, 10-got)
		cancel()
		fs.EachRecord(func(r *kgo.Record) {
			got++
			if r.Partition == 0 && r.Offset >= 3 {
				r.Ack(kgo.AckRelease)
			} else {
				r.Ack(kgo.AckAccept)
			}
		})
	}
	if err := cl.FlushAcks(ctx); err != nil {
		t.Fatal(err)
	}
	newMember(t, addr, "worker-2", kgo.ShareGroup("queue"), kgo.ConsumeTopics("jobs"), kgo.ShareMaxRecords(1))
	var d GroupDescription
	testwait.For(t, 20*time.Second, "two members, share-partition 0 at offset 3 and 1 at its end", func() string {
		var err error
		d, err = a.DescribeGroup(ctx, "queue")
		if err != nil {
			return err.Error()
		}
		if len(d.Members) != 2 || len(d.Shares) != 2 || d.Shares[0].Start != 3 || d.Shares[1].Start != 4 {
			return fmt.Sprintf("%+v", d)
		}
		return ""
	})
	if d.Type != "share" || d.State != "Stable" || d.Epoch < 1 || d.OffsetsErr != nil || len(d.Offsets) != 0 {
		t.Errorf("description = %+v", d)
	}
	for _, m := range d.Members {
		if !slices.Equal(m.Subscribed, []string{"jobs"}) || len(m.Assigned["jobs"]) == 0 || !strings.HasPrefix(m.ClientID, "worker-") {
			t.Errorf("member = %+v", m)
		}
	}
	want := []ShareOffset{{Topic: "jobs", Partition: 0, Start: 3, End: 6, Lag: 3}, {Topic: "jobs", Partition: 1, Start: 4, End: 4, Lag: 0}}
	for i, w := range want {
		s := d.Shares[i]
		if s.Topic != w.Topic || s.Partition != w.Partition || s.Start != w.Start || s.End != w.End || s.Lag != w.Lag || len(s.Members) == 0 || s.Err != nil {
			t.Errorf("share-partition %d = %+v, want %+v", i, s, w)
		}
	}
	if d.TotalLag() != 3 {
		t.Errorf("total lag %d", d.TotalLag())
	}
	var out strings.Builder
	if err := WriteGroupDescription(&out, d); err != nil {
		t.Fatal(err)
	}
	t.Logf("describe:\n%s", out.String())
	// A share group with members cannot be moved, as a consumer group.
	if _, err := a.SeekGroup(ctx, SeekSpec{Group: "queue", Topic: "jobs", Partition: -1, To: SeekTarget{Kind: SeekEarliest}}); !errors.Is(err, kerr.NonEmptyGroup) ||
		!strings.HasPrefix(err.Error(), "cannot seek group queue: it has active members (state Stable)") {
		t.Errorf("seek while active: %v", err)
	}
	gs, err := a.ListGroups(ctx, GroupFilter{Types: []string{"share"}, States: []string{"stable"}})
	if err != nil || len(gs) != 1 || gs[0] != (GroupSummary{Group: "queue", Type: "share", State: "Stable", ProtocolType: "share"}) {
		t.Errorf("list --type share = %+v, %v", gs, err)
	}
}
