package webconsole

// laghistory.go keeps the lag history of every consumer group, the last 24
// hours of samples (total lag in records, lag in time), in memory and in a
// small file so that it survives restarts. The sampler (lagsampler.go)
// adds a round of samples every Config.LagInterval.
//
// Memory: a sample is 16 bytes (lagSample); a group keeps at most
// lagMaxSamples (1,440: 24 h at the default 1-minute interval; at a shorter
// interval, the latest 1,440), so at most 22.5 KiB per group; at most
// Config.LagMaxGroups groups are tracked (default 500: at most ~11 MiB),
// those first seen; a group that disappears from a complete listing is
// dropped.
//
// The file, DataDir/lag-history, is lines of text:
//
//	courier-lag-history 1
//	<crc32c of the payload, 8 hex digits> <payload: one round, JSON>
//	...
//
// where a round's payload is {"t": Unix seconds, "g": {"group": [records,
// seconds], ...}} (-1: unknown). A round is appended (and synced) as one
// line; when the file holds twice lagMaxSamples rounds it is rewritten from
// memory without the samples older than 24 h (written to a temporary file,
// synced, renamed over it, the directory synced), so it stays under about
// twice the size of the history itself.
//
// Recovery (laghistory_file.go): a line whose checksum or content is wrong
// (a torn write at a crash, a damaged disk) is skipped and said in the log
// and in /metrics; the lines skipped are kept aside in
// lag-history.damaged before the file is rewritten without them, so
// nothing is deleted that is not proven worthless. A file of a newer or
// unknown format is refused and left untouched: the history is then kept
// in memory only, and the page says why.

import (
	"context"
	"log/slog"
	"math"
	"sort"
	"sync"
	"time"
)

const (
	// lagKeep is how far back the history goes.
	lagKeep = 24 * time.Hour
	// lagMaxSamples bounds a group's samples.
	lagMaxSamples = 1440
	// lagDefaultMaxGroups is Config.LagMaxGroups' default.
	lagDefaultMaxGroups = 500
	// lagNoTime is a sample's TimeLag when the lag in time is unknown.
	lagNoTime = math.MaxUint32
)

// lagSample is one sample of a group's lag: 16 bytes.
type lagSample struct {
	At      uint32 // At is the sample's time, Unix seconds.
	TimeLag uint32 // TimeLag is the lag in time in seconds (the largest of the group's partitions), lagNoTime if unknown.
	Records int64  // Records is the total lag in records, -1 if unknown.
}

// lagRing is a group's samples, oldest first: a ring of at most
// lagMaxSamples.
type lagRing struct {
	buf   []lagSample
	start int // the oldest sample's index once the ring is full
}

// add appends s, dropping the oldest sample when the ring is full.
func (r *lagRing) add(s lagSample) {
	if len(r.buf) < lagMaxSamples {
		r.buf = append(r.buf, s)
		return
	}
	r.buf[r.start] = s
	r.start = (r.start + 1) % len(r.buf)
}

// since returns the samples at or after t, oldest first.
func (r *lagRing) since(t uint32) []lagSample {
	out := make([]lagSample, 0, len(r.buf))
	for i := range r.buf {
		if s := r.buf[(r.start+i)%len(r.buf)]; s.At >= t {
			out = append(out, s)
		}
	}
	return out
}

// lagRound is one round of samples, by group: what a line of the file
// holds.
type lagRound struct {
	At      uint32
	Samples map[string]lagSample
}

// lagHistory is the lag history of every tracked group.
type lagHistory struct {
	log       *slog.Logger
	metrics   *lagMetrics
	maxGroups int
	// path is the file, "" when the history is kept in memory only;
	// then why says why (no DataDir, a file refused).
	path string
	why  string

	mu        sync.Mutex
	groups    map[string]*lagRing
	untracked int // groups of the last round left out by maxGroups
	lines     int // rounds in the file
	last      time.Time
}

// newLagHistory returns an empty history kept in memory only (why says
// why), or opened on a file by openLagHistory.
func newLagHistory(log *slog.Logger, m *lagMetrics, maxGroups int, why string) *lagHistory {
	if maxGroups <= 0 {
		maxGroups = lagDefaultMaxGroups
	}
	return &lagHistory{log: log, metrics: m, maxGroups: maxGroups, why: why, groups: make(map[string]*lagRing)}
}

