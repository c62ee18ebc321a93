package webconsole

// session.go keeps the signed-in sessions: a random token in an HttpOnly,
// SameSite=Strict cookie (Secure under TLS), the user's Kafka session, a
// CSRF token, an idle and an absolute expiry. Without sign-in every
// visitor still gets a session, for its CSRF token: a console on
// 127.0.0.1 must not delete topics for a page on another site.

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
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

// session is one visitor's session.
type session struct {
	id      string
	user    string // "" when anonymous
	csrf    string
	kafka   *KafkaSession
	created time.Time

	mu   sync.Mutex
	seen time.Time
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

// add starts a session for user with its Kafka session.
func (st *sessions) add(user string, k *KafkaSession, now time.Time) *session {
	ses := &session{id: newToken(), user: user, csrf: newToken(), kafka: k, created: now, seen: now}
	st.mu.Lock()
	st.byID[ses.id] = ses
	st.mu.Unlock()
	return ses
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
	ses.mu.Lock()
	expired := now.Sub(ses.seen) > st.idle || now.Sub(ses.created) > st.max
	if !expired {
		ses.seen = now
	}
	ses.mu.Unlock()
	if expired {
		st.remove(id)
		return nil
	}
	return ses
}

// remove ends a session.
func (st *sessions) remove(id string) {
	st.mu.Lock()
	ses := st.byID[id]
	delete(st.byID, id)
	st.mu.Unlock()
	if ses != nil && ses.kafka != nil {
		ses.kafka.Close()
	}
}

// sweep removes expired sessions.
func (st *sessions) sweep(now time.Time) {
	st.mu.Lock()
	var ids []string
	for id := range st.byID {
		ids = append(ids, id)
	}
	st.mu.Unlock()
	for _, id := range ids {
		st.get(id, now)
	}
}

// closeAll ends every session.
func (st *sessions) closeAll() {
	st.mu.Lock()
	all := st.byID
	st.byID = map[string]*session{}
	st.mu.Unlock()
	for _, ses := range all {
		if ses.kafka != nil {
			ses.kafka.Close()
		}
	}
}

// setCookie gives the browser the session's cookie.
func (s *Server) setCookie(w http.ResponseWriter, ses *session) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: ses.id, Path: "/",
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.cfg.TLSCertFile != "",
	})
}

// clearCookie removes the session cookie from the browser.
func (s *Server) clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: "", Path: "/", MaxAge: -1,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: s.cfg.TLSCertFile != "",
	})
}

// current returns the request's live session, or nil.
func (s *Server) current(r *http.Request) *session {
	c, err := r.Cookie(cookieName)
	if err != nil {
		return nil
	}
	return s.ses.get(c.Value, time.Now())
}

// authenticate returns the session an API request runs in: the signed-in
// session, or with no sign-in configured the visitor's anonymous session
// (created here if it has none). Without a session it is 401.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*session, error) {
	if ses := s.current(r); ses != nil {
		return ses, nil
	}
	if s.LoginRequired() {
		return nil, &apiError{Status: http.StatusUnauthorized, Code: 40101, Message: "sign in first"}
	}
	ses := s.ses.add("", newKafkaSession("", s.cfg.Access.Base), time.Now())
	s.setCookie(w, ses)
	return ses, nil
}

// checkCSRF refuses a change that is not from the console's own pages: the
// CSRF header must carry the session's token, and an Origin header, when
// the browser sends one, must be the console's own.
func (s *Server) checkCSRF(r *http.Request, ses *session) error {
	forged := &apiError{Status: http.StatusForbidden, Code: 40302, Message: "refused: the request did not come from the console's own page (CSRF check)"}
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return forged
		}
	}
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return forged
	}
	got := r.Header.Get(csrfHeader)
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(ses.csrf)) != 1 {
		return forged
	}
	return nil
}

// sessionInfo is what GET /api/session tells the page.
type sessionInfo struct {
	LoginRequired bool   `json:"login_required"`
	SignedIn      bool   `json:"signed_in"`
	User          string `json:"user,omitempty"`
	CSRF          string `json:"csrf,omitempty"`
	Version       string `json:"version,omitempty"`
}

// sessionRoutes registers the session endpoints (sign-in and sign-out are
// in login.go).
func (s *Server) sessionRoutes() {
	s.mux.HandleFunc("GET /api/session", func(w http.ResponseWriter, r *http.Request) {
		info := sessionInfo{LoginRequired: s.LoginRequired(), Version: s.cfg.Version}
		ses := s.current(r)
		if ses == nil && !s.LoginRequired() {
			ses, _ = s.authenticate(w, r)
		}
		if ses != nil {
			info.SignedIn, info.User, info.CSRF = true, ses.user, ses.csrf
		}
		c := &call{w: w, r: r, s: s}
		_ = c.JSON(http.StatusOK, info)
	})
}
