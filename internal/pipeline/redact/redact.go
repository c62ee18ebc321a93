// Package redact hides passwords in the database DSNs and URLs that the
// pipeline's commands print, log or wrap into errors, so that a terminal, a
// log file or a bug report never shows a secret given on the command line.
//
// Promises:
//   - DSN masks every password it can recognize: the userinfo password of
//     a URL of any scheme (postgres://user:PASSWORD@host/db,
//     http://user:PASSWORD@host), password= and sslpassword= query
//     parameters, and password=/sslpassword= pairs of a key=value DSN
//     ("host=h user=u password=secret"), quoted or not. Each becomes
//     Mask; everything else is kept, so the text still says where it
//     points.
//   - SQLite DSNs (sqlite:PATH, sqlite://PATH, file:PATH) carry no secret
//     and are returned unchanged, whatever characters their path holds.
//   - A URL's userinfo is taken to end at its last '@', so a password with
//     an unescaped '@', '/' or '?' is masked whole; an '@' elsewhere (a
//     query value) makes the mask cover more than the password, never
//     less.
//   - Error returns an error whose message has every password of the DSN
//     replaced, for errors built by code that does not redact (drivers),
//     while errors.Is and errors.As still see the original.
package redact

import (
	"net/url"
	"regexp"
	"strings"
)

// Mask replaces a password.
const Mask = "xxxxx"

// sqlitePrefixes start DSNs that name a file: they hold no password, and a
// path may contain ':' and '@' that must not be mistaken for one.
var sqlitePrefixes = []string{"sqlite:", "file:"}

// kvPassword matches a password pair of a key=value DSN (libpq's format):
// a single-quoted value (with \' and \\ escapes) or one up to whitespace.
var kvPassword = regexp.MustCompile(`(?i)\b((?:ssl)?password)\s*=\s*('(?:[^'\\]|\\.)*'?|\S*)`)

// DSN returns dsn with its passwords replaced by Mask.
func DSN(dsn string) string {
	if isFile(dsn) {
		return dsn
	}
	scheme, rest, ok := splitURL(dsn)
	if !ok {
		return kvPassword.ReplaceAllString(dsn, "${1}="+Mask)
	}
	// The userinfo ends at the last '@': a password may hold an
	// unescaped '@', '/' or '?' (drivers accept some of these), so the
	// first one could end it too early and leave the rest in view. An '@'
	// in a query value makes this mask more than the password, never
	// less.
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		if c := strings.IndexByte(rest[:at], ':'); c >= 0 {
			rest = rest[:c+1] + Mask + rest[at:]
		}
	}
	if before, query, ok := strings.Cut(rest, "?"); ok {
		rest = before + "?" + maskQuery(query)
	}
	return scheme + "://" + rest
}

// urlScheme matches a URL's scheme (RFC 3986): only a DSN that starts
// with one and "://" is a URL. A key=value DSN may hold "://" in a value
// (password=://), which must not make it one.
var urlScheme = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9+.-]*$`)

// splitURL splits a URL DSN at its "://"; ok is false for anything else.
func splitURL(dsn string) (scheme, rest string, ok bool) {
	scheme, rest, ok = strings.Cut(dsn, "://")
	if !ok || !urlScheme.MatchString(scheme) {
		return "", "", false
	}
	return scheme, rest, true
}

// isFile reports whether dsn names an SQLite file.
func isFile(dsn string) bool {
	for _, p := range sqlitePrefixes {
		if strings.HasPrefix(dsn, p) {
			return true
		}
	}
	return false
}

// maskQuery masks the values of password and sslpassword parameters
// (matched as the driver matches them: after unescaping, in any case).
func maskQuery(query string) string {
	pairs := strings.Split(query, "&")
	for i, pair := range pairs {
		k, _, ok := strings.Cut(pair, "=")
		if !ok {
			continue
		}
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		if strings.HasSuffix(strings.ToLower(k), "password") {
			pairs[i] = strings.SplitN(pair, "=", 2)[0] + "=" + Mask
		}
	}
	return strings.Join(pairs, "&")
}

// minSecret is the shortest password Error looks for in a message: a
// shorter one would match ordinary letters all over it, and is guessed
// faster than read anyway.
const minSecret = 3

// Error returns err with every password of dsn that its message contains
// replaced by Mask (and dsn itself by DSN(dsn)). The result wraps err, so
// errors.Is and errors.As see through it. A nil err stays nil.
func Error(err error, dsn string) error {
	if err == nil {
		return nil
	}
	msg := err.Error()
	clean := strings.ReplaceAll(msg, dsn, DSN(dsn))
	for _, s := range secrets(dsn) {
		if len(s) >= minSecret {
			clean = strings.ReplaceAll(clean, s, Mask)
		}
	}
	if clean == msg {
		return err
	}
	return &redacted{msg: clean, err: err}
}

// redacted is an error with a cleaned message.
type redacted struct {
	msg string
	err error
}

func (r *redacted) Error() string { return r.msg }
func (r *redacted) Unwrap() error { return r.err }

// secrets returns the passwords DSN masks in dsn, as written and, for a
// URL, unescaped.
func secrets(dsn string) []string {
	var out []string
	add := func(s string) {
		if s == "" {
			return
		}
		out = append(out, s)
		if u, err := url.PathUnescape(s); err == nil && u != s {
			out = append(out, u)
		}
	}
	if isFile(dsn) {
		return nil
	}
	_, rest, isURL := splitURL(dsn)
	if !isURL {
		for _, m := range kvPassword.FindAllStringSubmatch(dsn, -1) {
			add(strings.Trim(m[2], "'"))
		}
		return out
	}
	query := ""
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		if _, pw, ok := strings.Cut(rest[:at], ":"); ok {
			add(pw)
		}
		rest = rest[at+1:]
	}
	if _, q, ok := strings.Cut(rest, "?"); ok {
		query = q
	}
	for _, pair := range strings.Split(query, "&") {
		k, v, ok := strings.Cut(pair, "=")
		if uk, err := url.QueryUnescape(k); err == nil {
			k = uk
		}
		if ok && strings.HasSuffix(strings.ToLower(k), "password") {
			add(v)
			if uv, err := url.QueryUnescape(v); err == nil {
				add(uv)
			}
		}
	}
	return out
}
