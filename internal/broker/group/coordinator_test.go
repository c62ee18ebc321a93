package group

// coordinator_test.go drives the Coordinator with a fake clock: timers
// fire only when the test advances time, and durability is checked by
// closing and reopening the offsets log.

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/broker/vfs"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func openCoordinator(t *testing.T, dir string, clock *FakeClock, opts ...Opt) *Coordinator {
	t.Helper()
	c, err := Open(dir, append([]Opt{WithClock(clock), InitialRebalanceDelay(0)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// commit commits offsets for tp=(t,p) -> offset and waits for durability.
func commit(t *testing.T, c *Coordinator, group string, gen int32, member string, offsets map[TopicPartition]int64) {
	t.Helper()
	req := CommitRequest{Generation: gen, MemberID: member}
	for tp, o := range offsets {
		meta := "m"
		req.Offsets = append(req.Offsets, Commit{TopicPartition: tp, Offset: o, LeaderEpoch: 3, Metadata: &meta})
	}
	code, codes, wait := c.CommitOffsets(9, group, req)
	if code != 0 {
		t.Fatalf("commit: %v", kerr.ErrorForCode(code))
	}
	for _, cd := range codes {
		if cd != 0 {
			t.Fatalf("commit: %v", kerr.ErrorForCode(cd))
		}
	}
	if err := wait(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// waitDurable returns once every record appended so far is durable and
// folded into the groups: the journal reports batches in order, so an
// empty batch's report comes after theirs.
func waitDurable(t *testing.T, c *Coordinator) {
	t.Helper()
	ch := make(chan error, 1)
	if err := c.jl.Append(nil, func(err error) { ch <- err }); err != nil {
		t.Fatal(err)
	}
	if err := <-ch; err != nil {
		t.Fatal(err)
	}
}

func expectOffsets(t *testing.T, c *Coordinator, group string, want map[TopicPartition]int64) {
	t.Helper()
	got, ok := c.FetchOffsets(group)
	if !ok && len(want) > 0 {
		t.Fatalf("group %s unknown", group)
	}
	if len(got) != len(want) {
		t.Fatalf("group %s offsets %v, want %v", group, got, want)
	}
	for tp, o := range want {
		if got[tp].Offset != o || got[tp].LeaderEpoch != 3 || got[tp].Metadata == nil || *got[tp].Metadata != "m" {
			t.Fatalf("group %s %v: %+v, want offset %d", group, tp, got[tp], o)
		}
	}
}

// joinAndSync makes a one-member stable group through the coordinator.
func joinAndSync(t *testing.T, c *Coordinator, group string) (string, int32) {
	t.Helper()
	req := kmsg.NewPtrJoinGroupRequest()
	req.Version = 9
	req.Group = group
	req.SessionTimeoutMillis = 10000
	req.RebalanceTimeoutMillis = 10000
	req.ProtocolType = "consumer"
	req.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: []byte("m")}}
	resp := <-c.Join(req, Client{ID: "c"})
	if resp.ErrorCode != kerr.MemberIDRequired.Code {
		t.Fatalf("first join: %v", kerr.ErrorForCode(resp.ErrorCode))
	}
	req.MemberID = resp.MemberID
	resp = <-c.Join(req, Client{ID: "c"})
	if resp.ErrorCode != 0 {
		t.Fatalf("join: %v", kerr.ErrorForCode(resp.ErrorCode))
	}
	sreq := kmsg.NewPtrSyncGroupRequest()
	sreq.Version = 5
	sreq.Group, sreq.MemberID, sreq.Generation = group, resp.MemberID, resp.Generation
	sreq.GroupAssignment = []kmsg.SyncGroupRequestGroupAssignment{{MemberID: resp.MemberID, MemberAssignment: []byte("assigned")}}
	sresp := <-c.Sync(sreq)
	if sresp.ErrorCode != 0 || string(sresp.MemberAssignment) != "assigned" {
		t.Fatalf("sync: %v %q", kerr.ErrorForCode(sresp.ErrorCode), sresp.MemberAssignment)
	}
	return resp.MemberID, resp.Generation
}

func TestCommitsSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	clock := NewFakeClock(t0)
	c := openCoordinator(t, dir, clock)
	member, gen := joinAndSync(t, c, "live")
	commit(t, c, "live", gen, member, map[TopicPartition]int64{{"a", 0}: 10, {"a", 1}: 11})
	commit(t, c, "live", gen, member, map[TopicPartition]int64{{"a", 0}: 20})
	commit(t, c, "standalone", -1, "", map[TopicPartition]int64{{"b", 0}: 5})
	commit(t, c, "gone", -1, "", map[TopicPartition]int64{{"b", 0}: 5})
	if code, wait := c.DeleteGroup("gone"); code != 0 || wait(context.Background()) != nil {
		t.Fatalf("delete: %v", kerr.ErrorForCode(code))
	}
	code, _, wait := c.DeleteOffsets("standalone", []TopicPartition{{"b", 1}})
	if code != 0 || wait(context.Background()) != nil {
		t.Fatal("delete offsets")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}

	c = openCoordinator(t, dir, clock)
	expectOffsets(t, c, "live", map[TopicPartition]int64{{"a", 0}: 20, {"a", 1}: 11})
	expectOffsets(t, c, "standalone", map[TopicPartition]int64{{"b", 0}: 5})
	if _, ok := c.FetchOffsets("gone"); ok {
		t.Fatal("deleted group came back")
	}
	// The stable group comes back with its member and generation, so the
	// member carries on without a rebalance.
	d, ok := c.Describe("live")
	if !ok || d.State != "Stable" || len(d.Members) != 1 || d.Members[0].MemberID != member || string(d.Members[0].MemberAssignment) != "assigned" {
		t.Fatalf("restored group %+v", d)
	}
	hb := kmsg.NewPtrHeartbeatRequest()
	hb.Group, hb.MemberID, hb.Generation = "live", member, gen
	if code := c.Heartbeat(hb); code != 0 {
		t.Fatalf("heartbeat after reopen: %v", kerr.ErrorForCode(code))
	}
	// Its session runs from the restart.
	clock.Advance(11 * time.Second)
	if d, _ := c.Describe("live"); d.State != "Empty" {
		t.Fatalf("state %s after the session expired", d.State)
	}
}

func TestTornTailIsCut(t *testing.T) {
	dir := t.TempDir()
	clock := NewFakeClock(t0)
	c := openCoordinator(t, dir, clock)
	for i := int64(1); i <= 5; i++ {
		commit(t, c, "g", -1, "", map[TopicPartition]int64{{"t", 0}: i})
	}
	c.Close()
	path := filepath.Join(dir, logName)
	info, _ := os.Stat(path)
	whole := info.Size()
	// A crash in the middle of the last write: cut it short, then also try
	// garbage after a whole record.
	for _, tc := range []struct {
		name string
		mess func()
		want int64
	}{
		{"partial frame", func() { os.Truncate(path, whole-3) }, 4},
		{"garbage", func() {
			f, _ := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
			f.Write([]byte{0, 0, 0, 9, 1, 2, 3, 4, 5, 6})
			f.Close()
		}, 4},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.mess()
			c := openCoordinator(t, dir, clock)
			expectOffsets(t, c, "g", map[TopicPartition]int64{{"t", 0}: tc.want})
			c.Close()
		})
	}
	// After the repair, appends land after the last whole record.
	c = openCoordinator(t, dir, clock)
	commit(t, c, "g", -1, "", map[TopicPartition]int64{{"t", 1}: 7})
	c.Close()
	c = openCoordinator(t, dir, clock)
	expectOffsets(t, c, "g", map[TopicPartition]int64{{"t", 0}: 4, {"t", 1}: 7})
}

