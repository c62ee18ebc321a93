package webconsole

// api_messages.go answers GET /api/topics/{topic}/messages: browse a
// topic's partition (or all of them) from the oldest or newest record, an
// offset or a timestamp (ListOffsets by timestamp: the time index, never a
// scan), a page of N records at a time, with next and previous pages; and
// search with the same call, filters on key, value and header. Each call
// scans a bounded amount (msgscan.go) and says how much it scanned of how
// much, with a cursor to continue: a search never stops silently.
//
// Query parameters: partition (a number, or "all"/empty), from (oldest,
// newest, offset, timestamp), offset, timestamp (milliseconds or RFC 3339),
// limit (1 to maxPageLimit), cursor (from an earlier answer; replaces from),
// the filters of msgfilter.go, and max_records, max_bytes, max_ms to scan
// less than the default budget per call.

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
)

const (
	// defaultPageLimit and maxPageLimit bound a page's records.
	defaultPageLimit = 50
	maxPageLimit     = 1000
	// maxShownBytes bounds a key, value or header value in an answer;
	// longer ones are cut and marked truncated.
	maxShownBytes = 256 << 10
)

// msgData is a key, value or header value as the page gets it: UTF-8 text
// as text, anything else as base64 (the page shows it as hex or base64).
type msgData struct {
	Encoding  string `json:"encoding"` // "text" or "base64"
	Data      string `json:"data"`
	Size      int    `json:"size"`
	Truncated bool   `json:"truncated,omitempty"`
}

// msgHeader is a record header.
type msgHeader struct {
	Name  string   `json:"name"`
	Value *msgData `json:"value"`
}

// message is a record as the page gets it.
type message struct {
	Partition     int32       `json:"partition"`
	Offset        int64       `json:"offset"`
	Timestamp     int64       `json:"timestamp"`
	TimestampType string      `json:"timestamp_type"`
	Key           *msgData    `json:"key"`
	Value         *msgData    `json:"value"`
	Headers       []msgHeader `json:"headers"`
}

// scanPartition is one partition's progress: the scan began at From,
// reached Reached, and can go as far as End.
type scanPartition struct {
	Partition int32 `json:"partition"`
	From      int64 `json:"from"`
	Reached   int64 `json:"reached"`
	End       int64 `json:"end"`
}

// scanProgress says how much a scan (over all its calls) covered of how
// much, in offsets, and what this call did.
type scanProgress struct {
	Scanned      int64           `json:"scanned"`
	Total        int64           `json:"total"`
	Partitions   []scanPartition `json:"partitions"`
	CallRecords  int64           `json:"call_records"`
	CallBytes    int64           `json:"call_bytes"`
	CallMs       int64           `json:"call_ms"`
	Stopped      string          `json:"stopped"`
	Done         bool            `json:"done"`
	Backward     bool            `json:"backward"`
	FilterActive bool            `json:"filter_active"`
}

// messagesAnswer is the endpoint's answer. Continue goes on in the same
// direction ("" when done); Next and Prev page forward and backward from
// this page.
type messagesAnswer struct {
	Records  []message    `json:"records"`
	Progress scanProgress `json:"progress"`
	Continue string       `json:"continue"`
	Next     string       `json:"next"`
	Prev     string       `json:"prev"`
}

// shown is b as the page gets it.
func shown(b []byte) *msgData {
	if b == nil {
		return nil
	}
	d := &msgData{Size: len(b)}
	if len(b) > maxShownBytes {
		b, d.Truncated = b[:maxShownBytes], true
	}
	if utf8.Valid(b) {
		d.Encoding, d.Data = "text", string(b)
	} else {
		d.Encoding, d.Data = "base64", base64.StdEncoding.EncodeToString(b)
	}
	return d
}

// messageOf is r as the page gets it.
func messageOf(r *kgo.Record) message {
	m := message{
		Partition: r.Partition, Offset: r.Offset, Timestamp: r.Timestamp.UnixMilli(),
		TimestampType: "CreateTime", Key: shown(r.Key), Value: shown(r.Value),
		Headers: make([]msgHeader, 0, len(r.Headers)),
	}
	if r.Attrs.TimestampType() == 1 {
		m.TimestampType = "LogAppendTime"
	}
	for _, h := range r.Headers {
		m.Headers = append(m.Headers, msgHeader{Name: h.Key, Value: shown(h.Value)})
	}
	return m
}

// intParam reads an optional integer query parameter within [lo, hi].
func intParam(q url.Values, name string, def, lo, hi int64) (int64, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < lo || v > hi {
		return 0, badRequest("%s=%q: want a whole number from %d to %d", name, s, lo, hi)
	}
	return v, nil
}

