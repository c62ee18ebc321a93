package group

// durability_test.go holds the regression tests of issue 10's defects 3
// and 4 for the group coordinator: a damaged record in the middle of the
// offsets log loses that record alone, loudly (never a silent rollback);
// a log whose framing is lost is refused with the file and offset; on a
// full disk a commit fails without becoming visible, the previous value
// stays, commits succeed again once space returns without a restart, and
// a crash afterwards holds exactly what was acknowledged. The state
// machine's half (what a group shows before its records are durable) is
// tested with the harness at the end.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testlog"

	"github.com/courier-dev/courier/internal/broker/journal"
	"github.com/courier-dev/courier/internal/broker/vfs"
	"github.com/courier-dev/courier/internal/testkit/testwait"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

// frameStarts returns the byte offset of each record in an offsets log.
func frameStarts(t *testing.T, data []byte) []int {
	t.Helper()
	var starts []int
	for off := 0; off+8 <= len(data); {
		starts = append(starts, off)
		off += 8 + int(binary.BigEndian.Uint32(data[off:]))
	}
	return starts
}

// commit500 commits offsets 0..499 to partitions 0..499 of group g, one
// commit (one record) each, and closes the coordinator.
func commit500(t *testing.T, dir string, clock *FakeClock, opts ...Opt) {
	t.Helper()
	c := openCoordinator(t, dir, clock, opts...)
	for i := int64(0); i < 500; i++ {
		commit(t, c, "g", -1, "", map[TopicPartition]int64{{"t", int32(i)}: i})
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestDamagedRecordLosesOnlyItself is defect 3: a byte flipped in the
// middle record of an offsets log of 500 commits used to cut the log
// there, silently rolling 250 commits back. Now exactly the damaged
// commit is lost, logged with the file and byte offset, and counted.
func TestDamagedRecordLosesOnlyItself(t *testing.T) {
	dir := t.TempDir()
	clock := NewFakeClock(t0)
	commit500(t, dir, clock)
	path := filepath.Join(dir, logName)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	starts := frameStarts(t, data)
	if len(starts) != 500 {
		t.Fatalf("%d records in the log, want one per commit", len(starts))
	}
	victim := starts[len(starts)/2]
	data[victim+12] ^= 0x20 // inside the record's body
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}

	logs := &testlog.Buffer{}
	c := openCoordinator(t, dir, clock, WithLogger(slog.New(slog.NewTextHandler(logs, nil))))
	got, _ := c.FetchOffsets("g")
	if len(got) != 499 {
		t.Fatalf("%d offsets after restart, want 499 (the damaged commit alone lost)", len(got))
	}
	for tp, o := range got {
		if o.Offset != int64(tp.Partition) {
			t.Fatalf("%v holds %d", tp, o.Offset)
		}
	}
	if st := c.JournalStats(); st.DamagedRecords != 1 || st.TornTails != 0 {
		t.Fatalf("journal stats %+v", st)
	}
	l := logs.String()
	if !strings.Contains(l, "damaged record") || !strings.Contains(l, path) || !strings.Contains(l, fmt.Sprintf("offset=%d", victim)) {
		t.Fatalf("the loss is not logged with file and offset:\n%s", l)
	}
	if copies, _ := filepath.Glob(path + ".damaged-*"); len(copies) != 1 {
		t.Fatalf("the damaged log was not kept: %v", copies)
	}
}

// TestLostFramingRefusesToStart: a log whose second half is overwritten
// frames nothing after the damage; the coordinator refuses to open,
// naming the file and the byte offset, rather than drop the rest.
func TestLostFramingRefusesToStart(t *testing.T) {
	mem := vfs.NewMem()
	commit500(t, "/groups", NewFakeClock(t0), WithFS(mem))
	path := "/groups/" + logName
	data, err := vfs.ReadFile(mem, path)
	if err != nil {
		t.Fatal(err)
	}
	starts := frameStarts(t, data)
	from := starts[len(starts)/2]
	for i := from; i < len(data); i++ {
		data[i] = 0xa5
	}
	f, _ := mem.OpenFile(path, os.O_RDWR, 0)
	f.WriteAt(data, 0)
	f.Close()
	_, err = Open("/groups", WithFS(mem))
	if !errors.Is(err, journal.ErrDamaged) {
		t.Fatalf("open: %v", err)
	}
	if msg := err.Error(); !strings.Contains(msg, path) || !strings.Contains(msg, fmt.Sprintf("byte %d", from)) {
		t.Fatalf("refusal does not name the file and offset: %s", msg)
	}
}

// commitAsync starts a commit of one offset and returns its wait.
func commitAsync(t *testing.T, c *Coordinator, group string, tp TopicPartition, offset int64) func(context.Context) error {
	t.Helper()
	meta := "m"
	code, codes, wait := c.CommitOffsets(9, group, CommitRequest{Generation: -1, Offsets: []Commit{{TopicPartition: tp, Offset: offset, LeaderEpoch: 3, Metadata: &meta}}})
	if code != 0 || codes[0] != 0 {
		t.Fatalf("commit refused: %v %v", kerr.ErrorForCode(code), codes)
	}
	return wait
}

// TestDiskFullCommit is defect 4: a commit answered with an error used to
// be returned by OffsetFetch anyway, every later commit failed until a
// restart, and the restart lost the value.
func TestDiskFullCommit(t *testing.T) {
	mem := vfs.NewMem()
	efs := vfs.NewErrorFS(mem)
	clock := NewFakeClock(t0)
	tp := TopicPartition{"t", 0}
	c := openCoordinator(t, "/data/groups", clock, WithFS(efs))
	commit(t, c, "g", -1, "", map[TopicPartition]int64{tp: 1})

	// The disk is full for one write: the commit's.
	efs.InjectN(syscall.ENOSPC, vfs.OpWrite, 1)
	err := commitAsync(t, c, "g", tp, 2)(context.Background())
	if !errors.Is(err, syscall.ENOSPC) || ErrorCode(err) != kerr.NotCoordinator.Code {
		t.Fatalf("commit on a full disk: %v (code %v)", err, kerr.ErrorForCode(ErrorCode(err)))
	}
	expectOffsets(t, c, "g", map[TopicPartition]int64{tp: 1})

	// Space returns: the next commit repairs the log and succeeds.
	commit(t, c, "g", -1, "", map[TopicPartition]int64{tp: 3})
	expectOffsets(t, c, "g", map[TopicPartition]int64{tp: 3})
	if st := c.JournalStats(); st.WriteFailures != 1 || st.Repairs != 1 || !st.Healthy {
		t.Fatalf("journal stats %+v", st)
	}

	// Full again, for longer: a commit that would create a group fails
	// without leaving one, and so does the repair the next commit tries;
	// commits then fail fast for a back-off.
	efs.Inject(syscall.ENOSPC, vfs.OpsWriting)
	if err := commitAsync(t, c, "fresh", tp, 9)(context.Background()); err == nil {
		t.Fatal("commit to a new group on a full disk succeeded")
	}
	if _, ok := c.FetchOffsets("fresh"); ok {
		t.Fatal("a failed commit left its group behind")
	}
	if err := commitAsync(t, c, "g", tp, 4)(context.Background()); err == nil {
		t.Fatal("commit on a full disk succeeded")
	}
	expectOffsets(t, c, "g", map[TopicPartition]int64{tp: 3})
	efs.Heal()
	testwait.For(t, 10*time.Second, "a commit to succeed after space returned", func() string {
		if err := commitAsync(t, c, "g", tp, 5)(context.Background()); err != nil {
			return err.Error()
		}
		return ""
	})
	expectOffsets(t, c, "g", map[TopicPartition]int64{tp: 5})

	// Power loss: exactly the acknowledged values.
	c2 := openCoordinator(t, "/data/groups", clock, WithFS(mem.CrashClone(vfs.CrashOptions{})))
	expectOffsets(t, c2, "g", map[TopicPartition]int64{tp: 5})
	if _, ok := c2.FetchOffsets("fresh"); ok {
		t.Fatal("a failed commit's group came back after the crash")
	}
}

// TestCommitInvisibleUntilDurable holds the journal's fsync: while it
// waits, OffsetFetch shows the previous value.
func TestCommitInvisibleUntilDurable(t *testing.T) {
	efs := vfs.NewErrorFS(vfs.NewMem())
	c := openCoordinator(t, "/g", NewFakeClock(t0), WithFS(efs))
	tp := TopicPartition{"t", 0}
	commit(t, c, "g", -1, "", map[TopicPartition]int64{tp: 1})
	entered, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	efs.InjectFunc(func(op vfs.Op, _ string) error {
		if op == vfs.OpSync {
			once.Do(func() { close(entered) })
			<-release
		}
		return nil
	})
	wait := commitAsync(t, c, "g", tp, 2)
	<-entered
	expectOffsets(t, c, "g", map[TopicPartition]int64{tp: 1})
	close(release)
	if err := wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	expectOffsets(t, c, "g", map[TopicPartition]int64{tp: 2})
}

// TestCommitsWithFailuresThenCrash commits at random while about one log
// write or fsync in four fails, then pulls the plug: the restart holds
// exactly the values whose commits were acknowledged.
func TestCommitsWithFailuresThenCrash(t *testing.T) {
	mem := vfs.NewMem()
	efs := vfs.NewErrorFS(mem)
	clock := NewFakeClock(t0)
	c := openCoordinator(t, "/g", clock, WithFS(efs), CompactBytes(2048))
	var n int
	efs.InjectFunc(func(op vfs.Op, path string) error {
		// Only the log's own writes fail, so each repair (a new file)
		// succeeds and the next commit goes through.
		if op&(vfs.OpWrite|vfs.OpSync) != 0 && strings.HasSuffix(path, logName) {
			n++
			if n%4 == 0 {
				return syscall.ENOSPC
			}
		}
		return nil
	})
	acked := map[TopicPartition]int64{}
	failed := 0
	for i := int64(1); i <= 300; i++ {
		tp := TopicPartition{"t", int32(i % 7)}
		if err := commitAsync(t, c, "g", tp, i)(context.Background()); err != nil {
			failed++
			continue
		}
		acked[tp] = i
	}
	if failed == 0 || len(acked) == 0 {
		t.Fatalf("%d failed, %d acknowledged: the test exercised nothing", failed, len(acked))
	}
	expectOffsets(t, c, "g", acked)
	c2 := openCoordinator(t, "/g", clock, WithFS(mem.CrashClone(vfs.CrashOptions{})))
	expectOffsets(t, c2, "g", acked)
}

// TestAssignmentNotStoredRebalances: the leader's SyncGroup on a full
// disk gets NOT_COORDINATOR, the group does not turn Stable, and it
// rebalances; after space returns the next round completes.
func TestAssignmentNotStoredRebalances(t *testing.T) {
	efs := vfs.NewErrorFS(vfs.NewMem())
	c := openCoordinator(t, "/g", NewFakeClock(t0), WithFS(efs))
	req := kmsg.NewPtrJoinGroupRequest()
	req.Version, req.Group, req.ProtocolType = 9, "g", "consumer"
	req.SessionTimeoutMillis, req.RebalanceTimeoutMillis = 10000, 10000
	req.Protocols = []kmsg.JoinGroupRequestProtocol{{Name: "range", Metadata: []byte("m")}}
	req.MemberID = (<-c.Join(req, Client{ID: "c"})).MemberID
	jr := <-c.Join(req, Client{ID: "c"})
	if jr.ErrorCode != 0 {
		t.Fatalf("join: %v", kerr.ErrorForCode(jr.ErrorCode))
	}
	sreq := kmsg.NewPtrSyncGroupRequest()
	sreq.Version, sreq.Group, sreq.MemberID, sreq.Generation = 5, "g", jr.MemberID, jr.Generation
	sreq.GroupAssignment = []kmsg.SyncGroupRequestGroupAssignment{{MemberID: jr.MemberID, MemberAssignment: []byte("a")}}

	efs.InjectN(syscall.ENOSPC, vfs.OpWrite, 1)
	if sr := <-c.Sync(sreq); sr.ErrorCode != kerr.NotCoordinator.Code {
		t.Fatalf("sync on a full disk: %v", kerr.ErrorForCode(sr.ErrorCode))
	}
	if d, _ := c.Describe("g"); d.State != "PreparingRebalance" || len(d.Members) != 1 || d.Members[0].MemberAssignment != nil {
		t.Fatalf("group after the failed assignment %+v", d)
	}

	jr = <-c.Join(req, Client{ID: "c"})
	sreq.Generation = jr.Generation
	if sr := <-c.Sync(sreq); sr.ErrorCode != 0 || string(sr.MemberAssignment) != "a" {
		t.Fatalf("sync after space returned: %v", kerr.ErrorForCode(sr.ErrorCode))
	}
	if d, _ := c.Describe("g"); d.State != "Stable" {
		t.Fatalf("state %s", d.State)
	}
}

// TestDeleteGroupOnAFullDisk: a deletion that cannot be written leaves
// the group and its offsets as they were.
func TestDeleteGroupOnAFullDisk(t *testing.T) {
	efs := vfs.NewErrorFS(vfs.NewMem())
	c := openCoordinator(t, "/g", NewFakeClock(t0), WithFS(efs))
	tp := TopicPartition{"t", 0}
	commit(t, c, "g", -1, "", map[TopicPartition]int64{tp: 1})
	efs.InjectN(syscall.ENOSPC, vfs.OpWrite, 1)
	code, wait := c.DeleteGroup("g")
	if err := wait(context.Background()); code != 0 || err == nil {
		t.Fatalf("delete on a full disk: %v %v", kerr.ErrorForCode(code), err)
	}
	expectOffsets(t, c, "g", map[TopicPartition]int64{tp: 1})
	code, wait = c.DeleteGroup("g")
	if err := wait(context.Background()); code != 0 || err != nil {
		t.Fatalf("delete after space returned: %v %v", kerr.ErrorForCode(code), err)
	}
	if _, ok := c.FetchOffsets("g"); ok {
		t.Fatal("deleted group still there")
	}
}

// The state machine's half: records held by the test, then reported.

func TestGroupCommitVisibleOnlyWhenDurable(t *testing.T) {
	h := newHarness(t)
	tp := TopicPartition{"t", 0}
	h.commit(CommitRequest{Generation: -1, Offsets: []Commit{{TopicPartition: tp, Offset: 1}}})
	h.hold = true
	h.g.Commit(h.now, CommitRequest{Generation: -1, Offsets: []Commit{{TopicPartition: tp, Offset: 2}}})
	if o := h.g.Offsets()[tp]; o.Offset != 1 {
		t.Fatalf("pending commit visible: %+v", o)
	}
	h.g.persisted(h.now, h.g.TakeRecords(), syscall.ENOSPC)
	if o := h.g.Offsets()[tp]; o.Offset != 1 || len(h.g.inflight) != 0 {
		t.Fatalf("failed commit changed the group: %+v, inflight %v", o, h.g.inflight)
	}
	h.g.Commit(h.now, CommitRequest{Generation: -1, Offsets: []Commit{{TopicPartition: tp, Offset: 3}}})
	h.g.persisted(h.now, h.g.TakeRecords(), nil)
	if o := h.g.Offsets()[tp]; o.Offset != 3 {
		t.Fatalf("durable commit not visible: %+v", o)
	}
}

func TestGroupAssignmentWaitsForDurability(t *testing.T) {
	h := newHarness(t)
	id := h.joined(h.joinNew("c"), 1)
	h.hold = true
	s := h.sync(id, 1, map[string]string{id: "a"})
	if s.calls != 0 {
		t.Fatal("sync answered before the assignment was stored")
	}
	h.expectState(CompletingRebalance)
	if d := h.g.Describe(); d.Members[0].MemberAssignment != nil {
		t.Fatal("DescribeGroups shows an assignment not yet stored")
	}
	h.g.persisted(h.now, h.g.TakeRecords(), nil)
	h.synced(s, "a")
	h.expectState(Stable)
}

func TestGroupDeletionWaitsForDurability(t *testing.T) {
	h := newHarness(t)
	tp := TopicPartition{"t", 0}
	h.commit(CommitRequest{Generation: -1, Offsets: []Commit{{TopicPartition: tp, Offset: 1}}})
	h.hold = true
	if code := h.g.Delete(h.now); code != 0 {
		t.Fatal(kerr.ErrorForCode(code))
	}
	h.g.persisted(h.now, h.g.TakeRecords(), syscall.ENOSPC)
	if h.g.IsDead() || len(h.g.Offsets()) != 1 {
		t.Fatal("a failed deletion took effect")
	}
	h.g.Delete(h.now)
	h.g.persisted(h.now, h.g.TakeRecords(), nil)
	if !h.g.IsDead() || len(h.g.Offsets()) != 0 {
		t.Fatal("a durable deletion did not take effect")
	}
}
