package webconsole

// login.go signs users in and out. On a cluster with SASL
// (Access.SASLMechanisms) the cluster itself checks the password: a client
// of the user authenticates and makes one request; an authentication
// failure is a wrong password, anything else (the cluster down) is said as
// such. That client becomes the session's, so every later request of the
// session is the user's own and the cluster's ACLs decide it. With
// --console-users (Config.Users) on an anonymous cluster the password is
// compared with the account's in constant time, and the session reaches
// the cluster anonymously. Every attempt goes through the rate limit
// (ratelimit.go) first; a refused one is answered at once, never after a
// sleep. Neither the password nor the session id is ever logged.

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"
)

// Bounds of sign-in input.
const (
	maxUserName     = 256
	maxPassword     = 1024
	maxLoginBody    = 16 << 10
	loginCheckLimit = 15 * time.Second // one password check against the cluster
)

// errWrongPassword is the one answer to a wrong user name or password:
// never which of the two.
var errWrongPassword = &apiError{Status: http.StatusUnauthorized, Code: 40101, Message: "wrong user name or password"}

// errRateLimited is what the audit log says of an attempt the rate limit
// refused.
var errRateLimited = errors.New("refused: too many failed sign-in attempts")

// loginRequest is POST /api/login's body.
type loginRequest struct {
	User     string `json:"user"`
	Password string `json:"password"`
}

// loginRoutes registers POST /api/login and POST /api/logout.
func (s *Server) loginRoutes() {
	s.mux.HandleFunc("POST /api/login", s.login)
	s.mux.HandleFunc("POST /api/logout", s.logout)
}

// login checks a user name and password and starts a session: a new
// session id on every sign-in (an earlier session of the browser ends).
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	c := &call{w: w, r: r, s: s, ses: &session{}}
	if err := s.doLogin(c); err != nil {
		s.writeError(w, r, err)
	}
}

func (s *Server) doLogin(c *call) error {
	r := c.r
	if !s.LoginRequired() {
		return badRequest("this console has no sign-in: it reaches a cluster without SASL and has no --console-users")
	}
	// A cross-site page must not sign the browser in to an account of
	// its choosing (login CSRF): same checks as a script's change.
	if err := checkCrossSite(r); err != nil {
		return err
	}
	if !jsonBody(r) {
		return &apiError{Status: http.StatusUnsupportedMediaType, Code: 41501, Message: "sign in with a JSON body {\"user\", \"password\"}"}
	}
	r.Body = http.MaxBytesReader(c.w, r.Body, maxLoginBody)
	var req loginRequest
	if err := c.Decode(&req); err != nil {
		return err
	}
	if err := checkCredentialsForm(req.User, req.Password); err != nil {
		return err
	}
	k, owned, err := s.signIn(r.Context(), c.w, remoteIP(r), req.User, req.Password)
	if err != nil {
		return err
	}
	if old, err := r.Cookie(cookieName); err == nil {
		s.ses.remove(old.Value)
	}
	ses, err := s.ses.add(req.User, k, owned, s.now())
	if err != nil {
		if owned {
			k.Close()
		}
		return err
	}
	s.setCookie(c.w, ses)
	s.audit.record(req.User, remoteIP(r), "session.login", req.User, nil)
	return c.JSON(http.StatusOK, s.info(ses))
}

// checkCredentialsForm refuses empty or oversized credentials before
// anything is tried (not counted as failures: nothing was guessed).
func checkCredentialsForm(user, pass string) error {
	switch {
	case user == "" || pass == "":
		return badRequest("give a user name and a password")
	case len(user) > maxUserName:
		return badRequest("user name over %d bytes", maxUserName)
	case len(pass) > maxPassword:
		return badRequest("password over %d bytes", maxPassword)
	}
	return nil
}

