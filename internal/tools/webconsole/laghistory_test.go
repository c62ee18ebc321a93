package webconsole

// laghistory_test.go checks the lag history's store and file: a restart
// keeps the history; a damaged or torn file loses only its damaged lines
// (kept aside); a file of another format is refused and left untouched;
// the bounds (groups tracked, samples per group, 24 h, the file's
// rewrite); and the decoder never panics (FuzzDecodeLagFile).

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/testlog"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// openTestHistory opens the history of dir at now, logging into a buffer.
func openTestHistory(t *testing.T, dir string, maxGroups int, now time.Time) (*lagHistory, *testlog.Buffer) {
	t.Helper()
	buf := &testlog.Buffer{}
	log := slog.New(slog.NewTextHandler(buf, nil))
	return openLagHistory(log, newLagMetrics(), maxGroups, dir, now), buf
}

// metricValue reads a counter's or a gauge's value.
func metricValue(m prometheus.Metric) float64 {
	var out dto.Metric
	if err := m.Write(&out); err != nil {
		return -1
	}
	if out.Counter != nil {
		return out.Counter.GetValue()
	}
	return out.Gauge.GetValue()
}

// roundOf is a round at t of the groups' samples (records; time lag
// seconds).
func roundOf(t time.Time, lags map[string][2]int64) map[string]lagSample {
	out := make(map[string]lagSample, len(lags))
	for g, l := range lags {
		tl := uint32(lagNoTime)
		if l[1] >= 0 {
			tl = uint32(l[1])
		}
		out[g] = lagSample{At: uint32(t.Unix()), Records: l[0], TimeLag: tl}
	}
	return out
}

// historyOf returns every group's samples at now.
func historyOf(h *lagHistory, now time.Time) map[string][]lagSample {
	out := map[string][]lagSample{}
	for g := range h.groups {
		out[g], _ = h.samples(g, now)
	}
	return out
}

func TestLagHistoryRestart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "console") // made on first use
	now := time.Unix(1_800_000_000, 0)
	h, _ := openTestHistory(t, dir, 0, now)
	for i := range 5 {
		at := now.Add(time.Duration(i) * time.Minute)
		h.record(at, roundOf(at, map[string][2]int64{"orders": {int64(10 * i), int64(i)}, "odd \"name\"\n\t✓": {-1, -1}}), true)
	}
	end := now.Add(5 * time.Minute)
	want := historyOf(h, end)
	if len(want["orders"]) != 5 || want["orders"][4].Records != 40 || want["orders"][4].TimeLag != 4 || want["odd \"name\"\n\t✓"][0].TimeLag != lagNoTime {
		t.Fatalf("history = %+v", want)
	}
	again, buf := openTestHistory(t, dir, 0, end)
	if got := historyOf(again, end); !reflect.DeepEqual(got, want) {
		t.Errorf("after a restart:\n got %+v\nwant %+v\nlog: %s", got, want, buf)
	}
	// A day later the samples are too old to show, and dropped from the
	// file when it is read.
	later := end.Add(lagKeep)
	old, _ := openTestHistory(t, dir, 0, later)
	if got := historyOf(old, later); len(got) != 0 {
		t.Errorf("a day later: %+v", got)
	}
}

// writeRounds writes a history file of n rounds of group g (records i at
// minute i) and returns its lines (header first).
func writeRounds(t *testing.T, path string, now time.Time, n int) [][]byte {
	t.Helper()
	var rounds []lagRound
	for i := range n {
		at := now.Add(time.Duration(i) * time.Minute)
		rounds = append(rounds, lagRound{At: uint32(at.Unix()), Samples: roundOf(at, map[string][2]int64{"g": {int64(i), 0}})})
	}
	if err := writeLagFile(path, rounds); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := bytes.SplitAfter(data, []byte{'\n'})
	return lines[:len(lines)-1] // the empty piece after the last newline
}

