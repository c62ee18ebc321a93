package chaos

// brokerlog_test.go collects the broker's log across restarts: the tail
// for failure messages, and a count of its warnings and errors by message
// for the summary (a full disk is meant to be logged, a panic never).

import (
	"bytes"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"sync"
)

// logTailBytes is how much of the broker's log a failure prints.
const logTailBytes = 512 << 10

// brokerLog is an io.Writer for brokerproc.Output.
type brokerLog struct {
	mu      sync.Mutex
	tail    []byte
	partial []byte         // a line not yet ended
	counts  map[string]int // "LEVEL msg" -> lines
	panics  int
}

func newBrokerLog() *brokerLog { return &brokerLog{counts: make(map[string]int)} }

// levelMsg finds slog's text level and message.
var levelMsg = regexp.MustCompile(`level=(WARN|ERROR) msg=("(?:[^"\\]|\\.)*"|\S+)`)

func (l *brokerLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tail = append(l.tail, p...)
	if over := len(l.tail) - logTailBytes; over > 0 {
		l.tail = append(l.tail[:0], l.tail[over:]...)
	}
	l.partial = append(l.partial, p...)
	for {
		i := bytes.IndexByte(l.partial, '\n')
		if i < 0 {
			break
		}
		l.line(l.partial[:i])
		l.partial = l.partial[i+1:]
	}
	if len(l.partial) > 64<<10 { // a line this long is not slog's; drop it
		l.partial = l.partial[:0]
	}
	return len(p), nil
}

// line counts one line of output.
func (l *brokerLog) line(b []byte) {
	if bytes.HasPrefix(b, []byte("panic:")) || bytes.HasPrefix(b, []byte("fatal error:")) || bytes.Contains(b, []byte(`msg="panic`)) {
		l.panics++
	}
	if m := levelMsg.FindSubmatch(b); m != nil {
		l.counts[string(m[1])+" "+string(m[2])]++
	}
}

// String returns the kept tail of the log.
func (l *brokerLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.tail)
}

// panicCount is how many lines told of a panic.
func (l *brokerLog) panicCount() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.panics
}

// summary lists the warnings and errors by message, most frequent first.
func (l *brokerLog) summary() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	keys := make([]string, 0, len(l.counts))
	for k := range l.counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if l.counts[keys[i]] != l.counts[keys[j]] {
			return l.counts[keys[i]] > l.counts[keys[j]]
		}
		return keys[i] < keys[j]
	})
	var sb strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&sb, "  %6d  %s\n", l.counts[k], k)
	}
	return sb.String()
}
