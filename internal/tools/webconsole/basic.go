package webconsole

// basic.go authenticates scripts (REST Proxy clients) by HTTP Basic auth
// on any API path: the same check as a sign-in, under the same rate limit.
// A verified SASL sign-in is cached for basicTTL, keyed by the user name
// and an HMAC of the password under a key drawn at start (never the
// password itself), so that a script's every call does not authenticate
// anew; a wrong password never matches a cached entry. The console never
// answers with WWW-Authenticate: a browser must never be led to cache
// credentials, which it would then send for any page's request, so Basic
// requests are always a script's own and need no CSRF token.
//
// A cached entry's client is closed when it expires or is evicted and no
// request uses it any more: requests hold a reference until they end
// (released by the request scope, server.go).

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"sync"
	"time"
)

// Bounds of the Basic auth cache.
const (
	basicTTL        = time.Minute
	maxBasicEntries = 256
)

// basicEntry is one verified user and password.
type basicEntry struct {
	k       *KafkaSession
	user    string
	expires time.Time
	refs    int  // requests using k
	dead    bool // out of the cache: k closes when refs reaches 0
}

// basicCache holds the verified credentials.
type basicCache struct {
	key []byte // HMAC key, drawn at start

	mu sync.Mutex
	m  map[string]*basicEntry
}

// newBasicCache returns an empty cache.
func newBasicCache() *basicCache {
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	return &basicCache{key: key, m: map[string]*basicEntry{}}
}

// keyOf is the cache key of user and pass.
func (b *basicCache) keyOf(user, pass string) string {
	h := hmac.New(sha256.New, b.key)
	h.Write([]byte(user))
	h.Write([]byte{0})
	h.Write([]byte(pass))
	return user + "\x00" + hex.EncodeToString(h.Sum(nil))
}

// acquire returns key's live entry with a reference taken, or nil.
func (b *basicCache) acquire(key string, now time.Time) *basicEntry {
	b.mu.Lock()
	defer b.mu.Unlock()
	e := b.m[key]
	if e == nil {
		return nil
	}
	if now.After(e.expires) {
		b.dropLocked(key, e)
		return nil
	}
	e.refs++
	return e
}

// put caches k for key with a reference taken, unless a concurrent
// request cached one first (then k is closed and that one returned).
func (b *basicCache) put(key, user string, k *KafkaSession, now time.Time) *basicEntry {
	b.mu.Lock()
	defer b.mu.Unlock()
	if e := b.m[key]; e != nil && !now.After(e.expires) {
		e.refs++
		go k.Close()
		return e
	}
	if len(b.m) >= maxBasicEntries {
		var oldKey string
		var old *basicEntry
		for k, e := range b.m {
			if old == nil || e.expires.Before(old.expires) {
				oldKey, old = k, e
			}
		}
		b.dropLocked(oldKey, old)
	}
	e := &basicEntry{k: k, user: user, expires: now.Add(basicTTL), refs: 1}
	b.m[key] = e
	return e
}

// release gives back a reference acquire or put took.
func (b *basicCache) release(e *basicEntry) {
	b.mu.Lock()
	e.refs--
	closeNow := e.dead && e.refs == 0
	b.mu.Unlock()
	if closeNow {
		e.k.Close()
	}
}

// dropLocked takes e out of the cache; its client closes now if unused,
// else with its last release.
func (b *basicCache) dropLocked(key string, e *basicEntry) {
	delete(b.m, key)
	e.dead = true
	if e.refs == 0 {
		go e.k.Close()
	}
}

// sweep drops the expired entries.
func (b *basicCache) sweep(now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for key, e := range b.m {
		if now.After(e.expires) {
			b.dropLocked(key, e)
		}
	}
}

// closeAll drops every entry.
func (b *basicCache) closeAll() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for key, e := range b.m {
		b.dropLocked(key, e)
	}
}

// basicSession authenticates a request that carries HTTP Basic
// credentials (LoginRequired is true).
func (s *Server) basicSession(w http.ResponseWriter, r *http.Request) (*session, error) {
	user, pass, _ := r.BasicAuth()
	if err := checkCredentialsForm(user, pass); err != nil {
		return nil, errWrongPassword
	}
	if len(s.cfg.Access.SASLMechanisms) == 0 {
		// Console accounts: the check costs nothing, no cache.
		if _, _, err := s.signIn(r.Context(), w, remoteIP(r), user, pass); err != nil {
			return nil, err
		}
		return &session{user: user, kafka: s.anon, basic: true, created: s.now()}, nil
	}
	key := s.basic.keyOf(user, pass)
	e := s.basic.acquire(key, s.now())
	if e == nil {
		k, _, err := s.signIn(r.Context(), w, remoteIP(r), user, pass)
		if err != nil {
			return nil, err
		}
		e = s.basic.put(key, user, k, s.now())
	}
	onRequestEnd(r, func() { s.basic.release(e) })
	return &session{user: user, kafka: e.k, basic: true, created: s.now()}, nil
}

// scopeKey is the context key of a request's scope.
type scopeKey struct{}

// requestScope is what runs when a request ends: releases of cached Basic
// sessions.
type requestScope struct {
	mu   sync.Mutex
	done []func()
}

// scopeOf returns r's scope, nil outside Handler.
func scopeOf(r *http.Request) *requestScope {
	sc, _ := r.Context().Value(scopeKey{}).(*requestScope)
	return sc
}

// onRequestEnd runs fn when r's handler returns (at once outside Handler).
func onRequestEnd(r *http.Request, fn func()) {
	sc := scopeOf(r)
	if sc == nil {
		fn()
		return
	}
	sc.mu.Lock()
	sc.done = append(sc.done, fn)
	sc.mu.Unlock()
}

// scoped wraps h with a request scope.
func scoped(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sc := &requestScope{}
		defer func() {
			sc.mu.Lock()
			done := sc.done
			sc.mu.Unlock()
			for _, fn := range done {
				fn()
			}
		}()
		h.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), scopeKey{}, sc)))
	})
}