// parseBudget reads max_records, max_bytes and max_ms: a client may ask to
// scan less per call than the default, never more.
func parseBudget(q url.Values) (scanBudget, error) {
	b := defaultBudget
	var err error
	if b.Records, err = intParam(q, "max_records", b.Records, 1, b.Records); err != nil {
		return b, err
	}
	if b.Bytes, err = intParam(q, "max_bytes", b.Bytes, 1, b.Bytes); err != nil {
		return b, err
	}
	ms, err := intParam(q, "max_ms", b.Time.Milliseconds(), 1, b.Time.Milliseconds())
	b.Time = time.Duration(ms) * time.Millisecond
	return b, err
}

// parseTimestamp reads a timestamp: milliseconds since the epoch, or RFC
// 3339.
func parseTimestamp(s string) (int64, error) {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil && ms >= 0 {
		return ms, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, badRequest("timestamp=%q: want milliseconds since the epoch or an RFC 3339 time", s)
	}
	return t.UnixMilli(), nil
}

// offsetBounds are a partition's start and end offsets.
type offsetBounds struct{ start, end int64 }

// topicBounds checks that the user may describe topic and lists the start
// and end offsets of its partitions; it returns the user's admin client too.
func (c *call) topicBounds(ctx context.Context, topic string) (*kadm.Client, map[int32]offsetBounds, error) {
	adm, err := c.admin()
	if err != nil {
		return nil, nil, err
	}
	td, err := c.describeTopic(ctx, topic)
	if err != nil {
		return nil, nil, err
	}
	cl, err := c.client()
	if err != nil {
		return nil, nil, err
	}
	starts, ends, _, _, err := offsetsAndSizesOf(ctx, cl, adm, kadm.TopicDetails{topic: td}, false)
	if err != nil {
		return nil, nil, kafkaError("list the offsets of topic "+topic, err)
	}
	out := map[int32]offsetBounds{}
	for p, s := range starts[topic] {
		e, ok := ends.Lookup(topic, p)
		if s.Err != nil || !ok || e.Err != nil {
			err := s.Err
			if err == nil {
				err = e.Err
			}
			return nil, nil, kafkaError("list the offsets of topic "+topic, err)
		}
		out[p] = offsetBounds{s.Offset, e.Offset}
	}
	return adm, out, nil
}

// startParts works out where a new browse or search begins (no cursor).
func startParts(ctx context.Context, adm *kadm.Client, topic string, q url.Values, bounds map[int32]offsetBounds) ([]*partScan, bool, error) {
	var ids []int32
	switch p := q.Get("partition"); p {
	case "", "all":
		for id := range bounds {
			ids = append(ids, id)
		}
	default:
		id, err := strconv.ParseInt(p, 10, 32)
		if _, ok := bounds[int32(id)]; err != nil || !ok {
			return nil, false, badRequest("partition=%q: topic %s has partitions 0 to %d", p, topic, len(bounds)-1)
		}
		ids = []int32{int32(id)}
	}
	slices.Sort(ids)
	from := q.Get("from")
	var at map[int32]int64
	switch from {
	case "", "newest", "oldest":
	case "offset":
		off, err := intParam(q, "offset", -1, 0, 1<<62)
		if err != nil || off < 0 {
			return nil, false, badRequest("from=offset needs offset, a whole number from 0")
		}
		at = map[int32]int64{}
		for _, id := range ids {
			at[id] = off
		}
	case "timestamp":
		ms, err := parseTimestamp(q.Get("timestamp"))
		if err != nil {
			return nil, false, err
		}
		listed, err := adm.ListOffsetsAfterMilli(ctx, ms, topic)
		if err != nil {
			return nil, false, kafkaError("look up offsets by timestamp in topic "+topic, err)
		}
		at = map[int32]int64{}
		for _, id := range ids {
			lo, ok := listed.Lookup(topic, id)
			if !ok || lo.Err != nil {
				return nil, false, kafkaError("look up offsets by timestamp in topic "+topic, lo.Err)
			}
			at[id] = lo.Offset
		}
	default:
		return nil, false, badRequest("from=%q: want oldest, newest, offset or timestamp", from)
	}
	backward := from == "" || from == "newest"
	parts := make([]*partScan, 0, len(ids))
	for _, id := range ids {
		b := bounds[id]
		pos := b.start
		switch {
		case backward:
			pos = b.end
		case at != nil:
			pos = min(max(at[id], b.start), b.end)
		}
		parts = append(parts, &partScan{partition: id, origin: pos, pos: pos})
	}
	return parts, backward, nil
}

