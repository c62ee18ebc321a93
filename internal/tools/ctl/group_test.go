package ctl

// group_test.go runs the group operations against a real Courier broker
// (package testbroker) with real franz-go group consumers: a member
// commits some offsets, then list, describe, seek and delete are checked
// while it is active and after it left.

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

// groupAdmin starts a Courier broker and returns its address and an Admin for it.
func groupAdmin(t *testing.T) (string, *Admin) {
	t.Helper()
	b := testbroker.Start(t)
	a, err := New(kgo.SeedBrokers(b.Addr))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(a.Close)
	return b.Addr, a
}

// produceTimed writes n records to topic partition p, record i with the
// timestamp base + i seconds.
func produceTimed(t *testing.T, addr, topic string, p int32, n int, base time.Time) {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	for i := range n {
		r := &kgo.Record{Topic: topic, Partition: p, Value: []byte("v"), Timestamp: base.Add(time.Duration(i) * time.Second)}
		if err := cl.ProduceSync(testCtx(t), r).FirstErr(); err != nil {
			t.Fatal(err)
		}
	}
}

// joinGroup starts a group consumer of topic that commits only when told.
func joinGroup(t *testing.T, addr, group, topic, clientID string) *kgo.Client {
	t.Helper()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ClientID(clientID),
		kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic), kgo.DisableAutoCommit(),
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()), kgo.FetchMaxWait(100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	return cl
}

// pollN polls cl until it has n records (failing after 10s) and returns them.
func pollN(t *testing.T, cl *kgo.Client, n int) []*kgo.Record {
	t.Helper()
	ctx := testCtx(t)
	deadline := time.Now().Add(10 * time.Second)
	var got []*kgo.Record
	for len(got) < n {
		if time.Now().After(deadline) {
			t.Fatalf("got %d of %d records within 10s", len(got), n)
		}
		fs := cl.PollRecords(ctx, n-len(got))
		for _, fe := range fs.Errors() {
			t.Fatalf("poll: partition %d: %v", fe.Partition, fe.Err)
		}
		got = append(got, fs.Records()...)
	}
	return got
}

