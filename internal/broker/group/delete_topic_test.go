package group

// delete_topic_test.go checks Coordinator.DeleteTopicOffsets: a deleted
// topic's offsets leave every group, whatever its state, durably; other
// topics' offsets stay; an empty group left with nothing is deleted.

import (
	"context"
	"testing"

	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestDeleteTopicOffsets(t *testing.T) {
	dir := t.TempDir()
	clock := NewFakeClock(t0)
	c := openCoordinator(t, dir, clock)
	// A stable group with a member, an empty group with offsets of two
	// topics, and an empty group with offsets of the doomed topic only.
	member, gen := joinAndSync(t, c, "live")
	commit(t, c, "live", gen, member, map[TopicPartition]int64{{"doomed", 0}: 10, {"doomed", 1}: 11, {"kept", 0}: 12})
	commit(t, c, "mixed", -1, "", map[TopicPartition]int64{{"doomed", 0}: 20, {"kept", 1}: 21})
	commit(t, c, "only", -1, "", map[TopicPartition]int64{{"doomed", 2}: 30})
	// A topic whose name has the doomed one as a prefix is another topic.
	commit(t, c, "prefix", -1, "", map[TopicPartition]int64{{"doomed-not", 0}: 40})

	if err := c.DeleteTopicOffsets("doomed")(context.Background()); err != nil {
		t.Fatal(err)
	}
	check := func(c *Coordinator) {
		t.Helper()
		expectOffsets(t, c, "live", map[TopicPartition]int64{{"kept", 0}: 12})
		expectOffsets(t, c, "mixed", map[TopicPartition]int64{{"kept", 1}: 21})
		expectOffsets(t, c, "prefix", map[TopicPartition]int64{{"doomed-not", 0}: 40})
		if _, ok := c.FetchOffsets("only"); ok {
			t.Fatal(`group "only" still exists without offsets`)
		}
		var ids []string
		for _, l := range c.List() {
			ids = append(ids, l.Group)
		}
		if len(ids) != 3 || ids[0] != "live" || ids[1] != "mixed" || ids[2] != "prefix" {
			t.Fatalf("groups %v, want [live mixed prefix]", ids)
		}
	}
	check(c)
	// The member of the stable group is untouched: it still heartbeats.
	hb := kmsg.NewPtrHeartbeatRequest()
	hb.Group, hb.MemberID, hb.Generation = "live", member, gen
	if code := c.Heartbeat(hb); code != 0 {
		t.Fatalf("heartbeat after the deletion: code %d", code)
	}
	// Deleting a topic nobody committed to changes nothing and waits for
	// nothing.
	if err := c.DeleteTopicOffsets("unknown")(context.Background()); err != nil {
		t.Fatal(err)
	}
	check(c)

	// The deletions are durable.
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	c = openCoordinator(t, dir, clock)
	check(c)
	// And a commit to the topic afterwards (it was created again) counts.
	commit(t, c, "mixed", -1, "", map[TopicPartition]int64{{"doomed", 0}: 1})
	expectOffsets(t, c, "mixed", map[TopicPartition]int64{{"kept", 1}: 21, {"doomed", 0}: 1})
}

func TestDeleteTopicOffsetsAfterClose(t *testing.T) {
	c := openCoordinator(t, t.TempDir(), NewFakeClock(t0))
	commit(t, c, "g", -1, "", map[TopicPartition]int64{{"t", 0}: 1})
	c.Close()
	if err := c.DeleteTopicOffsets("t")(context.Background()); err == nil {
		t.Fatal("a deletion after Close reported success")
	}
}

func TestDeleteOffsetsWhereKeepsOtherTopics(t *testing.T) {
	dir := t.TempDir()
	c := openCoordinator(t, dir, NewFakeClock(t0))
	commit(t, c, "g", -1, "", map[TopicPartition]int64{{"keep", 0}: 5, {"gone-1", 0}: 7, {"gone-2", 3}: 9})
	if err := c.DeleteOffsetsWhere(func(topic string) bool { return topic != "keep" })(context.Background()); err != nil {
		t.Fatal(err)
	}
	c.Close()
	expectOffsets(t, openCoordinator(t, dir, NewFakeClock(t0)), "g", map[TopicPartition]int64{{"keep", 0}: 5})
}
