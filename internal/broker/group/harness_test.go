package group

// harness_test.go is the hand-driven harness of the group state machine
// tests (group_test.go, durability_test.go): one group, the time, and the
// journal's part played by hand: after each event the group's records are
// reported durable (settle), unless a test holds them to report an outcome
// itself.

import (
	"fmt"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"
)

var t0 = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

const (
	session   = 10 * time.Second
	rebalance = 30 * time.Second
)

// harness holds a group and the time.
type harness struct {
	t    *testing.T
	cfg  config
	g    *Group
	now  time.Time
	ids  int
	hold bool     // leave records for the test to report
	recs []record // records reported durable since takeRecords
}

// settle reports the group's records durable, unless held.
func (h *harness) settle() {
	for !h.hold {
		recs := h.g.TakeRecords()
		if len(recs) == 0 {
			return
		}
		h.recs = append(h.recs, recs...)
		h.g.persisted(h.now, recs, nil)
	}
}

// takeRecords returns the records reported durable since the last call.
func (h *harness) takeRecords() []record {
	h.settle()
	out := h.recs
	h.recs = nil
	return out
}

// commit commits offsets and settles.
func (h *harness) commit(req CommitRequest) (int16, []int16) {
	code, codes := h.g.Commit(h.now, req)
	h.settle()
	return code, codes
}

func newHarness(t *testing.T, opts ...Opt) *harness {
	h := &harness{t: t, cfg: defaultConfig(), now: t0}
	h.cfg.initialDelay = 0
	h.cfg.newMemberID = func(clientID string) string {
		h.ids++
		return fmt.Sprintf("%s-%d", clientID, h.ids)
	}
	for _, o := range opts {
		o(&h.cfg)
	}
	h.g = newGroup("g", &h.cfg, h.now)
	return h
}

// advance moves time forward, firing deadlines as they fall due.
func (h *harness) advance(d time.Duration) {
	end := h.now.Add(d)
	for {
		next, ok := h.g.NextDeadline()
		if !ok || next.After(end) {
			break
		}
		if next.After(h.now) {
			h.now = next
		}
		h.g.Tick(h.now)
		h.settle()
	}
	h.now = end
}

// pendingJoin collects a join's answer.
type pendingJoin struct {
	resp  *kmsg.JoinGroupResponse
	calls int
}

func (p *pendingJoin) done() bool { return p.calls > 0 }

type joinOpt func(*kmsg.JoinGroupRequest)

func withVersion(v int16) joinOpt { return func(r *kmsg.JoinGroupRequest) { r.Version = v } }
func withInstance(id string) joinOpt {
	return func(r *kmsg.JoinGroupRequest) { r.InstanceID = &id }
}
func withProtocols(names ...string) joinOpt {
	return func(r *kmsg.JoinGroupRequest) {
		r.Protocols = nil
		for _, n := range names {
			r.Protocols = append(r.Protocols, kmsg.JoinGroupRequestProtocol{Name: n, Metadata: []byte("meta-" + n)})
		}
	}
}
func withTimeouts(session, rebalance time.Duration) joinOpt {
	return func(r *kmsg.JoinGroupRequest) {
		r.SessionTimeoutMillis = int32(session / time.Millisecond)
		r.RebalanceTimeoutMillis = int32(rebalance / time.Millisecond)
	}
}
func withType(pt string) joinOpt { return func(r *kmsg.JoinGroupRequest) { r.ProtocolType = pt } }
func withMetadata(meta string) joinOpt {
	return func(r *kmsg.JoinGroupRequest) { r.Protocols[0].Metadata = []byte(meta) }
}

// join sends a JoinGroup for memberID ("" for a new member).
func (h *harness) join(client, memberID string, opts ...joinOpt) *pendingJoin {
	req := kmsg.NewPtrJoinGroupRequest()
	req.Version = 9
	req.Group = "g"
	req.MemberID = memberID
	req.SessionTimeoutMillis = int32(session / time.Millisecond)
	req.RebalanceTimeoutMillis = int32(rebalance / time.Millisecond)
	req.ProtocolType = "consumer"
	withProtocols("range")(req)
	for _, o := range opts {
		o(req)
	}
	p := &pendingJoin{}
	h.g.Join(h.now, req, Client{ID: client, Host: "/127.0.0.1"}, func(r *kmsg.JoinGroupResponse) {
		p.resp = r
		p.calls++
	})
	h.settle()
	return p
}

