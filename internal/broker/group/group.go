package group

// group.go is one group's state: its members, generation and committed
// offsets, the deadlines that drive it, and the records it asks to persist.
// The transitions live in membership.go (join, sync, heartbeat, leave) and
// offsets.go (commit, fetch, delete, expire).

import (
	"slices"
	"sort"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"
)

// State is a classic group's state, as Kafka names them.
type State int8

const (
	// Empty: no members; offsets may still be committed (generation -1).
	Empty State = iota
	// PreparingRebalance: waiting for members to (re)join.
	PreparingRebalance
	// CompletingRebalance: joined; waiting for the leader's assignment.
	CompletingRebalance
	// Stable: assignment handed out; members heartbeat.
	Stable
	// Dead: deleted; the coordinator forgets the group.
	Dead
)

// String returns Kafka's name for the state, as DescribeGroups and
// ListGroups report it.
func (s State) String() string {
	switch s {
	case Empty:
		return "Empty"
	case PreparingRebalance:
		return "PreparingRebalance"
	case CompletingRebalance:
		return "CompletingRebalance"
	case Stable:
		return "Stable"
	default:
		return "Dead"
	}
}

// TopicPartition names a partition.
type TopicPartition struct {
	Topic     string
	Partition int32
}

// Offset is a committed offset.
type Offset struct {
	Offset      int64
	LeaderEpoch int32
	Metadata    *string
	CommitTime  time.Time

	// seq is the offset's record's place among the group's durable
	// offset records (commits and transactional commits), in journal
	// order: Kafka's record offset in __consumer_offsets, which decides
	// whether a committed transaction's offset replaces a commit (txn.go).
	// Not encoded: a replay numbers records again, in the same order.
	seq uint64
}

// member is one member of the group.
type member struct {
	id               string
	instanceID       *string
	clientID         string
	clientHost       string
	sessionTimeout   time.Duration
	rebalanceTimeout time.Duration
	protocols        []kmsg.JoinGroupRequestProtocol
	assignment       []byte

	// onJoin is set while the member waits for the join phase to end.
	onJoin      func(*kmsg.JoinGroupResponse)
	joinVersion int16
	// onSync is set while the member waits for the leader's assignment.
	onSync      func(*kmsg.SyncGroupResponse)
	syncVersion int16
	// expires is when the member's session ends unless it heartbeats;
	// it does not apply while the member waits in a join or sync.
	expires time.Time
}

// metadataFor returns the member's metadata for protocol name.
func (m *member) metadataFor(name string) []byte {
	for _, p := range m.protocols {
		if p.Name == name {
			return p.Metadata
		}
	}
	return nil
}

// sameProtocols reports whether a rejoin changes nothing.
func (m *member) sameProtocols(ps []kmsg.JoinGroupRequestProtocol) bool {
	return slices.EqualFunc(m.protocols, ps, func(a, b kmsg.JoinGroupRequestProtocol) bool {
		return a.Name == b.Name && string(a.Metadata) == string(b.Metadata)
	})
}

// Group is one consumer group's state machine. It does no I/O and reads no
// clock: every method takes the current time. It is not safe for
// concurrent use; the Coordinator serializes access with a mutex per group.
type Group struct {
	id  string
	cfg *config

	state      State
	stateSince time.Time

	protocolType string
	protocol     string
	generation   int32
	leader       string
	members      map[string]*member
	static       map[string]string    // instance id -> member id
	pending      map[string]time.Time // member ids handed out (MEMBER_ID_REQUIRED) -> expiry
	pendingSync  map[string]bool      // members that have not synced this generation

	// joinDeadline ends the join phase (PreparingRebalance).
	joinDeadline time.Time
	// initialJoin is set during the initial rebalance delay; newJoiner
	// records a join during it, which extends it (up to joinLimit).
	initialJoin bool
	newJoiner   bool
	joinLimit   time.Time
	// syncDeadline ends the wait for pendingSync members.
	syncDeadline time.Time

	// offsets holds the durable commits only: what OffsetFetch shows and
	// what a restart restores. A commit, deletion or group deletion
	// changes it when its record is durable (persisted), never before,
	// and a record that fails leaves it as it was.
	offsets map[TopicPartition]Offset
	// inflight counts, per partition, commit records (transactional ones
	// too) not yet durable, so that deletions cover them and the group is
	// not dropped meanwhile.
	inflight map[TopicPartition]int
	// txns holds, per producer id, the transactional offsets waiting for
	// their transaction's marker (txn.go); only durable ones count.
	txns txnSet
	// seq numbers the durable offset records (Offset.seq).
	seq uint64
	// assigning is set while the leader's assignment is being persisted:
	// the group stays CompletingRebalance, and the members wait for their
	// assignments, until it is durable (as in Kafka's storeGroup).
	assigning bool

	// cg is the state of a consumer group (KIP-848); nil for a classic
	// group, whose state is the fields above.
	cg *consumerGroup

	// out holds records to persist, drained by TakeRecords.
	out []record
	// lastBatch is the outcome of the group's last batch of records
	// (set by the coordinator): an answer showing the group's live state
	// waits for it, since the state may include what it writes.
	lastBatch *pending
}

