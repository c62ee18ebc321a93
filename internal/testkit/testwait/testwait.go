// Package testwait is the bounded polling wait that tests across packages
// share: no test waits on a condition without a deadline.
package testwait

import (
	"testing"
	"time"
)

// For polls cond every 50ms until it returns "" (done) or timeout passes,
// then fails the test with what it waited for and cond's last complaint.
func For(t testing.TB, timeout time.Duration, what string, cond func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		why := cond()
		if why == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s: %s", timeout, what, why)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