// waitState waits until the group is in state (failing after 10s) and
// returns its description.
func waitState(t *testing.T, a *Admin, group, state string) GroupDescription {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		d, err := a.DescribeGroup(testCtx(t), group)
		if err == nil && d.State == state {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("group %s not %s within 10s: %+v, %v", group, state, d, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// offsetRow is the expected committed/end/lag of a partition.
type offsetRow struct {
	partition          int32
	committed, end, lg int64
}

// checkOffsets compares d's offsets on topic with want; member is the
// member every partition should be assigned to ("" for none).
func checkOffsets(t *testing.T, d GroupDescription, topic, member string, want []offsetRow) {
	t.Helper()
	if len(d.Offsets) != len(want) {
		t.Fatalf("offsets = %+v, want %d partitions", d.Offsets, len(want))
	}
	for i, w := range want {
		o := d.Offsets[i]
		if o.Topic != topic || o.Partition != w.partition || o.Committed != w.committed || o.End != w.end || o.Lag != w.lg ||
			o.MemberID != member || o.Err != nil {
			t.Errorf("offset %d = %+v, want %+v of member %q", i, o, w, member)
		}
	}
}

// seekRow is the expected outcome of a seek on one partition.
type seekRow struct {
	partition        int32
	previous, offset int64
	noted            bool
}

func checkSeek(t *testing.T, what string, rs []SeekResult, err error, want []seekRow) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if len(rs) != len(want) {
		t.Fatalf("%s: results %+v, want %d", what, rs, len(want))
	}
	for i, w := range want {
		r := rs[i]
		if r.Topic != "rides" || r.Partition != w.partition || r.Previous != w.previous || r.Offset != w.offset || (r.Note != "") != w.noted || r.Err != nil {
			t.Errorf("%s: result %d = %+v, want %+v", what, i, r, w)
		}
	}
}

func TestGroupLifecycle(t *testing.T) {
	addr, a := groupAdmin(t)
	ctx := testCtx(t)
	if _, err := a.CreateTopic(ctx, CreateSpec{Name: "rides", Partitions: 3, ReplicationFactor: 1}); err != nil {
		t.Fatal(err)
	}
	base := time.Now().Add(-time.Hour).Truncate(time.Second)
	produceTimed(t, addr, "rides", 0, 5, base)
	produceTimed(t, addr, "rides", 1, 3, base)

	// A member reads all 8 records and commits through offset 2 of
	// partitions 0 and 1 (next offsets 3 and 3); partition 2 is empty.
	c1 := joinGroup(t, addr, "user-1", "rides", "rider-app")
	var toCommit []*kgo.Record
	for _, r := range pollN(t, c1, 8) {
		if r.Offset == 2 {
			toCommit = append(toCommit, r)
		}
	}
	if len(toCommit) != 2 {
		t.Fatalf("records at offset 2: %d, want 2", len(toCommit))
	}
	if err := c1.CommitRecords(ctx, toCommit...); err != nil {
		t.Fatal(err)
	}

	d, err := a.DescribeGroup(ctx, "user-1")
	if err != nil {
		t.Fatal(err)
	}
	if d.State != "Stable" || d.ProtocolType != "consumer" || d.Protocol != "cooperative-sticky" || !strings.HasPrefix(d.Coordinator, "1 (") {
		t.Errorf("describe = %+v", d)
	}
	if len(d.Members) != 1 {
		t.Fatalf("members = %+v", d.Members)
	}
	m := d.Members[0]
	if m.MemberID == "" || m.ClientID != "rider-app" || !strings.Contains(m.Host, "127.0.0.1") || m.InstanceID != "" ||
		len(m.Assigned) != 1 || len(m.Assigned["rides"]) != 3 || m.Assigned["rides"][0] != 0 || m.Assigned["rides"][2] != 2 {
		t.Errorf("member = %+v", m)
	}
	checkOffsets(t, d, "rides", m.MemberID, []offsetRow{{0, 3, 5, 2}, {1, 3, 3, 0}, {2, -1, 0, 0}})
	if d.OffsetsErr != nil || d.TotalLag() != 2 {
		t.Errorf("offsets err %v, total lag %d", d.OffsetsErr, d.TotalLag())
	}
	var out strings.Builder
	if err := WriteGroupDescription(&out, d); err != nil {
		t.Fatal(err)
	}
	t.Logf("describe output:\n%s", out.String())
	for _, want := range []string{"State:          Stable\n", "Total lag:      2\n", "rider-app  /127.0.0.1  rides:0,1,2\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("description lacks %q", want)
		}
	}

	for _, tc := range []struct {
		states []string
		want   bool
	}{{nil, true}, {[]string{"stable"}, true}, {[]string{"Empty", "Stable"}, true}, {[]string{"Empty"}, false}} {
		gs, err := a.ListGroups(ctx, GroupFilter{States: tc.states})
		if err != nil {
			t.Fatal(err)
		}
		found := len(gs) == 1 && gs[0] == GroupSummary{Group: "user-1", Type: "classic", State: "Stable", ProtocolType: "consumer"}
		if found != tc.want || (!tc.want && len(gs) != 0) {
			t.Errorf("list %v = %+v", tc.states, gs)
		}
	}

	if gs, err := a.ListGroups(ctx, GroupFilter{States: []string{"Stabel"}}); err == nil || gs != nil ||
		err.Error() != `list groups: unknown group state "Stabel": want one of Empty, PreparingRebalance, CompletingRebalance, Stable` {
		t.Errorf("list with a misspelt state: %+v, %v", gs, err)
	}

	// While the member is active, seek and delete are refused.
	_, err = a.SeekGroup(ctx, SeekSpec{Group: "user-1", Topic: "rides", Partition: -1, To: SeekTarget{Kind: SeekEarliest}})
	if !errors.Is(err, kerr.NonEmptyGroup) || err.Error() !=
		"cannot seek group user-1: it has active members (state Stable); offsets can only be set while the group is Empty: stop its consumers and retry" {
		t.Errorf("seek while active: %v", err)
	}
	ds, err := a.DeleteGroups(ctx, "user-1")
	if len(ds) != 1 || !errors.Is(ds[0].Err, kerr.NonEmptyGroup) || err == nil ||
		err.Error() != "cannot delete group user-1: it has active members (NON_EMPTY_GROUP); stop its consumers and retry" {
		t.Errorf("delete while active: %+v, %v", ds, err)
	}

	// The member leaves; the commits stay.
	c1.Close()
	d = waitState(t, a, "user-1", "Empty")
	if len(d.Members) != 0 || d.Protocol != "" || d.ProtocolType != "consumer" {
		t.Errorf("empty group = %+v", d)
	}
	checkOffsets(t, d, "rides", "", []offsetRow{{0, 3, 5, 2}, {1, 3, 3, 0}, {2, -1, 0, 0}})

	rs, err := a.SeekGroup(ctx, SeekSpec{Group: "user-1", Topic: "rides", Partition: 0, To: SeekTarget{Kind: SeekEarliest}, DryRun: true})
	checkSeek(t, "dry run", rs, err, []seekRow{{0, 3, 0, false}})
	if d, err := a.DescribeGroup(ctx, "user-1"); err != nil || d.Offsets[0].Committed != 3 {
		t.Errorf("after a dry run: %+v, %v", d.Offsets, err)
	}
	rs, err = a.SeekGroup(ctx, SeekSpec{Group: "user-1", Topic: "rides", Partition: -1, To: SeekTarget{Kind: SeekTimestamp, Value: base.UnixMilli() + 2500}})
	checkSeek(t, "timestamp", rs, err, []seekRow{{0, 3, 3, false}, {1, 3, 3, true}, {2, -1, 0, true}})
	rs, err = a.SeekGroup(ctx, SeekSpec{Group: "user-1", Topic: "rides", Partition: -1, To: SeekTarget{Kind: SeekOffset, Value: 100}})
	checkSeek(t, "offset past the end", rs, err, []seekRow{{0, 3, 5, true}, {1, 3, 3, true}, {2, 0, 0, true}})
	rs, err = a.SeekGroup(ctx, SeekSpec{Group: "user-1", Topic: "rides", Partition: -1, To: SeekTarget{Kind: SeekEarliest}})
	checkSeek(t, "earliest", rs, err, []seekRow{{0, 5, 0, false}, {1, 3, 0, false}, {2, 0, 0, false}})
	rs, err = a.SeekGroup(ctx, SeekSpec{Group: "user-1", Topic: "rides", Partition: -1, To: SeekTarget{Kind: SeekLatest}})
	checkSeek(t, "latest", rs, err, []seekRow{{0, 0, 5, false}, {1, 0, 3, false}, {2, 0, 0, false}})
	rs, err = a.SeekGroup(ctx, SeekSpec{Group: "user-1", Topic: "rides", Partition: -1, To: SeekTarget{Kind: SeekOffset, Value: 1}})
	checkSeek(t, "offset 1", rs, err, []seekRow{{0, 5, 1, false}, {1, 3, 1, false}, {2, 0, 0, true}})
	out.Reset()
	if err := WriteSeekResults(&out, rs); err != nil {
		t.Fatal(err)
	}
	t.Logf("seek output:\n%s", out.String())

	// The next member starts where the seek put the group.
	c2 := joinGroup(t, addr, "user-1", "rides", "rider-app-2")
	first := map[int32]int64{}
	for _, r := range pollN(t, c2, 6) {
		if _, ok := first[r.Partition]; !ok {
			first[r.Partition] = r.Offset
		}
	}
	if len(first) != 2 || first[0] != 1 || first[1] != 1 {
		t.Errorf("after seeking to offset 1, the next member started at %v", first)
	}
	c2.Close()
	waitState(t, a, "user-1", "Empty")

	// Seek errors; a seek creates a group that does not exist.
	for _, spec := range []SeekSpec{
		{Group: "user-1", Topic: "nope", Partition: -1, To: SeekTarget{Kind: SeekLatest}},
		{Group: "user-1", Topic: "rides", Partition: 3, To: SeekTarget{Kind: SeekLatest}},
		{Group: "user-1", Topic: "rides", Partition: -1},
		{Group: "", Topic: "rides", Partition: -1, To: SeekTarget{Kind: SeekLatest}},
	} {
		if rs, err := a.SeekGroup(ctx, spec); err == nil || rs != nil {
			t.Errorf("seek %+v: %+v, %v", spec, rs, err)
		}
	}
	if _, err := a.SeekGroup(ctx, SeekSpec{Group: "user-1", Topic: "nope", Partition: -1, To: SeekTarget{Kind: SeekLatest}}); !errors.Is(err, kerr.UnknownTopicOrPartition) || err.Error() != "unknown topic nope" {
		t.Errorf("seek on an unknown topic: %v", err)
	}
	rs, err = a.SeekGroup(ctx, SeekSpec{Group: "fresh", Topic: "rides", Partition: 1, To: SeekTarget{Kind: SeekLatest}})
	checkSeek(t, "new group", rs, err, []seekRow{{1, -1, 3, false}})
	gs, err := a.ListGroups(ctx, GroupFilter{States: []string{"Empty"}})
	if err != nil || len(gs) != 2 || gs[0] != (GroupSummary{Group: "fresh", Type: "classic", State: "Empty"}) || gs[1].Group != "user-1" {
		t.Errorf("list Empty = %+v, %v", gs, err)
	}

	// Empty groups are deleted; unknown ones are reported.
	ds, err = a.DeleteGroups(ctx, "user-1", "fresh", "nope", "user-1")
	if len(ds) != 3 || ds[0].Err != nil || ds[1].Err != nil || !errors.Is(ds[2].Err, kerr.GroupIDNotFound) ||
		err == nil || err.Error() != "unknown group nope" {
		t.Errorf("delete = %+v, %v", ds, err)
	}
	if _, err := a.DescribeGroup(ctx, "user-1"); !errors.Is(err, kerr.GroupIDNotFound) || err.Error() != "unknown group user-1" {
		t.Errorf("describe a deleted group: %v", err)
	}
	if gs, err := a.ListGroups(ctx, GroupFilter{}); err != nil || len(gs) != 0 {
		t.Errorf("list after delete = %+v, %v", gs, err)
	}
}

// TestGroupsOnKfake runs the same operations against franz-go's in-memory
// Kafka (kfake): nothing in them depends on Courier's broker.
func TestGroupsOnKfake(t *testing.T) {
	c, a := newCluster(t)
	ctx := testCtx(t)
	produceN(t, c, "seeded", 0, 5, "x")
	cl := joinGroup(t, c.ListenAddrs()[0], "g", "seeded", "app")
	recs := pollN(t, cl, 5)
	if err := cl.CommitRecords(ctx, recs[2]); err != nil {
		t.Fatal(err)
	}
	d, err := a.DescribeGroup(ctx, "g")
	if err != nil || d.State != "Stable" || len(d.Members) != 1 || d.Members[0].ClientID != "app" || len(d.Members[0].Assigned["seeded"]) != 2 {
		t.Fatalf("describe = %+v, %v", d, err)
	}
	checkOffsets(t, d, "seeded", d.Members[0].MemberID, []offsetRow{{0, 3, 5, 2}, {1, -1, 0, 0}})
	if gs, err := a.ListGroups(ctx, GroupFilter{States: []string{"Stable"}}); err != nil || len(gs) != 1 || gs[0].Group != "g" {
		t.Errorf("list = %+v, %v", gs, err)
	}
	if _, err := a.SeekGroup(ctx, SeekSpec{Group: "g", Topic: "seeded", Partition: -1, To: SeekTarget{Kind: SeekEarliest}}); !errors.Is(err, kerr.NonEmptyGroup) {
		t.Errorf("seek while active: %v", err)
	}
	if _, err := a.DeleteGroups(ctx, "g"); !errors.Is(err, kerr.NonEmptyGroup) {
		t.Errorf("delete while active: %v", err)
	}
	cl.Close()
	waitState(t, a, "g", "Empty")
	rs, err := a.SeekGroup(ctx, SeekSpec{Group: "g", Topic: "seeded", Partition: 0, To: SeekTarget{Kind: SeekOffset, Value: 1}})
	if err != nil || len(rs) != 1 || rs[0].Previous != 3 || rs[0].Offset != 1 {
		t.Errorf("seek = %+v, %v", rs, err)
	}
	if d, err := a.DescribeGroup(ctx, "g"); err != nil || len(d.Offsets) != 2 || d.Offsets[0].Committed != 1 || d.Offsets[0].Lag != 4 {
		t.Errorf("after seek: %+v, %v", d.Offsets, err)
	}
	if _, err := a.DeleteGroups(ctx, "g"); err != nil {
		t.Errorf("delete: %v", err)
	}
	if _, err := a.DescribeGroup(ctx, "g"); !errors.Is(err, kerr.GroupIDNotFound) {
		t.Errorf("describe a deleted group: %v", err)
	}
}