func TestLagHistoryDamagedFile(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	end := now.Add(time.Hour)
	for _, tc := range []struct {
		name   string
		damage func(lines [][]byte) [][]byte
		lost   []int64 // the records of the rounds lost
	}{
		{"a flipped byte", func(ls [][]byte) [][]byte { ls[3][20] ^= 0x20; return ls }, []int64{2}},
		{"a torn tail", func(ls [][]byte) [][]byte { ls[len(ls)-1] = ls[len(ls)-1][:15]; return ls }, []int64{5}},
		{"a torn tail at its newline", func(ls [][]byte) [][]byte { l := ls[len(ls)-1]; ls[len(ls)-1] = l[:len(l)-1]; return ls }, nil},
		{"garbage and an empty line", func(ls [][]byte) [][]byte {
			return append(ls[:3], append([][]byte{[]byte("zzzz\n"), []byte("\n")}, ls[3:]...)...)
		}, nil},
		{"two lines run together", func(ls [][]byte) [][]byte { ls[2] = bytes.TrimSuffix(ls[2], []byte{'\n'}); return ls }, []int64{1, 2}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, lagFileName)
			lines := writeRounds(t, path, now, 6)
			damaged := bytes.Join(tc.damage(lines), nil)
			if err := os.WriteFile(path, damaged, 0o644); err != nil {
				t.Fatal(err)
			}
			h, buf := openTestHistory(t, dir, 0, end)
			var got []int64
			for _, s := range historyOf(h, end)["g"] {
				got = append(got, s.Records)
			}
			var want []int64
			for i := range int64(6) {
				if !contains(tc.lost, i) {
					want = append(want, i)
				}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("rounds kept %v, want %v; log: %s", got, want, buf)
			}
			skipped := metricValue(h.metrics.damaged)
			aside, err := os.ReadFile(path + ".damaged")
			if skipped > 0 && (err != nil || len(aside) == 0 || !strings.Contains(buf.String(), "damaged lines skipped")) {
				t.Errorf("%v lines skipped, kept aside: %q, %v; log: %s", skipped, aside, err, buf)
			}
			// The file was rewritten without the damage: read again, it
			// holds the same rounds and nothing is skipped.
			again, buf2 := openTestHistory(t, dir, 0, end)
			if !reflect.DeepEqual(historyOf(again, end), historyOf(h, end)) || metricValue(again.metrics.damaged) != 0 {
				t.Errorf("read again: %+v; log: %s", historyOf(again, end), buf2)
			}
			// And it takes appends again.
			again.record(end, roundOf(end, map[string][2]int64{"g": {99, 1}}), true)
			third, _ := openTestHistory(t, dir, 0, end)
			if s := historyOf(third, end)["g"]; len(s) != len(want)+1 || s[len(s)-1].Records != 99 {
				t.Errorf("after an append: %+v", s)
			}
		})
	}
}

// contains reports whether xs holds x.
func contains(xs []int64, x int64) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

func TestLagHistoryRefusesOtherFormats(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	for _, content := range []string{
		"courier-lag-history 2\n0000 {}\n",
		"courier-lag-history 1", // a header without its newline: not a file this console wrote
		"{\"some\": \"json\"}\n",
		"\x00\x01binary",
	} {
		dir := t.TempDir()
		path := filepath.Join(dir, lagFileName)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		h, buf := openTestHistory(t, dir, 0, now)
		h.record(now, roundOf(now, map[string][2]int64{"g": {1, 1}}), true)
		data, err := os.ReadFile(path)
		if err != nil || string(data) != content {
			t.Errorf("%q: the file was changed to %q (%v)", content, data, err)
		}
		why, _, _ := h.status()
		if why == "" || metricValue(h.metrics.refused) != 1 || !strings.Contains(buf.String(), "refused") {
			t.Errorf("%q: why %q; log: %s", content, why, buf)
		}
		if s, ok := h.samples("g", now); !ok || len(s) != 1 {
			t.Errorf("%q: in memory: %+v", content, s)
		}
	}
}

