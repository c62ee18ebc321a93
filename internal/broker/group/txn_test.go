package group

// txn_test.go tests a group's transactional offset commits with the
// hand-driven harness: KIP-447's checks, pending offsets invisible until
// the marker, Kafka's ordering rule between a commit and a transaction's
// offset of one partition, epoch fencing, and what deletion and expiry do
// with pending offsets.

import (
	"errors"
	"syscall"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
)

// txnReq is a TxnOffsetCommit outside group membership (generation -1).
func txnReq(pid int64, epoch int16, offsets map[TopicPartition]int64) TxnCommitRequest {
	req := TxnCommitRequest{ProducerID: pid, ProducerEpoch: epoch, Generation: -1}
	for tp, o := range offsets {
		req.Offsets = append(req.Offsets, Commit{TopicPartition: tp, Offset: o})
	}
	return req
}

// txnCommit sends a TxnOffsetCommit and settles its records.
func (h *harness) txnCommit(req TxnCommitRequest) (int16, []int16) {
	code, codes := h.g.TxnCommit(h.now, req)
	h.settle()
	return code, codes
}

// mustTxnCommit sends a TxnOffsetCommit that must be accepted whole.
func (h *harness) mustTxnCommit(req TxnCommitRequest) {
	h.t.Helper()
	code, codes := h.txnCommit(req)
	if code != 0 {
		h.t.Fatalf("txn commit: %v", kerr.ErrorForCode(code))
	}
	for _, c := range codes {
		if c != 0 {
			h.t.Fatalf("txn commit partition: %v", kerr.ErrorForCode(c))
		}
	}
}

// completeTxn ends pid's transaction and settles the marker.
func (h *harness) completeTxn(pid int64, epoch int16, commit bool) error {
	err := h.g.CompleteTxn(pid, epoch, commit)
	h.settle()
	return err
}

// offsetsOf is the group's visible offsets, offset values only.
func (h *harness) offsetsOf() map[TopicPartition]int64 {
	out := map[TopicPartition]int64{}
	for tp, o := range h.g.Offsets() {
		out[tp] = o.Offset
	}
	return out
}

func (h *harness) expectOffsets(want map[TopicPartition]int64) {
	h.t.Helper()
	got := h.offsetsOf()
	if len(got) != len(want) {
		h.t.Fatalf("offsets %v, want %v", got, want)
	}
	for tp, o := range want {
		if g, ok := got[tp]; !ok || g != o {
			h.t.Fatalf("offsets %v, want %v", got, want)
		}
	}
}

