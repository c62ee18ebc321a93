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

// trackProgress draws a bar on w of count growing to total, until the
// returned stop is called. The bar covers only what is left: if count is
// already 100 of 1000, it runs from 0 to 900, so its rate is right. A nil w
// draws nothing.
func trackProgress(w io.Writer, desc string, total int, count *atomic.Int64) (stop func()) {
	base := count.Load()
	left := int64(total) - base
	if w == nil || left <= 0 {
		return func() {}
	}
	bar := progressbar.NewOptions64(left,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(fmt.Sprintf("%-9s", desc)),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("rec"),
		progressbar.OptionThrottle(progressInterval),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
		progressbar.OptionSetRenderBlankState(true), // starts the bar's clock now
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
				_ = bar.Set64(count.Load() - base)
			case <-done:
				return
			}
		}
	}()
	return func() {
		close(done)
		<-exited
		_ = bar.Set64(count.Load() - base)
		if !bar.IsFinished() {
			_ = bar.Exit() // leaves the bar where it stopped; prints the newline
		}
	}
}
