package ctl

// group_batch_test.go checks that describing many groups at once
// (DescribeGroups) says of each what describing it alone says, for groups
// of every type, and that a group the cluster refuses or does not know
// fails alone; and SeekPartitions over two topics.

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestDescribeGroupsBatch(t *testing.T) {
	addr, a := twoTopics(t)
	ctx := testCtx(t)
	// An empty classic group with commits, a classic group with a member,
	// a KIP-848 consumer group with a member, a share group with a member.
	if _, err := a.adm.CommitOffsets(ctx, "committed", offsetsOn("rides", 0, 1)); err != nil {
		t.Fatal(err)
	}
	testclient.PollInBackground(t, joinGroup(t, addr, "classic-live", "rides", "c-app"))
	testclient.PollInBackground(t, newMember(t, addr, "k-app", kgo.ConsumerGroup("k848"), kgo.ConsumeTopics("jobs"), kgo.ServerSideBalancer(),
		kgo.DisableAutoCommit()))
	if err := ShareStartEarliest(ctx, a.cl, "queue"); err != nil {
		t.Fatal(err)
	}
	testclient.PollInBackground(t, newMember(t, addr, "s-app", kgo.ShareGroup("queue"), kgo.ConsumeTopics("jobs")))

	var listed []GroupSummary
	testwait.For(t, 20*time.Second, "four groups, the live ones Stable with a member", func() string {
		var err error
		if listed, err = a.ListGroups(ctx, GroupFilter{}); err != nil {
			return err.Error()
		}
		ds := a.DescribeGroups(ctx, listed, true)
		members := 0
		for _, d := range ds {
			members += len(d.Members)
			// The share group's member acknowledges jobs' records as
			// it reads them, which moves the share-partition start
			// offsets: compare only once it has read them all, or the
			// batch and the single description see different moments.
			if d.Group == "queue" && len(d.Shares) != 2 {
				return fmt.Sprintf("share group queue has state for %d of jobs' 2 partitions", len(d.Shares))
			}
			for _, sh := range d.Shares {
				if sh.Start != sh.End {
					return fmt.Sprintf("share group %s still delivering %s/%d: start %d, end %d", d.Group, sh.Topic, sh.Partition, sh.Start, sh.End)
				}
			}
		}
		if len(ds) != 4 || members != 3 {
			return fmt.Sprintf("%d groups, %d members", len(ds), members)
		}
		return ""
	})
	asked := append(append([]GroupSummary(nil), listed...),
		GroupSummary{Group: "nope", Type: "classic"}, GroupSummary{Group: "flow", Type: "streams"})
	batch := a.DescribeGroups(ctx, asked, true)
	if len(batch) != len(asked) {
		t.Fatalf("%d descriptions of %d groups", len(batch), len(asked))
	}
	for i, g := range listed {
		one, err := a.DescribeGroup(ctx, g.Group)
		if err != nil {
			t.Fatal(err)
		}
		b := batch[i]
		if b.Err != nil || b.Group != g.Group || b.Type != one.Type || b.State != one.State || b.Coordinator != one.Coordinator ||
			!reflect.DeepEqual(b.Members, one.Members) || !reflect.DeepEqual(b.Offsets, one.Offsets) ||
			!reflect.DeepEqual(b.Shares, one.Shares) || b.TotalLag() != one.TotalLag() {
			t.Errorf("group %s: batch %+v\nalone %+v", g.Group, b, one)
		}
	}
	if d := batch[len(listed)]; !errors.Is(d.Err, kerr.GroupIDNotFound) || d.Err.Error() != "unknown group nope" {
		t.Errorf("unknown group: %+v", d)
	}
	if d := batch[len(listed)+1]; d.Err == nil || d.Err.Error() != "describe group flow: it is a streams group, which this tool does not describe" {
		t.Errorf("streams group: %+v", d)
	}
	byName := map[string]GroupDescription{}
	for _, d := range batch {
		byName[d.Group] = d
	}
	// The committed group lags by 3 on rides:0 and by nothing on the
	// empty rides:1; the share group has jobs' two records to deliver or
	// delivered (its member reads them).
	if d := byName["committed"]; d.TotalLag() != 3 || len(d.Offsets) != 2 || d.Offsets[0].Committed != 1 || d.State != "Empty" {
		t.Errorf("committed = %+v", d)
	}
	if d := byName["k848"]; d.Type != "consumer" || len(d.Members) != 1 || d.Members[0].ClientID != "k-app" || d.TotalLag() != 2 {
		t.Errorf("k848 = %+v", d)
	}
	if d := byName["queue"]; d.Type != "share" || len(d.Members) != 1 || len(d.Offsets) != 0 {
		t.Errorf("queue = %+v", d)
	}
	// Without offsets, the same members and no lag asked.
	for i, d := range a.DescribeGroups(ctx, listed, false) {
		if d.Err != nil || len(d.Offsets) != 0 || len(d.Shares) != 0 || !reflect.DeepEqual(d.Members, batch[i].Members) {
			t.Errorf("without offsets: %+v", d)
		}
	}
}