func TestCompaction(t *testing.T) {
	dir := t.TempDir()
	clock := NewFakeClock(t0)
	c := openCoordinator(t, dir, clock, CompactBytes(4096))
	for i := int64(0); i < 2000; i++ {
		commit(t, c, "g", -1, "", map[TopicPartition]int64{{"t", int32(i % 4)}: i})
	}
	c.Close()
	info, err := os.Stat(filepath.Join(dir, logName))
	if err != nil {
		t.Fatal(err)
	}
	if info.Size() > 3*4096 {
		t.Fatalf("log is %d bytes after compaction", info.Size())
	}
	if _, err := os.Stat(filepath.Join(dir, logName+vfs.TmpSuffix)); !os.IsNotExist(err) {
		t.Fatalf("snapshot temp file left behind: %v", err)
	}
	c = openCoordinator(t, dir, clock)
	expectOffsets(t, c, "g", map[TopicPartition]int64{{"t", 0}: 1996, {"t", 1}: 1997, {"t", 2}: 1998, {"t", 3}: 1999})
}

func TestLeftoverSnapshotIsIgnored(t *testing.T) {
	dir := t.TempDir()
	clock := NewFakeClock(t0)
	c := openCoordinator(t, dir, clock)
	commit(t, c, "g", -1, "", map[TopicPartition]int64{{"t", 0}: 1})
	c.Close()
	// A compaction that crashed before its rename.
	os.WriteFile(filepath.Join(dir, logName+vfs.TmpSuffix), []byte("half a snapshot"), 0o644)
	c = openCoordinator(t, dir, clock)
	expectOffsets(t, c, "g", map[TopicPartition]int64{{"t", 0}: 1})
}

