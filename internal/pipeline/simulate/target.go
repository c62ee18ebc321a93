package simulate

// target.go holds where the simulated updates go: the broker (a
// *publish.Publisher is a Target as it is), the HTTP gateway, or straight
// into the database one INSERT at a time.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/courier-dev/courier/internal/pipeline/publish"
	"github.com/courier-dev/courier/internal/pipeline/redact"
	"github.com/courier-dev/courier/internal/pipeline/rider"
	"github.com/courier-dev/courier/internal/pipeline/ridersdb"
)

// Target receives batches of updates. Publish returns once the whole batch
// is delivered, or with an error. It must not keep locs after it returns:
// Run reuses the slice. *publish.Publisher is a Target.
type Target interface {
	Publish(ctx context.Context, locs []rider.Location) error
}

// GatewayTarget sends each batch to the gateway at baseURL (e.g.
// "http://127.0.0.1:8080") as one POST /v1/locations with an NDJSON body.
// Any answer but 202 Accepted is an error carrying the gateway's error
// message. A nil client uses one with a 30 s timeout that keeps enough idle
// connections for Run's concurrency.
func GatewayTarget(baseURL string, client *http.Client) Target {
	if client == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.MaxIdleConnsPerHost = 64
		client = &http.Client{Timeout: 30 * time.Second, Transport: tr}
	}
	return &gatewayTarget{url: strings.TrimRight(baseURL, "/") + "/v1/locations", client: client}
}

// gatewayPoll is how often WaitForGateway asks the gateway.
const gatewayPoll = 250 * time.Millisecond

// WaitForGateway waits until the gateway at baseURL answers GET
// /v1/healthz with 200 (it listens and reaches its cluster), for at most
// within, so that a simulator started together with its gateway does not
// count the gateway's start as failed updates. onWait, if set, is called
// once, with the latest failure, if the gateway is not ready after
// publish.FirstWaitReport (one started at the same time needs no word). It
// returns nil
// once the gateway is ready, or an error naming the last failure (the URL's
// password masked).
func WaitForGateway(ctx context.Context, baseURL string, within time.Duration, onWait func(error)) error {
	ctx, cancel := context.WithTimeout(ctx, within)
	defer cancel()
	url := strings.TrimRight(baseURL, "/") + "/v1/healthz"
	client := &http.Client{Timeout: 5 * time.Second}
	report := time.Now().Add(publish.FirstWaitReport)
	for reported := false; ; {
		err := healthy(ctx, client, url)
		if err == nil {
			return nil
		}
		if !reported && onWait != nil && !time.Now().Before(report) {
			onWait(redact.Error(err, url))
			reported = true
		}
		t := time.NewTimer(gatewayPoll)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("gateway %s not ready within %s: %w", redact.DSN(baseURL), within, redact.Error(err, url))
		case <-t.C:
		}
	}
}

// healthy asks url once.
func healthy(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", resp.Status, errorMessage(body))
	}
	return nil
}

// gatewayTarget is GatewayTarget's Target.
type gatewayTarget struct {
	url    string
	client *http.Client
	bufs   sync.Pool // *[]byte request bodies
}

// Publish implements Target.
func (g *gatewayTarget) Publish(ctx context.Context, locs []rider.Location) error {
	if len(locs) == 0 {
		return nil
	}
	bp, _ := g.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	defer g.bufs.Put(bp)
	b := (*bp)[:0]
	for i := range locs {
		b = locs[i].AppendJSON(b)
		b = append(b, '\n')
	}
	*bp = b
	// Errors may quote the URL, which may hold a password.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, g.url, bytes.NewReader(b))
	if err != nil {
		return fmt.Errorf("gateway: %w", redact.Error(err, g.url))
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := g.client.Do(req)
	if err != nil {
		return fmt.Errorf("gateway: %w", redact.Error(err, g.url))
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode == http.StatusAccepted {
		return nil
	}
	return fmt.Errorf("gateway: %s: %s", resp.Status, errorMessage(body))
}

// errorMessage pulls the message out of an error answer: the "error"
// string (or "error.message", or "message") of a JSON object, else the
// body's text, shortened.
func errorMessage(body []byte) string {
	var v struct {
		Error   json.RawMessage `json:"error"`
		Message string          `json:"message"`
	}
	if json.Unmarshal(body, &v) == nil {
		var s string
		if json.Unmarshal(v.Error, &s) == nil && s != "" {
			return s
		}
		var nested struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(v.Error, &nested) == nil && nested.Message != "" {
			return nested.Message
		}
		if v.Message != "" {
			return v.Message
		}
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	if s == "" {
		s = "(empty body)"
	}
	return s
}

// DirectTarget writes each update with its own db.InsertOne, in its own
// transaction, with no broker in between: the naive design the seed starts
// from. Run gives it one update per Publish. Sequence numbers start at the
// current time in nanoseconds, so two runs never collide.
func DirectTarget(db ridersdb.DB) Target {
	t := &directTarget{db: db}
	t.seq.Store(time.Now().UnixNano())
	return t
}

// directTarget is DirectTarget's Target.
type directTarget struct {
	db  ridersdb.DB
	seq atomic.Int64
}

// Publish implements Target: one InsertOne per update, stopping at the
// first error.
func (d *directTarget) Publish(ctx context.Context, locs []rider.Location) error {
	for i := range locs {
		if err := d.db.InsertOne(ctx, locs[i], d.seq.Add(1)); err != nil {
			return fmt.Errorf("insert: %w", err)
		}
	}
	return nil
}

// maxBatch implements batchLimiter: one update per transaction.
func (d *directTarget) maxBatch() int { return 1 }

// batchLimiter is a Target that takes at most maxBatch updates per Publish.
type batchLimiter interface {
	maxBatch() int
}
