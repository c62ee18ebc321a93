package webconsole

// ratelimit_test.go tests the sign-in rate limit: its arithmetic on its
// own (waits, resets, bounded memory) and through the API against a SASL
// cluster (429 with Retry-After, the password not tried while refused).

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// fail records one failed attempt, which begin must allow.
func fail(t *testing.T, l *limiter, ip, user string, now time.Time) {
	t.Helper()
	if wait := l.begin(ip, user, now); wait != 0 {
		t.Fatalf("attempt for %s from %s refused for %v", user, ip, wait)
	}
	l.end(ip, user, attemptFailed, now)
}

// TestLimiterWaits: five free failures, then waits of 1 s, 2 s, 4 s ...
// capped at 5 minutes; a refused attempt does not count.
func TestLimiterWaits(t *testing.T) {
	l := newLimiter()
	now := time.Unix(1000, 0)
	for range limitFree - 1 {
		fail(t, l, "10.0.0.1", "bob", now)
	}
	if wait := l.begin("10.0.0.1", "bob", now); wait != 0 {
		t.Fatalf("fifth attempt refused: %v", wait)
	}
	l.end("10.0.0.1", "bob", attemptFailed, now)
	want := time.Second
	for i := range 12 {
		if wait := l.begin("10.0.0.1", "bob", now); wait != want {
			t.Fatalf("after failure %d: wait %v, want %v", limitFree+i, wait, want)
		}
		// Asking again while refused changes nothing.
		if wait := l.begin("10.0.0.1", "bob", now.Add(want/2)); wait != want/2 {
			t.Fatalf("half-way: wait %v, want %v", wait, want/2)
		}
		now = now.Add(want)
		fail(t, l, "10.0.0.1", "bob", now)
		want = min(2*want, limitMaxWait)
	}
	if want != limitMaxWait {
		t.Fatalf("the wait grew to %v only", want)
	}
	// limitWindow after the last failure, everything is forgotten.
	now = now.Add(limitWindow + limitMaxWait + time.Second)
	l.sweep(now)
	if len(l.ips)+len(l.users) != 0 {
		t.Fatalf("entries left after the window: %d ips, %d users", len(l.ips), len(l.users))
	}
}

// TestLimiterKeys: the limit is per user name across addresses and per
// address across names; a success clears the name's failures but not the
// address's; an IPv6 client is limited by its /64.
func TestLimiterKeys(t *testing.T) {
	l := newLimiter()
	now := time.Unix(1000, 0)
	for i := range limitFree {
		fail(t, l, fmt.Sprintf("10.0.1.%d", i), "carol", now)
	}
	if wait := l.begin("10.0.1.99", "carol", now); wait == 0 {
		t.Fatal("a sixth address guessing carol's password was let through")
	}
	for i := range limitFree {
		fail(t, l, "10.0.2.1", fmt.Sprintf("user%d", i), now)
	}
	if wait := l.begin("10.0.2.1", "dave", now); wait == 0 {
		t.Fatal("one address guessing a sixth name was let through")
	}
	// Success resets the user, not the address.
	for range limitFree - 1 {
		fail(t, l, "10.0.3.1", "erin", now)
	}
	if l.begin("10.0.3.1", "erin", now) != 0 {
		t.Fatal("refused before five failures")
	}
	l.end("10.0.3.1", "erin", attemptSucceeded, now)
	if l.users["erin"] != nil {
		t.Fatal("a success kept the user's failures")
	}
	if e := l.ips["10.0.3.1"]; e == nil || e.failures != limitFree-1 {
		t.Fatalf("a success changed the address's failures: %+v", e)
	}
	// IPv6: one /64 is one client.
	for i := range limitFree {
		fail(t, l, fmt.Sprintf("2001:db8::%x", i+1), fmt.Sprintf("v6user%d", i), now)
	}
	if wait := l.begin("2001:db8::ffff:1", "v6other", now); wait == 0 {
		t.Fatal("another address of the same /64 was let through")
	}
	if wait := l.begin("2001:db8:0:1::1", "v6other", now); wait != 0 {
		t.Fatalf("another /64 refused: %v", wait)
	}
}

