package webconsole

// ratelimit.go limits sign-in attempts, per client IP address (IPv6 by /64,
// what one machine usually has) and per user name: after limitFree
// failures within limitWindow, each further attempt must wait, 1 s after
// the fifth failure, 2 s after the sixth, 4 s ... up to limitMaxWait; an
// attempt made while it must wait is refused (429 with Retry-After) without
// the password being tried. Nothing sleeps: a refused attempt is answered
// at once, so an attacker cannot hold the server's goroutines. A success
// forgets the user name's failures (not the IP address's: an attacker must
// not clear its address by signing in to an account of its own). At most
// limitMaxInflight attempts per key are checked at once, so parallel
// requests cannot slip past the count before it is updated.
//
// Memory is bounded: at most limitMaxKeys addresses and as many names; an
// entry is forgotten limitWindow after its last failure; when the table is
// full, the least recently failed entry that is not blocked makes room, and
// when every entry is blocked a new key is refused until one frees, so
// that flooding the table cannot clear a blocked key.

import (
	"net"
	"sync"
	"time"
)

// Sign-in limits.
const (
	limitFree        = 5
	limitWindow      = 15 * time.Minute
	limitFirstWait   = time.Second
	limitMaxWait     = 5 * time.Minute
	limitMaxKeys     = 10000
	limitMaxInflight = 2
)

// limitEntry is one key's recent failures.
type limitEntry struct {
	failures int
	last     time.Time // of the last failure
	until    time.Time // attempts before this are refused
	inflight int       // attempts being checked now
}

// stale reports whether e can be forgotten.
func (e *limitEntry) stale(now time.Time) bool {
	return e.inflight == 0 && now.Sub(e.last) > limitWindow && !now.Before(e.until)
}

// limitTable is one kind of key's entries.
type limitTable map[string]*limitEntry

// limiter holds the sign-in failures by IP address and by user name.
type limiter struct {
	mu    sync.Mutex
	ips   limitTable
	users limitTable
}

// newLimiter returns an empty limiter.
func newLimiter() *limiter {
	return &limiter{ips: limitTable{}, users: limitTable{}}
}

// ipKey is the key of a client address: the address, or an IPv6
// address's /64.
func ipKey(ip string) string {
	p := net.ParseIP(ip)
	if p == nil || p.To4() != nil {
		return ip
	}
	return p.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// outcome is how an attempt ended.
type outcome int

const (
	attemptFailed    outcome = iota // wrong user name or password
	attemptSucceeded                // signed in
	attemptUnknown                  // the password could not be checked (cluster unreachable)
)

// begin asks whether an attempt for user from ip may be checked now. If
// not, it returns how long to wait; else it returns 0 and the caller must
// call end with the outcome.
func (l *limiter) begin(ip, user string, now time.Time) time.Duration {
	ip = ipKey(ip)
	l.mu.Lock()
	defer l.mu.Unlock()
	ei, wi := l.ips.entry(ip, now)
	eu, wu := l.users.entry(user, now)
	if wait := max(wi, wu); wait > 0 {
		return wait
	}
	for _, e := range []*limitEntry{ei, eu} {
		if wait := e.until.Sub(now); wait > 0 {
			return wait
		}
	}
	if ei.inflight >= limitMaxInflight || eu.inflight >= limitMaxInflight {
		return limitFirstWait
	}
	ei.inflight++
	eu.inflight++
	return 0
}

// end records the outcome of an attempt begin allowed.
func (l *limiter) end(ip, user string, o outcome, now time.Time) {
	ip = ipKey(ip)
	l.mu.Lock()
	defer l.mu.Unlock()
	for i, k := range []struct {
		t   limitTable
		key string
	}{{l.ips, ip}, {l.users, user}} {
		e := k.t[k.key]
		if e == nil {
			continue // cannot happen: begin made it, and inflight keeps it
		}
		e.inflight--
		switch {
		case o == attemptFailed:
			if now.Sub(e.last) > limitWindow {
				e.failures = 0
			}
			e.failures++
			e.last = now
			if n := e.failures - limitFree; n >= 0 {
				wait := limitMaxWait
				if n < 20 {
					wait = min(limitFirstWait<<n, limitMaxWait)
				}
				e.until = now.Add(wait)
			}
		case o == attemptSucceeded && i == 1: // the user's, not the address's
			e.failures, e.until, e.last = 0, time.Time{}, time.Time{}
		}
		if e.inflight == 0 && e.failures == 0 {
			delete(k.t, k.key)
		}
	}
}

// entry returns key's entry, made if new. When the table is full and no
// entry can make room, it returns a wait instead (and a nil entry).
func (t limitTable) entry(key string, now time.Time) (*limitEntry, time.Duration) {
	if e := t[key]; e != nil {
		if e.stale(now) {
			*e = limitEntry{}
		}
		return e, 0
	}
	if len(t) >= limitMaxKeys {
		if wait := t.makeRoom(now); wait > 0 {
			return nil, wait
		}
	}
	e := &limitEntry{}
	t[key] = e
	return e, 0
}

// makeRoom removes the stale entries, or else the least recently failed
// one that is not blocked; if every entry is blocked or busy it returns
// how long until the first one frees.
func (t limitTable) makeRoom(now time.Time) time.Duration {
	var (
		victim   string
		oldest   time.Time
		soonest  time.Duration = limitMaxWait
		anyStale bool
	)
	for k, e := range t {
		switch {
		case e.stale(now):
			delete(t, k)
			anyStale = true
		case e.inflight == 0 && !now.Before(e.until):
			if victim == "" || e.last.Before(oldest) {
				victim, oldest = k, e.last
			}
		default:
			soonest = min(soonest, max(e.until.Sub(now), limitFirstWait))
		}
	}
	switch {
	case anyStale:
		return 0
	case victim != "":
		delete(t, victim)
		return 0
	}
	return soonest
}

// sweep forgets the stale entries.
func (l *limiter) sweep(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, t := range []limitTable{l.ips, l.users} {
		for k, e := range t {
			if e.stale(now) {
				delete(t, k)
			}
		}
	}
}