// newGroup returns an empty group.
func newGroup(id string, cfg *config, now time.Time) *Group {
	return &Group{
		id:          id,
		cfg:         cfg,
		stateSince:  now,
		members:     map[string]*member{},
		static:      map[string]string{},
		pending:     map[string]time.Time{},
		pendingSync: map[string]bool{},
		offsets:     map[TopicPartition]Offset{},
		inflight:    map[TopicPartition]int{},
		txns:        txnSet{},
	}
}

// ID returns the group id.
func (g *Group) ID() string { return g.id }

// State returns the group's state.
func (g *Group) State() State { return g.state }

// Generation returns the current generation.
func (g *Group) Generation() int32 { return g.generation }

// Leader returns the leader's member id ("" when none).
func (g *Group) Leader() string { return g.leader }

// Protocol returns the selected protocol ("" when none).
func (g *Group) Protocol() string { return g.protocol }

// ProtocolType returns the group's protocol type, e.g. "consumer".
func (g *Group) ProtocolType() string { return g.protocolType }

// Members returns the member ids, sorted.
func (g *Group) Members() []string {
	ids := make([]string, 0, len(g.members))
	for id := range g.members {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return ids
}

// sortedMembers returns the members in id order, for determinism.
func (g *Group) sortedMembers() []*member {
	ms := make([]*member, 0, len(g.members))
	for _, m := range g.members {
		ms = append(ms, m)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].id < ms[j].id })
	return ms
}

// TakeRecords returns and forgets the records the group wants persisted,
// in the order they arose. The caller reports their outcome with
// persisted, in the same order.
func (g *Group) TakeRecords() []record {
	out := g.out
	g.out = nil
	return out
}

// IsDead reports whether the group can be forgotten.
func (g *Group) IsDead() bool { return g.state == Dead }

// transition changes state.
func (g *Group) transition(s State, now time.Time) {
	g.state = s
	g.stateSince = now
}

// NextDeadline returns when Tick should next be called, and false when
// nothing is pending.
func (g *Group) NextDeadline() (time.Time, bool) {
	var next time.Time
	consider := func(t time.Time) {
		if !t.IsZero() && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	for _, m := range g.members {
		if m.onJoin == nil && m.onSync == nil {
			consider(m.expires)
		}
	}
	for _, t := range g.pending {
		consider(t)
	}
	if g.state == PreparingRebalance {
		consider(g.joinDeadline)
	}
	if len(g.pendingSync) > 0 && (g.state == CompletingRebalance || g.state == Stable) {
		consider(g.syncDeadline)
	}
	if g.cg != nil {
		g.cg.nextDeadline(consider)
	}
	return next, !next.IsZero()
}

// Tick fires every deadline that has passed: expired sessions remove
// their members, pending member ids lapse, members that did not sync in
// time are removed, and the join phase ends.
func (g *Group) Tick(now time.Time) {
	if g.cg != nil {
		g.flushDirty()
		g.tickConsumer(now)
	}
	for _, m := range g.sortedMembers() {
		if m.onJoin == nil && m.onSync == nil && !m.expires.After(now) {
			if _, still := g.members[m.id]; still {
				g.cfg.logger.Info("group member session expired", "group", g.id, "member", m.id)
				g.removeMember(m, now)
			}
		}
	}
	for id, t := range g.pending {
		if !t.After(now) {
			delete(g.pending, id)
			if g.state == PreparingRebalance {
				g.tryCompleteJoin(now)
			}
		}
	}
	if len(g.pendingSync) > 0 && (g.state == CompletingRebalance || g.state == Stable) && !g.syncDeadline.After(now) {
		g.expirePendingSync(now)
	}
	if g.state == PreparingRebalance && !g.joinDeadline.After(now) {
		g.joinPhaseTimedOut(now)
	}
}