// TestLimiterInflight: no more than limitMaxInflight attempts per key are
// checked at once, so parallel guesses cannot pass the count.
func TestLimiterInflight(t *testing.T) {
	l := newLimiter()
	now := time.Unix(1000, 0)
	for range limitMaxInflight {
		if l.begin("10.0.0.1", "frank", now) != 0 {
			t.Fatal("refused below the in-flight bound")
		}
	}
	if l.begin("10.0.0.2", "frank", now) == 0 {
		t.Fatal("a third parallel attempt for one user was let through")
	}
	l.end("10.0.0.1", "frank", attemptUnknown, now)
	if l.begin("10.0.0.2", "frank", now) != 0 {
		t.Fatal("refused after an attempt ended")
	}
}

// TestLimiterBounded: the tables never grow past limitMaxKeys; flooding
// them with new names does not clear a blocked one.
func TestLimiterBounded(t *testing.T) {
	l := newLimiter()
	now := time.Unix(1000, 0)
	for range limitFree {
		fail(t, l, "10.9.9.9", "target", now)
	}
	for i := range limitMaxKeys + 50 {
		ip := fmt.Sprintf("10.%d.%d.%d", (i>>16)&255, (i>>8)&255, i&255)
		if l.begin(ip, fmt.Sprintf("name%d", i), now) == 0 {
			l.end(ip, fmt.Sprintf("name%d", i), attemptFailed, now)
		}
	}
	if len(l.ips) > limitMaxKeys || len(l.users) > limitMaxKeys {
		t.Fatalf("tables grew to %d ips, %d users", len(l.ips), len(l.users))
	}
	if wait := l.begin("10.200.0.1", "target", now); wait == 0 {
		t.Fatal("the flood cleared the blocked user")
	}
}

// TestLoginRateLimited: through the API, five wrong passwords, then 429
// with Retry-After and the right password not even tried; the waits grow;
// after the wait the right password signs in and clears the user's count.
func TestLoginRateLimited(t *testing.T) {
	clk := newFakeClock()
	tc, _ := startSASLConsole(t, Config{})
	tc.srv.now = clk.Now
	for i := range limitFree {
		if st, body, _ := tc.login(aliceUser, fmt.Sprintf("guess-%d", i)); st != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d %s", i, st, body)
		}
	}
	st, body, hdr := tc.login(aliceUser, alicePass)
	if st != http.StatusTooManyRequests || hdr.Get("Retry-After") != "1" || !strings.Contains(string(body), "try again in 1 s") {
		t.Fatalf("sixth attempt: %d Retry-After %q %s", st, hdr.Get("Retry-After"), body)
	}
	if tc.current() != nil {
		t.Fatal("a refused attempt signed in")
	}
	clk.Add(time.Second)
	if st, _, _ := tc.login(aliceUser, "guess-6"); st != http.StatusUnauthorized {
		t.Fatalf("after the wait: %d", st)
	}
	if st, _, hdr := tc.login(aliceUser, alicePass); st != http.StatusTooManyRequests || hdr.Get("Retry-After") != "2" {
		t.Fatalf("after the sixth failure: %d Retry-After %q", st, hdr.Get("Retry-After"))
	}
	clk.Add(2 * time.Second)
	// From another address (the first one is still counted), the right
	// password signs in and clears the user's failures.
	other := tc.browserFrom("127.0.0.2")
	other.mustLogin(aliceUser, alicePass)
	third := tc.browserFrom("127.0.0.3")
	for i := range limitFree {
		if st, _, _ := third.login(aliceUser, fmt.Sprintf("again-%d", i)); st != http.StatusUnauthorized {
			t.Fatalf("after the success, guess %d: %d (the user's count was not reset)", i, st)
		}
	}
	if !strings.Contains(tc.log.String(), "too many failed sign-in attempts") {
		t.Fatal("refused attempts are not in the audit log")
	}
}
