package brokerproc

// proc.go is the life of one broker process: start, readiness, clean stop,
// SIGKILL and restart on the same ports and data directory.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// startAttempts bounds how often Start picks fresh ports when the broker
// could not bind the ones it was given (another process took them).
const startAttempts = 3

// killWait bounds the wait for a SIGKILLed process to be reaped.
const killWait = 10 * time.Second

// Broker is one broker process on a data directory, with fixed Kafka and
// HTTP addresses. Its methods are safe for concurrent use; a crash test may
// Kill it from one goroutine while another produces.
type Broker struct {
	bin      string
	dataDir  string
	addr     string
	httpAddr string
	cfg      config
	tail     *tailBuffer
	// listeners are the extra listeners' addresses by protocol.
	listeners map[string]string

	mu   sync.Mutex
	proc *process // the current process; nil before the first start
}

// process is one run of the binary.
type process struct {
	cmd  *exec.Cmd
	done chan struct{} // closed once the process has exited and been reaped
	err  error         // cmd.Wait's result, set before done is closed
	// signaled is set (under Broker.mu) when Stop or Kill signals the
	// process, so an exit without it is a crash the test did not cause.
	signaled bool
}

// exited reports whether the process has exited.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Start runs `bin broker` on dataDir, listening for Kafka and HTTP on free
// loopback ports, and returns once the Kafka listener accepts connections
// (the broker has recovered its logs by then). If the broker exits first
// because a port was taken in the meantime, Start tries again with fresh
// ports, a bounded number of times. The caller must Stop or Kill it.
func Start(bin, dataDir string, opts ...Opt) (*Broker, error) {
	cfg := defaultConfig()
	for _, o := range opts {
		o(&cfg)
	}
	var lastErr error
	for range startAttempts {
		b := &Broker{bin: bin, dataDir: dataDir, cfg: cfg, tail: &tailBuffer{max: 8 << 10}}
		var err error
		if b.addr, err = FreeAddr(); err != nil {
			return nil, err
		}
		if b.httpAddr, err = FreeAddr(); err != nil {
			return nil, err
		}
		b.listeners = make(map[string]string)
		for _, proto := range cfg.listeners {
			if b.listeners[proto], err = FreeAddr(); err != nil {
				return nil, err
			}
		}
		err = b.start()
		if err == nil {
			return b, nil
		}
		lastErr = err
		if !strings.Contains(b.tail.String(), "address already in use") {
			break
		}
	}
	return nil, lastErr
}

// Addr is the Kafka listener, "127.0.0.1:PORT"; it stays the same across
// restarts.
func (b *Broker) Addr() string { return b.addr }

// ListenerAddr is the address of the listener added with Listener(proto),
// "" if there is none.
func (b *Broker) ListenerAddr(proto string) string { return b.listeners[proto] }

// HTTPAddr is the metrics endpoint's listener, "127.0.0.1:PORT".
func (b *Broker) HTTPAddr() string { return b.httpAddr }

// DataDir is the broker's data directory.
func (b *Broker) DataDir() string { return b.dataDir }

// OutputTail returns the last few kilobytes the broker processes printed
// (their log), across restarts: useful in a failure message.
func (b *Broker) OutputTail() string { return b.tail.String() }

// PID returns the current process's id, or 0 before the first start.
func (b *Broker) PID() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.proc == nil {
		return 0
	}
	return b.proc.cmd.Process.Pid
}

// Running reports whether the current process is alive.
func (b *Broker) Running() bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.proc != nil && !b.proc.exited()
}

// Restart starts the binary again on the same data directory and addresses
// after Stop or Kill, and waits for readiness as Start does. It fails if the
// broker is still running.
func (b *Broker) Restart() error { return b.start() }

// RestartWith is Restart with opts applied on top of the broker's options,
// for this and every later restart: a test can switch --fsync modes
// between crashes, as an operator might between runs. Options that pick
// ports (Listener) are ignored, since a restart keeps the addresses; Args
// appends to the flags given before, it does not replace them.
func (b *Broker) RestartWith(opts ...Opt) error {
	b.mu.Lock()
	if b.proc != nil && !b.proc.exited() {
		b.mu.Unlock()
		return errors.New("brokerproc: broker is already running")
	}
	listeners := b.cfg.listeners
	for _, o := range opts {
		o(&b.cfg)
	}
	b.cfg.listeners = listeners
	b.mu.Unlock()
	return b.start()
}