// cursorParts continues a scan from a cursor.
func cursorParts(topic, s string, bounds map[int32]offsetBounds) ([]*partScan, bool, error) {
	cu, err := decodeCursor(s)
	if err != nil {
		return nil, false, badRequest("cursor: %v", err)
	}
	parts := make([]*partScan, 0, len(cu.Parts))
	for _, p := range cu.Parts {
		if _, ok := bounds[p.Partition]; !ok {
			return nil, false, badRequest("cursor: topic %s has no partition %d", topic, p.Partition)
		}
		parts = append(parts, &partScan{partition: p.Partition, origin: p.Origin, pos: p.Pos})
	}
	return parts, cu.Backward, nil
}

// messages answers GET /api/topics/{topic}/messages.
func (st *topicState) messages(c *call) error {
	topic := c.r.PathValue("topic")
	q := c.r.URL.Query()
	filter, err := parseFilter(q)
	if err != nil {
		return err
	}
	limit, err := intParam(q, "limit", defaultPageLimit, 1, maxPageLimit)
	if err != nil {
		return err
	}
	budget, err := parseBudget(q)
	if err != nil {
		return err
	}
	began := time.Now()
	ctx, cancel := c.timeout()
	defer cancel()
	adm, bounds, err := c.topicBounds(ctx, topic)
	if err != nil {
		return err
	}
	var parts []*partScan
	var backward bool
	if cur := q.Get("cursor"); cur != "" {
		parts, backward, err = cursorParts(topic, cur, bounds)
	} else {
		parts, backward, err = startParts(ctx, adm, topic, q, bounds)
	}
	if err != nil {
		return err
	}
	for _, ps := range parts {
		if b := bounds[ps.partition]; backward {
			ps.end = b.start
		} else {
			ps.end = b.end
		}
	}
	sc := &scanner{newClient: c.Kafka().NewClient, topic: topic, filter: filter, limit: int(limit),
		budget: budget, deadline: began.Add(budget.Time)}
	if backward {
		err = sc.backward(ctx, parts)
	} else {
		err = sc.forward(ctx, parts)
	}
	if err != nil {
		return err
	}
	recs := page(parts, int(limit), backward)
	return c.JSON(http.StatusOK, answerOf(sc, parts, recs, backward, filter.active(), time.Since(began)))
}

// answerOf builds the answer of a scan.
func answerOf(sc *scanner, parts []*partScan, recs []*kgo.Record, backward, filtered bool, took time.Duration) messagesAnswer {
	ans := messagesAnswer{Records: make([]message, 0, len(recs))}
	for _, r := range recs {
		ans.Records = append(ans.Records, messageOf(r))
	}
	pr := &ans.Progress
	pr.CallRecords, pr.CallBytes, pr.CallMs = sc.scanned, sc.bytes, took.Milliseconds()
	pr.Backward, pr.FilterActive, pr.Done = backward, filtered, true
	same := &cursor{Backward: backward}
	other := &cursor{Backward: !backward}
	for _, ps := range parts {
		pr.Partitions = append(pr.Partitions, scanPartition{Partition: ps.partition, From: ps.origin, Reached: ps.reached, End: ps.end})
		if backward {
			pr.Scanned += ps.origin - ps.reached
			pr.Total += max(ps.origin-ps.end, 0)
		} else {
			pr.Scanned += ps.reached - ps.origin
			pr.Total += max(ps.end-ps.origin, 0)
		}
		// Done is every partition at its end, not merely finished for
		// this call (a page of matches also finishes a partition).
		pr.Done = pr.Done && (backward && ps.reached <= ps.end || !backward && ps.reached >= ps.end)
		same.Parts = append(same.Parts, cursorPart{Partition: ps.partition, Origin: ps.origin, Pos: ps.reached})
		other.Parts = append(other.Parts, cursorPart{Partition: ps.partition, Origin: ps.pos, Pos: ps.pos})
	}
	pr.Stopped = sc.stopped
	if pr.Stopped == "" {
		pr.Stopped = stopLimit
		if pr.Done {
			pr.Stopped = stopEnd
		}
	}
	if len(parts) > 0 {
		if !pr.Done {
			ans.Continue = same.encode()
		}
		if backward {
			ans.Prev, ans.Next = same.encode(), other.encode()
		} else {
			ans.Next, ans.Prev = same.encode(), other.encode()
		}
	}
	return ans
}
