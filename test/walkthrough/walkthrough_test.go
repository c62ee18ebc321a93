// Package walkthrough runs the README's walkthroughs as a new user does:
// each shell block of a marked section, as written, in order, with bash in
// an empty directory holding bin/courier. Blocks run in one shell session,
// so what one exports the next sees, as in one terminal; a block the text
// says to run "in another terminal" runs in a shell of its own, in the
// background, and is stopped at the end with Ctrl-C (SIGINT to its process
// group). After each block the test checks what the block was to do.
//
// A section is marked in README.md by the lines
//
//	<!-- walkthrough:NAME ... -->
//	<!-- /walkthrough:NAME -->
//
// The only change made to the commands: the fixed ports they name are
// replaced by free ones (other brokers may run on this machine), and ports
// they leave to a default are set through the COURIER_* environment
// (COURIER_HTTP_ADDR, COURIER_ADDR); every replacement is logged.
package walkthrough

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/courier-dev/courier/internal/testkit/brokerproc"
	"github.com/courier-dev/courier/internal/testkit/testlog"
	"github.com/courier-dev/courier/internal/testkit/testwait"
)

// courierBin is the binary under test, built once by TestMain.
var courierBin string

func TestMain(m *testing.M) { brokerproc.TestMain(m, "courier-walkthrough-", &courierBin) }

// requireTools skips the test when a tool the walkthrough uses is missing,
// or fails it when COURIER_REQUIRE_WALKTHROUGH=1 (scripts/test.sh sets it
// and installs them).
func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	for _, tool := range tools {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("COURIER_REQUIRE_WALKTHROUGH") == "1" {
				t.Fatalf("%s is not installed (COURIER_REQUIRE_WALKTHROUGH=1)", tool)
			}
			t.Skipf("%s is not installed", tool)
		}
	}
}

// block is one shell block of a section.
type block struct {
	// text is the block's contents, as written.
	text string
	// elsewhere is set when the prose before the block says to run it in
	// another terminal: a long-running command, such as the broker.
	elsewhere bool
}

// readSection returns the shell blocks (```sh fences) of README.md's
// section marked name, in order.
func readSection(t *testing.T, name string) []block {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	start := strings.Index(text, "<!-- walkthrough:"+name+" ")
	end := strings.Index(text, "<!-- /walkthrough:"+name+" -->")
	if start < 0 || end < start {
		t.Fatalf("README.md has no section marked <!-- walkthrough:%s ... --> ... <!-- /walkthrough:%s -->", name, name)
	}
	var (
		blocks []block
		prose  strings.Builder // the text since the last block
		code   *strings.Builder
	)
	for _, line := range strings.Split(text[start:end], "\n") {
		switch {
		case code == nil && strings.TrimSpace(line) == "```sh":
			code = new(strings.Builder)
		case code == nil && strings.HasPrefix(strings.TrimSpace(line), "```"):
			t.Fatalf("section %s: a fenced block that is not sh: %q (every block of a walkthrough is run)", name, line)
		case code != nil && strings.TrimSpace(line) == "```":
			elsewhere := strings.Contains(strings.ToLower(prose.String()), "in another terminal")
			blocks = append(blocks, block{text: code.String(), elsewhere: elsewhere})
			code = nil
			prose.Reset()
		case code != nil:
			code.WriteString(line + "\n")
		default:
			prose.WriteString(line + "\n")
		}
	}
	if code != nil {
		t.Fatalf("section %s: a block is not closed", name)
	}
	return blocks
}

// substitute replaces each key of ports (e.g. "127.0.0.1:9093") in text by
// its value, and records the keys it found in used.
func substitute(text string, ports map[string]string, used map[string]bool) string {
	for from, to := range ports {
		if strings.Contains(text, from) {
			used[from] = true
			text = strings.ReplaceAll(text, from, to)
		}
	}
	return text
}

// session is the first terminal: one bash reading the blocks from a pipe,
// with errexit, nounset and pipefail, so that a failing command fails the
// walkthrough instead of passing unseen. Commands see /dev/null as stdin,
// as if no one typed, and the script arrives on file descriptor 3.
type session struct {
	t      *testing.T
	cmd    *exec.Cmd
	script *os.File
	out    testlog.Buffer
	exited chan struct{}
	err    error // bash's exit, once exited is closed
	blocks int
}

// startSession starts bash in dir with env.
func startSession(t *testing.T, dir string, env []string) *session {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	s := &session{t: t, script: w, exited: make(chan struct{})}
	s.cmd = exec.Command("bash", "--noprofile", "--norc", "-euo", "pipefail", "/dev/fd/3")
	s.cmd.Dir, s.cmd.Env = dir, env
	s.cmd.ExtraFiles = []*os.File{r}
	startGroup(t, s.cmd, &s.out)
	r.Close()
	go func() { s.err = s.cmd.Wait(); close(s.exited) }()
	// The commands need not see the script's descriptor.
	s.send("exec 3<&-\n")
	t.Cleanup(func() { s.kill() })
	return s
}

