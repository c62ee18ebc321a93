package share

// coordinator_test.go tests membership (validation, epochs, the shared
// assignment, session timeouts), share sessions' epochs, the admin APIs,
// and what a reopen of the journal keeps.

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

func TestHeartbeatValidation(t *testing.T) {
	h := newHarness(t)
	h.c.opts.OtherGroup = func(g string) bool { return g == "classic" }
	long := "0123456789012345678901234567890123456"
	for _, tc := range []struct {
		name          string
		group, member string
		epoch         int32
		topics        []string
		want          *kerr.Error
	}{
		{"empty group", "", "m", 0, []string{"two"}, kerr.InvalidRequest},
		{"empty member", "g", "", 0, []string{"two"}, kerr.InvalidRequest},
		{"member id too long", "g", long, 0, []string{"two"}, kerr.InvalidRequest},
		{"epoch below -1", "g", "m", -2, []string{"two"}, kerr.InvalidRequest},
		{"join without topics", "g", "m", 0, nil, kerr.InvalidRequest},
		{"a classic group's id", "classic", "m", 0, []string{"two"}, kerr.GroupIDNotFound},
		{"unknown group", "nope", "m", 3, nil, kerr.GroupIDNotFound},
		{"leave unknown member", "nope", "m", -1, nil, kerr.UnknownMemberID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resp := h.heartbeat(tc.group, tc.member, tc.epoch, tc.topics...)
			if resp.ErrorCode != tc.want.Code {
				t.Fatalf("error %v, want %v", kerr.ErrorForCode(resp.ErrorCode), tc.want)
			}
		})
	}
}

func TestHeartbeatEpochsAndFencing(t *testing.T) {
	h := newHarness(t)
	r := h.heartbeat("g", "a", 0, "two")
	if r.ErrorCode != 0 || r.MemberEpoch != 1 || r.Assignment == nil || r.HeartbeatIntervalMillis != 5000 {
		t.Fatalf("join: %+v", r)
	}
	if got := r.Assignment.TopicPartitions[0].Partitions; !slices.Equal(got, []int32{0, 1}) {
		t.Fatalf("a alone is assigned %v", got)
	}
	// b joins: the group epoch moves; a learns it on its next heartbeat.
	if r := h.heartbeat("g", "b", 0, "two"); r.MemberEpoch <= 1 {
		t.Fatalf("b joined at epoch %d", r.MemberEpoch)
	}
	r = h.heartbeat("g", "a", 1)
	if r.ErrorCode != 0 || r.MemberEpoch <= 1 || r.Assignment == nil || len(r.Assignment.TopicPartitions[0].Partitions) != 1 {
		t.Fatalf("a after b joined: %+v", r)
	}
	// The previous epoch is still accepted (a lost response), an older one
	// fenced.
	if r2 := h.heartbeat("g", "a", 1); r2.ErrorCode != 0 {
		t.Fatalf("previous epoch: %v", kerr.ErrorForCode(r2.ErrorCode))
	}
	if r2 := h.heartbeat("g", "a", 0xffff); r2.ErrorCode != kerr.FencedMemberEpoch.Code {
		t.Fatalf("wrong epoch: %v", kerr.ErrorForCode(r2.ErrorCode))
	}
	if r2 := h.heartbeat("g", "a", -1); r2.ErrorCode != 0 || r2.MemberEpoch != -1 {
		t.Fatalf("leave: %+v", r2)
	}
	if r2 := h.heartbeat("g", "a", r.MemberEpoch); r2.ErrorCode != kerr.UnknownMemberID.Code {
		t.Fatalf("after leaving: %v", kerr.ErrorForCode(r2.ErrorCode))
	}
}