func TestTxnCommitValidation(t *testing.T) {
	instance := func(s string) *string { return &s }
	type group struct {
		member string
		gen    int32
	}
	setups := map[string]func(h *harness) group{
		"empty": func(h *harness) group { return group{} },
		"stable": func(h *harness) group {
			id := h.stableOne("c")
			return group{id, h.g.Generation()}
		},
		"static": func(h *harness) group {
			id := h.joined(h.join("c", "", withInstance("i1")), 1)
			h.synced(h.sync(id, 1, map[string]string{id: "a"}), "a")
			return group{id, 1}
		},
		"completing": func(h *harness) group {
			id := h.joined(h.joinNew("c"), 1)
			h.expectState(CompletingRebalance)
			return group{id, 1}
		},
	}
	tests := []struct {
		name  string
		setup string
		req   func(g group) TxnCommitRequest
		want  *kerr.Error
	}{
		{"empty group, generation -1", "empty", func(group) TxnCommitRequest { return TxnCommitRequest{Generation: -1} }, nil},
		{"empty group, generation -1 with a member id", "empty", func(group) TxnCommitRequest { return TxnCommitRequest{Generation: -1, MemberID: "x"} }, nil},
		{"empty group, a generation", "empty", func(group) TxnCommitRequest { return TxnCommitRequest{Generation: 1, MemberID: "x"} }, kerr.UnknownMemberID},
		{"member of the generation", "stable", func(g group) TxnCommitRequest { return TxnCommitRequest{Generation: g.gen, MemberID: g.member} }, nil},
		{"no membership (v0-2, producer outside the group)", "stable", func(group) TxnCommitRequest { return TxnCommitRequest{Generation: -1} }, nil},
		{"wrong generation", "stable", func(g group) TxnCommitRequest { return TxnCommitRequest{Generation: g.gen + 1, MemberID: g.member} }, kerr.IllegalGeneration},
		{"old generation", "stable", func(g group) TxnCommitRequest { return TxnCommitRequest{Generation: g.gen - 1, MemberID: g.member} }, kerr.IllegalGeneration},
		{"unknown member", "stable", func(g group) TxnCommitRequest { return TxnCommitRequest{Generation: g.gen, MemberID: "ghost"} }, kerr.UnknownMemberID},
		{"unknown member, generation -1", "stable", func(group) TxnCommitRequest { return TxnCommitRequest{Generation: -1, MemberID: "ghost"} }, kerr.UnknownMemberID},
		{"member and generation -1", "stable", func(g group) TxnCommitRequest { return TxnCommitRequest{Generation: -1, MemberID: g.member} }, kerr.IllegalGeneration},
		{"static member", "static", func(g group) TxnCommitRequest {
			return TxnCommitRequest{Generation: g.gen, MemberID: g.member, InstanceID: instance("i1")}
		}, nil},
		{"static instance replaced", "static", func(g group) TxnCommitRequest {
			return TxnCommitRequest{Generation: g.gen, MemberID: "old", InstanceID: instance("i1")}
		}, kerr.FencedInstanceID},
		{"unknown static instance", "static", func(g group) TxnCommitRequest {
			return TxnCommitRequest{Generation: g.gen, MemberID: g.member, InstanceID: instance("i9")}
		}, kerr.UnknownMemberID},
		{"waiting for the assignment (no REBALANCE_IN_PROGRESS)", "completing", func(g group) TxnCommitRequest {
			return TxnCommitRequest{Generation: g.gen, MemberID: g.member}
		}, nil},
		{"negative producer id", "empty", func(group) TxnCommitRequest { return TxnCommitRequest{ProducerID: -1, Generation: -1} }, kerr.InvalidProducerIDMapping},
		{"negative producer epoch", "empty", func(group) TxnCommitRequest { return TxnCommitRequest{ProducerEpoch: -1, Generation: -1} }, kerr.InvalidProducerEpoch},
	}
	tp := TopicPartition{"t", 0}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			req := tc.req(setups[tc.setup](h))
			if req.ProducerID == 0 {
				req.ProducerID = 7
			}
			req.Offsets = []Commit{{TopicPartition: tp, Offset: 5}}
			code, codes := h.txnCommit(req)
			var want int16
			if tc.want != nil {
				want = tc.want.Code
			}
			if code != want {
				t.Fatalf("code %v, want %v", kerr.ErrorForCode(code), tc.want)
			}
			if tc.want != nil {
				if codes != nil || len(h.g.Unstable()) != 0 {
					t.Fatalf("refused commit left something: codes %v, unstable %v", codes, h.g.Unstable())
				}
				return
			}
			if len(codes) != 1 || codes[0] != 0 || !h.g.Unstable()[tp] {
				t.Fatalf("accepted commit: codes %v, unstable %v", codes, h.g.Unstable())
			}
		})
	}
}

func TestTxnCommitMetadataTooLarge(t *testing.T) {
	h := newHarness(t, MaxOffsetMetadataBytes(3))
	long, short := "long", "ok"
	req := TxnCommitRequest{ProducerID: 1, Generation: -1, Offsets: []Commit{
		{TopicPartition: TopicPartition{"t", 0}, Offset: 1, Metadata: &long},
		{TopicPartition: TopicPartition{"t", 1}, Offset: 2, Metadata: &short},
	}}
	code, codes := h.txnCommit(req)
	if code != 0 || codes[0] != kerr.OffsetMetadataTooLarge.Code || codes[1] != 0 {
		t.Fatalf("code %d, codes %v", code, codes)
	}
	if err := h.completeTxn(1, 0, true); err != nil {
		t.Fatal(err)
	}
	h.expectOffsets(map[TopicPartition]int64{{"t", 1}: 2})
}

func TestTxnOffsetsPendingUntilMarker(t *testing.T) {
	for _, commit := range []bool{true, false} {
		h := newHarness(t)
		a, b := TopicPartition{"t", 0}, TopicPartition{"t", 1}
		h.commit(CommitRequest{Generation: -1, Offsets: []Commit{{TopicPartition: a, Offset: 1}}})
		h.mustTxnCommit(txnReq(7, 0, map[TopicPartition]int64{a: 10}))
		h.mustTxnCommit(txnReq(7, 0, map[TopicPartition]int64{b: 20})) // one transaction, two requests
		h.expectOffsets(map[TopicPartition]int64{a: 1})
		if u := h.g.Unstable(); len(u) != 2 || !u[a] || !u[b] {
			t.Fatalf("unstable %v", u)
		}
		if err := h.completeTxn(7, 0, commit); err != nil {
			t.Fatal(err)
		}
		if commit {
			h.expectOffsets(map[TopicPartition]int64{a: 10, b: 20})
		} else {
			h.expectOffsets(map[TopicPartition]int64{a: 1})
		}
		if len(h.g.Unstable()) != 0 || len(h.g.txns) != 0 {
			t.Fatalf("transaction not forgotten: %v", h.g.txns)
		}
		// Completing again (the transaction coordinator after a crash)
		// writes nothing and changes nothing.
		if err := h.g.CompleteTxn(7, 0, !commit); err != nil || len(h.g.TakeRecords()) != 0 {
			t.Fatalf("second completion: %v", err)
		}
	}
}