// twoTopics starts a broker with topics rides (4 records on partition 0)
// and jobs (2 on partition 1), of two partitions each.
func twoTopics(t *testing.T) (string, *Admin) {
	t.Helper()
	addr, a := groupAdmin(t)
	for _, topic := range []string{"rides", "jobs"} {
		if _, err := a.CreateTopic(testCtx(t), CreateSpec{Name: topic, Partitions: 2, ReplicationFactor: 1}); err != nil {
			t.Fatal(err)
		}
	}
	produceValues(t, addr, "rides", 0, "a", "b", "c", "d")
	produceValues(t, addr, "jobs", 1, "x", "y")
	return addr, a
}

// offsetsOn is a commit of offset at on topic partition p.
func offsetsOn(topic string, p int32, at int64) kadm.Offsets {
	os := make(kadm.Offsets)
	os.Add(kadm.Offset{Topic: topic, Partition: p, At: at, LeaderEpoch: -1})
	return os
}

func TestSeekPartitions(t *testing.T) {
	addr, a := twoTopics(t)
	ctx := testCtx(t)
	if _, err := a.adm.CommitOffsets(ctx, "g", offsetsOn("rides", 0, 1)); err != nil {
		t.Fatal(err)
	}
	parts := map[string][]int32{"rides": {0, 0}, "jobs": {1}}
	check := func(what string, dry bool, want []SeekResult) {
		t.Helper()
		rs, err := a.SeekPartitions(ctx, "g", parts, SeekTarget{Kind: SeekLatest}, dry)
		if err != nil || len(rs) != len(want) {
			t.Fatalf("%s: %+v, %v", what, rs, err)
		}
		for i := range want {
			if rs[i] != want[i] {
				t.Errorf("%s: result %d = %+v, want %+v", what, i, rs[i], want[i])
			}
		}
	}
	want := []SeekResult{
		{Topic: "jobs", Partition: 1, Previous: -1, Offset: 2, End: 2},
		{Topic: "rides", Partition: 0, Previous: 1, Offset: 4, End: 4},
	}
	check("dry run", true, want)
	check("dry run again: nothing moved", true, want)
	check("seek", false, want)
	want[0].Previous, want[1].Previous = 2, 4
	check("after the seek", true, want)

	rs, err := a.SeekPartitions(ctx, "g", map[string][]int32{"rides": {7}}, SeekTarget{Kind: SeekEarliest}, true)
	if err == nil || len(rs) != 1 || rs[0].Err == nil || rs[0].End != -1 {
		t.Errorf("a partition the topic does not have: %+v, %v", rs, err)
	}
	// A group with members: a dry run computes, and says the seek would
	// be refused; the seek itself is refused.
	testclient.PollInBackground(t, joinGroup(t, addr, "g", "rides", "app"))
	testwait.For(t, 10*time.Second, "g Stable", func() string {
		if d, err := a.DescribeGroup(ctx, "g"); err != nil || d.State != "Stable" {
			return fmt.Sprintf("%+v, %v", d.State, err)
		}
		return ""
	})
	rs, err = a.SeekPartitions(ctx, "g", map[string][]int32{"rides": {0}}, SeekTarget{Kind: SeekEarliest}, true)
	if !errors.Is(err, kerr.NonEmptyGroup) || len(rs) != 1 || rs[0].Offset != 0 || rs[0].Previous != 4 || rs[0].Err != nil {
		t.Errorf("dry run of a group with members: %+v, %v", rs, err)
	}
	if rs, err := a.SeekPartitions(ctx, "g", map[string][]int32{"rides": {0}}, SeekTarget{Kind: SeekEarliest}, false); !errors.Is(err, kerr.NonEmptyGroup) || rs != nil {
		t.Errorf("seek of a group with members: %+v, %v", rs, err)
	}
	for _, bad := range []map[string][]int32{nil, {"": {0}}, {"rides": {-1}}} {
		if _, err := a.SeekPartitions(ctx, "g", bad, SeekTarget{Kind: SeekEarliest}, true); err == nil {
			t.Errorf("SeekPartitions(%v) did not fail", bad)
		}
	}
}
