package share

// session.go is share sessions (Kafka's ShareSessionCache): a member's
// partitions on this broker and the epoch its next ShareFetch or
// ShareAcknowledge must carry. Epoch 0 opens a session (replacing the
// member's previous one), -1 closes it, anything else must be the
// session's current epoch (INVALID_SHARE_SESSION_EPOCH otherwise;
// SHARE_SESSION_NOT_FOUND without a session). Closing a session, or the
// connection it was opened on, releases what the member holds in its
// partitions, as Kafka does, so another member gets those records at once
// instead of after their lock expires.

import (
	"context"
	"math"
	"slices"

	"github.com/twmb/franz-go/pkg/kerr"
)

// session is one member's share session.
type session struct {
	epoch int32
	parts []TopicPartition // in the order added: fetches rotate over them
	// in is parts as a set: a request naming many partitions costs a
	// lookup each, not a scan of the session.
	in     map[TopicPartition]bool
	connID uint64
	// turn is where the next fetch starts reading, for fairness.
	turn int
}

// add puts tp in the session.
func (s *session) add(tp TopicPartition) {
	if s.in == nil {
		s.in = map[TopicPartition]bool{}
	}
	if !s.in[tp] {
		s.in[tp] = true
		s.parts = append(s.parts, tp)
	}
}

// forget takes the partitions of gone out of the session, in one pass.
func (s *session) forget(gone map[TopicPartition]bool) {
	n := 0
	for tp := range gone {
		if s.in[tp] {
			delete(s.in, tp)
			n++
		}
	}
	if n > 0 {
		s.parts = slices.DeleteFunc(s.parts, func(x TopicPartition) bool { return gone[x] })
	}
}

// bump moves to the next epoch; past MaxInt32 it wraps to 1, as Kafka's
// ShareRequestMetadata.nextEpoch does.
func (s *session) bump() {
	if s.epoch == math.MaxInt32 {
		s.epoch = 1
		return
	}
	s.epoch++
}

// openSessionLocked opens member's session on conn, replacing (and
// releasing the records of) a previous one.
func (c *Coordinator) openSessionLocked(g *shareGroup, memberID string, connID uint64, connCtx context.Context) (*session, *waiter, error) {
	var w *waiter
	if old := g.sessions[memberID]; old != nil {
		w = c.releaseMemberLocked(g, memberID, old.parts)
		c.dropSessionLocked(g, memberID)
	}
	if c.sessions >= c.opts.MaxSessions {
		return nil, w, kerr.ShareSessionLimitReached
	}
	s := &session{connID: connID}
	g.sessions[memberID] = s
	c.sessions++
	c.watchConnLocked(connID, connCtx)
	return s, w, nil
}

// sessionLocked returns member's session for a request of epoch (> 0).
func sessionLocked(g *shareGroup, memberID string, epoch int32) (*session, error) {
	s := g.sessions[memberID]
	switch {
	case s == nil:
		return nil, kerr.ShareSessionNotFound
	case s.epoch != epoch:
		return nil, kerr.InvalidShareSessionEpoch
	}
	return s, nil
}

// dropSessionLocked ends member's session (its records are the caller's
// business).
func (c *Coordinator) dropSessionLocked(g *shareGroup, memberID string) {
	if g.sessions[memberID] != nil {
		delete(g.sessions, memberID)
		c.sessions--
	}
}

// watchConnLocked arranges for connClosed to run when the connection a
// session was opened on closes (connCtx ends with it).
func (c *Coordinator) watchConnLocked(connID uint64, connCtx context.Context) {
	if connCtx == nil || c.conns == nil {
		return
	}
	if _, ok := c.conns[connID]; ok {
		return
	}
	c.conns[connID] = context.AfterFunc(connCtx, func() { c.connClosed(connID) })
}

// connClosed ends the sessions opened on a closed connection and releases
// their members' records in them.
func (c *Coordinator) connClosed(connID uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	delete(c.conns, connID)
	for _, g := range c.groups {
		for id, s := range g.sessions {
			if s.connID != connID {
				continue
			}
			c.releaseMemberLocked(g, id, s.parts)
			c.dropSessionLocked(g, id)
		}
	}
}

// SessionCount returns the open share sessions.
func (c *Coordinator) SessionCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.sessions
}