// start launches a process and waits until it accepts connections.
func (b *Broker) start() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.proc != nil && !b.proc.exited() {
		return errors.New("brokerproc: broker is already running")
	}
	args := []string{"broker", "--addr", b.addr, "--data", b.dataDir, "--http-addr", b.httpAddr}
	if len(b.listeners) > 0 {
		args = []string{"broker", "--listener", "PLAINTEXT://" + b.addr, "--data", b.dataDir, "--http-addr", b.httpAddr}
		for _, proto := range b.cfg.listeners {
			args = append(args, "--listener", proto+"://"+b.listeners[proto])
		}
	}
	if b.cfg.fsync != "" {
		args = append(args, "--fsync", b.cfg.fsync)
	}
	// No console unless a test asks for one (Args("--console-addr", ...),
	// which comes later and wins): its default address is one fixed port,
	// which brokers running side by side would fight over.
	args = append(args, "--console-addr", "")
	args = append(args, b.cfg.args...)
	cmd := exec.Command(b.bin, args...)
	if n := b.cfg.fileLimit; n > 0 {
		// prlimit sets the limit and execs the broker, which keeps the pid.
		cmd = exec.Command("prlimit", append([]string{fmt.Sprintf("--nofile=%d:%d", n, n), "--", b.bin}, args...)...)
	}
	cmd.Env = childEnv()
	var out io.Writer = b.tail
	if b.cfg.output != nil {
		out = io.MultiWriter(b.tail, b.cfg.output)
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("brokerproc: start %s: %w", b.bin, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	b.proc = p
	if WaitListening(b.addr, b.cfg.readyTimeout, p.done) {
		return nil
	}
	if p.exited() {
		return fmt.Errorf("brokerproc: broker exited before accepting connections on %s: %v\n%s", b.addr, p.err, b.tail.String())
	}
	b.killLocked()
	return fmt.Errorf("brokerproc: broker did not accept connections on %s within %v\n%s", b.addr, b.cfg.readyTimeout, b.tail.String())
}

// childEnv is the test process's environment without COURIER_* variables,
// which the binary would read as flag values: the broker's configuration is
// exactly its command line.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "COURIER_") {
			env = append(env, kv)
		}
	}
	return env
}

// Kill sends SIGKILL, the crash a test can cause without root: the process
// dies at once, losing nothing the kernel already has (page cache) and
// everything it had not written. Kill returns once it is reaped. It is an
// error if the broker had already exited by itself (a crash the test did
// not cause) or was never started; killing a stopped broker is not.
func (b *Broker) Kill() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.proc == nil {
		return errors.New("brokerproc: broker was never started")
	}
	if b.proc.exited() {
		if b.proc.signaled {
			return nil // stopped or killed before
		}
		return fmt.Errorf("brokerproc: broker had already exited by itself: %v\n%s", b.proc.err, b.tail.String())
	}
	return b.killLocked()
}

// killLocked SIGKILLs the current process and waits for it, bounded.
func (b *Broker) killLocked() error {
	p := b.proc
	p.signaled = true
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !p.exited() {
		return fmt.Errorf("brokerproc: SIGKILL: %w", err)
	}
	select {
	case <-p.done:
		return nil
	case <-time.After(killWait):
		return fmt.Errorf("brokerproc: process %d not reaped %v after SIGKILL", p.cmd.Process.Pid, killWait)
	}
}

// Stop sends SIGTERM, the broker's clean shutdown (in-flight requests
// answered, logs synced and closed), and waits for the exit. It returns an
// error if the exit status is not 0, or if the broker is still running
// after the stop timeout, in which case it is killed. Stopping a broker
// that Stop or Kill already ended returns nil; one that exited by itself
// returns its exit error.
func (b *Broker) Stop() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	p := b.proc
	if p == nil {
		return nil
	}
	if p.exited() {
		if p.signaled {
			return nil // stopped or killed before
		}
		return fmt.Errorf("brokerproc: broker had already exited by itself: %v\n%s", p.err, b.tail.String())
	}
	p.signaled = true
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil && !p.exited() {
		return fmt.Errorf("brokerproc: SIGTERM: %w", err)
	}
	select {
	case <-p.done:
	case <-time.After(b.cfg.stopTimeout):
		b.killLocked()
		return fmt.Errorf("brokerproc: broker did not exit within %v of SIGTERM; killed\n%s", b.cfg.stopTimeout, b.tail.String())
	}
	if p.err != nil {
		return fmt.Errorf("brokerproc: broker exited uncleanly after SIGTERM: %v\n%s", p.err, b.tail.String())
	}
	return nil
}
