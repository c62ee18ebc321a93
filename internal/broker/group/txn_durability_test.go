package group

// txn_durability_test.go tests that transactional offsets are as durable
// as the rest of the offsets log: pending offsets survive a restart and a
// crash as pending (the transaction coordinator completes them after
// restarting), a snapshot keeps them pending and keeps the log order that
// decides between them and plain commits, and a record that cannot be
// written changes nothing.

import (
	"context"
	"errors"
	"syscall"
	"testing"

	"github.com/courier-dev/courier/internal/broker/vfs"
	"github.com/twmb/franz-go/pkg/kerr"
)

// txnCommitAsync starts a TxnOffsetCommit outside group membership and
// returns its wait.
func txnCommitAsync(t *testing.T, c *Coordinator, group string, pid int64, offsets map[TopicPartition]int64) func(context.Context) error {
	t.Helper()
	meta := "m"
	req := TxnCommitRequest{ProducerID: pid, ProducerEpoch: 1, Generation: -1}
	for tp, o := range offsets {
		req.Offsets = append(req.Offsets, Commit{TopicPartition: tp, Offset: o, LeaderEpoch: 3, Metadata: &meta})
	}
	code, codes, wait := c.TxnCommitOffsets(group, req)
	if code != 0 {
		t.Fatalf("txn commit: %v", kerr.ErrorForCode(code))
	}
	for _, cd := range codes {
		if cd != 0 {
			t.Fatalf("txn commit: %v", kerr.ErrorForCode(cd))
		}
	}
	return wait
}

