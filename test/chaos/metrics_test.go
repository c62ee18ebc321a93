package chaos

// metrics_test.go reads the broker's /metrics: recovery counters after
// every start (they are per process, so the test adds them up), runtime
// counters before every kill, and memory once a second.

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// samples are one scrape: "name{labels}" -> value.
type samples map[string]float64

// scrape fetches and parses http://addr/metrics (Prometheus text format:
// comments start with #, a sample is "name{labels} value").
func scrape(ctx context.Context, addr string) (samples, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/metrics", nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("GET /metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /metrics: %s", resp.Status)
	}
	out := make(samples)
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 64<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i <= 0 {
			return nil, fmt.Errorf("/metrics: malformed line %q", line)
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err != nil {
			return nil, fmt.Errorf("/metrics: line %q: %w", line, err)
		}
		out[line[:i]] = v
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read /metrics: %w", err)
	}
	return out, nil
}

// scrapeRetry scrapes until it succeeds or timeout passes: the HTTP port
// opens just after the Kafka one.
func scrapeRetry(addr string, timeout time.Duration) (samples, error) {
	deadline := time.Now().Add(timeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		s, err := scrape(ctx, addr)
		cancel()
		if err == nil || time.Now().After(deadline) {
			return s, err
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// family returns the samples of metric name, keyed by their labels
// ("" for none).
func (s samples) family(name string) map[string]float64 {
	out := make(map[string]float64)
	for k, v := range s {
		switch {
		case k == name:
			out[""] = v
		case strings.HasPrefix(k, name+"{"):
			out[k[len(name):]] = v
		}
	}
	return out
}

// startupFamilies are the counters a start's recovery sets, before the
// broker serves anything; the test adds them up over all starts.
var startupFamilies = []string{
	"courier_log_recovery_events_total",
	"courier_log_recovery_bytes_total",
	"courier_quarantined_total",
	"courier_journal_damaged_records_total",
	"courier_journal_torn_tails_total",
}

// runtimeFamilies are counters that grow while the broker runs; the test
// adds up their last values before each kill or stop, for the summary.
var runtimeFamilies = []string{
	"courier_journal_write_failures_total",
	"courier_journal_repairs_total",
	"courier_request_panics_total",
	"courier_background_panics_total",
}

// totals adds up counters over the broker's processes.
type totals map[string]float64

// add adds the families of s to t.
func (t totals) add(s samples, families []string) {
	for _, name := range families {
		for labels, v := range s.family(name) {
			t[name+labels] += v
		}
	}
}

// String lists the non-zero totals, sorted.
func (t totals) String() string {
	keys := make([]string, 0, len(t))
	for k, v := range t {
		if v != 0 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	var sb strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&sb, "  %s %g\n", k, t[k])
	}
	if sb.Len() == 0 {
		return "  (none)\n"
	}
	return sb.String()
}

// memWatch records the broker's peak memory, scraping once a second. A
// failed scrape (the broker is down) is skipped.
type memWatch struct {
	mu       sync.Mutex
	peakRSS  float64
	peakHeap float64
	scrapes  int

	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
}

// startMemWatch starts watching the broker at addr.
func startMemWatch(addr string) *memWatch {
	w := &memWatch{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		tick := time.NewTicker(time.Second)
		defer tick.Stop()
		for {
			select {
			case <-w.stop:
				return
			case <-tick.C:
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			s, err := scrape(ctx, addr)
			cancel()
			if err == nil {
				w.observe(s)
			}
		}
	}()
	return w
}

// observe takes one scrape's memory gauges into the peaks.
func (w *memWatch) observe(s samples) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.peakRSS = max(w.peakRSS, s["process_resident_memory_bytes"])
	w.peakHeap = max(w.peakHeap, s["go_memstats_heap_inuse_bytes"])
	w.scrapes++
}

// finish stops watching (a second call only reads) and returns the peaks
// in bytes and the number of scrapes they come from.
func (w *memWatch) finish() (rss, heap float64, n int) {
	w.stopOnce.Do(func() { close(w.stop) })
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.peakRSS, w.peakHeap, w.scrapes
}
