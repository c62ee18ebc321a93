package bench

// console_http.go is the console benchmark's HTTP side: a client of the
// console's JSON API as a script is one (a cookie jar, the session's CSRF
// token from GET /api/session, a sign-in with POST /api/login when the
// console asks for one), and the timed operations. Each operation's time
// runs from sending its first request to reading its last answer's last
// byte; decoding and checking the answers is not timed.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"time"
)

const (
	// consolePageLimit is the page size the operations ask for (the
	// pages' own default).
	consolePageLimit = 50
	// maxSearchCalls bounds the calls of one search: the console scans
	// its budget per call, so a million records take one or a few.
	maxSearchCalls = 10_000
	// maxAnswerBytes bounds an answer read (10,000 topics are a few MB).
	maxAnswerBytes = 256 << 20
)

// consoleClient is a signed-in (or anonymous) script's client of a
// console.
type consoleClient struct {
	base string
	http *http.Client
	csrf string
}

// newConsoleClient opens a session on the console at cfg.Console, signing
// in with cfg.User and cfg.Password when the console asks for sign-in.
func newConsoleClient(ctx context.Context, cfg ConsoleConfig) (*consoleClient, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, fmt.Errorf("bench console: %w", err)
	}
	cc := &consoleClient{base: strings.TrimSuffix(cfg.Console, "/"), http: &http.Client{Jar: jar}}
	var info struct {
		LoginRequired bool   `json:"login_required"`
		SignedIn      bool   `json:"signed_in"`
		CSRF          string `json:"csrf"`
	}
	if err := cc.getJSON(ctx, "/api/session", &info); err != nil {
		return nil, err
	}
	if info.LoginRequired && !info.SignedIn {
		if cfg.User == "" || cfg.Password == "" {
			return nil, errors.New("bench console: the console asks for sign-in: give --console-user and --console-password (or --sasl-user and --sasl-password)")
		}
		body, _ := json.Marshal(map[string]string{"user": cfg.User, "password": cfg.Password})
		status, data, _, err := cc.do(ctx, http.MethodPost, "/api/login", body)
		if err != nil {
			return nil, err
		}
		if status != http.StatusOK {
			return nil, fmt.Errorf("bench console: sign in as %s: %s", cfg.User, answerError(status, data))
		}
		if err := json.Unmarshal(data, &info); err != nil {
			return nil, fmt.Errorf("bench console: sign-in answer: %w", err)
		}
	}
	cc.csrf = info.CSRF
	cfg.logf("session opened on %s (sign-in %v)", cc.base, info.LoginRequired)
	return cc, nil
}