// TestTxnOrderingRule is Kafka's rule when a partition is committed both
// ways: a committed transaction's offset replaces the partition's offset
// only if its record came later in the log.
func TestTxnOrderingRule(t *testing.T) {
	tp := TopicPartition{"t", 0}
	type step struct {
		op     string // "commit", "txn", "marker", "abort"
		pid    int64
		offset int64
	}
	tests := []struct {
		name  string
		steps []step
		want  int64
	}{
		{"commit after the transaction's offset wins", []step{{"txn", 1, 5}, {"commit", 0, 7}, {"marker", 1, 0}}, 7},
		{"transaction's offset after the commit wins", []step{{"commit", 0, 7}, {"txn", 1, 5}, {"marker", 1, 0}}, 5},
		{"an aborted transaction leaves the commit", []step{{"commit", 0, 7}, {"txn", 1, 5}, {"abort", 1, 0}}, 7},
		{"the later of two transactions wins, whichever commits first", []step{
			{"txn", 1, 5}, {"txn", 2, 6}, {"marker", 2, 0}, {"marker", 1, 0}}, 6},
		{"the later of two transactions wins, in commit order", []step{
			{"txn", 2, 6}, {"txn", 1, 5}, {"marker", 2, 0}, {"marker", 1, 0}}, 5},
		{"a transaction's offset committed again replaces its first", []step{
			{"txn", 1, 5}, {"commit", 0, 7}, {"txn", 1, 8}, {"marker", 1, 0}}, 8},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			for _, s := range tc.steps {
				switch s.op {
				case "commit":
					h.commit(CommitRequest{Generation: -1, Offsets: []Commit{{TopicPartition: tp, Offset: s.offset}}})
				case "txn":
					h.mustTxnCommit(txnReq(s.pid, 0, map[TopicPartition]int64{tp: s.offset}))
				case "marker", "abort":
					if err := h.completeTxn(s.pid, 0, s.op == "marker"); err != nil {
						t.Fatal(err)
					}
				}
			}
			h.expectOffsets(map[TopicPartition]int64{tp: tc.want})
		})
	}
}

func TestTxnEpochFencing(t *testing.T) {
	h := newHarness(t)
	a, b := TopicPartition{"t", 0}, TopicPartition{"t", 1}
	h.mustTxnCommit(txnReq(7, 3, map[TopicPartition]int64{a: 1}))
	if code, _ := h.txnCommit(txnReq(7, 2, map[TopicPartition]int64{b: 2})); code != kerr.InvalidProducerEpoch.Code {
		t.Fatalf("zombie commit: %v", kerr.ErrorForCode(code))
	}
	if err := h.completeTxn(7, 2, true); !errors.Is(err, ErrInvalidProducerEpoch) {
		t.Fatalf("zombie marker: %v", err)
	}
	h.expectOffsets(map[TopicPartition]int64{})
	// A newer epoch joins the pending offsets; a marker with a bumped
	// epoch (an abort after a timeout, KIP-360) completes them.
	h.mustTxnCommit(txnReq(7, 4, map[TopicPartition]int64{b: 2}))
	if err := h.completeTxn(7, 5, true); err != nil {
		t.Fatal(err)
	}
	h.expectOffsets(map[TopicPartition]int64{a: 1, b: 2})
}

// TestTxnRecordsFailing: a transactional offset whose record fails is not
// pending; a marker whose record fails leaves the offsets pending, and a
// new marker completes them.
func TestTxnRecordsFailing(t *testing.T) {
	h := newHarness(t)
	tp := TopicPartition{"t", 0}
	h.hold = true
	if code, _ := h.g.TxnCommit(h.now, txnReq(7, 0, map[TopicPartition]int64{tp: 1})); code != 0 {
		t.Fatal(kerr.ErrorForCode(code))
	}
	if !h.g.Unstable()[tp] {
		t.Fatal("a transactional offset on its way is not unstable")
	}
	h.g.persisted(h.now, h.g.TakeRecords(), syscall.ENOSPC)
	if len(h.g.Unstable()) != 0 || len(h.g.txns) != 0 || len(h.g.inflight) != 0 || !h.g.disposable() {
		t.Fatalf("a failed transactional offset left %v %v", h.g.txns, h.g.inflight)
	}
	h.g.TxnCommit(h.now, txnReq(7, 0, map[TopicPartition]int64{tp: 2}))
	h.g.persisted(h.now, h.g.TakeRecords(), nil)
	if err := h.g.CompleteTxn(7, 0, true); err != nil {
		t.Fatal(err)
	}
	h.g.persisted(h.now, h.g.TakeRecords(), syscall.ENOSPC)
	if !h.g.Unstable()[tp] || len(h.g.Offsets()) != 0 {
		t.Fatal("a failed marker took effect")
	}
	h.hold = false
	if err := h.completeTxn(7, 0, true); err != nil {
		t.Fatal(err)
	}
	h.expectOffsets(map[TopicPartition]int64{tp: 2})
}

