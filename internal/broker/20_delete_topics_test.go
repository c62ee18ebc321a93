package broker_test

// 20_delete_topics_test.go checks that deleting a topic deletes every
// group's committed offsets of it, as Kafka does: a topic created again
// under the same name must not inherit them, across a restart too.

import (
	"testing"

	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/courier-dev/courier/internal/testkit/testclient"
	"github.com/twmb/franz-go/pkg/kadm"
)

func TestDeleteTopicDeletesCommittedOffsets(t *testing.T) {
	dir := t.TempDir()
	b := testbroker.StartAt(t, dir)
	testclient.CreateTopic(t, b.Addr, "rides", 2, nil)
	testclient.CreateTopic(t, b.Addr, "other", 1, nil)
	adm := kadm.NewClient(testclient.New(t, b.Addr))
	ctx := testCtx(t)

	commit := func(group string, offsets map[string]map[int32]int64) {
		t.Helper()
		var offs kadm.Offsets
		for topic, ps := range offsets {
			for p, o := range ps {
				offs.AddOffset(topic, p, o, -1)
			}
		}
		resp, err := adm.CommitOffsets(ctx, group, offs)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			t.Fatalf("commit %s: %v", group, err)
		}
	}
	commit("both", map[string]map[int32]int64{"rides": {0: 5, 1: 6}, "other": {0: 7}})
	commit("rides-only", map[string]map[int32]int64{"rides": {0: 3}})

	if _, err := adm.DeleteTopics(ctx, "rides"); err != nil {
		t.Fatal(err)
	}
	testclient.CreateTopic(t, b.Addr, "rides", 2, nil)

	check := func(addr string) {
		t.Helper()
		adm := kadm.NewClient(testclient.New(t, addr))
		got, err := adm.FetchOffsets(ctx, "both")
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := got["rides"]; ok || len(got) != 1 {
			t.Fatalf(`group "both" has offsets %v after "rides" was deleted, want only "other"`, got)
		}
		if o, ok := got.Lookup("other", 0); !ok || o.At != 7 {
			t.Fatalf(`group "both": other-0 at %+v, want 7`, o)
		}
		got, err = adm.FetchOffsets(ctx, "rides-only")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 0 {
			t.Fatalf(`group "rides-only" has offsets %v after "rides" was deleted`, got)
		}
		listed, err := adm.ListGroups(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if groups := listed.Groups(); len(groups) != 1 || groups[0] != "both" {
			t.Fatalf("groups %v, want [both]: an empty group left without offsets is deleted", groups)
		}
	}
	check(b.Addr)
	b.Stop(t)
	check(testbroker.StartAt(t, dir).Addr)
}
