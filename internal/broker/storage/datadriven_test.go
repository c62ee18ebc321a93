package storage

// Data-driven tests in the manner of pebble: each file under testdata/log
// is a script of commands, each followed by "----" and its expected output,
// ended by a blank line. Run with -rewrite to regenerate the expected
// output after an intended change, then review the diff.
//
// Commands (arguments are key=value; flags are bare words):
//
//	open [segment-bytes= segment-ms= index-interval= retention-bytes=
//	      retention-ms= max-message-bytes=] [log-append-time]
//	append [n=1 records=1 values=16 ts=1000 ts-step=0 pid= epoch=0 seq=0]
//	read offset= [max=1048576]
//	state | segments | close | crash | retention | max-timestamp
//	delete-records before=
//	offset-for-time ts=
//	clock advance=<ms>
//	truncate-active bytes=     chop bytes off the active segment file
//	flip-active from-end=      flip a byte counted from the end of the active file

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected output of data-driven tests")

// ddCase is one command and its expected output.
type ddCase struct {
	line     int
	raw      string
	cmd      string
	args     map[string]string
	flags    map[string]bool
	expected string
}

func parseDD(t *testing.T, path string) (cases []ddCase, comments map[int][]string) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	comments = map[int][]string{}
	sc := bufio.NewScanner(f)
	lineNo := 0
	var pending []string
	for sc.Scan() {
		lineNo++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			if strings.HasPrefix(line, "#") {
				pending = append(pending, line)
			}
			continue
		}
		c := ddCase{line: lineNo, raw: line, args: map[string]string{}, flags: map[string]bool{}}
		fields := strings.Fields(line)
		c.cmd = fields[0]
		for _, a := range fields[1:] {
			if k, v, ok := strings.Cut(a, "="); ok {
				c.args[k] = v
			} else {
				c.flags[a] = true
			}
		}
		if !sc.Scan() || strings.TrimSpace(sc.Text()) != "----" {
			t.Fatalf("%s:%d: expected ---- after command", path, lineNo)
		}
		lineNo++
		var out []string
		for sc.Scan() {
			lineNo++
			if strings.TrimSpace(sc.Text()) == "" {
				break
			}
			out = append(out, sc.Text())
		}
		c.expected = strings.Join(out, "\n")
		comments[len(cases)] = pending
		pending = nil
		cases = append(cases, c)
	}
	return cases, comments
}

// ddEnv is the state a script runs against.
type ddEnv struct {
	t     *testing.T
	dir   string
	clock *fakeClock
	cfg   Config
	l     *Log
}

func (c *ddCase) int(t *testing.T, key string, def int64) int64 {
	v, ok := c.args[key]
	if !ok {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		t.Fatalf("line %d: %s=%q: %v", c.line, key, v, err)
	}
	return n
}

// errName names the sentinel an error wraps, for stable output.
func errName(err error) string {
	for _, s := range []struct {
		err  error
		name string
	}{
		{ErrCorruptMessage, "ErrCorruptMessage"},
		{ErrMessageTooLarge, "ErrMessageTooLarge"},
		{ErrInvalidRecord, "ErrInvalidRecord"},
		{ErrOutOfOrderSequence, "ErrOutOfOrderSequence"},
		{ErrInvalidProducerEpoch, "ErrInvalidProducerEpoch"},
		{ErrOffsetOutOfRange, "ErrOffsetOutOfRange"},
		{fs.ErrClosed, "ErrClosed"},
	} {
		if errors.Is(err, s.err) {
			return "error: " + s.name
		}
	}
	return "error: " + err.Error()
}

func (e *ddEnv) activePath() string {
	m, _ := filepath.Glob(filepath.Join(e.dir, "*"+logSuffix))
	return m[len(m)-1]
}