// TestAssignmentShared: with more members than partitions each partition
// is shared, and every member gets one; with fewer, each partition has
// exactly one member; a topic's growth reassigns without a rejoin.
func TestAssignmentShared(t *testing.T) {
	for _, tc := range []struct {
		members, partitions int
	}{{8, 2}, {3, 2}, {1, 5}, {2, 5}, {5, 5}, {7, 3}} {
		t.Run(fmt.Sprintf("%d members, %d partitions", tc.members, tc.partitions), func(t *testing.T) {
			h := newHarness(t)
			h.topics["t"] = struct {
				id [16]byte
				n  int32
			}{id: [16]byte{9}, n: int32(tc.partitions)}
			for i := range tc.members {
				h.heartbeat("g", fmt.Sprint("m", i), 0, "t")
			}
			checkAssignment(t, h, tc.members, tc.partitions)
			h.topics["t"] = struct {
				id [16]byte
				n  int32
			}{id: [16]byte{9}, n: int32(tc.partitions + 3)}
			h.heartbeat("g", "m0", h.memberEpoch("g", "m0"))
			checkAssignment(t, h, tc.members, tc.partitions+3)
		})
	}
}

func (h *harness) memberEpoch(group, member string) int32 {
	h.c.mu.Lock()
	defer h.c.mu.Unlock()
	return h.c.groups[group].members[member].epoch
}

func checkAssignment(t *testing.T, h *harness, members, partitions int) {
	t.Helper()
	h.c.mu.Lock()
	defer h.c.mu.Unlock()
	g := h.c.groups["g"]
	holders := make([]int, partitions)
	for id, m := range g.members {
		parts := m.assignment[[16]byte{9}]
		if len(parts) == 0 {
			t.Errorf("member %s has nothing", id)
		}
		for _, p := range parts {
			holders[p]++
		}
	}
	sharing := (members + partitions - 1) / partitions
	for p, n := range holders {
		if n == 0 || n > sharing {
			t.Errorf("partition %d has %d members, want 1 to %d: %v", p, n, sharing, holders)
		}
	}
}

func TestMemberSessionTimeout(t *testing.T) {
	h := newHarness(t)
	h.heartbeat("g", "a", 0, "two")
	h.heartbeat("g", "b", 0, "two")
	for range 20 { // a keeps heartbeating, b does not
		h.clock.Advance(3 * time.Second)
		h.heartbeat("g", "a", h.memberEpoch("g", "a"))
	}
	d, _, _ := h.c.Describe("g")
	if len(d.Members) != 1 || d.Members[0].MemberID != "a" {
		t.Fatalf("members after b's session timed out: %+v", d.Members)
	}
	if s := h.c.Stats(); s.MemberExpiries != 1 {
		t.Fatalf("member expiries %d", s.MemberExpiries)
	}
}

func TestSessionEpochs(t *testing.T) {
	h := newHarness(t)
	h.heartbeat("g", "a", 0, "two")
	ack := func(epoch int32) int16 {
		req := kmsg.NewPtrShareAcknowledgeRequest()
		req.Version = 2
		req.GroupID, req.MemberID, req.ShareSessionEpoch = kmsg.StringPtr("g"), kmsg.StringPtr("a"), epoch
		return h.c.ShareAcknowledge(req, func(string) bool { return true })(context.Background()).ErrorCode
	}
	fetch := func(epoch int32) *kmsg.ShareFetchResponse {
		req := kmsg.NewPtrShareFetchRequest()
		req.Version = 2
		req.GroupID, req.MemberID, req.ShareSessionEpoch = kmsg.StringPtr("g"), kmsg.StringPtr("a"), epoch
		return fetchNow(context.Background(), h.c.ShareFetch(req, Conn{ID: 1}, func(string) bool { return true }))
	}
	if c := ack(1); c != kerr.ShareSessionNotFound.Code {
		t.Fatalf("ack without a session: %v", kerr.ErrorForCode(c))
	}
	if c := ack(0); c != kerr.InvalidShareSessionEpoch.Code {
		t.Fatalf("ack opening a session: %v", kerr.ErrorForCode(c))
	}
	if r := fetch(0); r.ErrorCode != 0 || r.AcquisitionLockTimeoutMillis != 30000 {
		t.Fatalf("open: %+v", r)
	}
	if c := ack(2); c != kerr.InvalidShareSessionEpoch.Code {
		t.Fatalf("ack at a wrong epoch: %v", kerr.ErrorForCode(c))
	}
	if c := ack(1); c != 0 {
		t.Fatalf("ack at epoch 1: %v", kerr.ErrorForCode(c))
	}
	if r := fetch(2); r.ErrorCode != 0 {
		t.Fatalf("fetch at epoch 2: %v", kerr.ErrorForCode(r.ErrorCode))
	}
	if c := ack(-1); c != 0 || h.c.SessionCount() != 0 {
		t.Fatalf("close: %v, %d sessions", kerr.ErrorForCode(c), h.c.SessionCount())
	}
	if r := fetch(3); r.ErrorCode != kerr.ShareSessionNotFound.Code {
		t.Fatalf("fetch after close: %v", kerr.ErrorForCode(r.ErrorCode))
	}
	if r := fetch(-1); r.ErrorCode != kerr.ShareSessionNotFound.Code {
		t.Fatalf("close without a session: %v", kerr.ErrorForCode(r.ErrorCode))
	}
}

