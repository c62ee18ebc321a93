package webconsole

// csrf.go keeps other sites from using a visitor's browser against the
// console. A page on another site (or another port of the same host, which
// browsers count as the same site and send SameSite=Strict cookies to) can
// make the browser send a form POST, or a fetch whose answer it cannot
// read; it cannot add a custom header or a JSON content type without a
// CORS preflight, which the console never allows. So:
//   - a change from a browser session must carry the session's CSRF token
//     in the X-Courier-CSRF header, and an Origin header (browsers send one
//     with every POST) must be the console's own; Sec-Fetch-Site, when
//     sent, must say same-origin;
//   - a request with HTTP Basic credentials, or on a console without
//     sign-in one without a session cookie, is a script's: no token, but
//     the same Origin and Sec-Fetch-Site checks, and a POST must be JSON
//     (a form cannot send JSON);
//   - a console without sign-in answers only requests whose Host is an IP
//     address or localhost: a hostile site whose name is re-pointed at
//     127.0.0.1 (DNS rebinding) would otherwise be the console's own
//     origin.

import (
	"crypto/subtle"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// errForged refuses a change that did not come from the console's pages.
var errForged = &apiError{Status: http.StatusForbidden, Code: 40302, Message: "refused: the request did not come from the console's own page (CSRF check)"}

// checkCrossSite refuses a request a browser sent for another origin: an
// Origin header naming another host, or Sec-Fetch-Site other than
// same-origin or none.
func checkCrossSite(r *http.Request) error {
	if o := r.Header.Get("Origin"); o != "" {
		u, err := url.Parse(o)
		if err != nil || u.Host != r.Host {
			return errForged
		}
	}
	switch r.Header.Get("Sec-Fetch-Site") {
	case "", "same-origin", "none":
		return nil
	}
	return errForged
}

// jsonBody reports whether the request's body is declared JSON.
func jsonBody(r *http.Request) bool {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	return err == nil && (mt == "application/json" || strings.HasSuffix(mt, "+json"))
}

// checkCSRF refuses a change that is not from the console's own pages
// (see the file comment).
func (s *Server) checkCSRF(r *http.Request, ses *session) error {
	if err := checkCrossSite(r); err != nil {
		return err
	}
	if ses.basic {
		if r.Method == http.MethodPost && !jsonBody(r) {
			return &apiError{Status: http.StatusUnsupportedMediaType, Code: 41501, Message: "refused: a POST without a session must send Content-Type: application/json (CSRF check)"}
		}
		return nil
	}
	got := r.Header.Get(csrfHeader)
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(ses.csrf)) != 1 {
		return errForged
	}
	return nil
}

// localHost reports whether host (a Host header) is an IP address or
// localhost: names a DNS rebinding attack cannot point at the console.
func localHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSuffix(host, "]"), "["), ".")
	if net.ParseIP(host) != nil {
		return true
	}
	host = strings.ToLower(host)
	return host == "localhost" || strings.HasSuffix(host, ".localhost")
}

// checkHost wraps h: a console without sign-in (and without
// --console-insecure) answers 421 to a request for another host name.
func (s *Server) checkHost(h http.Handler) http.Handler {
	if s.LoginRequired() || s.cfg.Insecure {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !localHost(r.Host) {
			s.writeError(w, r, &apiError{Status: http.StatusMisdirectedRequest, Code: 42101,
				Message: "refused: the console without sign-in answers only its IP address or localhost, not " + r.Host + " (DNS rebinding protection; --console-insecure lifts it)"})
			return
		}
		h.ServeHTTP(w, r)
	})
}
