package webconsole

// session.go keeps the signed-in sessions: a random token in an HttpOnly,
// SameSite=Strict cookie (Secure under TLS), the user's Kafka session, a
// CSRF token, an idle and an absolute expiry. Without sign-in every
// visitor still gets a session, for its CSRF token: a console on
// 127.0.0.1 must not delete topics for a page on another site.
//
// Memory is bounded: at most maxSessions sessions (when full, a new one
// replaces the least recently used anonymous session, or is refused), at
// most maxSessionsPerUser per signed-in user (a new sign-in ends the
// user's oldest), expired ones removed by the sweeper Serve runs. Anonymous
// sessions (and those of --console-users accounts) share one Kafka
// session, the anonymous one: only sessions of cluster users own clients.

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"sync"
	"time"
)

// cookieName is the session cookie's name.
const cookieName = "courier_console"

// csrfHeader carries the session's CSRF token on every request that
// changes something: a custom header, which a cross-site form cannot send
// and a cross-site fetch cannot send without a CORS preflight the console
// never allows.
const csrfHeader = "X-Courier-CSRF"

// Bounds of the session store.
const (
	// maxSessions bounds the live sessions; a new one beyond it is
	// refused (503) until some expire.
	maxSessions = 10000
	// maxSessionsPerUser bounds one user's signed-in sessions (each holds
	// a Kafka client and its connections): a sign-in beyond it ends the
	// user's oldest session.
	maxSessionsPerUser = 20
)

// errTooManySessions refuses a session beyond maxSessions.
var errTooManySessions = &apiError{Status: http.StatusServiceUnavailable, Code: 50301, Message: "too many sessions: try again later"}

// session is one visitor's session.
type session struct {
	id      string
	user    string // "" when anonymous
	csrf    string
	kafka   *KafkaSession
	ownsK   bool // kafka is this session's own (closed with it)
	created time.Time
	// basic marks a request authenticated by HTTP Basic auth, or an
	// anonymous script's request without a cookie: no stored session, no
	// CSRF token (csrf.go says when such a request may change things).
	basic bool

	mu    sync.Mutex
	seen  time.Time
	admin adminState // admin.go
	// overview is the last overview sample, for rates (api_overview.go).
	overview *overviewSample
}

// sessions are the live sessions by id.
type sessions struct {
	idle, max time.Duration

	mu   sync.Mutex
	byID map[string]*session
}

// newSessions returns an empty store.
func newSessions(idle, max time.Duration) *sessions {
	return &sessions{idle: idle, max: max, byID: map[string]*session{}}
}

// newToken returns 32 random bytes, base64url-encoded.
func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (Go 1.24+)
	return base64.RawURLEncoding.EncodeToString(b)
}

// add starts a session for user with its Kafka session (owned: closed when
// the session ends). It refuses beyond maxSessions, after dropping the
// expired ones, and ends user's oldest session beyond maxSessionsPerUser.
func (st *sessions) add(user string, k *KafkaSession, owned bool, now time.Time) (*session, error) {
	ses := &session{id: newToken(), user: user, csrf: newToken(), kafka: k, ownsK: owned, created: now, seen: now}
	var ended []*session
	st.mu.Lock()
	if len(st.byID) >= maxSessions {
		ended = st.expiredLocked(now)
	}
	if len(st.byID) >= maxSessions {
		// Still full: the least recently used anonymous session makes
		// room (its visitor gets a new one on the next page), so that
		// visitors without credentials cannot lock others out; signed-in
		// sessions are only refused.
		if old := st.leastUsedAnonLocked(); old != nil {
			delete(st.byID, old.id)
			ended = append(ended, old)
		}
	}
	if len(st.byID) >= maxSessions {
		st.mu.Unlock()
		closeSessions(ended)
		return nil, errTooManySessions
	}
	if user != "" {
		var oldest *session
		n := 0
		for _, o := range st.byID {
			if o.user == user {
				n++
				if oldest == nil || o.created.Before(oldest.created) {
					oldest = o
				}
			}
		}
		if n >= maxSessionsPerUser {
			delete(st.byID, oldest.id)
			ended = append(ended, oldest)
		}
	}
	st.byID[ses.id] = ses
	st.mu.Unlock()
	closeSessions(ended)
	return ses, nil
}

// leastUsedAnonLocked returns the anonymous session used least recently,
// or nil.
func (st *sessions) leastUsedAnonLocked() *session {
	var old *session
	var oldSeen time.Time
	for _, ses := range st.byID {
		if ses.user != "" {
			continue
		}
		ses.mu.Lock()
		seen := ses.seen
		ses.mu.Unlock()
		if old == nil || seen.Before(oldSeen) {
			old, oldSeen = ses, seen
		}
	}
	return old
}

// expiredLocked removes the expired sessions and returns them, to be
// closed outside the lock.
func (st *sessions) expiredLocked(now time.Time) []*session {
	var out []*session
	for id, ses := range st.byID {
		if st.expired(ses, now) {
			delete(st.byID, id)
			out = append(out, ses)
		}
	}
	return out
}

