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
	if int64(total)-count.Load() <= 0 {
		return func() {}
	}
	return Progress(w, fmt.Sprintf("%-9s", desc), "rec", int64(total), count)
}

// Progress draws a bar on w, labelled desc, of count growing to total (a
// spinner with count and rate if total <= 0), redrawn from the counter every
// 200 ms, until the returned stop is called. The bar covers only what count
// gains from now. unit names the rate ("rec" gives rec/s). A nil w draws
// nothing. Commands use it for their long runs (bench, simulate).
func Progress(w io.Writer, desc, unit string, total int64, count *atomic.Int64) (stop func()) {
	if w == nil {
		return func() {}
	}
	base := count.Load()
	max := total - base
	if total <= 0 {
		max = -1 // a spinner
	}
	bar := progressbar.NewOptions64(max,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(desc),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString(unit),
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
