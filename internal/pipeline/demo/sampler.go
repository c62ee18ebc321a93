package demo

// sampler.go measures the pipeline once a second (updates accepted, rows
// written, database transactions, delay), describes the consumer groups,
// measures the two topics (sizes.go), and renders the terminal status
// line.

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/courier-dev/courier/internal/tools/ctl"
)

// historyLen is how many one-second samples the charts show.
const historyLen = 120

// sample is one second of pipeline activity.
type sample struct {
	T       int64   `json:"t"`       // unix seconds
	In      float64 `json:"in"`      // updates/s accepted by the gateway (acknowledged by the cluster)
	Written float64 `json:"written"` // rows/s newly written by the sinks
	Tx      float64 `json:"tx"`      // database transactions/s
}

// totals are cumulative counters and current gauges.
type totals struct {
	Sent       int64   `json:"sent"`
	Accepted   int64   `json:"accepted"`
	Written    int64   `json:"written"`
	Tx         int64   `json:"tx"`
	DBRows     int64   `json:"db_rows"`
	DBRiders   int64   `json:"db_riders"`
	DelayP50Ms float64 `json:"delay_p50_ms"`
	DelayP99Ms float64 `json:"delay_p99_ms"`
	Lag        int64   `json:"lag"`
}

// groupView is a consumer group as the page shows it.
type groupView struct {
	Group    string       `json:"group"`
	State    string       `json:"state"`
	Protocol string       `json:"protocol"`
	Members  []memberView `json:"members"`
	Offsets  []offsetView `json:"offsets"`
	Lag      int64        `json:"lag"`
	Err      string       `json:"error,omitempty"`
}

type memberView struct {
	MemberID   string  `json:"member_id"`
	ClientID   string  `json:"client_id"`
	Host       string  `json:"host"`
	Partitions []int32 `json:"partitions"`
}

type offsetView struct {
	Partition int32 `json:"partition"`
	Committed int64 `json:"committed"`
	End       int64 `json:"end"`
	Lag       int64 `json:"lag"`
}

// sampler owns the measurements; the web handler and status line read them.
type sampler struct {
	c     *components
	start time.Time

	mu      sync.Mutex
	history []sample
	tot     totals
	groups  []groupView
	topics  []topicView
	line    string
}

func newSampler(c *components) *sampler {
	return &sampler{c: c, start: time.Now()}
}

// Run samples once a second until ctx ends.
func (s *sampler) Run(ctx context.Context) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	// The history table is counted once; afterwards the sinks' inserts are
	// added (only they write it), so the page never counts a table that
	// grows by millions of rows an hour.
	var baseRows int64
	if rows, _, err := s.c.db.Counts(ctx); err == nil {
		baseRows = rows
	}
	prev, prevT := s.counters(), time.Now()
	for n := 0; ; n++ {
		select {
		case <-ctx.Done():
			return
		case now := <-tick.C:
			cur := s.counters()
			dt := now.Sub(prevT).Seconds()
			smp := sample{T: now.Unix(), In: float64(cur.Accepted-prev.Accepted) / dt,
				Written: float64(cur.Written-prev.Written) / dt, Tx: float64(cur.Tx-prev.Tx) / dt}
			prev, prevT = cur, now
			if n%sizesEvery == 0 {
				topics := s.describeTopics(ctx)
				s.mu.Lock()
				s.topics = topics
				s.mu.Unlock()
			}
			var groups []groupView
			if n%2 == 0 {
				groups = s.describeGroups(ctx)
				if riders, err := s.c.db.Riders(ctx); err == nil {
					cur.DBRiders = riders
				}
				cur.DBRows = baseRows + cur.Written
			}
			s.record(smp, cur, groups)
		}
	}
}

// counters reads the components' cumulative counters.
func (s *sampler) counters() totals {
	var t totals
	t.Sent = s.c.sim.Sent.Load()
	t.Accepted = s.c.gateway.Stats().Accepted
	for _, sk := range s.c.sinks {
		st := sk.Stats()
		// A record written over one the log lost adds no history row.
		t.Written += st.Inserted - st.Truncated
		t.Tx += st.Transactions
		t.DelayP50Ms = max(t.DelayP50Ms, float64(st.DelayP50)/float64(time.Millisecond))
		t.DelayP99Ms = max(t.DelayP99Ms, float64(st.DelayP99)/float64(time.Millisecond))
	}
	return t
}