// TestTxnPendingOffsetsAndDeletion: as Kafka's tombstones do, deleting a
// partition's offset drops its pending transactional offsets, and a
// group deletion drops them all; expiry keeps both the partition and the
// group while a transaction is open.
func TestTxnPendingOffsetsAndDeletion(t *testing.T) {
	a, b := TopicPartition{"t", 0}, TopicPartition{"u", 0}
	pending := func(h *harness) {
		h.commit(CommitRequest{Generation: -1, Offsets: []Commit{{TopicPartition: a, Offset: 1}, {TopicPartition: b, Offset: 1}}})
		h.mustTxnCommit(txnReq(7, 0, map[TopicPartition]int64{a: 5, b: 5}))
	}

	t.Run("offset delete", func(t *testing.T) {
		h := newHarness(t)
		pending(h)
		if code, codes := h.g.DeleteOffsets(h.now, []TopicPartition{a}); code != 0 || codes[0] != 0 {
			t.Fatal(kerr.ErrorForCode(code))
		}
		h.settle()
		h.completeTxn(7, 0, true)
		h.expectOffsets(map[TopicPartition]int64{b: 5})
	})
	t.Run("offset delete of a partition with only a pending offset", func(t *testing.T) {
		h := newHarness(t)
		c := TopicPartition{"t", 9}
		h.mustTxnCommit(txnReq(7, 0, map[TopicPartition]int64{c: 5}))
		h.takeRecords()
		h.g.DeleteOffsets(h.now, []TopicPartition{c})
		if recs := h.takeRecords(); len(recs) != 1 || recs[0].kind != kindOffsetDelete {
			t.Fatalf("records %+v", recs)
		}
		if len(h.g.txns) != 0 {
			t.Fatal("pending offset survived its deletion")
		}
	})
	t.Run("topic deleted", func(t *testing.T) {
		h := newHarness(t)
		pending(h)
		h.g.DeleteOffsetsWhere(h.now, func(topic string) bool { return topic == "u" })
		h.settle()
		h.completeTxn(7, 0, true)
		h.expectOffsets(map[TopicPartition]int64{a: 5})
	})
	t.Run("group deleted", func(t *testing.T) {
		h := newHarness(t)
		pending(h)
		if code := h.g.Delete(h.now); code != 0 {
			t.Fatal(kerr.ErrorForCode(code))
		}
		h.settle()
		if !h.g.IsDead() || len(h.g.txns) != 0 {
			t.Fatal("group deletion kept pending offsets")
		}
	})
	t.Run("expiry", func(t *testing.T) {
		h := newHarness(t)
		pending(h)
		h.now = h.now.Add(30 * 24 * time.Hour)
		c := TopicPartition{"v", 0}
		h.g.offsets[c] = Offset{Offset: 3, CommitTime: t0} // an offset with no transaction: expires
		if n, deleting := h.g.ExpireOffsets(h.now, time.Hour); n != 1 || deleting {
			t.Fatalf("expired %d, deleting %v; want only the partition without a transaction", n, deleting)
		}
		h.settle()
		h.expectOffsets(map[TopicPartition]int64{a: 1, b: 1})
		if err := h.completeTxn(7, 0, false); err != nil {
			t.Fatal(err)
		}
		if n, deleting := h.g.ExpireOffsets(h.now, time.Hour); n != 2 || !deleting {
			t.Fatalf("after the transaction: expired %d, deleting %v", n, deleting)
		}
	})
	t.Run("group with only pending offsets is kept", func(t *testing.T) {
		h := newHarness(t)
		h.mustTxnCommit(txnReq(7, 0, map[TopicPartition]int64{a: 5}))
		h.now = h.now.Add(30 * 24 * time.Hour)
		if n, deleting := h.g.ExpireOffsets(h.now, time.Hour); n != 0 || deleting || h.g.disposable() {
			t.Fatalf("expired %d, deleting %v, disposable %v", n, deleting, h.g.disposable())
		}
	})
}
