package pipebench

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testbroker"
	"github.com/twmb/franz-go/pkg/kgo"
)

func TestDelayHistogramQuantiles(t *testing.T) {
	var h delayHistogram
	for i := 1; i <= 100; i++ {
		h.observe(time.Duration(i) * time.Millisecond)
	}
	h.observe(-time.Second)  // clock skew counts as 0
	h.observe(2 * time.Hour) // beyond the last bucket
	if got := h.quantile(0.5); got < 49*time.Millisecond || got > 52*time.Millisecond {
		t.Errorf("p50 = %v, want about 50ms", got)
	}
	if got := h.quantile(0.99); got < 98*time.Millisecond || got > 101*time.Millisecond {
		t.Errorf("p99 = %v, want about 100ms", got)
	}
	if h.max != 2*time.Hour {
		t.Errorf("max = %v", h.max)
	}
	var empty delayHistogram
	if empty.quantile(0.99) != 0 {
		t.Error("empty histogram has a quantile")
	}
}

// TestSmallRun runs both measurements briefly on SQLite against a real
// broker: every published update must end up written exactly once.
func TestSmallRun(t *testing.T) {
	b := testbroker.Start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dir := t.TempDir()
	d, err := Direct(ctx, "sqlite:"+filepath.Join(dir, "direct.db"), 50, 2, 500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if d.Writes == 0 || d.Failed != 0 || d.PerSec <= 0 {
		t.Fatalf("direct: %+v", d)
	}
	p, err := Pipeline(ctx, PipelineConfig{
		ClientOpts: []kgo.Opt{kgo.SeedBrokers(b.Addr)}, DSN: "sqlite:" + filepath.Join(dir, "pipe.db"),
		Riders: 50, Rate: 2000, Duration: time.Second, DrainTimeout: 30 * time.Second,
	})
	if err != nil {
		t.Fatal(err)
	}
	if p.Published < 1000 || p.Written != p.Published || p.Transactions == 0 || p.DelayP99Ms <= 0 || p.DelayP50Ms > p.DelayP99Ms {
		t.Fatalf("pipeline: %+v", p)
	}
}
