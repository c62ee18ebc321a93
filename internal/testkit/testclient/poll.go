package testclient

// poll.go keeps a group member alive in the background: a member that does
// not poll stops heartbeating (KIP-848 and share groups heartbeat from the
// poll loop's client, classic groups rejoin on it), and the group a test
// looks at would lose it.

import (
	"context"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// PollInBackground polls cl, 200 ms at a time, until the test ends; the
// cleanup stops the polling and waits for it (before cl's own cleanup, if
// cl was made with New before this was called).
func PollInBackground(t testing.TB, cl *kgo.Client) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			pctx, pcancel := context.WithTimeout(ctx, 200*time.Millisecond)
			cl.PollFetches(pctx)
			pcancel()
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
}