// signIn checks user's password under the rate limit and returns the
// session's Kafka session (owned: the session's own client) or the error
// to answer: 429 with Retry-After (set on w) when the limit refuses,
// 401 for a wrong password, 502/503 when the cluster cannot say. Every
// outcome but success is in the audit log.
func (s *Server) signIn(ctx context.Context, w http.ResponseWriter, ip, user, pass string) (*KafkaSession, bool, error) {
	if wait := s.limits.begin(ip, user, s.now()); wait > 0 {
		secs := int(math.Ceil(wait.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		s.audit.record(user, ip, "session.login", user, errRateLimited)
		return nil, false, &apiError{Status: http.StatusTooManyRequests, Code: 42901,
			Message: fmt.Sprintf("too many failed sign-in attempts: try again in %d s", secs)}
	}
	k, owned, err := s.verify(ctx, user, pass)
	switch {
	case err == nil:
		s.limits.end(ip, user, attemptSucceeded, s.now())
	case errors.Is(err, errWrongPassword):
		s.limits.end(ip, user, attemptFailed, s.now())
		s.audit.record(user, ip, "session.login", user, err)
	default:
		s.limits.end(ip, user, attemptUnknown, s.now())
		s.audit.record(user, ip, "session.login", user, err)
		s.log.Warn("console: could not check a password", "user", user, "err", err)
	}
	return k, owned, err
}

// verify checks user's password: by the cluster (SASL) or against the
// console's accounts.
func (s *Server) verify(ctx context.Context, user, pass string) (*KafkaSession, bool, error) {
	if len(s.cfg.Access.SASLMechanisms) == 0 {
		if !s.consoleUser(user, pass) {
			return nil, false, errWrongPassword
		}
		return s.anon, false, nil
	}
	return s.verifySASL(ctx, user, pass)
}

// consoleUser reports whether pass is console account user's password,
// comparing digests in constant time (an unknown user is compared with a
// digest of nothing, so the time does not say which part was wrong).
func (s *Server) consoleUser(user, pass string) bool {
	want, ok := s.cfg.Users[user]
	got, exp := sha256.Sum256([]byte(pass)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(got[:], exp[:]) == 1 && ok
}

// verifySASL signs user in to the cluster with each of the mechanisms in
// turn (a user may have credentials for one only) and returns the first
// session whose request succeeded.
func (s *Server) verifySASL(ctx context.Context, user, pass string) (*KafkaSession, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, loginCheckLimit)
	defer cancel()
	mechs := s.cfg.Access.SASLMechanisms
	unsupported := 0
	for _, name := range mechs {
		m, err := saslMechanism(name, user, pass)
		if err != nil {
			return nil, false, err
		}
		opts := append(append([]kgo.Opt(nil), s.cfg.Access.Base...), kgo.SASL(m))
		cl, err := kgo.NewClient(opts...)
		if err != nil {
			return nil, false, fmt.Errorf("create Kafka client: %w", err)
		}
		req := kmsg.NewPtrMetadataRequest()
		req.Topics = []kmsg.MetadataRequestTopic{} // none: only the sign-in matters
		_, err = req.RequestWith(ctx, cl)
		if err == nil {
			return newVerifiedSession(user, opts, cl), true, nil
		}
		cl.Close()
		switch {
		case errors.Is(err, kerr.SaslAuthenticationFailed):
		case errors.Is(err, kerr.UnsupportedSaslMechanism):
			unsupported++
		default:
			return nil, false, &apiError{Status: http.StatusServiceUnavailable, Code: 50302,
				Message: fmt.Sprintf("cannot check the password: the cluster did not answer (%v)", err)}
		}
	}
	if unsupported == len(mechs) {
		return nil, false, &apiError{Status: http.StatusBadGateway, Code: 50201,
			Message: fmt.Sprintf("cannot check the password: the cluster offers none of the SASL mechanisms %s", strings.Join(mechs, ", "))}
	}
	return nil, false, errWrongPassword
}

// saslMechanism returns SASL mechanism name with user's credentials.
func saslMechanism(name, user, pass string) (sasl.Mechanism, error) {
	switch strings.ToUpper(name) {
	case "PLAIN":
		return plain.Auth{User: user, Pass: pass}.AsMechanism(), nil
	case "SCRAM-SHA-256":
		return scram.Auth{User: user, Pass: pass}.AsSha256Mechanism(), nil
	case "SCRAM-SHA-512":
		return scram.Auth{User: user, Pass: pass}.AsSha512Mechanism(), nil
	}
	return nil, fmt.Errorf("SASL mechanism %q: want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", name)
}

// logout ends the request's session (its Kafka clients closed) and clears
// the cookie. Signing out is a change: it needs the CSRF token.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	c := &call{w: w, r: r, s: s, ses: &session{}}
	if ses := s.current(r); ses != nil {
		if err := s.checkCSRF(r, ses); err != nil {
			s.writeError(w, r, err)
			return
		}
		s.ses.remove(ses.id)
		if ses.user != "" {
			s.audit.record(ses.user, remoteIP(r), "session.logout", ses.user, nil)
		}
	}
	s.clearCookie(w)
	_ = c.JSON(http.StatusOK, s.info(nil))
}