// do sends a request (a JSON body when body is not nil) with the
// session's CSRF token and reads the whole answer; took runs from sending
// to the answer's last byte.
func (cc *consoleClient) do(ctx context.Context, method, path string, body []byte) (status int, data []byte, took time.Duration, err error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, cc.base+path, rd)
	if err != nil {
		return 0, nil, 0, fmt.Errorf("bench console: %s %s: %w", method, path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if cc.csrf != "" {
		req.Header.Set("X-Courier-CSRF", cc.csrf)
	}
	began := time.Now()
	resp, err := cc.http.Do(req)
	if err != nil {
		return 0, nil, 0, fmt.Errorf("bench console: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err = io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	took = time.Since(began)
	if err != nil {
		return 0, nil, 0, fmt.Errorf("bench console: %s %s: read the answer: %w", method, path, err)
	}
	if len(data) > maxAnswerBytes {
		return 0, nil, 0, fmt.Errorf("bench console: %s %s: answer over %d bytes", method, path, maxAnswerBytes)
	}
	return resp.StatusCode, data, took, nil
}

// getJSON sends GET path and decodes a 200 answer into out.
func (cc *consoleClient) getJSON(ctx context.Context, path string, out any) error {
	status, data, _, err := cc.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return err
	}
	return decodeAnswer(path, status, data, out)
}

// decodeAnswer decodes a 200 answer to path into out; any other status is
// an error carrying the console's message.
func decodeAnswer(path string, status int, data []byte, out any) error {
	if status != http.StatusOK {
		return fmt.Errorf("bench console: GET %s: %s", path, answerError(status, data))
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("bench console: GET %s: decode the answer: %w", path, err)
	}
	return nil
}

// answerError describes an answer that is not a success: its status and
// the console's message (REST Proxy's {"error_code", "message"}), or the
// start of its body.
func answerError(status int, data []byte) string {
	var e struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(data, &e) == nil && e.Message != "" {
		return fmt.Sprintf("status %d: %s", status, e.Message)
	}
	if len(data) > 300 {
		data = data[:300]
	}
	return fmt.Sprintf("status %d: %q", status, data)
}

// countPrefix counts the names starting with prefix.
func countPrefix(names []string, prefix string) int {
	n := 0
	for _, s := range names {
		if strings.HasPrefix(s, prefix) {
			n++
		}
	}
	return n
}

// timeNames times GET path, a list of objects under listKey, and returns
// the nameKey of each (when the answer is a success: status says).
func timeNames(ctx context.Context, cc *consoleClient, path, listKey, nameKey string) (opRun, []string, int, error) {
	status, data, took, err := cc.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return opRun{}, nil, 0, err
	}
	run := opRun{request: "GET " + path, took: took, calls: 1, bytes: int64(len(data))}
	if status == http.StatusNotFound {
		return run, nil, status, nil
	}
	var answer map[string]json.RawMessage
	var list []map[string]any
	if err := decodeAnswer(path, status, data, &answer); err != nil {
		return opRun{}, nil, status, err
	}
	if err := json.Unmarshal(answer[listKey], &list); err != nil {
		return opRun{}, nil, status, fmt.Errorf("bench console: GET %s: its %q: %w", path, listKey, err)
	}
	names := make([]string, len(list))
	for i, o := range list {
		names[i], _ = o[nameKey].(string)
	}
	run.items = len(names)
	return run, names, status, nil
}

// timeTopics times GET /api/topics, which must list every seeded topic.
func timeTopics(ctx context.Context, cc *consoleClient, w consoleWant) (opRun, error) {
	run, names, status, err := timeNames(ctx, cc, "/api/topics", "topics", "name")
	switch {
	case err != nil:
		return opRun{}, err
	case status != http.StatusOK:
		return opRun{}, fmt.Errorf("GET /api/topics: status %d", status)
	}
	if got := countPrefix(names, w.names.topicPrefix()); got != w.topics || countPrefix(names, w.names.records()) != 1 {
		return opRun{}, fmt.Errorf("GET /api/topics listed %d of the %d seeded topics (%d in all)", got, w.topics, len(names))
	}
	return run, nil
}

// timeGroups times GET /api/groups, which must list every seeded group;
// a console without the groups API (404) is a skip, said as such.
func timeGroups(ctx context.Context, cc *consoleClient, w consoleWant) (opRun, error) {
	run, names, status, err := timeNames(ctx, cc, "/api/groups", "groups", "group")
	switch {
	case err != nil:
		return opRun{}, err
	case status == http.StatusNotFound:
		run.skipped = "GET /api/groups answered 404: this console has no consumer groups API"
		return run, nil
	}
	if got := countPrefix(names, w.names.groupPrefix()); got != w.groups {
		return opRun{}, fmt.Errorf("GET /api/groups listed %d of the %d seeded groups (%d in all)", got, w.groups, len(names))
	}
	return run, nil
}

// messagesAnswer is what the bench reads of GET /api/topics/{t}/messages.
type messagesAnswer struct {
	Records []struct {
		Partition int32 `json:"partition"`
		Offset    int64 `json:"offset"`
		Timestamp int64 `json:"timestamp"`
		Key       *struct {
			Encoding string `json:"encoding"`
			Data     string `json:"data"`
		} `json:"key"`
	} `json:"records"`
	Progress struct {
		Scanned     int64 `json:"scanned"`
		Total       int64 `json:"total"`
		CallRecords int64 `json:"call_records"`
		Done        bool  `json:"done"`
	} `json:"progress"`
	Continue string `json:"continue"`
}

// messagesPath is the messages endpoint of topic with query q.
func messagesPath(topic string, q url.Values) string {
	return "/api/topics/" + url.PathEscape(topic) + "/messages?" + q.Encode()
}

// timeSearch times a search of the whole records topic for the known key,
// from the oldest records, following the answer's cursor until the scan
// is done: it must find the key once, where it was written, and scan
// every record.
func timeSearch(ctx context.Context, cc *consoleClient, w consoleWant) (opRun, error) {
	q := url.Values{"from": {"oldest"}, "partition": {"all"}, "key": {w.key}, "limit": {fmt.Sprint(consolePageLimit)}}
	run := opRun{request: "GET " + messagesPath(w.names.records(), q)}
	type hit struct {
		partition int32
		offset    int64
		key       string
	}
	var hits []hit
	var scanned int64
	for {
		if run.calls == maxSearchCalls {
			return opRun{}, fmt.Errorf("search for key %s not done after %d calls", w.key, maxSearchCalls)
		}
		path := messagesPath(w.names.records(), q)
		status, data, took, err := cc.do(ctx, http.MethodGet, path, nil)
		if err != nil {
			return opRun{}, err
		}
		run.calls++
		run.took += took
		run.bytes += int64(len(data))
		var ans messagesAnswer
		if err := decodeAnswer(path, status, data, &ans); err != nil {
			return opRun{}, err
		}
		for _, r := range ans.Records {
			h := hit{partition: r.Partition, offset: r.Offset}
			if r.Key != nil {
				h.key = r.Key.Data
			}
			hits = append(hits, h)
		}
		scanned = ans.Progress.Scanned
		run.items += int(ans.Progress.CallRecords)
		if ans.Progress.Done || ans.Continue == "" {
			if !ans.Progress.Done || scanned != int64(w.records) {
				return opRun{}, fmt.Errorf("search for key %s ended (done %v) having scanned %d of %d records", w.key, ans.Progress.Done, scanned, w.records)
			}
			break
		}
		q.Del("from")
		q.Set("cursor", ans.Continue)
	}
	if len(hits) != 1 || hits[0] != (hit{w.keyPartition, w.keyOffset, w.key}) {
		return opRun{}, fmt.Errorf("search for key %s found %+v, want it once at %d/%d", w.key, hits, w.keyPartition, w.keyOffset)
	}
	return run, nil
}

// timeBrowse times a page browsed from a timestamp (the broker's time
// index): it must start at the record written at that time.
func timeBrowse(ctx context.Context, cc *consoleClient, w consoleWant) (opRun, error) {
	q := url.Values{"from": {"timestamp"}, "timestamp": {fmt.Sprint(w.browseMs)}, "partition": {"all"}, "limit": {fmt.Sprint(consolePageLimit)}}
	path := messagesPath(w.names.records(), q)
	status, data, took, err := cc.do(ctx, http.MethodGet, path, nil)
	if err != nil {
		return opRun{}, err
	}
	var ans messagesAnswer
	if err := decodeAnswer(path, status, data, &ans); err != nil {
		return opRun{}, err
	}
	want := min(consolePageLimit, w.records-browseIndex(w.records))
	if len(ans.Records) != want {
		return opRun{}, fmt.Errorf("browse from timestamp %d: %d records, want %d", w.browseMs, len(ans.Records), want)
	}
	if r := ans.Records[0]; r.Partition != w.browsePart || r.Offset != w.browseOffset || r.Timestamp != w.browseMs {
		return opRun{}, fmt.Errorf("browse from timestamp %d starts at %d/%d (timestamp %d), want %d/%d",
			w.browseMs, r.Partition, r.Offset, r.Timestamp, w.browsePart, w.browseOffset)
	}
	return opRun{request: "GET " + path, took: took, items: len(ans.Records), calls: 1, bytes: int64(len(data))}, nil
}