func TestJoinWaitsForTimers(t *testing.T) {
	clock := NewFakeClock(t0)
	c := openCoordinator(t, t.TempDir(), clock, InitialRebalanceDelay(3*time.Second))
	req := kmsg.NewPtrJoinGroupRequest()
	req.Version = 3
	req.Group = "g"
	req.SessionTimeoutMillis = 10000
	req.RebalanceTimeoutMillis = 60000
	req.ProtocolType = "consumer"
	req.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range"}}
	ch := c.Join(req, Client{ID: "c"})
	clock.Advance(2 * time.Second)
	select {
	case <-ch:
		t.Fatal("answered during the initial delay")
	default:
	}
	clock.Advance(time.Second)
	select {
	case resp := <-ch:
		if resp.ErrorCode != 0 || resp.Generation != 1 {
			t.Fatalf("join %+v", resp)
		}
	default:
		t.Fatal("not answered after the initial delay")
	}
}

func TestExpiredOffsetsAreDeleted(t *testing.T) {
	dir := t.TempDir()
	clock := NewFakeClock(t0)
	c := openCoordinator(t, dir, clock, OffsetsRetention(time.Hour), RetentionCheckInterval(10*time.Minute))
	commit(t, c, "old", -1, "", map[TopicPartition]int64{{"t", 0}: 1})
	clock.Advance(50 * time.Minute)
	commit(t, c, "new", -1, "", map[TopicPartition]int64{{"t", 0}: 1})
	clock.Advance(20 * time.Minute)
	waitDurable(t, c)
	if _, ok := c.FetchOffsets("old"); ok {
		t.Fatal("old group's offsets not expired")
	}
	expectOffsets(t, c, "new", map[TopicPartition]int64{{"t", 0}: 1})
	if l := c.List(); len(l) != 1 || l[0].Group != "new" {
		t.Fatalf("groups %+v", l)
	}
	c.Close()
	c = openCoordinator(t, dir, clock)
	if _, ok := c.FetchOffsets("old"); ok {
		t.Fatal("expired offsets came back after reopen")
	}
}

func TestCommitToUnknownGroup(t *testing.T) {
	c := openCoordinator(t, t.TempDir(), NewFakeClock(t0))
	if code, _, _ := c.CommitOffsets(9, "nope", CommitRequest{Generation: 3, MemberID: "m"}); code != kerr.GroupIDNotFound.Code {
		t.Fatalf("v9: %v", kerr.ErrorForCode(code))
	}
	if code, _, _ := c.CommitOffsets(8, "nope", CommitRequest{Generation: 3, MemberID: "m"}); code != kerr.IllegalGeneration.Code {
		t.Fatalf("v8: %v", kerr.ErrorForCode(code))
	}
	if code, _, _ := c.CommitOffsets(8, "", CommitRequest{Generation: -1}); code != kerr.InvalidGroupID.Code {
		t.Fatalf("empty id: %v", kerr.ErrorForCode(code))
	}
	if l := c.List(); len(l) != 0 {
		t.Fatalf("failed commits left groups %+v", l)
	}
}