// record stores a sample and refreshes the status line.
func (s *sampler) record(smp sample, cur totals, groups []groupView) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.history = append(s.history, smp)
	if len(s.history) > historyLen {
		s.history = s.history[len(s.history)-historyLen:]
	}
	if groups != nil {
		s.groups = groups
		cur.Lag = 0
		for _, g := range groups {
			if g.Group == SinkGroup {
				cur.Lag = g.Lag
			}
		}
	} else {
		cur.DBRows, cur.DBRiders, cur.Lag = s.tot.DBRows, s.tot.DBRiders, s.tot.Lag
	}
	s.tot = cur
	s.line = fmt.Sprintf("in %s/s | written %s rows/s | %s db tx/s | db-writer lag %s | %s rows, %s riders in db | delay p99 %.0f ms",
		human(smp.In), human(smp.Written), human(smp.Tx), human(float64(cur.Lag)),
		human(float64(cur.DBRows)), human(float64(cur.DBRiders)), cur.DelayP99Ms)
	s.printLine()
}

// printLine writes the status line: rewritten in place on a terminal,
// every tenth second otherwise (logs stay readable).
func (s *sampler) printLine() {
	w := s.c.cfg.Status
	if s.c.cfg.StatusTTY {
		fmt.Fprintf(w, "\r\033[K%s", s.line)
		return
	}
	if len(s.history)%10 == 0 {
		fmt.Fprintln(w, s.line)
	}
}

// summaryCountTimeout bounds counting the database for the summary.
const summaryCountTimeout = 10 * time.Second

// finish ends the status line and prints the run's summary. It runs once
// the simulator and every sink stopped, so it reads their final counters,
// not the last one-second sample (which missed up to a second of work and
// the batches the sinks wrote as they stopped), and counts the database.
func (s *sampler) finish() {
	cur := s.counters()
	ctx, cancel := context.WithTimeout(context.Background(), summaryCountTimeout)
	rows, riders, err := s.c.db.Counts(ctx)
	cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.c.cfg.Status
	if s.c.cfg.StatusTTY {
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, "demo stopped: %d updates accepted, %d rows written in %d transactions", cur.Accepted, cur.Written, cur.Tx)
	if err != nil {
		fmt.Fprintf(w, "; database not counted: %v\n", err)
		return
	}
	fmt.Fprintf(w, "; the database holds %d rows of %d riders\n", rows, riders)
}

// describeGroups describes the demo's groups with their lag.
func (s *sampler) describeGroups(ctx context.Context) []groupView {
	ctx, cancel := context.WithTimeout(ctx, 900*time.Millisecond)
	defer cancel()
	var out []groupView
	for _, name := range []string{SinkGroup, MapGroup} {
		d, err := s.c.admin.DescribeGroup(ctx, name)
		if err != nil {
			out = append(out, groupView{Group: name, Err: err.Error()})
			continue
		}
		out = append(out, viewOf(d))
	}
	return out
}

// viewOf converts a group description for the page.
func viewOf(d ctl.GroupDescription) groupView {
	g := groupView{Group: d.Group, State: d.State, Protocol: d.Protocol, Lag: d.TotalLag()}
	for _, m := range d.Members {
		var ps []int32
		for _, p := range m.Assigned {
			ps = append(ps, p...)
		}
		sort.Slice(ps, func(i, j int) bool { return ps[i] < ps[j] })
		g.Members = append(g.Members, memberView{MemberID: m.MemberID, ClientID: m.ClientID, Host: m.Host, Partitions: ps})
	}
	sort.Slice(g.Members, func(i, j int) bool { return g.Members[i].ClientID < g.Members[j].ClientID })
	for _, o := range d.Offsets {
		g.Offsets = append(g.Offsets, offsetView{Partition: o.Partition, Committed: o.Committed, End: o.End, Lag: o.Lag})
	}
	if d.OffsetsErr != nil {
		g.Err = d.OffsetsErr.Error()
	}
	return g
}

// human formats a count compactly: 950, 12.3k, 4.56M.
func human(f float64) string {
	switch {
	case f >= 1e6:
		return fmt.Sprintf("%.2fM", f/1e6)
	case f >= 1e4:
		return fmt.Sprintf("%.1fk", f/1e3)
	default:
		return fmt.Sprintf("%.0f", f)
	}
}