// expired reports whether ses is past its idle or absolute expiry.
func (st *sessions) expired(ses *session, now time.Time) bool {
	ses.mu.Lock()
	defer ses.mu.Unlock()
	return now.Sub(ses.seen) > st.idle || now.Sub(ses.created) > st.max
}

// get returns the live session id names, or nil; an expired one is
// removed (its Kafka clients closed).
func (st *sessions) get(id string, now time.Time) *session {
	st.mu.Lock()
	ses := st.byID[id]
	st.mu.Unlock()
	if ses == nil {
		return nil
	}
	if st.expired(ses, now) {
		st.remove(id)
		return nil
	}
	ses.mu.Lock()
	ses.seen = now
	ses.mu.Unlock()
	return ses
}

// remove ends a session.
func (st *sessions) remove(id string) {
	st.mu.Lock()
	ses := st.byID[id]
	delete(st.byID, id)
	st.mu.Unlock()
	if ses != nil {
		closeSessions([]*session{ses})
	}
}

// sweep removes expired sessions and returns how many.
func (st *sessions) sweep(now time.Time) int {
	st.mu.Lock()
	ended := st.expiredLocked(now)
	st.mu.Unlock()
	closeSessions(ended)
	return len(ended)
}

// count returns the number of live sessions (expired ones not yet swept
// included).
func (st *sessions) count() int {
	st.mu.Lock()
	defer st.mu.Unlock()
	return len(st.byID)
}

// closeAll ends every session.
func (st *sessions) closeAll() {
	st.mu.Lock()
	all := make([]*session, 0, len(st.byID))
	for _, ses := range st.byID {
		all = append(all, ses)
	}
	st.byID = map[string]*session{}
	st.mu.Unlock()
	closeSessions(all)
}

// closeSessions closes the Kafka sessions the sessions own.
func closeSessions(ss []*session) {
	for _, ses := range ss {
		if ses.ownsK && ses.kafka != nil {
			ses.kafka.Close()
		}
	}
}

// setCookie gives the browser the session's cookie.
func (s *Server) setCookie(w http.ResponseWriter, ses *session) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: ses.id, Path: "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.tls != nil,
	})
}

// clearCookie removes the session cookie from the browser.
func (s *Server) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.tls != nil,
	})
}

// current returns the request's live session, or nil.
func (s *Server) current(r *http.Request) *session {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return nil
	}
	return s.ses.get(c.Value, s.now())
}

// errSignIn is the answer to an API request without a session when the
// console needs sign-in. It never comes with WWW-Authenticate: a browser
// must never be asked for (and then cache) credentials, or a cross-site
// page could use them.
var errSignIn = &apiError{Status: http.StatusUnauthorized, Code: 40101, Message: "sign in first"}

// authenticate returns the session an API request runs in: the request's
// HTTP Basic credentials (basic.go), else its session cookie's session,
// else without sign-in configured an anonymous request of its own (not
// stored, no cookie: a script's). Without any it is 401.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*session, error) {
	if _, _, ok := r.BasicAuth(); ok && s.LoginRequired() {
		return s.basicSession(w, r)
	}
	if ses := s.current(r); ses != nil {
		return ses, nil
	}
	if s.LoginRequired() {
		return nil, errSignIn
	}
	return &session{kafka: s.anon, basic: true, created: s.now()}, nil
}

// sessionInfo is what GET /api/session and POST /api/login tell the page.
type sessionInfo struct {
	LoginRequired bool `json:"login_required"`
	// SignIn says whose accounts users sign in with: "cluster" (Kafka
	// users, SASL) or "console" (--console-users); "" without sign-in.
	SignIn   string `json:"sign_in,omitempty"`
	SignedIn bool   `json:"signed_in"`
	User     string `json:"user,omitempty"`
	CSRF     string `json:"csrf,omitempty"`
	Version  string `json:"version,omitempty"`
}

// info describes ses (nil: not signed in) to the page.
func (s *Server) info(ses *session) sessionInfo {
	info := sessionInfo{LoginRequired: s.LoginRequired(), Version: s.cfg.Version}
	switch {
	case len(s.cfg.Access.SASLMechanisms) > 0:
		info.SignIn = "cluster"
	case len(s.cfg.Users) > 0:
		info.SignIn = "console"
	}
	if ses != nil {
		info.SignedIn, info.User, info.CSRF = true, ses.user, ses.csrf
	}
	return info
}

// sessionRoutes registers GET /api/session (sign-in and sign-out are in
// login.go). Without sign-in configured, it starts the visitor's
// anonymous session: the cookie and the CSRF token its pages send.
func (s *Server) sessionRoutes() {
	s.mux.HandleFunc("GET /api/session", func(w http.ResponseWriter, r *http.Request) {
		ses := s.current(r)
		if ses == nil && !s.LoginRequired() {
			var err error
			if ses, err = s.ses.add("", s.anon, false, s.now()); err != nil {
				s.writeError(w, r, err)
				return
			}
			s.setCookie(w, ses)
		}
		c := &call{w: w, r: r, s: s}
		_ = c.JSON(http.StatusOK, s.info(ses))
	})
}