func TestLagHistoryBounds(t *testing.T) {
	dir := t.TempDir()
	now := time.Unix(1_800_000_000, 0)
	h, buf := openTestHistory(t, dir, 2, now)
	h.record(now, roundOf(now, map[string][2]int64{"b": {1, 0}, "a": {1, 0}, "c": {1, 0}}), true)
	if _, ok := h.samples("c", now); ok || h.untracked != 1 || !strings.Contains(buf.String(), "not tracked") {
		t.Errorf("over the limit of 2: c tracked %v, untracked %d", ok, h.untracked)
	}
	// An incomplete round keeps the groups it does not mention; a complete
	// one drops them, and makes room.
	h.record(now.Add(time.Second), roundOf(now, map[string][2]int64{"a": {2, 0}}), false)
	if _, ok := h.samples("b", now); !ok {
		t.Error("b dropped by an incomplete round")
	}
	h.record(now.Add(2*time.Second), roundOf(now, map[string][2]int64{"a": {3, 0}, "c": {3, 0}}), true)
	if _, ok := h.samples("b", now); ok {
		t.Error("b kept after a complete round without it")
	}
	if s, ok := h.samples("c", now); !ok || len(s) != 1 {
		t.Errorf("c = %+v", s)
	}
	// A group keeps at most lagMaxSamples, the latest; the file is
	// rewritten when it holds twice as many rounds, and stays readable.
	for i := range 2*lagMaxSamples + 10 {
		at := now.Add(time.Duration(i) * time.Second)
		h.record(at, roundOf(at, map[string][2]int64{"a": {int64(i), 0}}), true)
	}
	end := now.Add((2*lagMaxSamples + 10) * time.Second)
	s, _ := h.samples("a", end)
	if len(s) != lagMaxSamples || s[len(s)-1].Records != 2*lagMaxSamples+9 || s[0].Records != lagMaxSamples+10 {
		t.Errorf("%d samples, from %d to %d", len(s), s[0].Records, s[len(s)-1].Records)
	}
	if metricValue(h.metrics.rewrites) != 2 || h.lines > 2*lagMaxSamples { // its creation, then one
		t.Errorf("rewrites %v, lines %d", metricValue(h.metrics.rewrites), h.lines)
	}
	again, _ := openTestHistory(t, dir, 2, end)
	if got, _ := again.samples("a", end); !reflect.DeepEqual(got, s) {
		t.Errorf("read again: %d samples", len(got))
	}
	// A sample is 16 bytes.
	if n := reflect.TypeOf(lagSample{}).Size(); n != 16 {
		t.Errorf("a sample is %d bytes", n)
	}
}

func TestLagLineRoundTrip(t *testing.T) {
	r := lagRound{At: 1_800_000_000, Samples: map[string]lagSample{
		"plain":                            {At: 1_800_000_000, Records: 12, TimeLag: 3},
		"":                                 {At: 1_800_000_000, Records: -1, TimeLag: lagNoTime},
		"<script>alert(1)</script>\n\"x\"": {At: 1_800_000_000, Records: 1 << 60, TimeLag: lagNoTime - 1},
	}}
	line := encodeLagRound(r)
	got, err := decodeLagLine(bytes.TrimSuffix(line, []byte{'\n'}))
	if err != nil || !reflect.DeepEqual(got, r) {
		t.Fatalf("round trip: %+v, %v", got, err)
	}
	if bytes.Count(line, []byte{'\n'}) != 1 {
		t.Errorf("a round is not one line: %q", line)
	}
	for _, bad := range []string{"", "12345678", "zzzzzzzz {}", "00000000 {}", `00000000 {"t":1,"g":{}}`} {
		if _, err := decodeLagLine([]byte(bad)); err == nil {
			t.Errorf("decoded %q", bad)
		}
	}
}

// FuzzDecodeLagFile: the decoder never panics, and every round it accepts
// encodes back to a line it reads the same.
func FuzzDecodeLagFile(f *testing.F) {
	var seed bytes.Buffer
	seed.WriteString(lagHeader)
	seed.Write(encodeLagRound(lagRound{At: 7, Samples: map[string]lagSample{"g": {At: 7, Records: 3, TimeLag: 1}}}))
	f.Add(seed.Bytes())
	f.Add([]byte(lagHeader + "00000000 {}\n"))
	f.Add([]byte("courier-lag-history 9\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		lf, err := decodeLagFile(data)
		if err != nil {
			return
		}
		for _, r := range lf.rounds {
			again, err := decodeLagLine(bytes.TrimSuffix(encodeLagRound(r), []byte{'\n'}))
			if err != nil || !reflect.DeepEqual(again, r) {
				t.Fatalf("round %+v re-read as %+v, %v", r, again, err)
			}
		}
	})
}