// cutoff is the oldest time kept at now, in Unix seconds.
func cutoff(now time.Time) uint32 {
	return uint32(max(now.Add(-lagKeep).Unix(), 0))
}

// add puts a round's samples in memory: those of tracked groups, and of
// new groups while fewer than maxGroups are tracked (by name order, so
// that a restart picks the same ones); with complete (the round listed
// every group) the groups not in it are dropped. It returns the samples
// kept.
func (h *lagHistory) add(r lagRound, complete bool) lagRound {
	kept := lagRound{At: r.At, Samples: make(map[string]lagSample, len(r.Samples))}
	names := make([]string, 0, len(r.Samples))
	for g := range r.Samples {
		names = append(names, g)
	}
	sort.Strings(names)
	if complete {
		for g := range h.groups {
			if _, ok := r.Samples[g]; !ok {
				delete(h.groups, g)
			}
		}
	}
	h.untracked = 0
	for _, g := range names {
		ring := h.groups[g]
		if ring == nil {
			if len(h.groups) >= h.maxGroups {
				h.untracked++
				continue
			}
			ring = &lagRing{}
			h.groups[g] = ring
		}
		ring.add(r.Samples[g])
		kept.Samples[g] = r.Samples[g]
	}
	h.metrics.tracked.Set(float64(len(h.groups)))
	return kept
}

// record adds a round sampled at now and appends it to the file.
func (h *lagHistory) record(now time.Time, samples map[string]lagSample, complete bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	r := h.add(lagRound{At: uint32(now.Unix()), Samples: samples}, complete)
	h.last = now
	if h.untracked > 0 {
		h.log.Warn("console lag history: groups not tracked, over the limit", "untracked", h.untracked, "limit", h.maxGroups)
	}
	if h.path == "" {
		return
	}
	if h.lines >= 2*lagMaxSamples {
		h.rewrite(now)
		return // the rewrite wrote this round too
	}
	if err := appendLagRound(h.path, r); err != nil {
		h.metrics.writeErrors.Inc()
		h.log.Error("console lag history: append to the file failed; the round is kept in memory", "path", h.path, "err", err)
		return
	}
	h.lines++
}

// rewrite writes the file anew from memory, without samples older than
// lagKeep at now. Called with h.mu held.
func (h *lagHistory) rewrite(now time.Time) {
	rounds := h.rounds(cutoff(now))
	if err := writeLagFile(h.path, rounds); err != nil {
		h.metrics.writeErrors.Inc()
		h.log.Error("console lag history: rewriting the file failed; it is left as it was", "path", h.path, "err", err)
		return
	}
	h.metrics.rewrites.Inc()
	dropped := h.lines - len(rounds)
	h.lines = len(rounds)
	// Routine upkeep (a new file, a periodic compaction) is debug; the
	// rewrite that drops what the file held is worth a line.
	level := slog.LevelDebug
	if dropped > 0 {
		level = slog.LevelInfo
	}
	h.log.Log(context.Background(), level, "console lag history: file rewritten without the samples older than 24 h",
		"path", h.path, "rounds", len(rounds), "dropped", max(dropped, 0), "groups", len(h.groups))
}

// rounds regroups the samples in memory at or after from into rounds,
// oldest first. Called with h.mu held.
func (h *lagHistory) rounds(from uint32) []lagRound {
	byTime := make(map[uint32]map[string]lagSample)
	for g, ring := range h.groups {
		for _, s := range ring.since(from) {
			if byTime[s.At] == nil {
				byTime[s.At] = make(map[string]lagSample)
			}
			byTime[s.At][g] = s
		}
	}
	out := make([]lagRound, 0, len(byTime))
	for at, ss := range byTime {
		out = append(out, lagRound{At: at, Samples: ss})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].At < out[j].At })
	return out
}

// samples returns the group's samples of the last 24 hours at now, oldest
// first, and whether the group is tracked.
func (h *lagHistory) samples(group string, now time.Time) ([]lagSample, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ring, ok := h.groups[group]
	if !ok {
		return nil, false
	}
	return ring.since(cutoff(now)), true
}

// status says where the history is kept (why: "" when in the file) and how
// many groups the last round could not track.
func (h *lagHistory) status() (why string, untracked int, last time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.why, h.untracked, h.last
}