func (e *ddEnv) run(c *ddCase) string {
	t := e.t
	switch c.cmd {
	case "open":
		e.cfg = Config{
			SegmentBytes:       c.int(t, "segment-bytes", 0),
			SegmentMs:          c.int(t, "segment-ms", 0),
			IndexIntervalBytes: int32(c.int(t, "index-interval", 0)),
			RetentionBytes:     c.int(t, "retention-bytes", 0),
			RetentionMs:        c.int(t, "retention-ms", 0),
			MaxMessageBytes:    int32(c.int(t, "max-message-bytes", 0)),
			LogAppendTime:      c.flags["log-append-time"],
		}
		l, err := Open(e.dir, e.cfg, Options{Now: e.clock.Now, Logger: quietLogger()})
		if err != nil {
			return errName(err)
		}
		e.l = l
		return e.state()
	case "append":
		var lines []string
		n, records := int(c.int(t, "n", 1)), int(c.int(t, "records", 1))
		ts, step := c.int(t, "ts", 1000), c.int(t, "ts-step", 0)
		seq := int32(c.int(t, "seq", 0))
		for i := 0; i < n; i++ {
			b := batch(records).values(int(c.int(t, "values", 16))).at(ts + int64(i)*step)
			if _, ok := c.args["pid"]; ok {
				b = b.idem(c.int(t, "pid", 0), int16(c.int(t, "epoch", 0)), seq+int32(i*records))
			}
			res, err := e.l.Append(b.encode())
			switch {
			case err != nil:
				lines = append(lines, errName(err))
			case res.Duplicate:
				lines = append(lines, fmt.Sprintf("duplicate %d-%d", res.BaseOffset, res.LastOffset))
			default:
				line := fmt.Sprintf("%d-%d", res.BaseOffset, res.LastOffset)
				if res.LogAppendTime >= 0 {
					line += fmt.Sprintf(" append-time=%d", res.LogAppendTime)
				}
				lines = append(lines, line)
			}
		}
		return strings.Join(lines, "\n")
	case "read":
		b, err := e.l.Read(c.int(t, "offset", 0), int32(c.int(t, "max", 1<<20)))
		if err != nil {
			return errName(err)
		}
		if len(b) == 0 {
			return "empty"
		}
		batches, err := SplitBatches(b)
		if err != nil {
			return errName(err)
		}
		var parts []string
		for _, bb := range batches {
			h, err := validateBatch(bb, 1<<30)
			if err != nil {
				return errName(err)
			}
			parts = append(parts, fmt.Sprintf("%d-%d", h.baseOffset, h.lastOffset()))
		}
		return strings.Join(parts, " ")
	case "state":
		return e.state()
	case "segments":
		var lines []string
		e.l.mu.RLock()
		for _, s := range e.l.segs {
			lines = append(lines, fmt.Sprintf("%s size=%d next=%d max-ts=%d", segmentName(s.base), s.size, s.next, s.idx.maxTs))
		}
		e.l.mu.RUnlock()
		return strings.Join(lines, "\n")
	case "close":
		if err := e.l.Close(); err != nil {
			return errName(err)
		}
		return "ok"
	case "crash":
		crash(e.l)
		return "ok"
	case "retention":
		if err := e.l.ApplyRetention(); err != nil {
			return errName(err)
		}
		return e.state()
	case "delete-records":
		start, err := e.l.DeleteRecords(c.int(t, "before", 0))
		if err != nil {
			return errName(err)
		}
		return fmt.Sprintf("start=%d", start)
	case "offset-for-time":
		off, ts, err := e.l.OffsetForTime(c.int(t, "ts", 0))
		if err != nil {
			return errName(err)
		}
		return fmt.Sprintf("offset=%d ts=%d", off, ts)
	case "max-timestamp":
		off, ts := e.l.MaxTimestamp()
		return fmt.Sprintf("offset=%d ts=%d", off, ts)
	case "clock":
		e.clock.Add(time.Duration(c.int(t, "advance", 0)) * time.Millisecond)
		return "ok"
	case "truncate-active":
		p := e.activePath()
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(p, max(fi.Size()-c.int(t, "bytes", 0), 0)); err != nil {
			t.Fatal(err)
		}
		return "ok"
	case "flip-active":
		p := e.activePath()
		data, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		data[int64(len(data))-c.int(t, "from-end", 1)] ^= 0x01
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return "ok"
	}
	t.Fatalf("line %d: unknown command %q", c.line, c.cmd)
	return ""
}

func (e *ddEnv) state() string {
	return fmt.Sprintf("start=%d hwm=%d size=%d segments=%d", e.l.LogStartOffset(), e.l.HighWatermark(), e.l.Size(), len(segmentFilesNoT(e.dir)))
}

func segmentFilesNoT(dir string) []string {
	m, _ := filepath.Glob(filepath.Join(dir, "*"+logSuffix))
	return m
}

func TestDataDriven(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "log", "*"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no data-driven test files: %v", err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			cases, comments := parseDD(t, path)
			env := &ddEnv{t: t, dir: t.TempDir(), clock: newFakeClock()}
			var out strings.Builder
			for i := range cases {
				c := &cases[i]
				got := env.run(c)
				if *rewrite {
					for _, cm := range comments[i] {
						out.WriteString(cm + "\n")
					}
					out.WriteString(c.raw + "\n----\n" + got + "\n\n")
					continue
				}
				if got != c.expected {
					t.Errorf("%s:%d: %s\ngot:\n%s\nwant:\n%s", path, c.line, c.cmd, got, c.expected)
				}
			}
			if env.l != nil {
				env.l.Close()
			}
			if *rewrite {
				if err := os.WriteFile(path, []byte(out.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
