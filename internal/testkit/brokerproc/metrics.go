package brokerproc

// metrics.go reads the broker's /metrics, for tests that explain what the
// broker did (lock expiries, retries) beside what they check.

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// MetricLines returns the lines of the broker's /metrics that start with
// one of prefixes (names of metrics, such as courier_share_lock_expiries_total),
// joined by "; ".
func (b *Broker) MetricLines(prefixes ...string) (string, error) {
	cl := &http.Client{Timeout: 5 * time.Second}
	resp, err := cl.Get("http://" + b.httpAddr + "/metrics")
	if err != nil {
		return "", fmt.Errorf("metrics of broker %s: %w", b.addr, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", fmt.Errorf("metrics of broker %s: %w", b.addr, err)
	}
	var out []string
	for _, l := range strings.Split(string(body), "\n") {
		for _, p := range prefixes {
			if strings.HasPrefix(l, p) {
				out = append(out, l)
				break
			}
		}
	}
	return strings.Join(out, "; "), nil
}