// send writes text to bash's script.
func (s *session) send(text string) {
	s.t.Helper()
	if _, err := s.script.WriteString(text); err != nil {
		s.t.Fatalf("write to bash: %v\noutput:\n%s", err, s.out.String())
	}
}

// run runs one block and waits, at most timeout, until bash has run all
// of it; it returns what the block printed. A block that fails ends bash
// (errexit) and the test with its output.
func (s *session) run(text string, timeout time.Duration) string {
	s.t.Helper()
	s.blocks++
	done := fmt.Sprintf("__walkthrough_block_%d_done__", s.blocks)
	before := len(s.out.String())
	s.send(text + "\necho " + done + "\n")
	testwait.For(s.t, timeout, "the block to finish:\n"+text, func() string {
		select {
		case <-s.exited:
			s.t.Fatalf("the block failed (%v):\n%s\noutput:\n%s", s.err, text, s.out.String()[before:])
		default:
		}
		if strings.Contains(s.out.String()[before:], done+"\n") {
			return ""
		}
		return "no end marker yet; output so far:\n" + s.out.String()[before:]
	})
	out := s.out.String()[before:]
	return strings.Replace(out, done+"\n", "", 1)
}

// variable returns the value of a shell variable the blocks set.
func (s *session) variable(name string) string {
	s.t.Helper()
	out := s.run(fmt.Sprintf("printf '%%s\\n' \"$%s\"", name), 10*time.Second)
	return strings.TrimSuffix(out, "\n")
}

// end closes the script, so that bash exits, and waits, at most timeout,
// until every process it started has exited.
func (s *session) end(timeout time.Duration) {
	s.t.Helper()
	s.script.Close()
	pgid := s.cmd.Process.Pid
	testwait.For(s.t, timeout, "the first terminal's processes to exit", func() string {
		if err := syscall.Kill(-pgid, 0); errors.Is(err, syscall.ESRCH) {
			return ""
		}
		return "processes of its group are still running; output:\n" + tail(s.out.String(), 20)
	})
	<-s.exited
}

// kill ends whatever the session left running.
func (s *session) kill() {
	s.script.Close()
	_ = syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
	<-s.exited
}

// terminal is another terminal: a bash running one block in its own
// process group, as a terminal's foreground job.
type terminal struct {
	cmd    *exec.Cmd
	out    testlog.Buffer
	exited chan struct{}
	err    error
}

// startTerminal starts text in dir with env, in the background.
func startTerminal(t *testing.T, dir string, env []string, text string) *terminal {
	t.Helper()
	tm := &terminal{exited: make(chan struct{})}
	tm.cmd = exec.Command("bash", "--noprofile", "--norc", "-euo", "pipefail", "-c", text)
	tm.cmd.Dir, tm.cmd.Env = dir, env
	startGroup(t, tm.cmd, &tm.out)
	go func() { tm.err = tm.cmd.Wait(); close(tm.exited) }()
	t.Cleanup(func() {
		_ = syscall.Kill(-tm.cmd.Process.Pid, syscall.SIGKILL)
		<-tm.exited
	})
	return tm
}

// interrupt presses Ctrl-C in the terminal (SIGINT to its process group)
// and returns how the block ended, or an error if it is still running
// after timeout.
func (tm *terminal) interrupt(timeout time.Duration) error {
	if err := syscall.Kill(-tm.cmd.Process.Pid, syscall.SIGINT); err != nil {
		return fmt.Errorf("send SIGINT: %w", err)
	}
	select {
	case <-tm.exited:
		return tm.err
	case <-time.After(timeout):
		return fmt.Errorf("still running %v after Ctrl-C", timeout)
	}
}

// running reports whether the terminal's block is still running.
func (tm *terminal) running() bool {
	select {
	case <-tm.exited:
		return false
	default:
		return true
	}
}

// startGroup starts cmd in a process group of its own (a terminal's job),
// its output (stdout and stderr, as on a terminal) copied into out until
// every process holding it has exited. cmd.Wait returns when cmd exits,
// whatever its background jobs do.
func startGroup(t *testing.T, cmd *exec.Cmd, out *testlog.Buffer) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = w, w
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", cmd.Path, err)
	}
	w.Close()
	go func() {
		defer r.Close()
		_, _ = io.Copy(out, r)
	}()
}

// walkEnv is the environment a new user's shell has: this one's, without
// any COURIER_* setting, plus extra.
func walkEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "COURIER_") {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	var lines []string
	sc := bufio.NewScanner(strings.NewReader(s))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}