// TestAdminAndReopen: altered offsets, deletions and group existence are
// durable; a group with members refuses offset changes.
func TestAdminAndReopen(t *testing.T) {
	h := newHarness(t)
	code, codes, wait := h.c.AlterOffsets("g", []AlterPartition{{"two", 0, 8}, {"two", 1, 3}, {"two", 9, 1}, {"none", 0, 1}})
	if code != 0 || !slices.Equal(codes, []int16{0, 0, kerr.UnknownTopicOrPartition.Code, kerr.UnknownTopicOrPartition.Code}) {
		t.Fatalf("alter: %d %v", code, codes)
	}
	if err := wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	if code, _, _ := h.c.AlterOffsets("g", []AlterPartition{{"two", 0, -1}}); code != 0 {
		t.Fatalf("alter with a negative offset: group error %d", code)
	}
	h.heartbeat("busy", "m", 0, "two")
	if code, _, _ := h.c.AlterOffsets("busy", nil); code != kerr.NonEmptyGroup.Code {
		t.Fatalf("alter a group with members: %v", kerr.ErrorForCode(code))
	}
	if code, _ := h.c.DeleteGroup("busy"); code != kerr.NonEmptyGroup.Code {
		t.Fatalf("delete a group with members: %v", kerr.ErrorForCode(code))
	}
	h.reopen()
	offs, ok := h.c.Offsets("g")
	if !ok || len(offs) != 2 || offs[0].StartOffset != 8 || offs[1].StartOffset != 3 {
		t.Fatalf("offsets after reopen: %+v", offs)
	}
	if !h.c.Exists("busy") {
		t.Fatal("group busy lost at reopen")
	}
	code, codes, wait = h.c.DeleteOffsets("g", []string{"two", "none"})
	if code != 0 || !slices.Equal(codes, []int16{0, kerr.UnknownTopicOrPartition.Code}) || wait(context.Background()) != nil {
		t.Fatalf("delete offsets: %d %v", code, codes)
	}
	code, wait2 := h.c.DeleteGroup("g")
	if code != 0 || wait2(context.Background()) != nil {
		t.Fatalf("delete group: %v", kerr.ErrorForCode(code))
	}
	if code, _ := h.c.DeleteGroup("g"); code != kerr.GroupIDNotFound.Code {
		t.Fatalf("delete again: %v", kerr.ErrorForCode(code))
	}
	h.reopen()
	if h.c.Exists("g") {
		t.Fatal("deleted group back after reopen")
	}
	if _, ok := h.c.Offsets("busy"); !ok {
		t.Fatal("group busy lost at the second reopen")
	}
}

// TestDeletedTopicStateDropped: at open, share state of a topic that no
// longer exists is dropped, durably.
func TestDeletedTopicStateDropped(t *testing.T) {
	h := newHarness(t)
	_, _, wait := h.c.AlterOffsets("g", []AlterPartition{{"two", 0, 1}, {"three", 0, 2}})
	if err := wait(context.Background()); err != nil {
		t.Fatal(err)
	}
	delete(h.topics, "three")
	h.reopen()
	h.topics["three"] = struct {
		id [16]byte
		n  int32
	}{id: [16]byte{3}, n: 3}
	h.reopen()
	offs, _ := h.c.Offsets("g")
	if len(offs) != 1 || offs[0].Topic != "two" {
		t.Fatalf("offsets: %+v", offs)
	}
}