// txnCommit commits transactional offsets and waits for durability.
func txnCommit(t *testing.T, c *Coordinator, group string, pid int64, offsets map[TopicPartition]int64) {
	t.Helper()
	if err := txnCommitAsync(t, c, group, pid, offsets)(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func completeTxn(t *testing.T, c *Coordinator, group string, pid int64, commit bool) {
	t.Helper()
	if err := c.CompleteTxn(context.Background(), group, pid, 1, commit); err != nil {
		t.Fatal(err)
	}
}

// expectUnstable checks FetchOffsetsStable's pending partitions.
func expectUnstable(t *testing.T, c *Coordinator, group string, want ...TopicPartition) {
	t.Helper()
	_, unstable, ok := c.FetchOffsetsStable(group)
	if !ok && len(want) > 0 {
		t.Fatalf("group %s unknown", group)
	}
	if len(unstable) != len(want) {
		t.Fatalf("group %s unstable %v, want %v", group, unstable, want)
	}
	for _, tp := range want {
		if !unstable[tp] {
			t.Fatalf("group %s unstable %v, want %v", group, unstable, want)
		}
	}
}

// TestTxnPendingAcrossRestart: offsets pending at a restart, clean or a
// crash, come back pending, and the transaction coordinator's completion
// after the restart commits or aborts them, durably.
func TestTxnPendingAcrossRestart(t *testing.T) {
	a, b := TopicPartition{"t", 0}, TopicPartition{"t", 1}
	for _, tc := range []struct {
		name   string
		crash  bool
		commit bool
		want   map[TopicPartition]int64
	}{
		{"close, commit", false, true, map[TopicPartition]int64{a: 10, b: 20}},
		{"close, abort", false, false, map[TopicPartition]int64{a: 1}},
		{"crash, commit", true, true, map[TopicPartition]int64{a: 10, b: 20}},
		{"crash, abort", true, false, map[TopicPartition]int64{a: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := vfs.NewMem()
			clock := NewFakeClock(t0)
			c := openCoordinator(t, "/g", clock, WithFS(mem))
			commit(t, c, "g", -1, "", map[TopicPartition]int64{a: 1})
			txnCommit(t, c, "g", 7, map[TopicPartition]int64{a: 10, b: 20})
			txnCommit(t, c, "only-txn", 8, map[TopicPartition]int64{a: 30})
			fs := mem
			if tc.crash {
				fs = mem.CrashClone(vfs.CrashOptions{})
			} else if err := c.Close(); err != nil {
				t.Fatal(err)
			}

			c2 := openCoordinator(t, "/g", clock, WithFS(fs))
			expectOffsets(t, c2, "g", map[TopicPartition]int64{a: 1})
			expectUnstable(t, c2, "g", a, b)
			expectOffsets(t, c2, "only-txn", nil)
			expectUnstable(t, c2, "only-txn", a)
			completeTxn(t, c2, "g", 7, tc.commit)
			expectOffsets(t, c2, "g", tc.want)
			expectUnstable(t, c2, "g")

			c3 := openCoordinator(t, "/g", clock, WithFS(fs.CrashClone(vfs.CrashOptions{})))
			expectOffsets(t, c3, "g", tc.want)
			expectUnstable(t, c3, "g")
			expectUnstable(t, c3, "only-txn", a)
			// The transaction coordinator completes again after a crash:
			// nothing changes.
			completeTxn(t, c3, "g", 7, !tc.commit)
			expectOffsets(t, c3, "g", tc.want)
		})
	}
}

// TestTxnSnapshotKeepsOrder: the log is compacted while transactions are
// open; after a crash the snapshot's replay still has their offsets
// pending, and a commit that came after a transaction's offset in the log
// still wins over it (and one that came before still loses).
func TestTxnSnapshotKeepsOrder(t *testing.T) {
	mem := vfs.NewMem()
	clock := NewFakeClock(t0)
	c := openCoordinator(t, "/g", clock, WithFS(mem), CompactBytes(1024))
	a, b := TopicPartition{"t", 0}, TopicPartition{"t", 1}
	txnCommit(t, c, "g", 1, map[TopicPartition]int64{a: 5})
	commit(t, c, "g", -1, "", map[TopicPartition]int64{a: 7, b: 7})
	txnCommit(t, c, "g", 2, map[TopicPartition]int64{b: 9})
	for i := int64(0); c.JournalStats().Compactions == 0; i++ {
		if i == 1000 {
			t.Fatal("the log was never compacted")
		}
		commit(t, c, "other", -1, "", map[TopicPartition]int64{{"x", int32(i % 5)}: i})
	}
	c2 := openCoordinator(t, "/g", clock, WithFS(mem.CrashClone(vfs.CrashOptions{})))
	expectOffsets(t, c2, "g", map[TopicPartition]int64{a: 7, b: 7})
	expectUnstable(t, c2, "g", a, b)
	completeTxn(t, c2, "g", 1, true)
	completeTxn(t, c2, "g", 2, true)
	expectOffsets(t, c2, "g", map[TopicPartition]int64{a: 7, b: 9})
	if st := c2.TxnStats(); st.Committed != 2 || st.OffsetsApplied != 1 || st.OffsetsSuperseded != 1 || st.OpenTransactions != 0 {
		t.Fatalf("txn stats %+v", st)
	}
}

// TestTxnRecordsOnAFullDisk: a TxnOffsetCommit that cannot be written
// leaves nothing pending (not even the group it would have created); a
// marker that cannot be written leaves the offsets pending, and the
// completion retried after space returns applies them.
func TestTxnRecordsOnAFullDisk(t *testing.T) {
	mem := vfs.NewMem()
	efs := vfs.NewErrorFS(mem)
	clock := NewFakeClock(t0)
	c := openCoordinator(t, "/g", clock, WithFS(efs))
	tp := TopicPartition{"t", 0}

	efs.InjectN(syscall.ENOSPC, vfs.OpWrite, 1)
	err := txnCommitAsync(t, c, "fresh", 7, map[TopicPartition]int64{tp: 1})(context.Background())
	if !errors.Is(err, syscall.ENOSPC) || ErrorCode(err) != kerr.NotCoordinator.Code {
		t.Fatalf("txn commit on a full disk: %v", err)
	}
	if _, _, ok := c.FetchOffsetsStable("fresh"); ok {
		t.Fatal("a failed transactional commit left its group behind")
	}
	if err := c.CompleteTxn(context.Background(), "fresh", 7, 1, true); err != nil {
		t.Fatalf("completing a transaction with nothing pending: %v", err)
	}

	txnCommit(t, c, "g", 7, map[TopicPartition]int64{tp: 2})
	efs.InjectN(syscall.ENOSPC, vfs.OpWrite, 1)
	if err := c.CompleteTxn(context.Background(), "g", 7, 1, true); !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("marker on a full disk: %v", err)
	}
	expectOffsets(t, c, "g", nil)
	expectUnstable(t, c, "g", tp)
	completeTxn(t, c, "g", 7, true)
	expectOffsets(t, c, "g", map[TopicPartition]int64{tp: 2})

	c2 := openCoordinator(t, "/g", clock, WithFS(mem.CrashClone(vfs.CrashOptions{})))
	expectOffsets(t, c2, "g", map[TopicPartition]int64{tp: 2})
	expectUnstable(t, c2, "g")
	if _, _, ok := c2.FetchOffsetsStable("fresh"); ok {
		t.Fatal("a failed transactional commit's group came back after the crash")
	}
}

func TestTxnCoordinatorAnswers(t *testing.T) {
	c := openCoordinator(t, t.TempDir(), NewFakeClock(t0))
	tp := TopicPartition{"t", 0}
	if err := c.CompleteTxn(context.Background(), "nobody", 7, 0, true); err != nil {
		t.Fatalf("completing in a group that does not exist: %v", err)
	}
	if _, _, ok := c.FetchOffsetsStable("nobody"); ok {
		t.Fatal("completion created a group")
	}
	if code, _, _ := c.TxnCommitOffsets("", TxnCommitRequest{Generation: -1}); code != kerr.InvalidGroupID.Code {
		t.Fatalf("empty group id: %v", kerr.ErrorForCode(code))
	}
	code, _, _ := c.TxnCommitOffsets("nobody", TxnCommitRequest{ProducerID: 7, Generation: 3, MemberID: "m",
		Offsets: []Commit{{TopicPartition: tp, Offset: 1}}})
	if code != kerr.IllegalGeneration.Code {
		t.Fatalf("generation to a group that does not exist: %v", kerr.ErrorForCode(code))
	}
	txnCommit(t, c, "g", 7, map[TopicPartition]int64{tp: 4})
	if got := c.List(); len(got) != 1 || got[0].Group != "g" || got[0].State != Empty.String() {
		t.Fatalf("groups %+v", got)
	}
	if code, wait := c.DeleteGroup("g"); code != 0 || wait(context.Background()) != nil {
		t.Fatalf("delete group with pending offsets: %v", kerr.ErrorForCode(code))
	}
	if st := c.TxnStats(); st.OpenTransactions != 0 || st.PendingOffsets != 0 {
		t.Fatalf("txn stats after the group's deletion %+v", st)
	}
}