// joinNew joins a new dynamic member through MEMBER_ID_REQUIRED and
// returns the second join.
func (h *harness) joinNew(client string, opts ...joinOpt) *pendingJoin {
	h.t.Helper()
	first := h.join(client, "", opts...)
	h.expectJoinError(first, kerr.MemberIDRequired)
	return h.join(client, first.resp.MemberID, opts...)
}

func (h *harness) expectJoinError(p *pendingJoin, want *kerr.Error) {
	h.t.Helper()
	if !p.done() {
		h.t.Fatalf("join not answered, want %v", want)
	}
	if got := kerr.ErrorForCode(p.resp.ErrorCode); got != want {
		h.t.Fatalf("join error %v, want %v", got, want)
	}
}

// joined checks a successful join answer and returns the member id.
func (h *harness) joined(p *pendingJoin, gen int32) string {
	h.t.Helper()
	if !p.done() {
		h.t.Fatal("join not answered")
	}
	if p.calls != 1 {
		h.t.Fatalf("join answered %d times", p.calls)
	}
	if err := kerr.ErrorForCode(p.resp.ErrorCode); err != nil {
		h.t.Fatalf("join: %v", err)
	}
	if p.resp.Generation != gen {
		h.t.Fatalf("join generation %d, want %d", p.resp.Generation, gen)
	}
	return p.resp.MemberID
}

// pendingSync collects a sync's answer.
type pendingSync struct {
	resp  *kmsg.SyncGroupResponse
	calls int
}

func (h *harness) sync(memberID string, gen int32, assign map[string]string) *pendingSync {
	req := kmsg.NewPtrSyncGroupRequest()
	req.Version = 5
	req.Group = "g"
	req.MemberID = memberID
	req.Generation = gen
	for id, a := range assign {
		req.GroupAssignment = append(req.GroupAssignment, kmsg.SyncGroupRequestGroupAssignment{MemberID: id, MemberAssignment: []byte(a)})
	}
	p := &pendingSync{}
	h.g.Sync(h.now, req, func(r *kmsg.SyncGroupResponse) {
		p.resp = r
		p.calls++
	})
	h.settle()
	return p
}

func (h *harness) synced(p *pendingSync, want string) {
	h.t.Helper()
	if p.calls != 1 {
		h.t.Fatalf("sync answered %d times", p.calls)
	}
	if err := kerr.ErrorForCode(p.resp.ErrorCode); err != nil {
		h.t.Fatalf("sync: %v", err)
	}
	if string(p.resp.MemberAssignment) != want {
		h.t.Fatalf("assignment %q, want %q", p.resp.MemberAssignment, want)
	}
}

func (h *harness) syncError(p *pendingSync, want *kerr.Error) {
	h.t.Helper()
	if p.calls != 1 {
		h.t.Fatalf("sync answered %d times", p.calls)
	}
	if got := kerr.ErrorForCode(p.resp.ErrorCode); got != want {
		h.t.Fatalf("sync error %v, want %v", got, want)
	}
}

func (h *harness) heartbeat(memberID string, gen int32) error {
	req := kmsg.NewPtrHeartbeatRequest()
	req.Group, req.MemberID, req.Generation = "g", memberID, gen
	return kerr.ErrorForCode(h.g.Heartbeat(h.now, req))
}

func (h *harness) expectState(s State) {
	h.t.Helper()
	if h.g.State() != s {
		h.t.Fatalf("state %v, want %v", h.g.State(), s)
	}
}

// stableOne makes a one-member stable group and returns the member id.
func (h *harness) stableOne(client string) string {
	h.t.Helper()
	gen := h.g.Generation() + 1
	id := h.joined(h.joinNew(client), gen)
	h.synced(h.sync(id, h.g.Generation(), map[string]string{id: "a-" + id}), "a-"+id)
	h.expectState(Stable)
	return id
}
