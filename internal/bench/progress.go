package bench

// progress.go draws progress bars from counters the hot paths already keep,
// so no bar work happens per record.

import (
	"fmt"
	"io"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progressInterval is how often a bar is redrawn.
const progressInterval = 200 * time.Millisecond

// trackProgress draws a bar of total on w, showing count as it grows, until
// the returned stop is called. A nil w draws nothing.
func trackProgress(w io.Writer, desc string, total int, count *atomic.Int64) (stop func()) {
	if w == nil || total <= 0 {
		return func() {}
	}
	bar := progressbar.NewOptions64(int64(total),
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(fmt.Sprintf("%-9s", desc)),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("rec"),
		progressbar.OptionThrottle(progressInterval),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)
	done := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		defer close(exited)
		t := time.NewTicker(progressInterval)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				_ = bar.Set64(count.Load())
			case <-done:
				return
			}
		}
	}()
	return func() {
		close(done)
		<-exited
		_ = bar.Set64(count.Load())
		if !bar.IsFinished() {
			_ = bar.Exit() // leaves the bar where it stopped; prints the newline
		}
	}
}
